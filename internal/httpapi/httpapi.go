package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/timers"
)

// MaxBody bounds a request body: a full config is a few KB.
const MaxBody = 256 << 10

//go:embed openapi.yaml
var openAPI []byte

// Event is one server-sent event: Type becomes the SSE event name, Data its JSON.
type Event struct {
	Type string
	// Engine is the data of an engine event, written without allocating; Data, when
	// set, is written with encoding/json instead.
	Engine engine.Event
	Data   any
	// Level is the data of a "level" event, the microphone's level in dBFS, written
	// without allocating: {"dbfs": -42.5}.
	Level float64
}

// LevelEvent is the SSE event name of the microphone's level.
const LevelEvent = "level"

// Backend is what the endpoint shows and controls; the daemon implements it.
type Backend interface {
	// Status is a JSON-able snapshot.
	Status() any
	// Devices is a JSON-able list of sound cards and GPIO chips.
	Devices() any
	// Control runs an action; a *ControlError says why it could not (409).
	Control(ctx context.Context, action string) error
	// Subscribe returns events until cancel is called.
	Subscribe() (events <-chan Event, cancel func())
	// WriteMetrics writes the Prometheus text exposition.
	WriteMetrics(w io.Writer)
}

// ConfigStore holds the configuration in force.
type ConfigStore interface {
	// Config is the configuration in force, secrets included.
	Config() config.Config
	// Apply validates nothing more (the endpoint did), applies next live where it can,
	// and persists it atomically. On error nothing changed.
	Apply(next config.Config) error
}

// ControlError is an action that was understood but cannot run now.
type ControlError struct {
	Action string
	Reason string
}

func (e *ControlError) Error() string { return e.Action + ": " + e.Reason }

// ErrUnknownAction is returned by Backend.Control for an action it does not know (400).
var ErrUnknownAction = errors.New("httpapi: unknown action")

// Actions are the control actions, in the order the docs list them.
var Actions = []string{"interrupt", "start_listening", "stop_listening", "pause_listening", "resume_listening",
	"pause", "resume", "mute", "unmute", "listen", "ptt_start", "ptt_stop"}

// Options configure a Server.
type Options struct {
	Token string // "" = no auth (loopback only; the config enforces that)
	// Listen is the address the endpoint listens on (http.listen): its host is an allowed
	// Host, as are loopback names and addresses, AllowedHosts, and the address a request
	// came in on.
	Listen       string
	AllowedHosts []string // http.allowed_hosts
	// MDNSHost is the NAME.local the device announces (an allowed Host); "" for none.
	MDNSHost string
	// Keys are the config keys the settings form shows; nil means config.Keys.
	Keys      []config.Key
	Backend   Backend
	Config    ConfigStore
	Timers    *timers.Store // /v1/timers; nil: 404
	Announcer Announcer     // /v1/announce; nil: 404
	Log       *slog.Logger
}

// Server is the HTTP endpoint.
type Server struct {
	opts Options
	mux  *http.ServeMux
	// cfgMu serialises config writes so an ETag check and its write are one step.
	cfgMu chan struct{}
	// etagKey keys the ETag's HMAC: drawn at start, never shown, so an ETag confirms
	// nothing about the config's secrets to someone who guesses them.
	etagKey [32]byte
	access  atomic.Pointer[access]
}

// access is who may use the endpoint; replaced whole when the config changes.
type access struct {
	token string
	hosts []string // http.allowed_hosts, lower case
}

// New builds the endpoint's handler.
func New(o Options) *Server {
	s := &Server{opts: o, mux: http.NewServeMux(), cfgMu: make(chan struct{}, 1)}
	rand.Read(s.etagKey[:])
	s.SetAccess(o.Token, o.AllowedHosts)
	for _, rt := range s.routes() {
		s.mux.HandleFunc(rt.pattern, rt.handler)
	}
	return s
}

// SetAccess puts a new token and allowed-hosts list in force at once, for the next
// request.
func (s *Server) SetAccess(token string, allowedHosts []string) {
	a := &access{token: token}
	for _, h := range allowedHosts {
		a.hosts = append(a.hosts, normHost(h))
	}
	s.access.Store(a)
}

type route struct {
	pattern string // "METHOD /path", as ServeMux and openapi.yaml name it
	handler http.HandlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{"GET /healthz", s.healthz},
		{"GET /v1/status", s.status},
		{"GET /v1/config", s.getConfig},
		{"PUT /v1/config", s.putConfig},
		{"PATCH /v1/config", s.patchConfig},
		{"POST /v1/control", s.control},
		{"GET /v1/timers", s.listTimers},
		{"POST /v1/timers", s.setTimer},
		{"DELETE /v1/timers/{id}", s.cancelTimer},
		{"POST /v1/timers/dismiss", s.dismissTimers},
		{"POST /v1/announce", s.announce},
		{"GET /v1/events", s.events},
		{"GET /v1/devices", s.devices},
		{"GET /metrics", s.metrics},
		{"GET /v1/openapi.yaml", s.openapi},
		{"GET /{$}", s.page},
		{"GET /app.css", s.asset("app.css", "text/css; charset=utf-8")},
		{"GET /app.js", s.asset("app.js", "text/javascript; charset=utf-8")},
		{"POST /v1/login", s.login},
		{"POST /v1/logout", s.logout},
	}
}

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(openAPI)
}

