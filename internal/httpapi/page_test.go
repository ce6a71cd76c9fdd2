package httpapi

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/alsa"
	"github.com/voiced-project/voiced/internal/config"
)

// TestPageFormHasEveryKey checks that the settings form has one field per key of
// config.Keys, named by its path: a key added to Keys is in the form.
func TestPageFormHasEveryKey(t *testing.T) {
	srv, _, _ := newTest(t, "")
	resp, body := do(t, "GET", srv.URL+"/", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, k := range config.Keys {
		if !strings.Contains(body, `name="`+k.Path+`"`) {
			t.Errorf("the form lacks a field named %s", k.Path)
		}
		if !strings.Contains(body, `data-path="`+k.Path+`"`) {
			t.Errorf("the form lacks the place for %s's error", k.Path)
		}
	}
	if strings.Contains(body, "sk-very-secret") {
		t.Errorf("the page shows the API key")
	}
	if n := strings.Count(body, `data-path="`); n != len(config.Keys) {
		t.Errorf("the form has %d fields, want %d (one per key)", n, len(config.Keys))
	}
	// Status is rendered on the server: it is there without any script.
	if !strings.Contains(body, `<b id="state">connected</b>`) {
		t.Errorf("the page does not show the state rendered on the server")
	}
	if want := `<dd id="wake">its name only: okay_nabu (threshold 0.97, built in) · heard 0 times</dd>`; !strings.Contains(body, want) {
		t.Errorf("the page does not show the wake words: want %s", want)
	}
}

// TestWakeLine: the status's wake part in a line, whatever of it there is.
func TestWakeLine(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 11, 12, 0, time.UTC)
	for _, tc := range []struct {
		name string
		wake any
		want string
	}{
		{"none", nil, ""},
		{"vad", map[string]any{"mode": "vad", "words": []any{}, "detections": 0.0}, "any speech (wake.mode vad)"},
		{"heard", map[string]any{"mode": "both", "detections": 3.0,
			"words": []any{map[string]any{"word": "hey_jarvis", "threshold": 0.9, "model": "built in"},
				map[string]any{"word": "kitchen", "threshold": 0.5, "model": "/var/lib/voiced/kitchen.tflite"}},
			"last": map[string]any{"word": "kitchen", "score": 0.71, "time": at.Format(time.RFC3339Nano)}},
			"its name or any speech: hey_jarvis (threshold 0.90, built in), kitchen (threshold 0.50, /var/lib/voiced/kitchen.tflite) · heard 3 times, last kitchen (score 0.71) at " + at.Local().Format("15:04:05")},
	} {
		if got := wakeLine(tc.wake); got != tc.want {
			t.Errorf("%s: wakeLine = %q, want %q", tc.name, got, tc.want)
		}
	}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf" content="([0-9a-f]+)">`)

// TestPageLogin walks the token login: the page asks for the token, a wrong one is
// refused, the right one sets an HttpOnly SameSite=Strict cookie that stands for the
// bearer token, and a change made with the cookie needs the page's CSRF token.
func TestPageLogin(t *testing.T) {
	const token = "a81f0c3e9b27d4c6"
	srv, b, _ := newTest(t, token)
	resp, body := do(t, "GET", srv.URL+"/", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="login"`) || strings.Contains(body, `id="config"`) {
		t.Fatalf("GET / without a token = %d, want 200 with the login form only:\n%s", resp.StatusCode, body)
	}
	for _, p := range []string{"/app.js", "/app.css"} {
		if resp, _ := do(t, "GET", srv.URL+p, ""); resp.StatusCode != 200 {
			t.Errorf("GET %s without a token = %d, want 200", p, resp.StatusCode)
		}
	}
	if resp, _ := do(t, "POST", srv.URL+"/v1/login", `{"token":"wrong-wrong-wrong-1"}`); resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
		t.Errorf("login with a wrong token = %d with %d cookies, want 401 and none", resp.StatusCode, len(resp.Cookies()))
	}
	resp, _ = do(t, "POST", srv.URL+"/v1/login", `{"token":"`+token+`"}`)
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sess = c
		}
	}
	if resp.StatusCode != 200 || sess == nil {
		t.Fatalf("login = %d, cookies %v; want 200 and %s", resp.StatusCode, resp.Cookies(), sessionCookie)
	}
	if !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || strings.Contains(sess.Value, token) {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, and not the token itself", sess)
	}
	ck := sessionCookie + "=" + sess.Value
	if resp, _ := do(t, "GET", srv.URL+"/v1/status", "", "Cookie", ck); resp.StatusCode != 200 {
		t.Errorf("GET /v1/status with the cookie = %d, want 200", resp.StatusCode)
	}
	resp, body = do(t, "GET", srv.URL+"/", "", "Cookie", ck)
	m := csrfMeta.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(body, `id="config"`) {
		t.Fatalf("GET / with the cookie = %d, want the whole page with a CSRF token", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", srv.URL+"/v1/control", `{"action":"mute"}`, "Cookie", ck); resp.StatusCode != 403 {
		t.Errorf("control with the cookie and no CSRF token = %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", srv.URL+"/v1/control", `{"action":"mute"}`, "Cookie", ck, csrfHeader, strings.Repeat("0", 32)); resp.StatusCode != 403 {
		t.Errorf("control with the cookie and a wrong CSRF token = %d, want 403", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", srv.URL+"/v1/control", `{"action":"mute"}`, "Cookie", ck, csrfHeader, m[1]); resp.StatusCode != 200 {
		t.Errorf("control with the cookie and the CSRF token = %d, want 200", resp.StatusCode)
	}
	// The bearer API is as it was: no cookie, no CSRF token.
	if resp, _ := do(t, "POST", srv.URL+"/v1/control", `{"action":"unmute"}`, "Authorization", "Bearer "+token); resp.StatusCode != 200 {
		t.Errorf("control with the bearer token = %d, want 200", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", srv.URL+"/v1/control", `{"action":"mute"}`, "Cookie", sessionCookie+"=forged", csrfHeader, m[1]); resp.StatusCode != 401 {
		t.Errorf("control with a forged cookie = %d, want 401", resp.StatusCode)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if got := strings.Join(b.actions, ","); got != "mute,unmute" {
		t.Errorf("actions run = %s, want mute,unmute", got)
	}
}

// cardsBackend lists one USB sound card with a capture and a playback device, as
// Devices (alsa.List, `voiced devices`) reports them.
type cardsBackend struct{ fakeBackend }

func (b *cardsBackend) Devices() any {
	return map[string]any{"sound": []alsa.Card{{Number: 1, ID: "Device", Name: "USB Audio", Devices: []alsa.DeviceInfo{
		{Card: 1, Device: 0, Stream: alsa.Playback}, {Card: 1, Device: 0, Stream: alsa.Capture}, {Card: 1, Device: 1, Stream: alsa.Playback},
	}}}}
}

// TestPageSoundChoices checks that the device fields offer the sound cards by stream.
func TestPageSoundChoices(t *testing.T) {
	st := &fakeStore{cfg: config.Default()}
	srv := httptest.NewServer(New(Options{Backend: &cardsBackend{}, Config: st, Log: slog.New(slog.DiscardHandler)}))
	defer srv.Close()
	_, body := do(t, "GET", srv.URL+"/", "")
	datalist := func(path string) string {
		_, rest, _ := strings.Cut(body, `<datalist id="l-`+path+`">`)
		list, _, _ := strings.Cut(rest, "</datalist>")
		return list
	}
	capture, playback := datalist("audio.capture.device"), datalist("audio.playback.device")
	for _, tc := range []struct {
		list, option string
		want         bool
	}{
		{capture, "default", true},
		{capture, "plughw:CARD=Device,DEV=0", true},
		{capture, "plughw:CARD=Device,DEV=1", false},
		{playback, "plughw:CARD=Device,DEV=0", true},
		{playback, "plughw:CARD=Device,DEV=1", true},
	} {
		if got := strings.Contains(tc.list, `<option value="`+tc.option+`">`); got != tc.want {
			t.Errorf("choices %q: has %s = %v, want %v", tc.list, tc.option, got, tc.want)
		}
	}
}
