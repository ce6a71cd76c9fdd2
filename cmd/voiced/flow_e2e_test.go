package main

// End-to-end tests of a conversation that flows: control actions, follow-up turns
// without a press or a wake, and continue-conversation after a question.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
	"github.com/voiced-project/voiced/internal/wav"
)

// allEvents collects every /v1/events event: its type and its JSON.
type allEvents struct {
	mu  sync.Mutex
	evs []flowEvent
}

type flowEvent struct {
	Type     string  `json:"type"`
	State    string  `json:"state"`
	Reason   string  `json:"reason"`
	Paused   bool    `json:"paused"`
	FollowUp bool    `json:"follow_up"`
	Role     string  `json:"role"`
	Text     string  `json:"text"`
	Final    bool    `json:"final"`
	Message  string  `json:"message"`
	Code     string  `json:"code"`
	Word     string  `json:"word"`   // wake_word
	Score    float64 `json:"score"`  // wake_word
	ID       string  `json:"id"`     // announce
	Status   string  `json:"status"` // announce
}

func subscribeAll(t *testing.T, base string) *allEvents {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	a := &allEvents{}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		kind := ""
		for sc.Scan() {
			if k, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				kind = k
				continue
			}
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var e flowEvent
			if json.Unmarshal([]byte(data), &e) != nil {
				e = flowEvent{} // a list (timers): only its kind
			}
			if e.Type == "" {
				e.Type = kind
			}
			a.mu.Lock()
			a.evs = append(a.evs, e)
			a.mu.Unlock()
		}
	}()
	return a
}

func (a *allEvents) list() []flowEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]flowEvent(nil), a.evs...)
}

func (a *allEvents) states() []string {
	var s []string
	for _, e := range a.list() {
		if e.Type == "state" {
			s = append(s, e.State)
		}
	}
	return s
}

// count is the number of events that match.
func (a *allEvents) count(match func(flowEvent) bool) int {
	n := 0
	for _, e := range a.list() {
		if match(e) {
			n++
		}
	}
	return n
}

// waitUntil waits for an event that matches; the limit only turns a hang into a failure.
func (a *allEvents) waitUntil(t *testing.T, what string, limit time.Duration, match func(flowEvent) bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if a.count(match) > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s within %v; states %v", what, limit, a.states())
}

// twoQuestions writes a microphone file: lead seconds of silence, the question, gap
// seconds, the question again, then tail. It returns the path and the length of the
// question (trimmed) in seconds.
func twoQuestions(t *testing.T, lead, gap, tail float64) (string, float64) {
	t.Helper()
	pcm, rate, err := realtimetest.ReadWAV("../../examples/question.wav")
	if err != nil {
		t.Fatal(err)
	}
	q := trimSilence(pcm)
	sil := func(s float64) []int16 { return make([]int16, int(s*float64(rate))) }
	out := append(sil(lead), q...)
	out = append(out, sil(gap)...)
	out = append(out, q...)
	out = append(out, sil(tail)...)
	return writeMic(t, out, rate), float64(len(q)) / float64(rate)
}

func flowDaemon(t *testing.T, voiced, addr, mic, dir string, args ...string) *daemonProc {
	t.Helper()
	base := []string{"--config", "../../examples/demo.yaml",
		"--set", "realtime.url=ws://" + addr + "/v1/realtime", "--set", "realtime.api_key=test-key",
		"--set", "audio.capture.device=file:" + mic, "--set", "audio.playback.device=file:" + filepath.Join(dir, "reply.wav"),
		"--set", "http.listen=127.0.0.1:0", "--set", "paths.state_dir=" + dir}
	return startDaemon(t, voiced, nil, append(base, args...)...)
}

