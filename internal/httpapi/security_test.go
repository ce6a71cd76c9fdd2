package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/voiced-project/voiced/internal/config"
)

const testToken = "Xq7vR2mK9pL4wT8z"

// TestSecretsWriteOnly (issue 20, point 1): what GET returns, sent back by PATCH or PUT,
// keeps the secrets; "***" is never stored; "Bearer ***" is refused.
func TestSecretsWriteOnly(t *testing.T) {
	srv, _, st := newTest(t, testToken)
	st.cfg.HTTP.Token = testToken
	auth := []string{"Authorization", "Bearer " + testToken}
	_, got := do(t, "GET", srv.URL+"/v1/config", "", auth...)
	if strings.Contains(got, "sk-very-secret") || strings.Contains(got, testToken) {
		t.Fatalf("GET /v1/config shows a secret: %s", got)
	}
	for _, method := range []string{"PATCH", "PUT"} {
		resp, body := do(t, method, srv.URL+"/v1/config", got, auth...)
		if resp.StatusCode != 200 {
			t.Fatalf("%s of what GET returned = %d %s", method, resp.StatusCode, body)
		}
		if c := st.Config(); c.Realtime.APIKey != "sk-very-secret" || c.HTTP.Token != testToken {
			t.Errorf("after %s of what GET returned: key %q token %q, want both kept", method, c.Realtime.APIKey, c.HTTP.Token)
		}
	}
	// A PUT that leaves the secrets out keeps them too.
	if resp, body := do(t, "PUT", srv.URL+"/v1/config", `{"mode":"push_to_talk"}`, auth...); resp.StatusCode != 200 {
		t.Fatalf("PUT without secrets = %d %s", resp.StatusCode, body)
	}
	if c := st.Config(); c.Realtime.APIKey != "sk-very-secret" || c.HTTP.Token != testToken {
		t.Errorf("after a PUT without secrets: key %q token %q, want both kept", c.Realtime.APIKey, c.HTTP.Token)
	}
	if resp, _ := do(t, "GET", srv.URL+"/v1/status", "", "Authorization", "Bearer ***"); resp.StatusCode != 401 {
		t.Errorf("Bearer *** = %d, want 401", resp.StatusCode)
	}
	for _, tok := range []string{"short", "aaaaaaaaaaaaaaaaaaaa", "0123456789abcdefgh"} {
		resp, body := do(t, "PATCH", srv.URL+"/v1/config", `{"http":{"token":"`+tok+`"}}`, auth...)
		if resp.StatusCode != 400 || !strings.Contains(body, "http.token") {
			t.Errorf("PATCH token %q = %d %s, want 400 naming http.token", tok, resp.StatusCode, body)
		}
	}
	if c := st.Config(); c.HTTP.Token != testToken {
		t.Errorf("token now %q, want it unchanged", c.HTTP.Token)
	}
}

// TestHostAllowed (point 3): a request for another host name (DNS rebinding) is refused
// on every route, before the token is even looked at.
func TestHostAllowed(t *testing.T) {
	b := &fakeBackend{}
	st := &fakeStore{cfg: config.Default()}
	s := New(Options{Listen: "127.0.0.1:8088", AllowedHosts: []string{"Voiced.Local"}, Backend: b, Config: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, rt := range s.routes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		req := mustNewRequest(t, method, srv.URL+path, `{"action":"mute"}`)
		req.Host = "evil.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest {
			t.Errorf("%s with Host evil.example = %d, want 421", rt.pattern, resp.StatusCode)
		}
	}
	if len(b.actions) != 0 || st.applied != 0 {
		t.Errorf("refused requests changed something: actions %v, applied %d", b.actions, st.applied)
	}
	for host, want := range map[string]int{
		"localhost:8088": 200, "127.0.0.1": 200, "[::1]:8088": 200, "voiced.local": 200, "VOICED.LOCAL.:80": 200,
		"evil.example:8088": 421, "127.0.0.1.evil.example": 421, "192.168.1.20": 421, "0.0.0.0": 421,
	} {
		req := mustNewRequest(t, "GET", srv.URL+"/healthz", "")
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /healthz with Host %q = %d, want %d", host, resp.StatusCode, want)
		}
	}
}

