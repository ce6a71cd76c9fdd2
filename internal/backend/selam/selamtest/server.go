package selamtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/backend/sio"
	"github.com/voiced-project/voiced/internal/backend/sio/siotest"
)

const nsp = "/v1/audio/agent"

// Voices the fake accepts: the guide's and the TTS guide's.
var Voices = []string{"mekdes", "ameha", "betty", "ubax", "muuse", "sami", "ibsaa", "aria", "andrew",
	"alloy", "echo", "fable", "onyx", "nova", "shimmer"}

// ErrorTypes are the guide's error types, all injectable.
var ErrorTypes = []string{"authentication_error", "authorization_error", "validation_error", "session_error", "audio_error"}

// Options configure a Server.
type Options struct {
	// Record, if set, gets each received event as a JSON line
	// {"event":...,"arg":...} as it arrives (voiced-sim --record).
	Record io.Writer
	APIKey string // accepted key; empty accepts any non-empty key
	Token  string // required JWT when set
	// AuthFailure is "connect_error" (default) or "error_event".
	AuthFailure  string
	PingInterval time.Duration
	PingTimeout  time.Duration
	SilenceMs    int // quiet that ends a turn (default 500)
	ChunkMs      int // reply chunk length (default 200)
	PCMRate      int // rate of raw PCM replies (default 24000)
	// MP3, when set, is sent as the reply audio, one segment per chunk,
	// instead of the raw PCM parrot.
	MP3  [][]byte
	Pace bool // send reply chunks at real time
	// NestedErrors sends errors as {"error":{type,message,code}} instead
	// of {type,message}.
	NestedErrors bool
	// AckStatus is control_ack's status (default "executed"); NoAck
	// withholds control_ack altogether.
	AckStatus string
	NoAck     bool
}

// Record is one event a client sent; audio_chunk's audio is replaced by its
// size: {"audio_bytes":N,"format":...,"sample_rate":...}.
type Record = siotest.Record

// Server is the fake service, an http.Handler.
type Server struct {
	o   Options
	hub *siotest.Hub[*session]

	mu      sync.Mutex // guards following fields
	queries []map[string]string
}

// New returns a Server.
func New(o Options) *Server {
	if o.AuthFailure == "" {
		o.AuthFailure = "connect_error"
	}
	if o.SilenceMs <= 0 {
		o.SilenceMs = 500
	}
	if o.ChunkMs <= 0 {
		o.ChunkMs = 200
	}
	if o.PCMRate <= 0 {
		o.PCMRate = 24000
	}
	if o.AckStatus == "" {
		o.AckStatus = "executed"
	}
	so := sio.ServerOptions{PingInterval: o.PingInterval, PingTimeout: o.PingTimeout}
	return &Server{o: o, hub: siotest.NewHub[*session](nsp, so, o.Record)}
}

// Records returns what the clients sent, in order.
func (s *Server) Records() []Record { return s.hub.Records() }

// Count returns how many times event was received.
func (s *Server) Count(event string) int { return s.hub.Count(event) }

// Queries returns the handshake query of each connection (api_key, voice, token).
func (s *Server) Queries() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.queries...)
}

// SetDown makes the server refuse upgrades with 503 (true) or serve again.
func (s *Server) SetDown(down bool) { s.hub.SetDown(down) }

// Drop closes every connection, as a restart does.
func (s *Server) Drop() { s.hub.Drop() }

// Inject sends an error of type typ (one of ErrorTypes) to every session.
// authentication_error and authorization_error end the connection;
// session_error ends the session (start_session is needed again).
func (s *Server) Inject(typ string) error {
	list := s.hub.Sessions()
	if len(list) == 0 {
		return fmt.Errorf("selamtest: inject %s: no session", typ)
	}
	msgs := map[string]string{
		"authentication_error": "Invalid or missing API key",
		"authorization_error":  "Voice Agent requires OWNER tier",
		"validation_error":     "Invalid parameters",
		"session_error":        "Session not found",
		"audio_error":          "Audio processing failed",
	}
	msg, ok := msgs[typ]
	if !ok {
		return fmt.Errorf("selamtest: inject %q: unknown error type", typ)
	}
	for _, ss := range list {
		ss.fail(typ, msg)
		switch typ {
		case "authentication_error", "authorization_error":
			ss.c.Leave()
		case "session_error":
			ss.mu.Lock()
			ss.started = false
			ss.mu.Unlock()
		}
	}
	return nil
}