// TestEndToEndPauseListening: stop_listening (or pause_listening) keeps the session
// and lets the first question pass unheard; start_listening (resume_listening) makes
// the second one a turn.
func TestEndToEndPauseListening(t *testing.T) {
	t.Parallel()
	for _, names := range [][2]string{{"stop_listening", "start_listening"}, {"pause_listening", "resume_listening"}} {
		t.Run(names[0], func(t *testing.T) {
			voiced, sim := binaries(t)
			dir := t.TempDir()
			addr := startSim(t, sim, "--speed", "0")
			const lead, gap = 4.0, 4.0
			mic, q := twoQuestions(t, lead, gap, 6)
			start := time.Now()
			d := flowDaemon(t, voiced, addr, mic, dir, "--turns", "1", "--timeout", "90s")
			ev := subscribeAll(t, d.http)
			waitStatus(t, d.http, "connected")
			control(t, d.http, names[0])
			if st := status(t, d.http); st["paused"] != true || st["state"] != "connected" {
				t.Errorf("after %s: paused %v, state %v; want paused and connected", names[0], st["paused"], st["state"])
			}
			// The first question passes unheard.
			sleepUntil(start, lead+q+1.5)
			if got := ev.states(); slices.Contains(got, "listening") {
				t.Fatalf("a turn opened while listening was paused: states %v", got)
			}
			control(t, d.http, names[1])
			if err := d.wait(t, 90*time.Second); err != nil {
				t.Fatalf("voiced run --turns 1: %v", err)
			}
			if got, want := ev.states(), []string{"listening", "processing", "speaking", "connected"}; !inOrder(got, want) {
				t.Errorf("states %v, want %v in order after %s", got, want, names[1])
			}
		})
	}
}

func sleepUntil(start time.Time, secs float64) {
	time.Sleep(time.Until(start.Add(time.Duration(secs * float64(time.Second)))))
}

// TestEndToEndFollowUp: in every mode, after the first reply the follow-up window
// opens (the events say so), and the second question, with no press and no wake
// needed, is the second turn. In push-to-talk nothing else could have heard it.
func TestEndToEndFollowUp(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"push_to_talk", "continuous", "both"} {
		t.Run(mode, func(t *testing.T) {
			voiced, sim := binaries(t)
			dir := t.TempDir()
			addr := startSim(t, sim, "--speed", "0")
			const lead = 2.0
			pcm, rate, err := realtimetest.ReadWAV("../../examples/question.wav")
			if err != nil {
				t.Fatal(err)
			}
			q := float64(len(trimSilence(pcm))) / float64(rate)
			// The reply is the turn's audio spoken back. A voice turn is the question and
			// its end of speech (about q+1 s), so the reply ends about lead+2q+1 s in; a
			// push-to-talk turn is everything from the press to the release (lead+q+0.7 s),
			// so its reply ends about 2(lead+q+0.7) s in. The second question starts about
			// 2 s after that, inside the 10 s window.
			gap := q + 3
			if mode == "push_to_talk" {
				gap = lead + q + 3.4
			}
			mic, _ := twoQuestions(t, lead, gap, 8)
			start := time.Now()
			d := flowDaemon(t, voiced, addr, mic, dir, "--set", "mode="+mode, "--set", "turn.follow_up_ms=10000",
				"--turns", "2", "--timeout", "90s")
			ev := subscribeAll(t, d.http)
			if mode == "push_to_talk" {
				waitStatus(t, d.http, "connected")
				control(t, d.http, "ptt_start")
				sleepUntil(start, lead+q+0.7)
				control(t, d.http, "ptt_stop")
			}
			if err := d.wait(t, 90*time.Second); err != nil {
				t.Fatalf("voiced run --turns 2: %v (states %v)", err, ev.states())
			}
			if n := ev.count(func(e flowEvent) bool { return e.Type == "flags" && e.FollowUp }); n == 0 {
				t.Errorf("no event with follow_up true; states %v", ev.states())
			}
			want := []string{"listening", "processing", "speaking", "connected", "listening", "processing", "speaking"}
			if got := ev.states(); !inOrder(got, want) {
				t.Errorf("states %v, want %v in order", got, want)
			}
		})
	}
}

// TestEndToEndContinueConversation: the reply ends with a question (voiced-sim
// --question), so with continue_conversation: auto the next turn opens by itself in
// push-to-talk, without a press, and the answer is heard.
func TestEndToEndContinueConversation(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	addr := startSim(t, sim, "--speed", "0", "--question")
	const lead = 2.0
	pcm, rate, err := realtimetest.ReadWAV("../../examples/question.wav")
	if err != nil {
		t.Fatal(err)
	}
	q := float64(len(trimSilence(pcm))) / float64(rate)
	mic, _ := twoQuestions(t, lead, q+3, 8)
	start := time.Now()
	d := flowDaemon(t, voiced, addr, mic, dir, "--set", "mode=push_to_talk",
		"--set", "turn.continue_conversation=auto", "--turns", "2", "--timeout", "90s")
	ev := subscribeAll(t, d.http)
	waitStatus(t, d.http, "connected")
	control(t, d.http, "ptt_start")
	sleepUntil(start, lead+q+0.7)
	control(t, d.http, "ptt_stop")
	if err := d.wait(t, 90*time.Second); err != nil {
		t.Fatalf("voiced run --turns 2: %v (states %v)", err, ev.states())
	}
	n := ev.count(func(e flowEvent) bool {
		return e.Type == "state" && e.State == "listening" && strings.Contains(e.Reason, "continue conversation")
	})
	if n != 1 {
		t.Errorf("%d turns opened by continue conversation, want 1; states %v", n, ev.states())
	}
	asked := ev.count(func(e flowEvent) bool {
		return e.Type == "transcript" && e.Role == "assistant" && e.Final && strings.HasSuffix(e.Text, "?")
	})
	if asked == 0 {
		t.Errorf("no assistant transcript ending with a question")
	}
}