// TestOriginAndType (point 3): a web page of another site cannot change anything, even
// with a body type that needs no preflight; only JSON bodies are read.
func TestOriginAndType(t *testing.T) {
	srv, b, st := newTest(t, "")
	tests := []struct {
		name, method, path, body, ctype, origin string
		code                                    int
	}{
		{"foreign origin control", "POST", "/v1/control", `{"action":"mute"}`, "application/json", "http://evil.example", 403},
		{"foreign origin patch", "PATCH", "/v1/config", `{"realtime":{"url":"wss://evil.example/"}}`, "application/json", "https://evil.example", 403},
		{"null origin", "POST", "/v1/control", `{"action":"mute"}`, "application/json", "null", 403},
		{"text/plain", "POST", "/v1/control", `{"action":"mute"}`, "text/plain", "", 415},
		{"form", "PATCH", "/v1/config", `{"realtime":{"voice":"ash"}}`, "application/x-www-form-urlencoded", "", 415},
		{"no type", "POST", "/v1/control", `{"action":"mute"}`, "", "", 415},
		{"json with charset", "POST", "/v1/control", `{"action":"mute"}`, "application/json; charset=utf-8", "", 200},
		{"own origin", "POST", "/v1/control", `{"action":"mute"}`, "application/json", srv.URL, 200},
		{"merge patch type", "PATCH", "/v1/config", `{"realtime":{"voice":"ash"}}`, "application/merge-patch+json", "http://localhost:8088", 200},
		{"read from a foreign page", "GET", "/v1/status", "", "", "http://evil.example", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actions, applied := len(b.actions), st.applied
			req := mustNewRequest(t, tt.method, srv.URL+tt.path, tt.body)
			req.Header.Set("Content-Type", tt.ctype)
			if tt.ctype == "" {
				req.Header.Del("Content-Type")
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Fatalf("%s = %d %s, want %d", tt.name, resp.StatusCode, body, tt.code)
			}
			if tt.code != 200 && (len(b.actions) != actions || st.applied != applied) {
				t.Errorf("a refused request changed something")
			}
		})
	}
}

// TestFilesOverHTTP (points 2, 3): a change over HTTP cannot point a file: device or a
// key file anywhere, nor widen the directories allowed.
func TestFilesOverHTTP(t *testing.T) {
	srv, _, st := newTest(t, "")
	dir := t.TempDir()
	tests := []struct {
		name, body, field string
	}{
		{"playback onto a file", `{"audio":{"playback":{"device":"file:/etc/voiced/voiced.yaml"}}}`, "audio.playback.device"},
		{"capture from a file", `{"audio":{"capture":{"device":"file:/var/lib/voiced/q.wav"}}}`, "audio.capture.device"},
		{"key from any file", `{"realtime":{"api_key":null,"api_key_file":"/etc/shadow"}}`, "realtime.api_key_file"},
		{"token file", `{"http":{"token_file":"/etc/voiced/t"}}`, "http.token_file"},
		{"widen dirs", `{"paths":{"audio_dirs":["/"]}}`, "paths"},
		{"allow changes", `{"paths":{"http_changes":true}}`, "paths"},
	}
	for _, tt := range tests {
		resp, body := do(t, "PATCH", srv.URL+"/v1/config", tt.body)
		if resp.StatusCode != 403 || !strings.Contains(body, tt.field) {
			t.Errorf("%s = %d %s, want 403 naming %s", tt.name, resp.StatusCode, body, tt.field)
		}
	}
	if st.applied != 0 {
		t.Fatalf("refused changes were applied %d times", st.applied)
	}
	// Allowed by the file: only under the directories it names.
	st.mu.Lock()
	st.cfg.Paths = config.Paths{AudioDirs: []string{dir}, SecretDirs: []string{dir}, HTTPChanges: true}
	st.mu.Unlock()
	os.Symlink("/etc", filepath.Join(dir, "etc"))
	for body, want := range map[string]int{
		`{"audio":{"playback":{"device":"file:` + filepath.Join(dir, "out.wav") + `"}}}`:          200,
		`{"audio":{"playback":{"device":"file:` + filepath.Join(dir, "../x.wav") + `"}}}`:         403,
		`{"audio":{"playback":{"device":"file:` + filepath.Join(dir, "etc", "passwd") + `"}}}`:    403,
		`{"audio":{"playback":{"device":"file:relative.wav"}}}`:                                   403,
		`{"realtime":{"api_key":null,"api_key_file":"` + filepath.Join(dir, "key") + `"}}`:        200,
		`{"realtime":{"api_key":null,"api_key_file":"` + filepath.Join(os.TempDir(), "k") + `"}}`: 403,
	} {
		if resp, out := do(t, "PATCH", srv.URL+"/v1/config", body); resp.StatusCode != want {
			t.Errorf("PATCH %s = %d %s, want %d", body, resp.StatusCode, out, want)
		}
	}
}

