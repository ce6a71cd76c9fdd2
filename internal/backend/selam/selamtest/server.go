package selamtest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/backend/sio"
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
type Record struct {
	Event string
	Arg   json.RawMessage
}

// Server is the fake service, an http.Handler.
type Server struct {
	o Options

	mu       sync.Mutex // guards following fields
	sessions map[*session]struct{}
	records  []Record
	down     bool
	queries  []map[string]string
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
	return &Server{o: o, sessions: map[*session]struct{}{}}
}

// Records returns what the clients sent, in order.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// Count returns how many times event was received.
func (s *Server) Count(event string) int {
	n := 0
	for _, r := range s.Records() {
		if r.Event == event {
			n++
		}
	}
	return n
}

// Queries returns the handshake query of each connection (api_key, voice, token).
func (s *Server) Queries() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.queries...)
}

// SetDown makes the server refuse upgrades with 503 (true) or serve again.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// Drop closes every connection, as a restart does.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ss := range s.sessions {
		ss.c.Close()
	}
}

// Inject sends an error of type typ (one of ErrorTypes) to every session.
// authentication_error and authorization_error end the connection;
// session_error ends the session (start_session is needed again).
func (s *Server) Inject(typ string) error {
	s.mu.Lock()
	var list []*session
	for ss := range s.sessions {
		list = append(list, ss)
	}
	s.mu.Unlock()
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
			ss.c.Leave(nsp)
		case "session_error":
			ss.mu.Lock()
			ss.started = false
			ss.mu.Unlock()
		}
	}
	return nil
}

func (s *Server) record(ev string, arg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, Record{Event: ev, Arg: append(json.RawMessage(nil), arg...)})
	if s.o.Record != nil {
		line, _ := json.Marshal(struct {
			Event string          `json:"event"`
			Arg   json.RawMessage `json:"arg,omitempty"`
		}{ev, s.records[len(s.records)-1].Arg})
		s.o.Record.Write(append(line, '\n'))
	}
}

type session struct {
	s     *Server
	c     *sio.Conn
	voice string
	wg    sync.WaitGroup

	mu        sync.Mutex // guards following fields
	joined    bool
	started   bool
	listening bool
	paused    bool
	vad       float64
	speaking  bool
	quietMs   int
	turn      []int16
	cut       chan struct{} // closed to stop the reply under way
	sessionID string
}

// ServeHTTP serves one Socket.IO connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	q := r.URL.Query()
	s.queries = append(s.queries, map[string]string{"api_key": q.Get("api_key"), "voice": q.Get("voice"), "token": q.Get("token")})
	s.mu.Unlock()
	if down {
		http.Error(w, "restarting", http.StatusServiceUnavailable)
		return
	}
	c, err := sio.Accept(w, r, sio.ServerOptions{PingInterval: s.o.PingInterval, PingTimeout: s.o.PingTimeout})
	if err != nil {
		return
	}
	ss := &session{s: s, c: c, voice: q.Get("voice"), listening: true, vad: 600}
	authErr := ""
	switch {
	case q.Get("api_key") == "" || (s.o.APIKey != "" && q.Get("api_key") != s.o.APIKey):
		authErr = "Invalid or missing API key"
	case s.o.Token != "" && q.Get("token") != s.o.Token:
		authErr = "Invalid or missing token"
	case q.Get("voice") == "":
		authErr = "voice is required"
	}
	s.mu.Lock()
	s.sessions[ss] = struct{}{}
	s.mu.Unlock()
	stop := make(chan struct{})
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		t := time.NewTicker(time.Duration(c.Handshake().PingInterval) * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if c.Ping() != nil {
					return
				}
			}
		}
	}()
	defer func() {
		close(stop)
		c.Close()
		ss.cutReply()
		ss.wg.Wait()
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
	}()
	for {
		p, err := c.Read()
		if err != nil || !ss.packet(p, authErr) {
			return
		}
	}
}

func (ss *session) emit(name string, arg any) { ss.c.Emit(nsp, -1, name, arg) }

func (ss *session) fail(typ, msg string) {
	if ss.s.o.NestedErrors {
		ss.emit("error", map[string]any{"error": map[string]string{"type": typ, "message": msg, "code": typ}})
		return
	}
	ss.emit("error", map[string]string{"type": typ, "message": msg})
}

func (ss *session) cutReply() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.cut != nil {
		close(ss.cut)
		ss.cut = nil
	}
}

