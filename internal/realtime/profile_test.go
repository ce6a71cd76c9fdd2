package realtime_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/voiced-project/voiced/internal/realtime"
	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
)

func TestProfileDefaults(t *testing.T) {
	cases := []struct {
		p                  realtime.Profile
		model, res, folder string
		url                string
		max                time.Duration
		out                int
	}{
		{realtime.OpenAI, "", "", "", "wss://api.openai.com/v1/realtime?model=gpt-realtime", time.Hour, 24000},
		{realtime.Azure, "my-deploy", "myres", "", "wss://myres.openai.azure.com/openai/v1/realtime?model=my-deploy", 30 * time.Minute, 24000},
		{realtime.Yandex, "", "", "b1gfolder", "wss://rest-assistant.api.cloud.yandex.net/v1/realtime/openai?model=gpt://b1gfolder/speech-realtime-250923", 5 * time.Minute, 44100},
	}
	for _, c := range cases {
		t.Run(string(c.p), func(t *testing.T) {
			u, err := c.p.URL(c.model, c.res, c.folder)
			if err != nil || u != c.url {
				t.Errorf("URL() = %q, %v; want %q", u, err, c.url)
			}
			d := c.p.Defaults()
			if d.SessionMax != c.max || d.Dialect != realtime.GA {
				t.Errorf("Defaults() = %+v, want session max %v, GA", d, c.max)
			}
			if err := d.CheckRates(24000, c.out); err != nil {
				t.Errorf("CheckRates(24000, %d) = %v", c.out, err)
			}
			if err := d.CheckRates(16000, 24000); err == nil {
				t.Error("CheckRates(16000, ...) = nil, want an error")
			}
		})
	}
	if _, err := realtime.Azure.URL("", "", ""); err == nil {
		t.Error("Azure URL without a resource = nil error")
	}
	if _, err := realtime.Yandex.URL("", "", ""); err == nil {
		t.Error("Yandex URL without a folder = nil error")
	}
	if _, err := realtime.Custom.URL("", "", ""); err == nil {
		t.Error("Custom URL = nil error, want 'set url'")
	}
	for _, bad := range []string{"openia", "GA2"} {
		if _, err := realtime.ParseProfile(bad); err == nil {
			t.Errorf("ParseProfile(%q) = nil error", bad)
		}
		if _, err := realtime.ParseDialect(bad); err == nil {
			t.Errorf("ParseDialect(%q) = nil error", bad)
		}
	}
}