type session struct {
	s       *Server
	c       *siotest.Conn
	voice   string
	authErr string // why the handshake's credentials are refused, or ""

	mu        sync.Mutex // guards following fields
	joined    bool
	started   bool
	listening bool
	paused    bool
	vad       float64
	det       siotest.Detector
	cur       *siotest.Reply // the reply under way
	sessionID string
}

// ServeHTTP serves one Socket.IO connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.queries = append(s.queries, map[string]string{"api_key": q.Get("api_key"), "voice": q.Get("voice"), "token": q.Get("token")})
	s.mu.Unlock()
	authErr := ""
	switch {
	case q.Get("api_key") == "" || (s.o.APIKey != "" && q.Get("api_key") != s.o.APIKey):
		authErr = "Invalid or missing API key"
	case s.o.Token != "" && q.Get("token") != s.o.Token:
		authErr = "Invalid or missing token"
	case q.Get("voice") == "":
		authErr = "voice is required"
	}
	s.hub.Serve(w, r, func(c *siotest.Conn) *session {
		return &session{s: s, c: c, voice: q.Get("voice"), authErr: authErr, listening: true, vad: 600}
	})
}

func (ss *session) emit(name string, arg any) { ss.c.Emit(name, arg) }

func (ss *session) fail(typ, msg string) {
	if ss.s.o.NestedErrors {
		ss.emit("error", map[string]any{"error": map[string]string{"type": typ, "message": msg, "code": typ}})
		return
	}
	ss.emit("error", map[string]string{"type": typ, "message": msg})
}

// Close cuts the reply under way.
func (ss *session) Close() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.cur != nil {
		ss.cur.Cut()
		ss.cur = nil
	}
}

func (ss *session) Malformed(err error) { ss.fail("validation_error", err.Error()) }

func (ss *session) Connect([]byte) bool {
	if ss.authErr != "" {
		if ss.s.o.AuthFailure == "connect_error" {
			ss.c.Refuse(map[string]any{"message": ss.authErr, "data": map[string]string{"type": "authentication_error"}})
			return false
		}
		ss.c.Join(sio.NewSID())
		ss.fail("authentication_error", ss.authErr)
		ss.c.Leave()
		return false
	}
	sid := sio.NewSID()
	ss.c.Join(sid)
	ss.mu.Lock()
	ss.joined = true
	ss.mu.Unlock()
	ss.emit("connected", map[string]string{"status": "connected", "sid": sid, "voice": ss.voice, "message": "Connected to Selam Voice Agent"})
	return true
}

func (ss *session) Event(ev string, arg []byte, _ int) bool {
	if ev == "audio_chunk" {
		ss.audio(arg)
		return true
	}
	ss.s.hub.Record(ev, arg, -1)
	switch ev {
	case "start_session":
		ss.startSession(arg)
	case "control":
		var m struct {
			Action string `json:"action"`
		}
		json.Unmarshal(arg, &m)
		ss.mu.Lock()
		switch m.Action {
		case "interrupt":
		case "start_listening":
			ss.listening = true
		case "stop_listening":
			ss.listening = false
			ss.det.Reset()
		case "pause":
			ss.paused = true
		case "resume":
			ss.paused = false
		default:
			ss.mu.Unlock()
			ss.fail("validation_error", "unknown control action "+m.Action)
			return true
		}
		ss.mu.Unlock()
		if m.Action == "interrupt" || m.Action == "pause" {
			ss.Close()
		}
		if !ss.s.o.NoAck {
			ss.emit("control_ack", map[string]string{"action": m.Action, "status": ss.s.o.AckStatus})
		}
	case "end_session":
		ss.mu.Lock()
		id := ss.sessionID
		ss.started = false
		ss.mu.Unlock()
		ss.Close()
		ss.emit("session_ended", map[string]string{"session_id": id, "status": "ended"})
	default:
		ss.fail("validation_error", "unknown event "+ev)
	}
	return true
}

