package estuarytest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/backend/sio"
	"github.com/voiced-project/voiced/internal/backend/sio/siotest"
)

const nsp = "/sdk"

// Options configure a Server.
type Options struct {
	// Record, if set, gets each received event as a JSON line
	// {"event":...,"arg":...} as it arrives (voiced-sim --record).
	Record io.Writer
	// APIKey is the key accepted; empty accepts any non-empty key.
	APIKey string
	// AuthFailure is how a bad auth object is refused: "connect_error"
	// (default, a CONNECT_ERROR packet) or "auth_error" (the event, then a
	// disconnect).
	AuthFailure  string
	PingInterval time.Duration // default 25 s
	PingTimeout  time.Duration // default 20 s
	ChunkMs      int           // bot_voice chunk length (default 200)
	// Pace sends reply chunks at real time instead of at once.
	Pace      bool
	SilenceMs int // quiet after speech that ends a continuous turn (default 500)
	// StartDelay is how long opening speech-to-text takes: start_voice is
	// handled beside the reader, as python-socketio's concurrent handlers
	// do, and audio that arrives before it is open is lost (recorded with
	// "ignored":true).
	StartDelay  time.Duration
	SpeechLevel int // RMS above which audio is speech (default 500)
}

// Record is one event a client sent. stream_audio's audio is replaced by
// its size: {"audio_bytes":N}.
type Record = siotest.Record

// Server is the fake service. Create it with New; it is an http.Handler.
type Server struct {
	o   Options
	hub *siotest.Hub[*session]

	mu      sync.Mutex // guards following fields
	nextMsg int
}

// New returns a Server.
func New(o Options) *Server {
	if o.AuthFailure == "" {
		o.AuthFailure = "connect_error"
	}
	if o.ChunkMs <= 0 {
		o.ChunkMs = 200
	}
	if o.SilenceMs <= 0 {
		o.SilenceMs = 500
	}
	if o.SpeechLevel <= 0 {
		o.SpeechLevel = 500
	}
	so := sio.ServerOptions{PingInterval: o.PingInterval, PingTimeout: o.PingTimeout}
	return &Server{o: o, hub: siotest.NewHub[*session](nsp, so, o.Record)}
}

// Records returns what the clients sent, in order.
func (s *Server) Records() []Record { return s.hub.Records() }

// Count returns how many times event was received.
func (s *Server) Count(event string) int { return s.hub.Count(event) }

// Sessions returns the number of authenticated sessions.
func (s *Server) Sessions() int { return len(s.authed()) }

func (s *Server) authed() []*session {
	var list []*session
	for _, ss := range s.hub.Sessions() {
		if ss.authed() {
			list = append(list, ss)
		}
	}
	return list
}

// SetDown makes the server refuse upgrades with 503 (true) or serve again.
func (s *Server) SetDown(down bool) { s.hub.SetDown(down) }

// Drop closes every connection, as a restart does.
func (s *Server) Drop() { s.hub.Drop() }

// Injectable kinds, one per error event of the protocol, and interrupt.
var Kinds = []string{"auth_error", "error", "voice_error", "quota_exceeded", "session_timeout", "voice_timeout", "session_rejected", "interrupt"}

// Inject sends kind (one of Kinds) to every authenticated session, and
// disconnects where the service does.
func (s *Server) Inject(kind string) error {
	list := s.authed()
	if len(list) == 0 {
		return fmt.Errorf("estuarytest: inject %s: no session", kind)
	}
	for _, ss := range list {
		if err := ss.inject(kind); err != nil {
			return err
		}
	}
	return nil
}

// session is one client connection.
type session struct {
	s *Server
	c *siotest.Conn

	mu         sync.Mutex // guards following fields
	ok         bool       // authenticated
	rate       int        // audio_sample_rate
	voice, ptt bool
	det        siotest.Detector // audio of the current turn
	reply      *siotest.Reply   // the one being sent
}

func (ss *session) authed() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.ok
}

// ServeHTTP serves one Socket.IO connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hub.Serve(w, r, func(c *siotest.Conn) *session {
		return &session{s: s, c: c, rate: 16000, det: siotest.Detector{KeepQuiet: true}}
	})
}

// Close cuts the reply under way.
func (ss *session) Close() {
	ss.mu.Lock()
	if ss.reply != nil {
		ss.reply.Cut()
	}
	ss.mu.Unlock()
}

func (ss *session) emit(name string, arg any) { ss.c.Emit(name, arg) }