// Each profile authenticates the way its service expects.
func TestProfileAuthHeader(t *testing.T) {
	cases := []struct {
		p       realtime.Profile
		d       realtime.Dialect
		header  string
		value   string
		betaHdr string
	}{
		{realtime.OpenAI, realtime.GA, "Authorization", "Bearer sk-1", ""},
		{realtime.Azure, realtime.GA, "Api-Key", "sk-1", ""},
		{realtime.Yandex, realtime.GA, "Authorization", "api-key sk-1", ""},
		{realtime.Custom, realtime.Beta, "Authorization", "Bearer sk-1", "realtime=v1"},
	}
	for _, c := range cases {
		t.Run(string(c.p), func(t *testing.T) {
			got := make(chan http.Header, 1)
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.Header.Clone()
				http.Error(w, "no", http.StatusTeapot)
			}))
			defer hs.Close()
			cl, err := realtime.New(realtime.Options{URL: hs.URL, Profile: c.p, Dialect: c.d, APIKey: "sk-1"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				for range cl.Events() {
				}
			}()
			done := make(chan error)
			go func() { done <- cl.Run(ctx) }()
			h := <-got
			cancel()
			<-done
			if h.Get(c.header) != c.value || h.Get("OpenAI-Beta") != c.betaHdr {
				t.Errorf("headers %v, want %s: %q and OpenAI-Beta %q", h, c.header, c.value, c.betaHdr)
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	cases := []realtime.Options{
		{URL: "ftp://x/"},
		{URL: "ws://"},
		{URL: "ws://x/", Profile: "acme"},
		{URL: "ws://x/", Session: realtime.Session{TurnDetection: &realtime.TurnDetection{Type: "always"}}},
		{URL: "ws://x/", Session: realtime.Session{NoiseReduction: "studio"}},
		{URL: "ws://x/", Session: realtime.Session{Speed: 3}},
		{URL: "ws://x/", Session: realtime.Session{OutputRate: 96000}},
		{URL: "ws://x/", Session: realtime.Session{Tools: []realtime.ToolDef{{Name: ""}}}},
	}
	for _, o := range cases {
		if _, err := realtime.New(o); err == nil {
			t.Errorf("New(%+v) = nil error", o)
		}
	}
}

// A server that stops answering pings is noticed within the pong deadline.
func TestPongDeadline(t *testing.T) {
	release := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := websocket.Upgrader{}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		<-release // never read: pings go unanswered
	}))
	defer hs.Close()
	defer close(release)
	cl, err := realtime.New(realtime.Options{URL: hs.URL, PingInterval: 20 * time.Millisecond, PongWait: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- cl.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for ev := range cl.Events() {
		if d, ok := ev.(*realtime.Disconnected); ok {
			var ne net.Error
			if !errors.As(d.Err, &ne) || !ne.Timeout() {
				t.Errorf("Disconnected(%v), want a read timeout", d.Err)
			}
			return
		}
	}
}

// A Yandex-like session: output at 44.1 kHz comes back at that rate.
func TestOutputRate44100(t *testing.T) {
	srv := realtimetest.New(realtimetest.Config{})
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	samples := 0
	cl, err := realtime.New(realtime.Options{URL: "ws://" + addr + "/v1/realtime", Profile: realtime.Yandex,
		Session: realtime.Session{OutputRate: 44100, Voice: "marina"},
		Audio:   func(_ string, p []int16) { samples += len(p) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	done := make(chan error)
	go func() { done <- cl.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for ev := range cl.Events() {
		switch e := ev.(type) {
		case *realtime.SessionUpdated:
			if e.Session.OutputRate != 44100 || e.Session.Voice != "marina" {
				t.Fatalf("session = %+v, want 44100 Hz and marina", e.Session)
			}
			check(t, cl.AppendAudio(speech(200)))
			check(t, cl.CommitAudio())
			check(t, cl.CreateResponse())
		case *realtime.ResponseDone:
			if samples != 8820 {
				t.Errorf("reply = %d samples, want 8820 (200 ms at 44.1 kHz)", samples)
			}
			return
		}
	}
}

// The package has exactly one package comment, in doc.go.
func TestPackageDoc(t *testing.T) {
	for _, dir := range []string{".", "realtimetest"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src := string(b)
			i := strings.Index(src, "\npackage ")
			if strings.HasPrefix(src, "package ") {
				i = 0
			}
			hasDoc := i > 0 && strings.Contains(src[:i], "// Package ")
			if filepath.Base(f) == "doc.go" && !hasDoc {
				t.Errorf("%s has no package comment", f)
			}
			if filepath.Base(f) != "doc.go" && hasDoc {
				t.Errorf("%s has a package comment; it belongs in doc.go", f)
			}
		}
	}
}

// Refusals on upgrade: quota is fatal whatever the status, a busy server
// is retried after its Retry-After.
func TestUpgradeRefusals(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		body      string
		header    http.Header
		fatal     bool
		wantRetry time.Duration
	}{
		{"no quota", http.StatusTooManyRequests, `{"error":{"code":"insufficient_quota","message":"You exceeded your current quota."}}`, nil, true, 0},
		{"forbidden", http.StatusForbidden, `{}`, nil, true, 0},
		{"rate limited", http.StatusTooManyRequests, `{"error":{"code":"rate_limit_exceeded"}}`, http.Header{"Retry-After": {"7"}}, false, 7 * time.Second},
		{"overloaded", http.StatusServiceUnavailable, ``, nil, false, 10 * time.Second},
		{"server error", http.StatusInternalServerError, ``, nil, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer hs.Close()
			cl, err := realtime.New(realtime.Options{URL: hs.URL})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- cl.Run(ctx) }()
			defer func() { cancel(); <-done }()
			for ev := range cl.Events() {
				switch e := ev.(type) {
				case *realtime.Fatal:
					if !tc.fatal {
						t.Errorf("Fatal(%v), want a retry", e.Err)
					}
					return
				case *realtime.Disconnected:
					if tc.fatal {
						t.Errorf("Disconnected(%v), want Fatal", e.Err)
					}
					if tc.wantRetry != 0 && e.RetryIn != tc.wantRetry {
						t.Errorf("RetryIn = %v, want %v", e.RetryIn, tc.wantRetry)
					}
					if tc.wantRetry == 0 && e.RetryIn > 2*time.Second {
						t.Errorf("RetryIn = %v, want the normal backoff", e.RetryIn)
					}
					return
				}
			}
		})
	}
}