func (ss *session) startSession(arg []byte) {
	var m struct {
		Voice              string   `json:"voice"`
		Language           string   `json:"language"`
		Instructions       string   `json:"instructions"`
		VADThreshold       *float64 `json:"vad_threshold"`
		InterruptThreshold *float64 `json:"interrupt_threshold"`
	}
	if err := json.Unmarshal(arg, &m); err != nil {
		ss.fail("validation_error", "start_session: "+err.Error())
		return
	}
	known := false
	for _, v := range Voices {
		known = known || v == m.Voice
	}
	switch {
	case !known:
		ss.fail("validation_error", fmt.Sprintf("unknown voice %q", m.Voice))
		return
	case m.Language != "" && m.Language != "en" && m.Language != "am" && m.Language != "so" && m.Language != "ti" && m.Language != "om":
		ss.fail("validation_error", fmt.Sprintf("unsupported language %q", m.Language))
		return
	case m.VADThreshold != nil && *m.VADThreshold <= 0:
		ss.fail("validation_error", "vad_threshold must be positive")
		return
	}
	ss.mu.Lock()
	ss.started, ss.listening, ss.paused = true, true, false
	if m.VADThreshold != nil {
		ss.vad = *m.VADThreshold
	}
	ss.sessionID = "sess-" + sio.NewSID()
	id := ss.sessionID
	ss.mu.Unlock()
	ss.emit("session_started", map[string]string{"session_id": id, "status": "started"})
}

func (ss *session) audio(arg []byte) {
	var m struct {
		Audio      string `json:"audio"`
		Format     string `json:"format"`
		SampleRate int    `json:"sample_rate"`
	}
	if err := json.Unmarshal(arg, &m); err != nil {
		ss.s.hub.Record("audio_chunk", []byte(`{"bad":true}`), -1)
		ss.fail("validation_error", "audio_chunk: "+err.Error())
		return
	}
	b, err := base64.StdEncoding.DecodeString(m.Audio)
	rec, _ := json.Marshal(map[string]any{"audio_bytes": len(b), "format": m.Format, "sample_rate": m.SampleRate})
	ss.s.hub.Record("audio_chunk", rec, -1)
	ss.mu.Lock()
	started, hearing := ss.started, ss.listening && !ss.paused
	ss.mu.Unlock()
	switch {
	case !started:
		ss.fail("session_error", "No active session: send start_session first")
		return
	case m.Format != "pcm16" || m.SampleRate != 16000:
		ss.fail("validation_error", fmt.Sprintf("audio must be pcm16 at 16000 Hz, got %s at %d", m.Format, m.SampleRate))
		return
	case err != nil || len(b)%2 != 0:
		ss.fail("audio_error", "audio is not base64 PCM16")
		return
	case !hearing:
		return
	}
	pcm := siotest.PCM16(b)
	ss.mu.Lock()
	first := ss.det.Hear(pcm, ss.vad)
	var turn []int16
	if ss.det.Ended(ss.s.o.SilenceMs) {
		turn = ss.det.Take()
	}
	ss.mu.Unlock()
	if first {
		ss.emit("transcription", map[string]any{"text": "…", "is_final": false})
	}
	if turn != nil {
		ss.reply(turn)
	}
}

// reply sends the final transcript and the parrot reply from its own goroutine.
func (ss *session) reply(turn []int16) {
	text := fmt.Sprintf("I spoke for %d milliseconds", len(turn)*1000/16000)
	ss.emit("transcription", map[string]any{"text": text, "is_final": true})
	r := siotest.NewReply("")
	ss.mu.Lock()
	if ss.cur != nil {
		ss.cur.Cut()
	}
	ss.cur = r
	ss.mu.Unlock()
	chunks := ss.s.o.MP3
	if len(chunks) == 0 {
		rate := ss.s.o.PCMRate
		chunks = siotest.Chunks(siotest.Resample(turn, siotest.Rate, rate), rate*ss.s.o.ChunkMs/1000)
	}
	var pace time.Duration
	if ss.s.o.Pace {
		pace = time.Duration(ss.s.o.ChunkMs) * time.Millisecond
	}
	ss.c.Go(func() {
		ss.emit("response", map[string]string{"text": "You said: "})
		ss.emit("response", map[string]string{"text": text})
		if r.Stream(chunks, pace, func(i int, b []byte) {
			ss.emit("audio_chunk", map[string]any{"audio": base64.StdEncoding.EncodeToString(b), "chunk_index": i})
		}) {
			ss.emit("audio_end", map[string]int{"total_chunks": len(chunks)})
		}
	})
}