// TestNestedBodyRefused (point 4): a small body nested deep enough to blow up once saved
// as YAML is refused before anything is applied.
func TestNestedBodyRefused(t *testing.T) {
	srv, _, st := newTest(t, "")
	deep := strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200)
	body := `{"realtime":{"tools":{"webhooks":[{"name":"x","url":"http://127.0.0.1/","parameters":` + deep + `}]}}}`
	resp, out := do(t, "PATCH", srv.URL+"/v1/config", body)
	if resp.StatusCode != 400 || !strings.Contains(out, "deeper") {
		t.Errorf("PATCH nested 200 deep = %d %s, want 400 about nesting", resp.StatusCode, out)
	}
	if st.applied != 0 {
		t.Errorf("applied %d times", st.applied)
	}
}

// TestETag (point 10): the tag is no plain hash of the config (which would confirm a
// guessed key offline), differs between processes, and still changes with a secret.
func TestETag(t *testing.T) {
	srv, _, st := newTest(t, "")
	resp, _ := do(t, "GET", srv.URL+"/v1/config", "")
	tag := resp.Header.Get("ETag")
	c := st.Config()
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	for _, plain := range []string{`"` + hex.EncodeToString(sum[:8]) + `"`, `"` + hex.EncodeToString(sum[:16]) + `"`} {
		if tag == plain {
			t.Errorf("ETag %s is a plain hash of the config", tag)
		}
	}
	if resp2, _ := do(t, "GET", srv.URL+"/v1/config", ""); resp2.Header.Get("ETag") != tag {
		t.Errorf("ETag not stable: %s then %s", tag, resp2.Header.Get("ETag"))
	}
	other := New(Options{Config: st})
	if other.etag(c) == tag {
		t.Errorf("two servers give the same ETag %s: no per-process key", tag)
	}
	c2 := c.Clone()
	c2.Realtime.APIKey = "sk-another"
	s := srv.Config.Handler.(*Server)
	if s.etag(c2) == s.etag(c) {
		t.Errorf("ETag does not change with the key")
	}
}

// TestSmallItems (point 12): bearer in any case, an If-Match list, a token change in force
// at once.
func TestSmallItems(t *testing.T) {
	srv, _, _ := newTest(t, testToken)
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		if resp, _ := do(t, "GET", srv.URL+"/v1/status", "", "Authorization", scheme+" "+testToken); resp.StatusCode != 200 {
			t.Errorf("scheme %q = %d, want 200", scheme, resp.StatusCode)
		}
	}
	auth := []string{"Authorization", "Bearer " + testToken}
	resp, _ := do(t, "GET", srv.URL+"/v1/config", "", auth...)
	tag := resp.Header.Get("ETag")
	resp, body := do(t, "PATCH", srv.URL+"/v1/config", `{"realtime":{"voice":"ash"}}`, append(auth, "If-Match", `"0000", `+tag)...)
	if resp.StatusCode != 200 {
		t.Errorf("If-Match list holding the tag = %d %s, want 200", resp.StatusCode, body)
	}
	if resp, _ := do(t, "PATCH", srv.URL+"/v1/config", `{"realtime":{"voice":"sage"}}`, append(auth, "If-Match", `"0000", W/`+tag)...); resp.StatusCode != 412 {
		t.Errorf("If-Match list without the current tag = %d, want 412", resp.StatusCode)
	}
	s := srv.Config.Handler.(*Server)
	const next = "Hn3kP8sQ2vX6bZ9w"
	s.SetAccess(next, nil)
	if resp, _ := do(t, "GET", srv.URL+"/v1/status", "", auth...); resp.StatusCode != 401 {
		t.Errorf("old token after a change = %d, want 401", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", srv.URL+"/v1/status", "", "Authorization", "Bearer "+next); resp.StatusCode != 200 {
		t.Errorf("new token = %d, want 200", resp.StatusCode)
	}
}

