package daemon

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/config"
)

// testDaemon runs a daemon on the config file at path with the --set overrides sets,
// its microphone a file that does not exist (so no audio runs and no device opens), and
// returns its HTTP base URL.
func testDaemon(t *testing.T, path string, sets []string) (*Daemon, string) {
	t.Helper()
	cfg, err := config.Load(path, sets)
	if err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	d := New(Options{Config: cfg, ConfigPath: path, Sets: sets, OnListen: func(a string) { listening <- a }, Getenv: func(string) string { return "" }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case a := <-listening:
		return d, "http://" + a
	case err := <-done:
		t.Fatalf("Run = %v before listening", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the endpoint did not listen")
	}
	return nil, ""
}

func call(t *testing.T, method, url, token, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestConfigStore covers, through a running daemon, the points of issue 20 the daemon
// owns: stale temp files removed at start (9), --set overrides never saved (11), a token
// change in force at once (12), and an empty file on reload kept out (8).
func TestConfigStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "voiced.yaml")
	const tok1, tok2 = "Xq7vR2mK9pL4wT8z", "Hn3kP8sQ2vX6bZ9w"
	text := "mode: push_to_talk\nrealtime: {profile: custom, url: 'ws://127.0.0.1:1/v1/realtime', model: sim, api_key: sk-file-key}\n" +
		"audio:\n  capture: {device: 'file:" + filepath.Join(dir, "missing.wav") + "'}\n  playback: {device: 'file:" + filepath.Join(dir, "out.wav") + "'}\n" +
		"gpio: {enabled: false}\nhttp: {listen: '127.0.0.1:0', token: " + tok1 + "}\n"
	if err := os.WriteFile(path, []byte(text), 0o640); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".voiced.yaml.tmp-4242")
	os.WriteFile(stale, []byte("api_key: sk-file-key\n"), 0o640)
	sets := []string{"realtime.api_key=sk-command-line", "audio.playback.device=file:" + filepath.Join(dir, "set.wav")}
	d, base := testDaemon(t, path, sets)

	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file still there after start: %v", err)
	}

	if code := call(t, "PATCH", base+"/v1/config", tok1, `{"realtime":{"voice":"ash"}}`); code != 200 {
		t.Fatalf("PATCH voice = %d", code)
	}
	saved, _ := os.ReadFile(path)
	if !strings.Contains(string(saved), "voice: ash") {
		t.Errorf("the change was not saved:\n%s", saved)
	}
	if strings.Contains(string(saved), "sk-command-line") || strings.Contains(string(saved), "set.wav") {
		t.Errorf("--set overrides were saved:\n%s", saved)
	}
	if !strings.Contains(string(saved), "sk-file-key") || !strings.Contains(string(saved), "out.wav") {
		t.Errorf("the file's own values were lost:\n%s", saved)
	}
	if c := d.Config(); c.Realtime.APIKey != "sk-command-line" || c.Realtime.Voice != "ash" {
		t.Errorf("in force: key %q voice %q, want the --set key and the new voice", c.Realtime.APIKey, c.Realtime.Voice)
	}

	if code := call(t, "PATCH", base+"/v1/config", tok1, `{"http":{"token":"`+tok2+`"}}`); code != 200 {
		t.Fatalf("PATCH token = %d", code)
	}
	if code := call(t, "GET", base+"/v1/status", tok1, ""); code != 401 {
		t.Errorf("old token after the change = %d, want 401", code)
	}
	if code := call(t, "GET", base+"/v1/status", tok2, ""); code != 200 {
		t.Errorf("new token = %d, want 200", code)
	}

	before := d.Config()
	os.WriteFile(path, nil, 0o640)
	d.reload()
	if after := d.Config(); !equalConfig(before, after) {
		t.Errorf("an empty file on reload changed the config in force")
	}
	d.mu.Lock()
	cerr := d.configError
	d.mu.Unlock()
	if !strings.Contains(cerr, "empty") {
		t.Errorf("config_error = %q, want it to say the file is empty", cerr)
	}
}