func (ss *session) Malformed(err error) { ss.emit("error", map[string]string{"message": err.Error()}) }

func (ss *session) Connect(data []byte) bool {
	if len(data) == 0 { // the TypeScript way: authenticate follows
		ss.c.Join(sio.NewSID())
		return true
	}
	if why := ss.checkAuth(data); why != "" && ss.s.o.AuthFailure == "connect_error" {
		ss.c.Refuse(map[string]string{"message": why})
		return false
	}
	ss.c.Join(sio.NewSID())
	return ss.welcome(data)
}

func (ss *session) Event(ev string, arg []byte, id int) bool {
	if ev == "stream_audio" {
		ss.audio(arg)
		return true
	}
	ss.s.hub.Record(ev, arg, id)
	if ev == "authenticate" {
		return ss.welcome(arg)
	}
	if !ss.authed() {
		ss.emit("auth_error", map[string]string{"error": "Not authenticated"})
		return true
	}
	switch ev {
	case "start_voice":
		var a struct {
			TurnMode string `json:"turn_mode"`
		}
		json.Unmarshal(arg, &a)
		open := func() {
			ss.mu.Lock()
			ss.voice, ss.ptt = true, a.TurnMode == "push_to_talk"
			ss.det.Reset()
			ss.mu.Unlock()
			ss.emit("voice_started", nil)
			ss.c.Ack(id)
		}
		if ss.s.o.StartDelay <= 0 {
			open()
			break
		}
		ss.c.Go(func() {
			time.Sleep(ss.s.o.StartDelay)
			open()
		})
	case "stop_voice":
		ss.mu.Lock()
		ptt := ss.ptt && ss.voice
		ss.voice = false
		ss.mu.Unlock()
		ss.emit("voice_stopped", nil)
		ss.c.Ack(id)
		if ptt {
			ss.endTurn()
		}
	case "client_interrupt":
		ss.Close()
	case "text":
		var a struct {
			Text string `json:"text"`
		}
		json.Unmarshal(arg, &a)
		ss.startReply(a.Text, tone(ss.rate, 400))
	}
	return true
}

