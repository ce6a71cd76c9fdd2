package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/voiced-project/voiced/internal/config"
)

type fakeBackend struct {
	mu      sync.Mutex
	actions []string
	subs    []chan Event
	// subscribeDelay makes Subscribe slow, as a busy daemon's can be.
	subscribeDelay time.Duration
}

func (b *fakeBackend) Status() any {
	return map[string]any{"state": "CONNECTED", "wake": map[string]any{"mode": "word", "detections": 0,
		"words": []map[string]any{{"word": "okay_nabu", "phrase": "Okay Nabu", "model": "built in", "threshold": 0.97}}}}
}
func (b *fakeBackend) Devices() any { return map[string]any{"cards": []string{"Loopback"}} }
func (b *fakeBackend) WriteMetrics(w io.Writer) {
	io.WriteString(w, "# TYPE voiced_turns_total counter\nvoiced_turns_total 3\n")
}

func (b *fakeBackend) Control(_ context.Context, action string) error {
	if !slices.Contains(Actions, action) {
		return ErrUnknownAction
	}
	if action == "resume" {
		return &ControlError{Action: action, Reason: "not paused"}
	}
	b.mu.Lock()
	b.actions = append(b.actions, action)
	b.mu.Unlock()
	return nil
}

func (b *fakeBackend) Subscribe() (<-chan Event, func()) {
	time.Sleep(b.subscribeDelay)
	ch := make(chan Event, 8)
	b.mu.Lock()
	b.subs = append(b.subs, ch)
	b.mu.Unlock()
	return ch, func() {}
}

func (b *fakeBackend) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		s <- e
	}
}

type fakeStore struct {
	mu      sync.Mutex
	cfg     config.Config
	applied int
}

func (s *fakeStore) Config() config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Clone()
}

func (s *fakeStore) Apply(next config.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg = next
	s.applied++
	return nil
}

