package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEndpointSecurityEndToEnd (issue 20): with the real binaries, the config read over
// HTTP and PATCHed back unchanged keeps the API key (voiced-sim checks it when voiced
// dials, on demand, after the PATCH), "Bearer ***" is refused, a foreign Host is refused
// on every route and a foreign Origin changes nothing.
func TestEndpointSecurityEndToEnd(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	addr := startSim(t, sim, "--speed", "0")
	mic, _ := question(t, 3, 1.5)
	reply := filepath.Join(dir, "reply.wav")
	const token = "Xq7vR2mK9pL4wT8z"
	cfgPath := filepath.Join(dir, "voiced.yaml")
	cfgText := "mode: continuous\nrealtime:\n  profile: custom\n  url: ws://" + addr + "/v1/realtime\n  model: sim\n  api_key: test-key\n  connection: on_demand\n" +
		"audio:\n  capture: {device: 'file:" + mic + "', rate: 16000, channels: 1}\n  playback: {device: 'file:" + reply + "', rate: 24000, channels: 1}\n" +
		"gpio: {enabled: false}\nhttp: {listen: '127.0.0.1:0', token: " + token + "}\nvad: {silence_ms: 600}\n"
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o640); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, voiced, nil, "--config", cfgPath, "--turns", "1", "--timeout", "60s")

	send := func(method, path, body string, hdr ...string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, d.http+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			if hdr[i] == "Host" {
				req.Host = hdr[i+1]
				continue
			}
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	code, cfg := send("GET", "/v1/config", "")
	if code != 200 || strings.Contains(cfg, "test-key") || strings.Contains(cfg, token) {
		t.Fatalf("GET /v1/config = %d, or it shows a secret: %s", code, cfg)
	}
	if code, body := send("PATCH", "/v1/config", cfg); code != 200 {
		t.Fatalf("PATCH of what GET returned = %d %s", code, body)
	}
	if saved, _ := os.ReadFile(cfgPath); !strings.Contains(string(saved), "api_key: test-key") || !strings.Contains(string(saved), token) {
		t.Errorf("the saved file lost a secret:\n%s", saved)
	}
	if code, _ := send("GET", "/v1/status", "", "Authorization", "Bearer ***"); code != 401 {
		t.Errorf("Bearer *** = %d, want 401", code)
	}
	for _, rt := range []string{"GET /healthz", "GET /v1/status", "GET /v1/config", "PUT /v1/config", "PATCH /v1/config", "POST /v1/control", "GET /v1/events", "GET /v1/devices", "GET /metrics", "GET /v1/openapi.yaml"} {
		method, path, _ := strings.Cut(rt, " ")
		body := ""
		if method != "GET" {
			body = `{"action":"mute"}`
		}
		if code, _ := send(method, path, body, "Host", "evil.example"); code != 403 && code != 421 {
			t.Errorf("%s with Host evil.example = %d, want 403 or 421", rt, code)
		}
	}
	before, _ := os.ReadFile(cfgPath)
	if code, _ := send("POST", "/v1/control", `{"action":"mute"}`, "Origin", "http://evil.example"); code != 403 {
		t.Errorf("POST /v1/control from a foreign Origin = %d, want 403", code)
	}
	if code, _ := send("PATCH", "/v1/config", `{"realtime":{"url":"ws://evil.example/"}}`, "Origin", "http://evil.example"); code != 403 {
		t.Errorf("PATCH from a foreign Origin = %d, want 403", code)
	}
	if after, _ := os.ReadFile(cfgPath); string(after) != string(before) {
		t.Errorf("a refused request changed the file")
	}
	if _, st := send("GET", "/v1/status", ""); strings.Contains(st, `"muted": true`) {
		t.Errorf("a refused mute muted: %s", st)
	}

	// The turn, dialled after all this, completes with the key voiced-sim expects.
	if err := d.wait(t, 60*time.Second); err != nil {
		t.Fatalf("voiced run --turns 1: %v\n%s", err, d.stderr.String())
	}
	if fi, err := os.Stat(reply); err != nil || fi.Size() < 24000 {
		t.Errorf("reply WAV: %v, want at least half a second of audio", err)
	}
}