// ServeHTTP checks the Host, the Origin of a change, the token and the body's type,
// limits the body, and routes. The checks come in that order on every route, /healthz
// included, so a page from another site learns nothing by rebinding a name to us.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := s.access.Load()
	if !s.hostAllowed(r, a, r.Host) {
		writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("Host %q is not this device's: use 127.0.0.1, localhost, the listen address, or add the name to http.allowed_hosts", r.Host))
		return
	}
	changes := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
	if o := r.Header.Get("Origin"); changes && o != "" && !s.originAllowed(r, a, o) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("Origin %q may not change anything here (a web page of another site); nothing was changed", o))
		return
	}
	// The page (GET /) answers its login form itself when the token is missing.
	if a.token != "" && !public(r) && (r.URL.Path != "/" || r.Method != http.MethodGet) && !authorized(r, a.token) {
		sess, ok := cookieSession(r, a.token)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="voiced"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN; the token is http.token or http.token_file)")
			return
		}
		// A browser sends the cookie by itself; a change must show it came from the page.
		if changes && !s.csrfOK(r, sess) {
			writeError(w, http.StatusForbidden, "missing or wrong "+csrfHeader+" header: reload the page; nothing was changed")
			return
		}
	} else if changes && r.Header.Get(csrfHeader) != "" && a.token == "" && !s.csrfOK(r, "") {
		writeError(w, http.StatusForbidden, "wrong "+csrfHeader+" header: reload the page; nothing was changed")
		return
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || (mt != "application/json" && mt != "application/merge-patch+json") {
			// A browser's form or text/plain POST, which needs no preflight, ends here.
			writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q: send JSON (Content-Type: application/json)", r.Header.Get("Content-Type")))
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	s.mux.ServeHTTP(w, r)
}

// authorized checks an "Authorization: Bearer TOKEN" header; the scheme is
// case-insensitive (RFC 9110).
func authorized(r *http.Request, token string) bool {
	scheme, got, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	// Hash both sides so the comparison time says nothing about the token's length.
	a, b := sha256.Sum256([]byte(strings.TrimSpace(got))), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// normHost is a host (with or without a port) in the form hosts are compared in.
func normHost(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
}

// hostAllowed reports whether a Host header (or an Origin's host) names this device:
// localhost, a loopback address, the listen host, the address the request came in on
// (an address, unlike a name, cannot be rebound), or an entry of http.allowed_hosts.
func (s *Server) hostAllowed(r *http.Request, a *access, hostport string) bool {
	host := normHost(hostport)
	if host == "" {
		return false
	}
	if host == "localhost" || slices.Contains(a.hosts, host) || (s.opts.MDNSHost != "" && host == normHost(s.opts.MDNSHost)) {
		return true
	}
	// The listen host, unless it is 0.0.0.0 or ::, which no client should name.
	if lh := normHost(s.opts.Listen); host == lh {
		if ip := net.ParseIP(lh); ip == nil || !ip.IsUnspecified() {
			return true
		}
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ta, ok := la.(*net.TCPAddr); ok && ta.IP.Equal(ip) && !ip.IsUnspecified() {
			return true
		}
	}
	return false
}

// originAllowed reports whether a page at origin may change state: it must be served
// by this device under an allowed name, as the browser says in Origin.
func (s *Server) originAllowed(r *http.Request, a *access, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false // "null" (a sandboxed page or a file) included
	}
	return s.hostAllowed(r, a, u.Host)
}

// Serve answers on ln until ctx ends, then shuts down, giving requests a second.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		IdleTimeout:       60 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close() // event streams do not end by themselves
	}
	<-errc
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// apiError is every error body: a message, and the field errors of a rejected config.
type apiError struct {
	Error  string       `json:"error"`
	Fields []fieldError `json:"fields,omitempty"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "ok\n")
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.opts.Backend.Status())
}

func (s *Server) devices(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.opts.Backend.Devices())
}

func (s *Server) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	s.opts.Backend.WriteMetrics(w)
}

// etag is an HMAC, under a key drawn at start, of the redacted config and, apart, its
// secrets (so that changing only a secret changes the tag too). Without the key nobody
// can tell from a tag whether a guessed secret is the one in force.
func (s *Server) etag(c config.Config) string {
	m := hmac.New(sha256.New, s.etagKey[:])
	b, _ := json.Marshal(c.Redacted())
	m.Write(b)
	m.Write([]byte{0})
	m.Write([]byte(c.Realtime.APIKey))
	m.Write([]byte{0})
	m.Write([]byte(c.HTTP.Token))
	return `"` + hex.EncodeToString(m.Sum(nil)[:16]) + `"`
}

// ifMatch reports whether an If-Match header (a list of entity tags, or *) matches tag.
// Weak tags never match: If-Match compares strongly (RFC 9110 13.1.1).
func ifMatch(header, tag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || t == tag {
			return true
		}
	}
	return false
}

func (s *Server) getConfig(w http.ResponseWriter, _ *http.Request) {
	c := s.opts.Config.Config()
	w.Header().Set("ETag", s.etag(c))
	writeJSON(w, http.StatusOK, c.Redacted())
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	s.writeConfig(w, r, config.Config.Replace)
}

func (s *Server) patchConfig(w http.ResponseWriter, r *http.Request) {
	s.writeConfig(w, r, config.Config.Patch)
}

func (s *Server) writeConfig(w http.ResponseWriter, r *http.Request, build func(cur config.Config, body []byte) (config.Config, error)) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", MaxBody))
			return
		}
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	s.cfgMu <- struct{}{}
	defer func() { <-s.cfgMu }()
	cur := s.opts.Config.Config()
	if m := r.Header.Get("If-Match"); m != "" && !ifMatch(m, s.etag(cur)) {
		w.Header().Set("ETag", s.etag(cur))
		writeError(w, http.StatusPreconditionFailed, "the config changed since you read it (ETag "+s.etag(cur)+"); GET it again and reapply your change")
		return
	}
	next, err := build(cur, body)
	if err != nil {
		writeConfigError(w, http.StatusBadRequest, err)
		return
	}
	if err := config.CheckRemote(cur, next); err != nil {
		writeConfigError(w, http.StatusForbidden, err)
		return
	}
	if err := s.opts.Config.Apply(next); err != nil {
		if es := config.Errors(nil); errors.As(err, &es) {
			writeConfigError(w, http.StatusBadRequest, err)
			return
		}
		s.opts.Log.Error("config change not applied", "err", err)
		writeError(w, http.StatusInternalServerError, "config not applied: "+err.Error())
		return
	}
	applied := s.opts.Config.Config()
	w.Header().Set("ETag", s.etag(applied))
	writeJSON(w, http.StatusOK, applied.Redacted())
}

// writeConfigError answers a refused config change, naming every field at fault.
func writeConfigError(w http.ResponseWriter, code int, err error) {
	var es config.Errors
	if errors.As(err, &es) {
		e := apiError{Error: fmt.Sprintf("%d invalid field(s); nothing was changed", len(es))}
		for _, fe := range es {
			e.Fields = append(e.Fields, fieldError{Field: fe.Path, Message: fe.Msg})
		}
		writeJSON(w, code, e)
		return
	}
	writeError(w, code, err.Error()+"; nothing was changed")
}

type controlRequest struct {
	Action string `json:"action"`
}

type controlReply struct {
	Action string `json:"action"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	var req controlRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", MaxBody))
			return
		}
		writeError(w, http.StatusBadRequest, `want {"action": "..."}: `+err.Error())
		return
	}
	err := s.opts.Backend.Control(r.Context(), req.Action)
	var ce *ControlError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, controlReply{Action: req.Action, Status: "executed"})
	case errors.As(err, &ce):
		writeJSON(w, http.StatusConflict, controlReply{Action: req.Action, Status: "rejected", Reason: ce.Reason})
	case errors.Is(err, ErrUnknownAction):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown action %q; one of %s", req.Action, strings.Join(Actions, ", ")))
	default:
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	// Subscribed before the client sees the response, so that nothing it
	// does once it has the headers can happen unseen.
	events, cancel := s.opts.Backend.Subscribe()
	defer cancel()
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream has no end
	rc.SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	buf := make([]byte, 0, 4096) // reused: an engine event costs no allocation here
	write := func(ev Event) error {
		buf = append(append(append(buf[:0], "event: "...), ev.Type...), "\ndata: "...)
		if ev.Data != nil {
			data, err := json.Marshal(ev.Data)
			if err != nil {
				return nil
			}
			buf = append(buf, data...)
		} else if ev.Type == LevelEvent {
			buf = strconv.AppendFloat(append(buf, `{"dbfs":`...), math.Round(ev.Level*10)/10, 'f', -1, 64)
			buf = append(buf, '}')
		} else {
			buf = ev.Engine.AppendJSON(buf)
		}
		buf = append(buf, "\n\n"...)
		_, err := w.Write(buf)
		return err
	}
	for {
		select {
		case <-r.Context().Done():
			// The daemon is stopping (or the client left): what was published before
			// that still goes out, so that a client sees the state the daemon ended in.
			for drained := false; !drained; {
				select {
				case ev, ok := <-events:
					drained = !ok || write(ev) != nil
				default:
					drained = true
				}
			}
			rc.Flush()
			return
		case <-keepalive.C:
			io.WriteString(w, ": keepalive\n\n") // proxies and curl see the stream is alive
		case ev, ok := <-events:
			if !ok {
				return
			}
			if err := write(ev); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