func newTest(t *testing.T, token string) (*httptest.Server, *fakeBackend, *fakeStore) {
	t.Helper()
	b := &fakeBackend{}
	cfg := config.Default()
	cfg.Realtime.APIKey = "sk-very-secret"
	st := &fakeStore{cfg: cfg}
	srv := httptest.NewServer(New(Options{Token: token, Backend: b, Config: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)
	return srv, b, st
}

func do(t *testing.T, method, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRoutes(t *testing.T) {
	srv, _, _ := newTest(t, "")
	tests := []struct {
		method, path, body string
		code               int
		contains           string
	}{
		{"GET", "/healthz", "", 200, "ok"},
		{"GET", "/v1/status", "", 200, `"state": "CONNECTED"`},
		{"GET", "/v1/devices", "", 200, "Loopback"},
		{"GET", "/metrics", "", 200, "voiced_turns_total 3"},
		{"GET", "/v1/config", "", 200, `"voice": "marin"`},
		{"GET", "/v1/openapi.yaml", "", 200, "openapi: 3.1.0"},
		{"POST", "/v1/control", `{"action":"ptt_start"}`, 200, `"status": "executed"`},
		{"POST", "/v1/control", `{"action":"resume"}`, 409, `"reason": "not paused"`},
		{"POST", "/v1/control", `{"action":"dance"}`, 400, `unknown action \"dance\"`},
		{"POST", "/v1/control", `{"action":`, 400, "want {"},
		{"POST", "/v1/control", `{"action":"mute","extra":1}`, 400, "unknown field"},
		{"DELETE", "/v1/config", "", 405, ""},
		{"GET", "/v1/nothing", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.body, func(t *testing.T) {
			resp, body := do(t, tt.method, srv.URL+tt.path, tt.body)
			if resp.StatusCode != tt.code {
				t.Errorf("%s %s = %d, want %d; body %s", tt.method, tt.path, resp.StatusCode, tt.code, body)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("%s %s body %q, want it to contain %q", tt.method, tt.path, body, tt.contains)
			}
		})
	}
}

func TestConfigRedacted(t *testing.T) {
	srv, _, _ := newTest(t, "")
	_, body := do(t, "GET", srv.URL+"/v1/config", "")
	if strings.Contains(body, "sk-very-secret") || !strings.Contains(body, `"api_key": "***"`) {
		t.Errorf("GET /v1/config shows the key or no redaction: %s", body)
	}
}

func TestPatchConfig(t *testing.T) {
	srv, _, st := newTest(t, "")
	resp, body := do(t, "PATCH", srv.URL+"/v1/config", `{"realtime": {"voice": "cedar"}, "audio": {"playback": {"volume": 60}}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH = %d %s", resp.StatusCode, body)
	}
	c := st.Config()
	if c.Realtime.Voice != "cedar" || c.Audio.Playback.Volume != 60 || c.Realtime.APIKey != "sk-very-secret" || c.Mode != "both" {
		t.Errorf("after PATCH: voice %q volume %d key kept %v mode %q", c.Realtime.Voice, c.Audio.Playback.Volume, c.Realtime.APIKey == "sk-very-secret", c.Mode)
	}
}

func TestPutConfigKeepsRedactedSecret(t *testing.T) {
	srv, _, st := newTest(t, "")
	_, body := do(t, "GET", srv.URL+"/v1/config", "")
	body = strings.Replace(body, `"mode": "both"`, `"mode": "push_to_talk"`, 1)
	resp, out := do(t, "PUT", srv.URL+"/v1/config", body, "Content-Type", "application/json")
	if resp.StatusCode != 200 {
		t.Fatalf("PUT = %d %s", resp.StatusCode, out)
	}
	if c := st.Config(); c.Mode != "push_to_talk" || c.Realtime.APIKey != "sk-very-secret" {
		t.Errorf("after PUT: mode %q, key kept %v", c.Mode, c.Realtime.APIKey == "sk-very-secret")
	}
}

func TestRejectedConfigChangesNothing(t *testing.T) {
	srv, _, st := newTest(t, "")
	before := st.Config()
	tests := []struct {
		name, method, body string
		code               int
		fields             []string
	}{
		{"out of range", "PATCH", `{"audio": {"capture": {"period_ms": 0}}, "vad": {"sensitivity": 9}}`, 400, []string{"audio.capture.period_ms", "vad.sensitivity"}},
		{"unknown field", "PATCH", `{"realtime": {"voise": "ash"}}`, 400, []string{"realtime.voise"}},
		{"wrong type", "PATCH", `{"gpio": {"button": {"debounce_ms": "fast"}}}`, 400, []string{"gpio.button.debounce_ms"}},
		{"bad json", "PATCH", `{"realtime": `, 400, nil},
		{"not an object", "PATCH", `[1,2]`, 400, nil},
		{"put unknown", "PUT", `{"mood": "happy"}`, 400, []string{"mood"}},
		{"too large", "PATCH", `{"realtime": {"instructions": "` + strings.Repeat("x", MaxBody) + `"}}`, 413, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, srv.URL+"/v1/config", tt.body)
			if resp.StatusCode != tt.code {
				t.Fatalf("%s = %d, want %d: %s", tt.name, resp.StatusCode, tt.code, body)
			}
			var e apiError
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
				t.Fatalf("error body %q is not {error: ...}", body)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			sort.Strings(got)
			want := slices.Clone(tt.fields)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("fields = %v, want %v", got, want)
			}
		})
	}
	if st.applied != 0 {
		t.Errorf("Apply called %d times for rejected changes", st.applied)
	}
	if after := st.Config(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("config changed by rejected requests")
	}
}

func TestStaleETag(t *testing.T) {
	srv, _, st := newTest(t, "")
	resp, _ := do(t, "GET", srv.URL+"/v1/config", "")
	tag := resp.Header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag")
	}
	// Two editors read the same version; the first write wins, the second gets 412.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, voice := range []string{"ash", "sage"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("PATCH", srv.URL+"/v1/config", strings.NewReader(`{"realtime":{"voice":"`+voice+`"}}`))
			req.Header.Set("If-Match", tag)
			req.Header.Set("Content-Type", "application/json")
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			codes[i] = r.StatusCode
		}()
	}
	wg.Wait()
	sort.Ints(codes)
	if codes[0] != 200 || codes[1] != 412 {
		t.Errorf("concurrent PATCH with one ETag = %v, want [200 412]", codes)
	}
	if st.applied != 1 {
		t.Errorf("applied %d times, want 1", st.applied)
	}
}

func TestToken(t *testing.T) {
	const tok = "Xq7vR2mK9pL4wT8z"
	srv, _, _ := newTest(t, tok)
	tests := []struct {
		name, path, auth string
		code             int
	}{
		{"missing", "/v1/status", "", 401},
		{"wrong", "/v1/status", "Bearer nope", 401},
		{"not bearer", "/v1/status", "Basic " + tok, 401},
		{"right", "/v1/status", "Bearer " + tok, 200},
		{"healthz open", "/healthz", "", 200},
		{"metrics closed", "/metrics", "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.auth != "" {
				hdr = []string{"Authorization", tt.auth}
			}
			resp, body := do(t, "GET", srv.URL+tt.path, "", hdr...)
			if resp.StatusCode != tt.code {
				t.Errorf("GET %s with %q = %d, want %d (%s)", tt.path, tt.auth, resp.StatusCode, tt.code, body)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	srv, b, _ := newTest(t, "")
	b.subscribeDelay = 20 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type = %q", ct)
	}
	// A client that has the headers is subscribed: what happens next reaches it.
	b.mu.Lock()
	n := len(b.subs)
	b.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d subscriptions once the client has the response headers, want 1", n)
	}
	b.publish(Event{Type: "state", Data: map[string]string{"state": "LISTENING"}})
	b.publish(Event{Type: "transcript", Data: map[string]string{"role": "user", "text": "hi"}})
	b.publish(Event{Type: LevelEvent, Level: -42.46})
	r := bufio.NewReader(resp.Body)
	var lines []string
	for len(lines) < 9 {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read stream: %v (got %q)", err, lines)
		}
		lines = append(lines, strings.TrimRight(l, "\n"))
	}
	want := []string{"event: state", `data: {"state":"LISTENING"}`, "", "event: transcript", `data: {"role":"user","text":"hi"}`, "", "event: level", `data: {"dbfs":-42.5}`, ""}
	if !slices.Equal(lines, want) {
		t.Errorf("stream = %q, want %q", lines, want)
	}
}

// TestEventsOnShutdown: events published just before the daemon stops still reach a
// subscribed client, which then sees the stream end: the state the daemon ended in is
// the last thing it shows.
func TestEventsOnShutdown(t *testing.T) {
	b := &fakeBackend{}
	s := New(Options{Backend: b, Config: &fakeStore{cfg: config.Default()}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	const n = 8 // the fake's subscription buffer, full when the stop comes
	for i := range n {
		b.publish(Event{Type: "state", Data: map[string]int{"n": i}})
	}
	stop()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read stream: %v (got %q)", err, body)
	}
	if got := strings.Count(string(body), "event: state\n"); got != n || !strings.Contains(string(body), fmt.Sprintf(`{"n":%d}`, n-1)) {
		t.Errorf("stream before the stop had %d of %d events:\n%s", got, n, body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestOpenAPIMatchesRoutes keeps openapi.yaml true: every route served is documented and
// every documented route is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	var served []string
	for _, rt := range (&Server{}).routes() {
		served = append(served, strings.TrimSuffix(rt.pattern, "{$}"))
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("openapi.yaml documents %v\nthe server serves %v", documented, served)
	}
	// The control actions documented are the ones accepted.
	if !strings.Contains(string(openAPI), "enum: ["+strings.Join(Actions, ", ")+"]") {
		t.Errorf("openapi.yaml's action enum differs from Actions %v", Actions)
	}
}
