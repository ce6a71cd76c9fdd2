package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/estuary"
	"github.com/voiced-project/voiced/internal/backend/selam"
)

// TestSimSocketIODialects: voiced's own clients reach a session of each fake, the
// record says what they sent, and the /sim/ routes refuse what they do not know.
func TestSimSocketIODialects(t *testing.T) {
	for _, dialect := range []string{"estuary", "selam"} {
		t.Run(dialect, func(t *testing.T) {
			rec := filepath.Join(t.TempDir(), "rec.jsonl")
			addr := startSim(t, "--dialect", dialect, "--api-key", "k", "--record", rec)
			sink := func(string, []int16, int) {}
			var b backend.Backend
			var err error
			if dialect == "estuary" {
				b, err = estuary.New(estuary.Options{URL: "http://" + addr, APIKey: "k", CharacterID: "c", PlayerID: "p", Audio: sink})
			} else {
				b, err = selam.New(selam.Options{URL: "http://" + addr, APIKey: "k", Voice: "mekdes", Audio: sink})
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			go b.Run(ctx)
			for ev := range b.Events() {
				if ev.Kind == backend.Connected {
					break
				}
				if ev.Kind == backend.Fatal {
					t.Fatalf("fatal: %v", ev.Err)
				}
			}
			resp, err := http.Post("http://"+addr+"/sim/inject?kind=no_such_kind", "text/plain", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("/sim/inject of an unknown kind = %d, want 400", resp.StatusCode)
			}
			cancel()
			for range b.Events() {
			}
			raw, err := os.ReadFile(rec)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"estuary": `"event":"connect"`, "selam": `"event":"start_session"`}[dialect]
			if !strings.Contains(string(raw), want) {
				t.Errorf("record %q does not hold %s", raw, want)
			}
		})
	}
}
