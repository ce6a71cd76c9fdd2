package estuarytest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/backend/sio"
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
type Record struct {
	Event string
	Arg   json.RawMessage
	AckID int // -1 when none
}

// Server is the fake service. Create it with New; it is an http.Handler.
type Server struct {
	o Options

	mu       sync.Mutex // guards following fields
	sessions map[*session]struct{}
	records  []Record
	down     bool
	nextMsg  int
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

// Sessions returns the number of authenticated sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for ss := range s.sessions {
		if ss.authed() {
			n++
		}
	}
	return n
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

// Injectable kinds, one per error event of the protocol, and interrupt.
var Kinds = []string{"auth_error", "error", "voice_error", "quota_exceeded", "session_timeout", "voice_timeout", "session_rejected", "interrupt"}

// Inject sends kind (one of Kinds) to every authenticated session, and
// disconnects where the service does.
func (s *Server) Inject(kind string) error {
	s.mu.Lock()
	var list []*session
	for ss := range s.sessions {
		if ss.authed() {
			list = append(list, ss)
		}
	}
	s.mu.Unlock()
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

func (s *Server) record(ev string, arg []byte, id int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records = append(s.records, Record{Event: ev, Arg: append(json.RawMessage(nil), arg...), AckID: id})
	if s.o.Record != nil {
		line, _ := json.Marshal(struct {
			Event string          `json:"event"`
			Arg   json.RawMessage `json:"arg,omitempty"`
		}{ev, s.records[len(s.records)-1].Arg})
		s.o.Record.Write(append(line, '\n'))
	}
}

// session is one client connection.
type session struct {
	s *Server
	c *sio.Conn

	mu         sync.Mutex // guards following fields
	ok         bool       // authenticated
	rate       int        // audio_sample_rate
	voice, ptt bool
	speaking   bool
	quietMs    int
	turn       []int16 // audio of the current turn
	reply      *reply  // the one being sent
	wg         sync.WaitGroup
}

type reply struct {
	id   string
	stop chan struct{} // closed to cut it
	once sync.Once
}

func (r *reply) cut() { r.once.Do(func() { close(r.stop) }) }

func (ss *session) authed() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.ok
}

// ServeHTTP serves one Socket.IO connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		http.Error(w, "restarting", http.StatusServiceUnavailable)
		return
	}
	c, err := sio.Accept(w, r, sio.ServerOptions{PingInterval: s.o.PingInterval, PingTimeout: s.o.PingTimeout})
	if err != nil {
		return
	}
	ss := &session{s: s, c: c, rate: 16000}
	s.mu.Lock()
	s.sessions[ss] = struct{}{}
	s.mu.Unlock()
	stop := make(chan struct{})
	ss.wg.Add(1)
	go func() { // the Engine.IO heartbeat
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
		ss.mu.Lock()
		if ss.reply != nil {
			ss.reply.cut()
		}
		ss.mu.Unlock()
		ss.wg.Wait()
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
	}()
	for {
		p, err := c.Read()
		if err != nil || !ss.packet(p) {
			return
		}
	}
}

// emit writes an event with one argument (nil for none).
func (ss *session) emit(name string, arg any) {
	ss.c.Emit(nsp, -1, name, arg)
}