// packet handles one packet; false ends the connection.
func (ss *session) packet(p sio.Packet, authErr string) bool {
	if string(p.Namespace) != nsp {
		if p.Type == sio.TypeConnect {
			ss.c.WriteRaw(append(sio.AppendPacket(nil, sio.TypeConnectError, string(p.Namespace), -1), `{"message":"Invalid namespace"}`...))
		}
		return true
	}
	switch p.Type {
	case sio.TypeConnect:
		ss.s.record("connect", p.Data)
		if authErr != "" {
			if ss.s.o.AuthFailure == "connect_error" {
				b, _ := json.Marshal(map[string]any{"message": authErr, "data": map[string]string{"type": "authentication_error"}})
				ss.c.WriteRaw(append(sio.AppendPacket(nil, sio.TypeConnectError, nsp, -1), b...))
				return false
			}
			ss.c.WriteRaw(sio.AppendConnect(nil, nsp, []byte(`{"sid":"`+sio.NewSID()+`"}`)))
			ss.fail("authentication_error", authErr)
			ss.c.Leave(nsp)
			return false
		}
		sid := sio.NewSID()
		ss.c.WriteRaw(sio.AppendConnect(nil, nsp, []byte(`{"sid":"`+sid+`"}`)))
		ss.mu.Lock()
		ss.joined = true
		ss.mu.Unlock()
		ss.emit("connected", map[string]string{"status": "connected", "sid": sid, "voice": ss.voice, "message": "Connected to Selam Voice Agent"})
		return true
	case sio.TypeDisconnect:
		ss.s.record("disconnect", nil)
		return false
	case sio.TypeEvent:
	default:
		return true
	}
	name, arg, err := sio.SplitEvent(p.Data)
	if err != nil {
		ss.fail("validation_error", err.Error())
		return true
	}
	ev := string(name)
	if ev == "audio_chunk" {
		ss.audio(arg)
		return true
	}
	ss.s.record(ev, arg)
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
			ss.listening, ss.speaking, ss.turn = false, false, ss.turn[:0]
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
			ss.cutReply()
		}
		if !ss.s.o.NoAck {
			ss.emit("control_ack", map[string]string{"action": m.Action, "status": ss.s.o.AckStatus})
		}
	case "end_session":
		ss.mu.Lock()
		id := ss.sessionID
		ss.started = false
		ss.mu.Unlock()
		ss.cutReply()
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
		ss.s.record("audio_chunk", []byte(`{"bad":true}`))
		ss.fail("validation_error", "audio_chunk: "+err.Error())
		return
	}
	b, err := base64.StdEncoding.DecodeString(m.Audio)
	rec, _ := json.Marshal(map[string]any{"audio_bytes": len(b), "format": m.Format, "sample_rate": m.SampleRate})
	ss.s.record("audio_chunk", rec)
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
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	ss.mu.Lock()
	speech := rms(pcm) > ss.vad
	first := speech && !ss.speaking
	if speech {
		ss.speaking, ss.quietMs = true, 0
	} else if ss.speaking {
		ss.quietMs += len(pcm) * 1000 / 16000
	}
	if ss.speaking && len(ss.turn) < 30*16000 {
		ss.turn = append(ss.turn, pcm...)
	}
	var turn []int16
	if ss.speaking && ss.quietMs >= ss.s.o.SilenceMs {
		turn = append([]int16(nil), ss.turn...)
		ss.turn, ss.speaking, ss.quietMs = ss.turn[:0], false, 0
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
	cut := make(chan struct{})
	ss.mu.Lock()
	if ss.cut != nil {
		close(ss.cut)
	}
	ss.cut = cut
	ss.mu.Unlock()
	var chunks [][]byte
	if len(ss.s.o.MP3) > 0 {
		chunks = ss.s.o.MP3
	} else {
		rate := ss.s.o.PCMRate
		voice := resample(turn, 16000, rate)
		per := rate * ss.s.o.ChunkMs / 1000
		for i := 0; i < len(voice); i += per {
			part := voice[i:min(i+per, len(voice))]
			b := make([]byte, 2*len(part))
			for j, v := range part {
				binary.LittleEndian.PutUint16(b[2*j:], uint16(v))
			}
			chunks = append(chunks, b)
		}
	}
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		ss.emit("response", map[string]string{"text": "You said: "})
		ss.emit("response", map[string]string{"text": text})
		for i, b := range chunks {
			select {
			case <-cut:
				return
			default:
			}
			ss.emit("audio_chunk", map[string]any{"audio": base64.StdEncoding.EncodeToString(b), "chunk_index": i})
			if ss.s.o.Pace {
				select {
				case <-cut:
					return
				case <-time.After(time.Duration(ss.s.o.ChunkMs) * time.Millisecond):
				}
			}
		}
		ss.emit("audio_end", map[string]int{"total_chunks": len(chunks)})
	}()
}

func rms(p []int16) float64 {
	if len(p) == 0 {
		return 0
	}
	var sum float64
	for _, v := range p {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(p)))
}

// resample converts by linear interpolation: good enough for a parrot.
func resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 {
		return in
	}
	out := make([]int16, len(in)*to/from)
	for i := range out {
		pos := float64(i) * float64(from) / float64(to)
		j := int(pos)
		f := pos - float64(j)
		a := float64(in[j])
		b := a
		if j+1 < len(in) {
			b = float64(in[j+1])
		}
		out[i] = int16(a + (b-a)*f)
	}
	return out
}
