package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
)

// maxFirstLoad is the page's budget on a phone: everything its first load transfers.
const maxFirstLoad = 100 << 10

// TestBrowserPage drives the device's page in headless Chromium against a real voiced
// and voiced-sim: the token login, the status rendered by the server, the state and the
// conversation changing during a push-to-talk turn held on the page's button, a setting
// refused with its field error and one saved, and the first load's transfer and hosts.
// It writes a screenshot of each view under build/web/.
func TestBrowserPage(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	br := startBrowser(t, 412, 915)
	shots := filepath.Join("..", "..", "build", "web")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// The question, again and again: whenever the button is held, someone speaks.
	pcm, rate, err := realtimetest.ReadWAV("../../examples/question.wav")
	if err != nil {
		t.Fatal(err)
	}
	var mic []int16
	for range 12 {
		mic = append(append(mic, pcm...), make([]int16, rate*3/2)...)
	}
	addr := startSim(t, sim, "--speed", "0")
	const token = "9f3a61c7e2b04d58"
	// The page saves what it changes: into a copy of the demo's config.
	demo, err := os.ReadFile("../../examples/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(t.TempDir(), "voiced.yaml")
	if err := os.WriteFile(cfgPath, demo, 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, voiced, nil, "--config", cfgPath, "--set", "mode=push_to_talk",
		"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
		"--set", "audio.capture.device=file:"+writeMic(t, mic, rate),
		"--set", "audio.playback.device=file:"+filepath.Join(t.TempDir(), "reply.wav"),
		"--set", "http.listen=127.0.0.1:0", "--set", "http.token="+token, "--timeout", "120s")
	base := d.http
	device, _ := url.Parse(base)

	// Every request the page makes, and what each transferred.
	var mu sync.Mutex
	hosts := map[string]bool{}
	transfer := map[string]float64{} // by request id: bytes on the wire
	br.events(func(method string, params json.RawMessage) {
		var p struct {
			RequestID         string  `json:"requestId"`
			EncodedDataLength float64 `json:"encodedDataLength"`
			Request           struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		json.Unmarshal(params, &p)
		mu.Lock()
		defer mu.Unlock()
		switch method {
		case "Network.requestWillBeSent":
			if u, err := url.Parse(p.Request.URL); err == nil && u.Scheme != "data" {
				hosts[u.Host] = true
			}
		case "Network.dataReceived":
			transfer[p.RequestID] += p.EncodedDataLength
		case "Network.loadingFinished":
			transfer[p.RequestID] = p.EncodedDataLength // the total, headers included
		}
	})
	br.call("Network.enable", nil)
	br.call("Network.setCacheDisabled", map[string]any{"cacheDisabled": true})

	// 1. The token is asked once.
	br.navigate(base + "/")
	br.waitJS(`document.querySelector("#login")`, 5*time.Second)
	br.screenshot("", filepath.Join(shots, "login.png"))
	br.eval(`document.querySelector("#token").focus()`, nil)
	br.call("Input.insertText", map[string]any{"text": "wrong-token-00000"})
	br.eval(`document.querySelector("#login button").click()`, nil)
	br.waitJS(`document.querySelector("#login-error").textContent.includes("wrong token")`, 5*time.Second)
	br.eval(`document.querySelector("#token").value = ""`, nil)
	br.call("Input.insertText", map[string]any{"text": token})
	mu.Lock()
	clear(transfer)
	clear(hosts)
	mu.Unlock()
	br.eval(`document.querySelector("#login button").click()`, nil)
	br.waitJS(`document.querySelector("#status") && document.readyState === "complete"`, 10*time.Second)
	var cookies string
	br.eval(`document.cookie`, &cookies)
	if strings.Contains(cookies, "voiced_session") {
		t.Errorf("the session cookie is readable by scripts (document.cookie = %q), want HttpOnly", cookies)
	}

	// 2. Status, from the server, then live.
	br.waitJS(`document.querySelector("#state").textContent === "connected"`, 20*time.Second)
	time.Sleep(time.Second) // the event stream's first bytes, and nothing else, arrive
	mu.Lock()
	total := 0.0
	for _, n := range transfer {
		total += n
	}
	var others []string
	for h := range hosts {
		if h != device.Host {
			others = append(others, h)
		}
	}
	mu.Unlock()
	t.Logf("first load after login: %.0f bytes in %d requests", total, len(transfer))
	if total > maxFirstLoad || total == 0 {
		t.Errorf("first load transferred %.0f bytes, want 1..%d", total, maxFirstLoad)
	}
	if len(others) > 0 {
		t.Errorf("the page asked hosts other than the device %s: %v", device.Host, others)
	}
	br.screenshot("#status", filepath.Join(shots, "status.png"))

	// 3. Hold to talk: the state follows the turn on the page.
	x, y := br.center("#ptt")
	br.mouse("mousePressed", x, y)
	br.waitJS(`document.querySelector("#ptt").classList.contains("held")`, 5*time.Second)
	br.waitJS(`document.querySelector("#control-msg").textContent !== ""`, 5*time.Second)
	br.waitJS(`document.querySelector("#state").textContent === "listening"`, 5*time.Second)
	br.waitJS(`document.querySelector("#led").classList.contains("listening")`, time.Second)
	br.screenshot("#controls", filepath.Join(shots, "talk.png"))
	time.Sleep(3 * time.Second) // over a question
	br.mouse("mouseReleased", x, y)
	br.waitJS(`["processing", "speaking"].includes(document.querySelector("#state").textContent) || document.querySelector("#conv .assistant")`, 20*time.Second)
	br.waitJS(`document.querySelector("#conv .user") && document.querySelector("#conv .assistant")`, 30*time.Second)
	br.waitJS(`[...document.querySelectorAll("#timeline li")].some(li => li.textContent.includes("listening → processing"))`, 5*time.Second)
	// The microphone's level moves the meter (the file plays the question again and again).
	br.waitJS(`parseFloat(document.querySelector("#level").style.width) > 0`, 5*time.Second)
	br.screenshot("#live", filepath.Join(shots, "live.png"))
	br.eval(`scrollTo(0, 0)`, nil)
	br.screenshot("", filepath.Join(shots, "page.png"))
	var ptt []string
	br.eval(`[...document.querySelectorAll("#timeline li")].map(li => li.textContent)`, &ptt)
	t.Logf("timeline on the page: %q", ptt)

	// 4. Settings: a value out of range is refused next to its field; a good one is saved.
	br.eval(`(() => { const f = document.querySelector('[name="vad.sensitivity"]'); f.value = "9"; document.querySelector('[name="earcons.volume"]').value = "35"; document.querySelector("#config button[type=submit]").click(); })()`, nil)
	br.waitJS(`document.querySelector('.field[data-path="vad.sensitivity"] [data-error]').textContent.includes("out of range 0..3")`, 5*time.Second)
	br.screenshot(`.field[data-path="vad.sensitivity"]`, filepath.Join(shots, "settings-error.png"))
	if v := bearerConfig(t, base, token); fmt.Sprint(v["earcons"].(map[string]any)["volume"]) == "35" {
		t.Errorf("a refused save changed earcons.volume to %v", v["earcons"])
	}
	br.eval(`(() => { document.querySelector('[name="vad.sensitivity"]').value = "2"; document.querySelector("#config button[type=submit]").click(); })()`, nil)
	br.waitJS(`document.querySelector("#config-msg").textContent.startsWith("saved")`, 5*time.Second)
	c := bearerConfig(t, base, token)
	if got := fmt.Sprint(c["vad"].(map[string]any)["sensitivity"], " ", c["earcons"].(map[string]any)["volume"]); got != "2 35" {
		t.Errorf("after saving, vad.sensitivity and earcons.volume = %s, want 2 35", got)
	}
	br.screenshot("#settings", filepath.Join(shots, "settings.png"))

	// 5. Another phone saved meanwhile: this one is told, not overwritten.
	patchConfig(t, base, token, `{"turn":{"follow_up_ms":2000}}`)
	br.eval(`(() => { document.querySelector('[name="vad.min_speech_ms"]').value = "250"; document.querySelector("#config button[type=submit]").click(); })()`, nil)
	br.waitJS(`document.querySelector("#config-msg").textContent !== "" && !document.querySelector("#config-msg").textContent.startsWith("saved")`, 5*time.Second)
	var msg string
	br.eval(`document.querySelector("#config-msg").textContent`, &msg)
	if !strings.Contains(msg, "changed the settings meanwhile") {
		t.Errorf("after another client's change, saving shows %q, want it to say the settings changed meanwhile", msg)
	}
	if c := bearerConfig(t, base, token); fmt.Sprint(c["vad"].(map[string]any)["min_speech_ms"]) == "250" {
		t.Errorf("a save with a stale ETag was applied")
	}
}

// bearerConfig is GET /v1/config with the bearer token.
func bearerConfig(t *testing.T, base, token string) map[string]any {
	t.Helper()
	req := mustReq(t, "GET", base+"/v1/config", "")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /v1/config = %d %v", resp.StatusCode, err)
	}
	return c
}

// patchConfig is a PATCH /v1/config with the bearer token, as another client's.
func patchConfig(t *testing.T, base, token, body string) {
	t.Helper()
	req := mustReq(t, "PATCH", base+"/v1/config", body)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH /v1/config %s = %d", body, resp.StatusCode)
	}
}