// packet handles one packet; false ends the connection.
func (ss *session) packet(p sio.Packet) bool {
	if string(p.Namespace) != nsp {
		if p.Type == sio.TypeConnect {
			ss.c.WriteRaw(append(sio.AppendPacket(nil, sio.TypeConnectError, string(p.Namespace), -1), `{"message":"Invalid namespace"}`...))
		}
		return true
	}
	switch p.Type {
	case sio.TypeConnect:
		ss.s.record("connect", p.Data, -1)
		if len(p.Data) == 0 { // the TypeScript way: authenticate follows
			ss.c.WriteRaw(sio.AppendConnect(nil, nsp, []byte(`{"sid":"`+sio.NewSID()+`"}`)))
			return true
		}
		if why := ss.checkAuth(p.Data); why != "" && ss.s.o.AuthFailure == "connect_error" {
			msg, _ := json.Marshal(map[string]string{"message": why})
			ss.c.WriteRaw(append(sio.AppendPacket(nil, sio.TypeConnectError, nsp, -1), msg...))
			return false
		}
		ss.c.WriteRaw(sio.AppendConnect(nil, nsp, []byte(`{"sid":"`+sio.NewSID()+`"}`)))
		return ss.welcome(p.Data)
	case sio.TypeDisconnect:
		ss.s.record("disconnect", nil, -1)
		return false
	case sio.TypeEvent:
	default:
		return true
	}
	name, arg, err := sio.SplitEvent(p.Data)
	if err != nil {
		ss.emit("error", map[string]string{"message": err.Error()})
		return true
	}
	ev := string(name)
	if ev == "stream_audio" {
		ss.audio(arg)
		return true
	}
	ss.s.record(ev, arg, p.ID)
	if ev == "authenticate" {
		return ss.welcome(arg)
	}
	if !ss.authed() {
		ss.emit("auth_error", map[string]string{"error": "Not authenticated"})
		return true
	}
	ack := func() {
		if p.ID >= 0 {
			ss.c.WriteRaw(sio.AppendAck(nil, nsp, p.ID, nil))
		}
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
			ss.turn, ss.speaking, ss.quietMs = ss.turn[:0], false, 0
			ss.mu.Unlock()
			ss.emit("voice_started", nil)
			ack()
		}
		if ss.s.o.StartDelay <= 0 {
			open()
			break
		}
		ss.wg.Add(1)
		go func() {
			defer ss.wg.Done()
			time.Sleep(ss.s.o.StartDelay)
			open()
		}()
	case "stop_voice":
		ss.mu.Lock()
		ptt := ss.ptt && ss.voice
		ss.voice = false
		ss.mu.Unlock()
		ss.emit("voice_stopped", nil)
		ack()
		if ptt {
			ss.endTurn()
		}
	case "client_interrupt":
		ss.mu.Lock()
		if ss.reply != nil {
			ss.reply.cut()
		}
		ss.mu.Unlock()
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
	pcmBytes, err := base64.StdEncoding.DecodeString(string(raw))
	if !ok || err != nil || len(pcmBytes)%2 != 0 {
		ss.s.record("stream_audio", []byte(`{"bad_audio":true}`), -1)
		ss.emit("error", map[string]string{"message": "stream_audio: audio is not base64 PCM16"})
		return
	}
	pcm := make([]int16, len(pcmBytes)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(pcmBytes[2*i:]))
	}
	ss.mu.Lock()
	if !ss.ok || !ss.voice {
		ss.mu.Unlock()
		// Audio without an open speech-to-text is lost.
		ss.s.record("stream_audio", fmt.Appendf(nil, `{"audio_bytes":%d,"ignored":true}`, len(pcmBytes)), -1)
		return
	}
	ss.s.record("stream_audio", fmt.Appendf(nil, `{"audio_bytes":%d}`, len(pcmBytes)), -1)
	if len(ss.turn) < 30*16000 {
		ss.turn = append(ss.turn, pcm...)
	}
	speech := rms(pcm) > float64(ss.s.o.SpeechLevel)
	first := speech && !ss.speaking
	if speech {
		ss.speaking, ss.quietMs = true, 0
	} else if ss.speaking {
		ss.quietMs += len(pcm) * 1000 / 16000
	}
	end := !ss.ptt && ss.speaking && ss.quietMs >= ss.s.o.SilenceMs
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
	turn := append([]int16(nil), ss.turn...)
	ss.turn, ss.speaking, ss.quietMs = ss.turn[:0], false, 0
	rate := ss.rate
	ss.mu.Unlock()
	if len(turn) == 0 {
		return
	}
	text := fmt.Sprintf("I spoke for %d milliseconds", len(turn)*1000/16000)
	ss.emit("stt_response", map[string]any{"text": text, "is_final": true, "confidence": 0.9})
	ss.startReply(text, resample(turn, 16000, rate))
}