// checkAuth returns why the auth object is refused, or "".
func (ss *session) checkAuth(b []byte) string {
	var a struct {
		APIKey      string `json:"api_key"`
		CharacterID string `json:"character_id"`
		PlayerID    string `json:"player_id"`
		Rate        int    `json:"audio_sample_rate"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return "Invalid auth payload"
	}
	switch {
	case a.APIKey == "" || (ss.s.o.APIKey != "" && a.APIKey != ss.s.o.APIKey):
		return "Invalid API key"
	case a.CharacterID == "":
		return "character_id is required"
	case a.PlayerID == "":
		return "player_id is required"
	}
	ss.mu.Lock()
	if a.Rate >= 8000 && a.Rate <= 48000 {
		ss.rate = a.Rate
	}
	ss.mu.Unlock()
	return ""
}

// welcome authenticates a session or refuses it with auth_error.
func (ss *session) welcome(auth []byte) bool {
	if why := ss.checkAuth(auth); why != "" {
		ss.emit("auth_error", map[string]string{"error": why})
		return false
	}
	ss.mu.Lock()
	ss.ok = true
	ss.mu.Unlock()
	var a struct {
		CharacterID string `json:"character_id"`
		PlayerID    string `json:"player_id"`
	}
	json.Unmarshal(auth, &a)
	ss.emit("session_info", map[string]string{"session_id": "sess-" + sio.NewSID(), "conversation_id": "conv-" + a.PlayerID,
		"character_id": a.CharacterID, "player_id": a.PlayerID})
	return true
}

// audio hears one stream_audio chunk.
func (ss *session) audio(arg []byte) {
	raw, ok := sio.Str(sio.Field(arg, "audio"))
	pcm, err := siotest.DecodePCM(raw)
	if !ok || err != nil {
		ss.s.hub.Record("stream_audio", []byte(`{"bad_audio":true}`), -1)
		ss.emit("error", map[string]string{"message": "stream_audio: audio is not base64 PCM16"})
		return
	}
	ss.mu.Lock()
	if !ss.ok || !ss.voice {
		ss.mu.Unlock()
		// Audio without an open speech-to-text is lost.
		ss.s.hub.Record("stream_audio", fmt.Appendf(nil, `{"audio_bytes":%d,"ignored":true}`, 2*len(pcm)), -1)
		return
	}
	ss.s.hub.Record("stream_audio", fmt.Appendf(nil, `{"audio_bytes":%d}`, 2*len(pcm)), -1)
	first := ss.det.Hear(pcm, float64(ss.s.o.SpeechLevel))
	end := !ss.ptt && ss.det.Ended(ss.s.o.SilenceMs)
	ss.mu.Unlock()
	if first {
		ss.emit("stt_response", map[string]any{"text": "…", "is_final": false})
	}
	if end {
		ss.endTurn()
	}
}

// endTurn sends the final transcript and starts the parrot reply.
func (ss *session) endTurn() {
	ss.mu.Lock()
	turn := ss.det.Take()
	rate := ss.rate
	ss.mu.Unlock()
	if len(turn) == 0 {
		return
	}
	text := fmt.Sprintf("I spoke for %d milliseconds", len(turn)*1000/siotest.Rate)
	ss.emit("stt_response", map[string]any{"text": text, "is_final": true, "confidence": 0.9})
	ss.startReply(text, siotest.Resample(turn, siotest.Rate, rate))
}

// startReply streams the reply's text and voice from its own goroutine.
func (ss *session) startReply(heard string, voice []int16) {
	ss.s.mu.Lock()
	ss.s.nextMsg++
	id := fmt.Sprintf("msg-%d", ss.s.nextMsg)
	ss.s.mu.Unlock()
	r := siotest.NewReply(id)
	ss.mu.Lock()
	if ss.reply != nil {
		ss.reply.Cut()
	}
	ss.reply = r
	rate := ss.rate
	ss.mu.Unlock()
	ss.c.Go(func() {
		full := "You said: " + heard
		half := strings.Index(full, ":") + 1
		for i, piece := range []string{full[:half], full[half:]} {
			ss.emit("bot_response", map[string]any{"text": piece, "is_final": false, "partial": true, "message_id": id, "chunk_index": i, "is_interjection": false})
		}
		ss.emit("bot_response", map[string]any{"text": full, "is_final": true, "partial": false, "message_id": id, "chunk_index": 2, "is_interjection": false})
		chunks := siotest.Chunks(voice, rate*ss.s.o.ChunkMs/1000)
		var pace time.Duration
		if ss.s.o.Pace {
			pace = time.Duration(ss.s.o.ChunkMs) * time.Millisecond
		}
		r.Stream(chunks, pace, func(i int, b []byte) {
			ss.emit("bot_voice", map[string]any{"audio": base64.StdEncoding.EncodeToString(b), "message_id": id, "chunk_index": i,
				"is_final": i == len(chunks)-1, "sample_rate": rate, "timestamp": float64(time.Now().UnixMilli()) / 1000})
		})
	})
}

func (ss *session) inject(kind string) error {
	switch kind {
	case "auth_error":
		ss.emit(kind, map[string]string{"error": "Invalid API key"})
		ss.c.Leave()
	case "error":
		ss.emit(kind, map[string]string{"message": "Something went wrong on the server"})
	case "voice_error":
		ss.emit(kind, map[string]string{"error": "Speech-to-text is unavailable"})
	case "quota_exceeded":
		ss.emit(kind, map[string]any{"error": "quota_exceeded", "message": "Monthly interaction limit reached", "current": 100, "limit": 100, "remaining": 0, "tier": "free"})
		ss.c.Leave()
	case "session_timeout":
		ss.emit(kind, map[string]any{"reason": "inactivity", "idle_seconds": 300, "timeout_seconds": 300})
		ss.c.Leave()
	case "voice_timeout":
		ss.mu.Lock()
		ss.voice = false
		ss.mu.Unlock()
		ss.emit(kind, map[string]any{"reason": "voice_inactivity", "idle_seconds": 600, "timeout_seconds": 600})
	case "session_rejected":
		ss.emit(kind, map[string]any{"reason": "concurrent_limit", "cap": 1, "share_token_id": "share-1"})
		ss.c.Leave()
	case "interrupt":
		ss.mu.Lock()
		id := ""
		if ss.reply != nil {
			id = ss.reply.ID
			ss.reply.Cut()
		}
		ss.mu.Unlock()
		ss.emit(kind, map[string]any{"message_id": id, "reason": "server", "interrupted_at": float64(time.Now().UnixMilli()) / 1000})
	default:
		return fmt.Errorf("estuarytest: inject %q: unknown kind", kind)
	}
	return nil
}

// tone is a 440 Hz beep, the voice of a typed reply.
func tone(rate, ms int) []int16 {
	out := make([]int16, rate*ms/1000)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return out
}