// TestEndToEndTimerAfterRestart: the model sets a timer by a tool call (voiced-sim
// --tool-call set_timer); voiced stops, and the timer, kept in paths.state_dir, rings
// in the next voiced once due: the alarm on /v1/events and /v1/status, the timer
// ringing on /v1/timers, and dismissing it over HTTP stops the alarm.
func TestEndToEndTimerAfterRestart(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	addr := startSim(t, sim, "--speed", "0", "--tool-call", "set_timer", "--tool-args", `{"duration":"8s","label":"tea"}`)
	mic, _ := question(t, 1, 2)
	d := flowDaemon(t, voiced, addr, mic, dir, "--turns", "1", "--timeout", "60s")
	if err := d.wait(t, 60*time.Second); err != nil {
		t.Fatalf("voiced run --turns 1: %v", err)
	}
	saved, err := os.ReadFile(filepath.Join(dir, "timers.json"))
	if err != nil || !strings.Contains(string(saved), `"label": "tea"`) {
		t.Fatalf("timers.json after the tool call: %v\n%s", err, saved)
	}
	if !strings.Contains(d.stderr.String(), "tool called") {
		t.Errorf("voiced's log does not show the tool call")
	}

	// The next voiced hears nothing; the timer rings once due. Its server makes no
	// tool call (the announcement would set the timer again).
	addr2 := startSim(t, sim, "--speed", "0")
	quiet := writeMic(t, make([]int16, 16000), 16000)
	d2 := flowDaemon(t, voiced, addr2, quiet, dir, "--timeout", "60s")
	ev := subscribeAll(t, d2.http)
	ev.waitUntil(t, "alarm", 30*time.Second, func(e flowEvent) bool { return e.Type == "alarm" && e.Message == "timer tea" })
	if st := status(t, d2.http); st["alarm"] != "timer tea" {
		t.Errorf("/v1/status alarm = %v, want timer tea", st["alarm"])
	}
	resp, body := httpDo(t, "GET", d2.http+"/v1/timers", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"ringing": true`) {
		t.Errorf("GET /v1/timers = %d %s, want tea ringing", resp.StatusCode, body)
	}
	if resp, body := httpDo(t, "POST", d2.http+"/v1/timers/dismiss", "{}"); resp.StatusCode != 200 || !strings.Contains(body, "tea") {
		t.Errorf("POST /v1/timers/dismiss = %d %s", resp.StatusCode, body)
	}
	ev.waitUntil(t, "alarm stopped", 10*time.Second, func(e flowEvent) bool { return e.Type == "alarm" && e.Message == "" })
	if _, body := httpDo(t, "GET", d2.http+"/v1/timers", ""); strings.Contains(body, "tea") {
		t.Errorf("the dismissed timer is still listed: %s", body)
	}
	d2.stop(t)
}

func httpDo(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestEndToEndRolloverNoLoss: sessions that expire every few seconds, in the middle
// of turns and replies, over 20 turns: every turn gets its reply played, none times
// out, and each new session gets the history replayed once, no item twice.
func TestEndToEndRolloverNoLoss(t *testing.T) {
	t.Parallel()
	for _, max := range []string{"5s", "10s", "30s"} {
		t.Run(max, func(t *testing.T) {
			if max != "5s" && testing.Short() {
				t.Skip("the longer sessions take minutes")
			}
			// Each runs its 20 turns in real time (about 80 s) and uses little CPU:
			// side by side, the three take the time of one.
			t.Parallel()
			voiced, sim := binaries(t)
			dir := t.TempDir()
			rec := filepath.Join(dir, "rec.jsonl")
			addr := startSim(t, sim, "--speed", "1", "--session-max", max, "--record", rec)
			pcm, rate, err := realtimetest.ReadWAV("../../examples/question.wav")
			if err != nil {
				t.Fatal(err)
			}
			speech := trimSilence(pcm)[:rate*6/5]
			const turns = 20
			mic := make([]int16, rate)
			for range turns + 2 { // two spare: a turn cut by a rollover shows as a missing reply
				mic = append(mic, speech...)
				mic = append(mic, make([]int16, 4*rate)...)
			}
			path := writeMic(t, mic, rate)
			d := flowDaemon(t, voiced, addr, path, dir, "--set", "realtime.transcription.enabled=true",
				"--turns", fmt.Sprint(turns), "--timeout", "240s")
			if err := d.wait(t, 240*time.Second); err != nil {
				t.Fatalf("voiced run --turns %d: %v", turns, err)
			}
			if strings.Contains(d.stderr.String(), "reply_timeout") {
				t.Errorf("a reply timed out")
			}
			sessions, dups := replayedItems(t, rec)
			t.Logf("%d sessions", sessions)
			if sessions < 2 && max == "5s" {
				t.Errorf("%d sessions, want rollovers", sessions)
			}
			for _, d := range dups {
				t.Errorf("replayed twice in one session: %s", d)
			}
		})
	}
}

// replayedItems reads --record output: the sessions (session.update) and, within
// each, the replayed items one by one: the conversation alternates user and
// assistant, so an item replayed twice shows as two of one role in a row (the sim's
// placeholder transcripts are alike, so the texts cannot tell).
func replayedItems(t *testing.T, path string) (int, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sessions := 0
	last := ""
	var dups []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var ev struct {
			Type string `json:"type"`
			Item struct {
				Role    string `json:"role"`
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"item"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch ev.Type {
		case "session.update":
			sessions++
			last = ""
		case "conversation.item.create":
			var text strings.Builder
			for _, c := range ev.Item.Content {
				text.WriteString(c.Text)
			}
			if ev.Item.Role == last {
				dups = append(dups, fmt.Sprintf("session %d: %s %q follows another %s item", sessions, ev.Item.Role, text.String(), last))
			}
			last = ev.Item.Role
		}
	}
	return sessions, dups
}

// counter is a counter of /v1/status.
func counter(t *testing.T, base, name string) float64 {
	t.Helper()
	c, _ := status(t, base)["counters"].(map[string]any)
	n, ok := c[name].(float64)
	if !ok {
		t.Fatalf("/v1/status has no counters.%s: %v", name, c)
	}
	return n
}

// announceWAV is the body of POST /v1/announce with seconds of a 660 Hz tone as a WAV.
func announceWAV(t *testing.T, seconds int) string {
	t.Helper()
	tone := realtimetest.Tone(660, seconds*1000, 16000, 6000)
	var wavBuf bytes.Buffer
	w, err := wav.NewWriter(&wavBuf, wav.Header{Channels: 1, Rate: 16000, Bits: 16, Container: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 2*len(tone))
	for i, s := range tone {
		b[2*i], b[2*i+1] = byte(s), byte(uint16(s)>>8)
	}
	w.Write(b)
	w.Close()
	body, _ := json.Marshal(map[string]any{"wav": wavBuf.Bytes()})
	return string(body)
}

// TestEndToEndAnnounce: an announcement of text (the model says it) and one of a WAV
// (played as it is) each make the device speak without a turn, show on /v1/events,
// and stop on the button as a reply does: the press interrupts and opens a turn.
// The e2e tests press the button with ptt_start, the control the button's press is.
func TestEndToEndAnnounce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body string }{
		{"text", `{"text":"The tea is ready."}`},
		{"wav", announceWAV(t, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			voiced, sim := binaries(t)
			dir := t.TempDir()
			addr := startSim(t, sim, "--speed", "1", "--reply", "tone") // a real-time reply: SPEAKING lasts
			quiet := writeMic(t, make([]int16, 16000), 16000)
			d := flowDaemon(t, voiced, addr, quiet, dir, "--timeout", "60s")
			ev := subscribeAll(t, d.http)
			waitStatus(t, d.http, "connected")
			resp, body := httpDo(t, "POST", d.http+"/v1/announce", tc.body)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("POST /v1/announce = %d %s", resp.StatusCode, body)
			}
			ev.waitUntil(t, "speaking", 20*time.Second, func(e flowEvent) bool { return e.Type == "state" && e.State == "speaking" })
			control(t, d.http, "ptt_start") // the button, pressed
			ev.waitUntil(t, "interrupted by the press", 5*time.Second, func(e flowEvent) bool {
				return e.Type == "state" && e.State == "listening" && strings.Contains(e.Reason, "reply interrupted")
			})
			ev.waitUntil(t, "announce stopped", 5*time.Second, func(e flowEvent) bool {
				return e.Type == "announce" && strings.HasPrefix(e.Status, "stopped:")
			})
			var statuses []string
			for _, e := range ev.list() {
				if e.Type == "announce" {
					statuses = append(statuses, e.Status)
				}
			}
			if len(statuses) != 3 || statuses[0] != "queued" || statuses[1] != "started" || statuses[2] != "stopped: ptt_start (reply interrupted)" {
				t.Errorf("announce events %q, want queued, started, stopped: ptt_start (reply interrupted)", statuses)
			}
			if n := counter(t, d.http, "interrupts"); n != 1 {
				t.Errorf("/v1/status counters.interrupts = %v, want 1", n)
			}
			control(t, d.http, "ptt_stop") // released before any speech: the turn is dropped
			if resp, body := httpDo(t, "POST", d.http+"/v1/announce", `{"text":"a","url":"file:/etc/passwd"}`); resp.StatusCode != 400 {
				t.Errorf("two kinds at once = %d %s, want 400", resp.StatusCode, body)
			}
			if resp, body := httpDo(t, "POST", d.http+"/v1/announce", `{"url":"file:/etc/passwd"}`); resp.StatusCode != 400 || !strings.Contains(body, "audio_dirs") {
				t.Errorf("a file outside paths.audio_dirs = %d %s, want 400 naming audio_dirs", resp.StatusCode, body)
			}
			d.stop(t)
		})
	}
}

// TestEndToEndAnnounceNoReply: the server never answers a text announcement. After
// turn.reply_timeout_ms voiced gives it up, says so (an error event and an announce
// event, both naming it), and the announcement queued behind it plays.
func TestEndToEndAnnounceNoReply(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	addr := startSim(t, sim, "--speed", "1", "--reply", "tone", "--ignore-instructed")
	quiet := writeMic(t, make([]int16, 16000), 16000)
	d := flowDaemon(t, voiced, addr, quiet, dir, "--timeout", "60s", "--set", "turn.reply_timeout_ms=2000")
	ev := subscribeAll(t, d.http)
	waitStatus(t, d.http, "connected")
	ids := map[string]string{}
	for _, body := range []string{`{"text":"The tea is ready."}`, announceWAV(t, 1)} {
		resp, b := httpDo(t, "POST", d.http+"/v1/announce", body)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /v1/announce = %d %s", resp.StatusCode, b)
		}
		var r struct{ ID string }
		if err := json.Unmarshal([]byte(b), &r); err != nil || r.ID == "" {
			t.Fatalf("POST /v1/announce answered %s, want an id", b)
		}
		ids[map[bool]string{true: "text", false: "wav"}[strings.Contains(body, "text")]] = r.ID
	}
	sent := time.Now()
	ev.waitUntil(t, "the text's failure", 20*time.Second, func(e flowEvent) bool {
		return e.Type == "announce" && e.ID == ids["text"] && strings.HasPrefix(e.Status, "failed:")
	})
	t.Logf("the text announcement failed %v after it was posted", time.Since(sent).Round(10*time.Millisecond))
	ev.waitUntil(t, "the wav played", 20*time.Second, func(e flowEvent) bool {
		return e.Type == "announce" && e.ID == ids["wav"] && e.Status == "played"
	})
	want := "announcement " + ids["text"] + ": no reply within 2s"
	if n := ev.count(func(e flowEvent) bool { return e.Type == "error" && e.Code == "reply_timeout" && e.Message == want }); n != 1 {
		t.Errorf("%d error events reply_timeout %q, want 1", n, want)
	}
	if n, st := counter(t, d.http, "reply_timeouts"), status(t, d.http)["state"]; n != 1 || st != "connected" {
		t.Errorf("/v1/status counters.reply_timeouts %v, state %v; want 1, connected", n, st)
	}
	if !strings.Contains(d.stderr.String(), want) {
		t.Errorf("the log does not say %q:\n%s", want, d.stderr.String())
	}
	d.stop(t)
}
