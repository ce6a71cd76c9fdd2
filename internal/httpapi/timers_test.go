package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/timers"
)

func TestTimers(t *testing.T) {
	st, err := timers.Open(timers.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Options{Backend: &fakeBackend{}, Config: &fakeStore{cfg: config.Default()}, Timers: st,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		body string
		code int
		want string
	}{
		{`{"duration":"5m","label":"tea"}`, 201, `"label": "tea"`},
		{`{"duration":90}`, 201, `"duration_s": 90`},
		{`{"duration":"0s"}`, 400, "between 1s and 24h0m0s"},
		{`{"duration":"soon"}`, 400, "want a number of seconds"},
		{`{"duration":"5m","colour":"red"}`, 400, "unknown field"},
	} {
		resp, body := do(t, "POST", srv.URL+"/v1/timers", tc.body)
		if resp.StatusCode != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("POST /v1/timers %s = %d %s, want %d with %q", tc.body, resp.StatusCode, body, tc.code, tc.want)
		}
	}
	resp, body := do(t, "GET", srv.URL+"/v1/timers", "")
	var list timerList
	if err := json.Unmarshal([]byte(body), &list); err != nil || resp.StatusCode != 200 || len(list.Timers) != 2 || list.Timers[0].Duration != 90*time.Second {
		t.Fatalf("GET /v1/timers = %d %s, want the 90 s timer first of two", resp.StatusCode, body)
	}
	if resp, body := do(t, "DELETE", srv.URL+"/v1/timers/tea", ""); resp.StatusCode != 200 || !strings.Contains(body, `"id": "t1"`) {
		t.Errorf("DELETE /v1/timers/tea = %d %s, want t1 cancelled", resp.StatusCode, body)
	}
	if resp, _ := do(t, "DELETE", srv.URL+"/v1/timers/t1", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE of a cancelled timer = %d, want 404", resp.StatusCode)
	}
	if resp, body := do(t, "POST", srv.URL+"/v1/timers/dismiss", "{}"); resp.StatusCode != 200 || strings.Join(strings.Fields(body), "") != `{"timers":[]}` {
		t.Errorf("POST /v1/timers/dismiss with nothing ringing = %d %q", resp.StatusCode, body)
	}

	// Without a store: 404, and the rest of the endpoint is unaffected.
	plain, _, _ := newTest(t, "")
	if resp, _ := do(t, "GET", plain.URL+"/v1/timers", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /v1/timers without a store = %d, want 404", resp.StatusCode)
	}
}