func mustNewRequest(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// fileStore saves every change to a file, as the daemon does.
type fileStore struct {
	path string
	cfg  config.Config
}

func (s *fileStore) Config() config.Config { return s.cfg.Clone() }

func (s *fileStore) Apply(next config.Config) error {
	if err := next.ValidateAt(s.path); err != nil {
		return err
	}
	if err := next.Save(s.path); err != nil {
		return err
	}
	s.cfg = next.Clone()
	return nil
}

// FuzzConfigWrite drives PUT and PATCH /v1/config with any body. Either the answer is 4xx
// and neither the config in force nor the file changed, or it is 2xx and the saved file
// loads as the config in force.
func FuzzConfigWrite(f *testing.F) {
	f.Add(byte(0), []byte(`{"realtime":{"voice":"cedar"}}`))
	f.Add(byte(1), []byte(`{"mode":"continuous","realtime":{"api_key":"***"}}`))
	f.Add(byte(0), []byte(`{"http":{"token":"***"}}`))
	f.Add(byte(0), []byte(`{"audio":{"playback":{"device":"file:/tmp/x.wav"}}}`))
	f.Add(byte(0), []byte(`{"realtime":{"tools":{"webhooks":[{"name":"a","url":"http://x/","parameters":{"a":{"b":{"c":[1,2,{"d":null}]}}}}]}}}`))
	f.Add(byte(1), []byte(`{"realtime":{"tools":{"server":[{"type":"mcp","x":1.5e300}]}}}`))
	f.Add(byte(0), []byte(`{"http":{"allowed_hosts":["voiced.local"]},"paths":{"audio_dirs":[]}}`))
	f.Add(byte(1), []byte(`{"realtime":{"instructions":"\u0000\ud800 # not: a comment"}}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		path := filepath.Join(dir, "voiced.yaml")
		start := config.Default()
		start.Realtime.APIKey = "sk-fuzz-key"
		if err := start.Save(path); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(path)
		st := &fileStore{path: path, cfg: start}
		s := New(Options{Config: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		method := "PATCH"
		if which&1 == 1 {
			method = "PUT"
		}
		req := httptest.NewRequest(method, "http://127.0.0.1/v1/config", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		after, _ := os.ReadFile(path)
		switch {
		case w.Code >= 400 && w.Code < 500:
			if !bytes.Equal(before, after) {
				t.Fatalf("%s %q = %d but the file changed", method, body, w.Code)
			}
			if !sameJSON(st.cfg, start) {
				t.Fatalf("%s %q = %d but the config in force changed", method, body, w.Code)
			}
		case w.Code >= 200 && w.Code < 300:
			loaded, err := config.Load(path, nil)
			if err != nil {
				t.Fatalf("%s %q = %d but the saved file does not load: %v\n%s", method, body, w.Code, err, after)
			}
			if !sameJSON(loaded, st.cfg) {
				t.Fatalf("%s %q = %d but the saved file loads differently", method, body, w.Code)
			}
			if strings.Contains(w.Body.String(), "sk-fuzz-key") {
				t.Fatalf("the answer shows the key")
			}
		default:
			t.Fatalf("%s %q = %d %s, want 2xx or 4xx", method, body, w.Code, w.Body)
		}
	})
}

func sameJSON(a, b config.Config) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestOpenAPISecurityResponses keeps openapi.yaml true about the checks: every route
// taking a body documents 403 (Origin) and 415 (type), and the description the 421 of a
// foreign Host.
func TestOpenAPISecurityResponses(t *testing.T) {
	var doc struct {
		Info  struct{ Description string } `yaml:"info"`
		Paths map[string]map[string]struct {
			Responses map[string]any `yaml:"responses"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.Info.Description, "421") {
		t.Errorf("openapi.yaml does not say a foreign Host gets 421")
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "get" {
				continue
			}
			for _, code := range []string{"403", "415"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("openapi.yaml: %s %s lacks %s", strings.ToUpper(method), path, code)
				}
			}
		}
	}
}
