package main

// End-to-end tests of the Socket.IO services: voiced-sim --dialect estuary|selam as the
// service, `voiced run` as the device, driven and watched over the HTTP endpoint, and
// what the service received read back from voiced-sim --record.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
)

var sioBackends = []string{"estuary", "selam"}

// sioArgs points voiced at a fake service at addr.
func sioArgs(backend, addr string) []string {
	a := []string{"--config", "../../examples/demo.yaml", "--set", "realtime.profile=" + backend,
		"--set", "realtime.api_key=test-key", "--set", "http.listen=127.0.0.1:0"}
	if backend == "estuary" {
		return append(a, "--set", "realtime.estuary.server_url=http://"+addr, "--set", "realtime.estuary.character_id=test-character")
	}
	return append(a, "--set", "realtime.selam.server_url=http://"+addr)
}

// sioRecord is one line of voiced-sim --record for a Socket.IO fake.
type sioRecord struct {
	Event string          `json:"event"`
	Arg   json.RawMessage `json:"arg"`
}

func readSIORecord(t *testing.T, path string) []sioRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sioRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r sioRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("record line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// waitSIORecord waits until the service received every event of want.
func waitSIORecord(t *testing.T, path string, want ...string) []sioRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		recs := readSIORecord(t, path)
		seen := map[string]bool{}
		for _, r := range recs {
			seen[r.Event] = true
		}
		missing := []string{}
		for _, w := range want {
			if !seen[w] {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return recs
		}
		if time.Now().After(deadline) {
			names := []string{}
			for _, r := range recs {
				if len(names) == 0 || names[len(names)-1] != r.Event {
					names = append(names, r.Event)
				}
			}
			t.Fatalf("the service never received %v; it received %v", missing, names)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// simPost drives voiced-sim's /sim/ routes.
func simPost(t *testing.T, addr, route string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+route, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("voiced-sim %s = %d", route, resp.StatusCode)
	}
}

// uplinkRate is the sample rate the service was sent, from its records.
func uplinkRate(recs []sioRecord) int {
	for _, r := range recs {
		if r.Event == "start_session" || r.Event == "audio_chunk" {
			var a struct {
				SampleRate int `json:"sample_rate"`
			}
			if json.Unmarshal(r.Arg, &a) == nil && a.SampleRate != 0 {
				return a.SampleRate
			}
		}
	}
	return 0
}

func TestSocketIOVoiceWake(t *testing.T) {
	t.Parallel()
	for _, b := range sioBackends {
		t.Run(b, func(t *testing.T) {
			voiced, sim := binaries(t)
			dir := t.TempDir()
			rec := filepath.Join(dir, "rec.jsonl")
			addr := startSim(t, sim, "--dialect", b, "--speed", "0", "--record", rec)
			mic, want := question(t, 1.5, 1.5)
			reply := filepath.Join(dir, "reply.wav")
			d := startDaemon(t, voiced, nil, append(sioArgs(b, addr),
				"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+reply,
				"--timeout", "60s")...)
			ev := subscribe(t, d.http)
			ev.waitFor(t, "speaking", 30*time.Second)
			ev.waitFor(t, "connected", 30*time.Second)
			if got, want := ev.list(), []string{"listening", "processing", "speaking", "connected"}; !inOrder(got, want) {
				t.Errorf("/v1/events states %v, want %v in order", got, want)
			}
			switch b {
			case "estuary":
				// The reply was played to its end: the service hears so.
				waitSIORecord(t, rec, "stream_audio", "audio_playback_complete")
			case "selam":
				recs := waitSIORecord(t, rec, "start_session", "audio_chunk")
				if r := uplinkRate(recs); r != 16000 {
					t.Errorf("audio_chunk sample_rate %d, want 16000", r)
				}
			}
			stop(t, d)
			checkSIOReply(t, b, reply, want)
		})
	}
}

func TestSocketIOPushToTalk(t *testing.T) {
	t.Parallel()
	for _, b := range sioBackends {
		t.Run(b, func(t *testing.T) {
			voiced, sim := binaries(t)
			dir := t.TempDir()
			rec := filepath.Join(dir, "rec.jsonl")
			addr := startSim(t, sim, "--dialect", b, "--speed", "0", "--record", rec)
			const lead = 2.0
			mic, want := question(t, lead, 3)
			qlen := float64(len(want)) / 24000
			reply := filepath.Join(dir, "reply.wav")
			d := startDaemon(t, voiced, nil, append(sioArgs(b, addr), "--set", "mode=push_to_talk",
				"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+reply,
				"--timeout", "60s")...)
			ev := subscribe(t, d.http)
			waitStatus(t, d.http, "connected")
			control(t, d.http, "ptt_start")
			// Release just after the question ends, sooner than the services' own end
			// of speech (0.5 s of quiet), so that the release, not their detector, ends
			// the turn. The time is counted from voiced's speech_started, which follows
			// the microphone's own clock: that clock starts when voiced first reads the
			// file, which a busy machine delays by a second or more, so a release timed
			// from the test's start could cut the question short.
			ev.waitOther(t, "speech_started", 30*time.Second)
			time.Sleep(time.Duration((qlen + 0.25) * float64(time.Second)))
			control(t, d.http, "ptt_stop")
			ev.waitFor(t, "speaking", 30*time.Second)
			ev.waitFor(t, "connected", 30*time.Second)
			if got, want := ev.list(), []string{"listening", "processing", "speaking", "connected"}; !inOrder(got, want) {
				t.Errorf("/v1/events states %v, want %v in order", got, want)
			}
			if b == "estuary" {
				waitSIORecord(t, rec, "start_voice", "stream_audio", "stop_voice", "audio_playback_complete")
			} else {
				waitSIORecord(t, rec, "start_session", "audio_chunk")
			}
			stop(t, d)
			checkSIOReply(t, b, reply, want)
		})
	}
}

// TestSocketIOBargeIn: a button press while the reply plays silences it, and the service
// hears of the interrupt.
func TestSocketIOBargeIn(t *testing.T) {
	t.Parallel()
	for _, b := range sioBackends {
		t.Run(b, func(t *testing.T) {
			voiced, sim := binaries(t)
			dir := t.TempDir()
			rec := filepath.Join(dir, "rec.jsonl")
			addr := startSim(t, sim, "--dialect", b, "--record", rec)
			mic, _ := question(t, 0.5, 8)
			d := startDaemon(t, voiced, nil, append(sioArgs(b, addr),
				"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "r.wav"),
				"--timeout", "60s")...)
			ev := subscribe(t, d.http)
			ev.waitFor(t, "speaking", 30*time.Second)
			time.Sleep(300 * time.Millisecond)
			control(t, d.http, "ptt_start") // the button, pressed
			ev.waitFor(t, "listening", 5*time.Second)
			st := status(t, d.http)
			if n, _ := st["counters"].(map[string]any)["interrupts"].(float64); n < 1 {
				t.Errorf("interrupts counter = %v, want 1", st["counters"])
			}
			if b == "estuary" {
				waitSIORecord(t, rec, "client_interrupt")
				return
			}
			recs := waitSIORecord(t, rec, "control")
			if !hasControl(recs, "interrupt") {
				t.Errorf("the service received no control interrupt: %v", recs)
			}
		})
	}
}

// checkSIOReply is checkReply for a Socket.IO fake. Selam's fake parrots what its own
// energy detector took for speech, whose onset and end trim the turn by a syllable
// more or less than the question: its reply still correlates far above anything but
// the question (silence or a tone score near 0), if below the Realtime fake's 0.85.
func checkSIOReply(t *testing.T, backend, path string, want []int16) {
	t.Helper()
	if backend != "selam" {
		checkReply(t, path, want)
		return
	}
	got, rate, err := realtimetest.ReadWAV(path)
	if err != nil {
		t.Fatalf("reply WAV: %v", err)
	}
	if c := replyCorrelation(trimSilence(got), want, rate); rate != 24000 || c < 0.75 {
		t.Errorf("reply WAV at %d Hz correlates %.3f with the question, want 24000 Hz and >= 0.75 (the parrot reply)", rate, c)
	}
}

// stop ends voiced with SIGTERM, which closes the speaker's WAV file.
func stop(t *testing.T, d *daemonProc) {
	t.Helper()
	d.stop(t)
}

func hasControl(recs []sioRecord, action string) bool {
	for _, r := range recs {
		if r.Event == "control" && strings.Contains(string(r.Arg), `"`+action+`"`) {
			return true
		}
	}
	return false
}

// TestSelamControlActions: each control action of /v1/control that the Voice Agent has
// reaches it and is acknowledged (a missing or failed control_ack would be an error in
// /v1/status).
func TestSelamControlActions(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec.jsonl")
	addr := startSim(t, sim, "--dialect", "selam", "--record", rec)
	mic, _ := question(t, 0.2, 0.2)
	d := startDaemon(t, voiced, nil, append(sioArgs("selam", addr), "--set", "mode=push_to_talk",
		"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "r.wav"),
		"--timeout", "60s")...)
	waitStatus(t, d.http, "connected")
	for _, a := range []string{"pause", "resume", "start_listening", "stop_listening"} {
		control(t, d.http, a)
	}
	for _, a := range []string{"pause", "resume", "start_listening", "stop_listening"} {
		deadline := time.Now().Add(5 * time.Second)
		for !hasControl(waitSIORecord(t, rec, "control"), a) {
			if time.Now().After(deadline) {
				t.Fatalf("the service received no control %s", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The acks come back at once; give a missing one time to show (the wait is 5 s).
	time.Sleep(6 * time.Second)
	if st := status(t, d.http); strings.Contains(fmt.Sprint(st["last_error"]), "control") {
		t.Errorf("last_error after acknowledged controls: %v", st["last_error"])
	}
	if !strings.Contains(d.stderr.String(), `msg="control acknowledged" action=resume`) {
		t.Errorf("no control_ack for resume in the log:\n%s", d.stderr.String())
	}
}

// TestSocketIOErrors: each error kind of each protocol is shown in /v1/status in words.
// The kinds after which the service keeps the session are played one after the other;
// each that refuses voiced for good (key, quota, tier) gets a daemon of its own.
func TestSocketIOErrors(t *testing.T) {
	t.Parallel()
	kinds := map[string][][]string{ // rounds of {kind, words /v1/status must show}
		"estuary": {
			{"error", "server reported", "voice_error", "speech-to-text", "voice_timeout", "voice input",
				"session_rejected", "concurrency", "session_timeout", "idle"},
			{"quota_exceeded", "quota"},
			{"auth_error", "refused"},
		},
		"selam": {
			{"validation_error", "not accepted", "audio_error", "audio", "session_error", "session"},
			{"authorization_error", "OWNER"},
			{"authentication_error", "API key"},
		},
	}
	for _, b := range sioBackends {
		for _, round := range kinds[b] {
			t.Run(b+"/"+round[0], func(t *testing.T) {
				voiced, sim := binaries(t)
				dir := t.TempDir()
				addr := startSim(t, sim, "--dialect", b)
				mic, _ := question(t, 0.2, 0.2)
				d := startDaemon(t, voiced, nil, append(sioArgs(b, addr), "--set", "mode=push_to_talk",
					"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "r.wav"),
					"--timeout", "120s")...)
				for i := 0; i < len(round); i += 2 {
					k, words := round[i], round[i+1]
					waitStatus(t, d.http, "connected")
					simPost(t, addr, "/sim/inject?kind="+k)
					deadline := time.Now().Add(10 * time.Second)
					var shown string
					for time.Now().Before(deadline) {
						st := status(t, d.http)
						shown = fmt.Sprint(st["last_error"])
						if st["fatal"] != nil {
							shown = fmt.Sprint(st["fatal"])
						}
						if strings.Contains(strings.ToLower(shown), strings.ToLower(words)) {
							break
						}
						time.Sleep(50 * time.Millisecond)
					}
					if !strings.Contains(strings.ToLower(shown), strings.ToLower(words)) {
						t.Errorf("%s: /v1/status shows %q, want words about %q", k, shown, words)
					}
					t.Logf("%s: %s", k, shown)
					if k == "session_timeout" || k == "session_rejected" {
						// The service closed the session; the next press reopens it.
						resp, err := http.Post(d.http+"/v1/control", "application/json", strings.NewReader(`{"action":"ptt_start"}`))
						if err != nil {
							t.Fatal(err)
						}
						resp.Body.Close()
					}
				}
			})
		}
	}
}

// TestSocketIOServerRestart: the service goes away and comes back; voiced shows
// DISCONNECTED and is connected again soon after.
func TestSocketIOServerRestart(t *testing.T) {
	t.Parallel()
	for _, b := range sioBackends {
		t.Run(b, func(t *testing.T) {
			voiced, sim := binaries(t)
			dir := t.TempDir()
			addr, simCmd := startSimCmd(t, sim, "--dialect", b)
			mic, _ := question(t, 0.2, 0.2)
			d := startDaemon(t, voiced, nil, append(sioArgs(b, addr), "--set", "mode=push_to_talk",
				"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "r.wav"),
				"--timeout", "60s")...)
			waitStatus(t, d.http, "connected")
			ev := subscribe(t, d.http)
			simCmd.Process.Kill()
			simCmd.Wait()
			ev.waitFor(t, "disconnected", 10*time.Second)
			time.Sleep(3 * time.Second)
			addr2 := startSim(t, sim, "--dialect", b, "--addr", addr)
			if addr2 != addr {
				t.Fatalf("server came back on %s, not %s", addr2, addr)
			}
			back := time.Now()
			ev.waitFor(t, "connected", 15*time.Second)
			t.Logf("connected again %v after the service came back", time.Since(back).Round(time.Millisecond))
			st := status(t, d.http)
			if n, _ := st["counters"].(map[string]any)["reconnects"].(float64); n < 1 {
				t.Errorf("reconnects counter = %v, want at least 1", st["counters"])
			}
		})
	}
}
