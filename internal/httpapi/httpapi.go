package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/engine"
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
}

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
var Actions = []string{"interrupt", "start_listening", "stop_listening", "pause", "resume", "mute", "unmute", "ptt_start", "ptt_stop"}

// Options configure a Server.
type Options struct {
	Token   string // "" = no auth (loopback only; the config enforces that)
	Backend Backend
	Config  ConfigStore
	Log     *slog.Logger
}

// Server is the HTTP endpoint.
type Server struct {
	opts Options
	mux  *http.ServeMux
	// cfgMu serialises config writes so an ETag check and its write are one step.
	cfgMu chan struct{}
}

// New builds the endpoint's handler.
func New(o Options) *Server {
	s := &Server{opts: o, mux: http.NewServeMux(), cfgMu: make(chan struct{}, 1)}
	for _, rt := range s.routes() {
		s.mux.HandleFunc(rt.pattern, rt.handler)
	}
	return s
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
		{"GET /v1/events", s.events},
		{"GET /v1/devices", s.devices},
		{"GET /metrics", s.metrics},
		{"GET /v1/openapi.yaml", s.openapi},
	}
}

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(openAPI)
}

// ServeHTTP checks the token, limits the body, and routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.opts.Token != "" && r.URL.Path != "/healthz" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="voiced"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer TOKEN; the token is http.token or http.token_file)")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
	s.mux.ServeHTTP(w, r)
}

func (s *Server) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	// Hash both sides so the comparison time says nothing about the token's length.
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(s.opts.Token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
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

func etag(c config.Config) string {
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}

func (s *Server) getConfig(w http.ResponseWriter, _ *http.Request) {
	c := s.opts.Config.Config()
	w.Header().Set("ETag", etag(c))
	writeJSON(w, http.StatusOK, c.Redacted())
}

func (s *Server) putConfig(w http.ResponseWriter, r *http.Request) {
	s.writeConfig(w, r, func(cur config.Config, body []byte) (config.Config, error) {
		next, err := config.Parse(body) // a PUT is the whole config: what it omits is the default
		if err != nil {
			return config.Config{}, err
		}
		cur.KeepSecrets(&next)
		return next, nil
	})
}

func (s *Server) patchConfig(w http.ResponseWriter, r *http.Request) {
	s.writeConfig(w, r, func(cur config.Config, body []byte) (config.Config, error) {
		var patch any
		if err := json.Unmarshal(body, &patch); err != nil {
			return config.Config{}, fmt.Errorf("body is not JSON: %w", err)
		}
		if _, ok := patch.(map[string]any); !ok {
			return config.Config{}, errors.New("a merge patch must be a JSON object")
		}
		base, err := cur.JSON()
		if err != nil {
			return config.Config{}, err
		}
		var doc any
		json.Unmarshal(base, &doc)
		merged, err := json.Marshal(mergePatch(doc, patch))
		if err != nil {
			return config.Config{}, err
		}
		return config.Parse(merged)
	})
}

// mergePatch applies an RFC 7396 JSON merge patch.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
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
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
		writeError(w, http.StatusUnsupportedMediaType, "send the config as application/json (a merge patch for PATCH)")
		return
	}
	s.cfgMu <- struct{}{}
	defer func() { <-s.cfgMu }()
	cur := s.opts.Config.Config()
	if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != etag(cur) {
		w.Header().Set("ETag", etag(cur))
		writeError(w, http.StatusPreconditionFailed, "the config changed since you read it (ETag "+etag(cur)+"); GET it again and reapply your change")
		return
	}
	next, err := build(cur, body)
	if err != nil {
		var es config.Errors
		if errors.As(err, &es) {
			e := apiError{Error: fmt.Sprintf("%d invalid field(s); nothing was changed", len(es))}
			for _, fe := range es {
				e.Fields = append(e.Fields, fieldError{Field: fe.Path, Message: fe.Msg})
			}
			writeJSON(w, http.StatusBadRequest, e)
			return
		}
		writeError(w, http.StatusBadRequest, err.Error()+"; nothing was changed")
		return
	}
	if err := s.opts.Config.Apply(next); err != nil {
		s.opts.Log.Error("config change not applied", "err", err)
		writeError(w, http.StatusInternalServerError, "config not applied: "+err.Error())
		return
	}
	applied := s.opts.Config.Config()
	w.Header().Set("ETag", etag(applied))
	writeJSON(w, http.StatusOK, applied.Redacted())
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