// startReply streams the reply's text and voice from its own goroutine.
func (ss *session) startReply(heard string, voice []int16) {
	ss.s.mu.Lock()
	ss.s.nextMsg++
	id := fmt.Sprintf("msg-%d", ss.s.nextMsg)
	ss.s.mu.Unlock()
	r := &reply{id: id, stop: make(chan struct{})}
	ss.mu.Lock()
	if ss.reply != nil {
		ss.reply.cut()
	}
	ss.reply = r
	rate := ss.rate
	ss.mu.Unlock()
	ss.wg.Add(1)
	go func() {
		defer ss.wg.Done()
		full := "You said: " + heard
		half := strings.Index(full, ":") + 1
		for i, piece := range []string{full[:half], full[half:]} {
			ss.emit("bot_response", map[string]any{"text": piece, "is_final": false, "partial": true, "message_id": id, "chunk_index": i, "is_interjection": false})
		}
		ss.emit("bot_response", map[string]any{"text": full, "is_final": true, "partial": false, "message_id": id, "chunk_index": 2, "is_interjection": false})
		per := rate * ss.s.o.ChunkMs / 1000
		for i := 0; i*per < len(voice); i++ {
			chunk := voice[i*per : min((i+1)*per, len(voice))]
			select {
			case <-r.stop:
				return
			default:
			}
			b := make([]byte, 2*len(chunk))
			for j, v := range chunk {
				binary.LittleEndian.PutUint16(b[2*j:], uint16(v))
			}
			ss.emit("bot_voice", map[string]any{"audio": base64.StdEncoding.EncodeToString(b), "message_id": id, "chunk_index": i,
				"is_final": (i+1)*per >= len(voice), "sample_rate": rate, "timestamp": float64(time.Now().UnixMilli()) / 1000})
			if ss.s.o.Pace {
				select {
				case <-r.stop:
					return
				case <-time.After(time.Duration(ss.s.o.ChunkMs) * time.Millisecond):
				}
			}
		}
	}()
}

func (ss *session) inject(kind string) error {
	switch kind {
	case "auth_error":
		ss.emit(kind, map[string]string{"error": "Invalid API key"})
		ss.c.Leave(nsp)
	case "error":
		ss.emit(kind, map[string]string{"message": "Something went wrong on the server"})
	case "voice_error":
		ss.emit(kind, map[string]string{"error": "Speech-to-text is unavailable"})
	case "quota_exceeded":
		ss.emit(kind, map[string]any{"error": "quota_exceeded", "message": "Monthly interaction limit reached", "current": 100, "limit": 100, "remaining": 0, "tier": "free"})
		ss.c.Leave(nsp)
	case "session_timeout":
		ss.emit(kind, map[string]any{"reason": "inactivity", "idle_seconds": 300, "timeout_seconds": 300})
		ss.c.Leave(nsp)
	case "voice_timeout":
		ss.mu.Lock()
		ss.voice = false
		ss.mu.Unlock()
		ss.emit(kind, map[string]any{"reason": "voice_inactivity", "idle_seconds": 600, "timeout_seconds": 600})
	case "session_rejected":
		ss.emit(kind, map[string]any{"reason": "concurrent_limit", "cap": 1, "share_token_id": "share-1"})
		ss.c.Leave(nsp)
	case "interrupt":
		ss.mu.Lock()
		id := ""
		if ss.reply != nil {
			id = ss.reply.id
			ss.reply.cut()
		}
		ss.mu.Unlock()
		ss.emit(kind, map[string]any{"message_id": id, "reason": "server", "interrupted_at": float64(time.Now().UnixMilli()) / 1000})
	default:
		return fmt.Errorf("estuarytest: inject %q: unknown kind", kind)
	}
	return nil
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

// tone is a 440 Hz beep, the voice of a typed reply.
func tone(rate, ms int) []int16 {
	out := make([]int16, rate*ms/1000)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return out
}
