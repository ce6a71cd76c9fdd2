package realtimetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/voiced-project/voiced/internal/realtime"
)

// Reply kinds.
const (
	ReplyParrot = "parrot" // the user's committed audio, spoken back
	ReplyTone   = "tone"   // one second of 440 Hz
)

// Config configures a Server. The zero value is a GA server that accepts
// any key and parrots in real time.
type Config struct {
	Dialect realtime.Dialect
	// APIKey, when set, is required on the upgrade (Authorization: Bearer,
	// api-key, or Authorization: api-key); other keys get HTTP 401.
	APIKey string
	// Reply is ReplyParrot (default) or ReplyTone; ReplyAudio, when set,
	// is spoken instead (ReplyRate is its rate).
	Reply      string
	ReplyAudio []int16
	ReplyRate  int
	// Speed paces audio deltas: 1 is real time, 0 as fast as possible.
	Speed float64
	// Record receives every client event, one JSON object per line.
	Record io.Writer
	// SessionMax ends a session with error session_expired and close 1001
	// (default 60 min).
	SessionMax time.Duration
	// HideExpiry leaves expires_at out of the session, like servers that
	// do not announce it; the session still ends at SessionMax.
	HideExpiry bool
	// FailAfter drops the connection after this many server events (0: never).
	FailAfter int
	// Question ends every spoken reply's transcript with a question, as an
	// assistant that expects an answer does (continue-conversation tests).
	Question bool
	// ToolCall makes the first response of a session a call of this tool;
	// the spoken reply follows once its output arrives.
	ToolCall      string
	ToolArguments string // default "{}"
	// MinIdleTimeout is the smallest idle_timeout_ms accepted; the service
	// takes 5 s to 30 s (the default), tests may allow less.
	MinIdleTimeout time.Duration
	// ChunkMs is the audio per delta (default 50 ms).
	ChunkMs int
	// Model is reported in the session (default gpt-realtime).
	Model  string
	Logger *slog.Logger
	// OnEvent, when set, sees every server event as sent (tests validate them).
	OnEvent func(msg []byte)

	// Misbehaviour, for tests of what a broken or hostile server costs.

	// Refuse answers every upgrade with this HTTP status (0: upgrade).
	Refuse int
	// Extra are raw text messages sent on every connection right after
	// session.created, as they are: malformed ones, oversize ones.
	Extra [][]byte
	// IgnoreInstructed never answers a response.create that carries its own
	// instructions (an announcement): no response.created, no error.
	IgnoreInstructed bool
}

// Server serves the Realtime protocol over WebSocket. It is an
// http.Handler; Start also listens itself.
type Server struct {
	cfg      Config
	log      *slog.Logger
	upgrader websocket.Upgrader
	ids      atomic.Uint64
	wg       sync.WaitGroup // connection handlers and their goroutines

	recMu sync.Mutex // guards the Record writer

	mu       sync.Mutex // guards following fields
	conns    map[*session]struct{}
	received [][]byte
	sessions int
	upgrades int
	expired  int
	ln       net.Listener
	hs       *http.Server
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Reply == "" {
		cfg.Reply = ReplyParrot
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = time.Hour
	}
	if cfg.MinIdleTimeout <= 0 {
		cfg.MinIdleTimeout = 5 * time.Second
	}
	if cfg.ChunkMs <= 0 {
		cfg.ChunkMs = 50
	}
	if cfg.ToolArguments == "" {
		cfg.ToolArguments = "{}"
	}
	if cfg.Model == "" {
		cfg.Model = "gpt-realtime"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Server{
		cfg: cfg, log: cfg.Logger, conns: map[*session]struct{}{},
		upgrader: websocket.Upgrader{
			ReadBufferSize: 32 << 10, WriteBufferSize: 32 << 10,
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

// Start listens on addr ("127.0.0.1:0" picks a port) and serves until
// Stop; it returns the address. A stopped server can start again.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/realtime", s)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.ln, s.hs = ln, hs
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = hs.Serve(ln)
	}()
	return ln.Addr().String(), nil
}

// Stop closes the listener and every connection abruptly (no close frame,
// like a crashed server) and waits for all goroutines.
func (s *Server) Stop() {
	s.mu.Lock()
	hs := s.hs
	s.hs, s.ln = nil, nil
	s.mu.Unlock()
	if hs != nil {
		_ = hs.Close()
	}
	s.DropAll()
	s.wg.Wait()
}

// DropAll closes every connection without a close frame.
func (s *Server) DropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.drop()
	}
}

// Inject sends a raw message to every connection (tests: garbage,
// oversized frames).
func (s *Server) Inject(messageType int, data []byte) {
	s.mu.Lock()
	conns := make([]*session, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.writeRaw(messageType, data)
	}
}

// Received returns the client events received so far, as received.
func (s *Server) Received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.received))
	copy(out, s.received)
	return out
}

// Sessions counts sessions started; Upgrades counts upgrade attempts,
// refused ones included.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Upgrades counts upgrade requests, refused ones included.
func (s *Server) Upgrades() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upgrades
}

// Expired counts sessions ended by SessionMax.
func (s *Server) Expired() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expired
}

// Connections counts open connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) id(prefix string) string {
	return fmt.Sprintf("%s_%06d", prefix, s.ids.Add(1))
}

func requestKey(r *http.Request) string {
	if k := r.Header.Get("api-key"); k != "" {
		return k
	}
	a := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "api-key ", "Api-Key "} {
		if strings.HasPrefix(a, p) {
			return strings.TrimSpace(a[len(p):])
		}
	}
	return ""
}

func writeHTTPError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"type": typ, "code": code, "message": msg, "param": nil,
	}})
}

// ServeHTTP upgrades and runs one session.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.upgrades++
	s.mu.Unlock()
	if s.cfg.Refuse != 0 {
		writeHTTPError(w, s.cfg.Refuse, "server_error", "refused", "Refused on purpose.")
		return
	}
	if s.cfg.APIKey != "" && requestKey(r) != s.cfg.APIKey {
		writeHTTPError(w, http.StatusUnauthorized, "invalid_request_error", realtime.CodeInvalidAPIKey,
			"Incorrect API key provided.")
		return
	}
	// Like the service, say what time it is: expires_at is on this clock.
	ws, err := s.upgrader.Upgrade(w, r, http.Header{"Date": {time.Now().UTC().Format(http.TimeFormat)}})
	if err != nil {
		return // the upgrader answered
	}
	ws.SetReadLimit(16 << 20)
	c := newSession(s, ws)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.sessions++
	s.mu.Unlock()
	s.wg.Add(1)
	defer s.wg.Done()
	betaHeader := r.Header.Get("OpenAI-Beta") != ""
	s.log.Info("session start", "session", c.id, "remote", r.RemoteAddr)
	c.run(betaHeader)
	s.log.Info("session end", "session", c.id)
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) record(msg []byte) {
	cp := append([]byte(nil), msg...)
	s.mu.Lock()
	s.received = append(s.received, cp)
	s.mu.Unlock()
	if s.cfg.Record == nil {
		return
	}
	line := cp
	if bytes.ContainsAny(line, "\r\n") {
		var b bytes.Buffer
		if json.Compact(&b, line) == nil {
			line = b.Bytes()
		} else {
			line = bytes.ReplaceAll(bytes.ReplaceAll(line, []byte("\r"), nil), []byte("\n"), []byte(" "))
		}
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	_, _ = s.cfg.Record.Write(append(line, '\n'))
}

var errDropped = errors.New("realtimetest: connection dropped")

// sleep waits d or until done closes.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
