package main

// End-to-end tests of the real binaries: voiced-sim as the server, `voiced run` with
// WAV files as microphone and speaker, driven and watched over the HTTP endpoint.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
	"github.com/voiced-project/voiced/internal/realtime/schematest"
	"github.com/voiced-project/voiced/internal/wav"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds voiced and voiced-sim once per test run.
func binaries(t *testing.T) (voiced, sim string) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test builds and runs the binaries; skipped with -short")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "voiced-e2e-")
		if buildErr != nil {
			return
		}
		for _, c := range []string{"voiced", "voiced-sim"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, c), "../"+c)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", c, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "voiced"), filepath.Join(binDir, "voiced-sim")
}

// startSim runs voiced-sim on a free port and returns its address.
func startSim(t *testing.T, sim string, args ...string) string {
	t.Helper()
	addr, _ := startSimCmd(t, sim, args...)
	return addr
}

// startSimCmd is startSim for a test that stops the server itself: Process.Kill, then Wait.
func startSimCmd(t *testing.T, sim string, args ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(sim, append([]string{"--addr", "127.0.0.1:0", "--api-key", "test-key"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("voiced-sim: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("voiced-sim's first line = %q", line)
	}
	go io.Copy(io.Discard, out)
	return addr, cmd
}

// daemonProc is a running `voiced run`.
type daemonProc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	http   string // base URL
	exited chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`HTTP endpoint listening"? addr=(\S+)`)

func startDaemon(t *testing.T, voiced string, env []string, args ...string) *daemonProc {
	t.Helper()
	d := &daemonProc{stderr: &syncBuffer{}, exited: make(chan error, 1)}
	d.cmd = exec.Command(voiced, append([]string{"run"}, args...)...)
	d.cmd.Stderr = d.stderr
	d.cmd.Env = append(os.Environ(), env...)
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.exited <- d.cmd.Wait() }()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("voiced's log:\n%s", d.stderr.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(d.stderr.String()); m != nil {
			d.http = "http://" + m[1]
			return d
		}
		select {
		case err := <-d.exited:
			t.Fatalf("voiced exited early: %v\n%s", err, d.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("voiced did not say where HTTP listens:\n%s", d.stderr.String())
	return nil
}

// stop ends the daemon with SIGTERM, as systemd does, and fails the test unless it
// exits cleanly within 10 s.
func (d *daemonProc) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.wait(t, 10*time.Second); err != nil {
		t.Errorf("exit: %v", err)
	}
}

func (d *daemonProc) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	select {
	case err := <-d.exited:
		return err
	case <-time.After(limit):
		t.Fatalf("voiced still running after %v:\n%s", limit, d.stderr.String())
		return nil
	}
}

// events collects /v1/events state changes, and the names of the other events.
type events struct {
	mu     sync.Mutex
	states []string
	seen   chan string   // states
	others chan string   // the other events' names, e.g. speech_ended
	done   chan struct{} // closed when the stream ends: voiced exited
}

func subscribe(t *testing.T, base string) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ev := &events{seen: make(chan string, 256), others: make(chan string, 256), done: make(chan struct{})}
	go func() {
		defer close(ev.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		kind := ""
		for sc.Scan() {
			line := sc.Text()
			if k, ok := strings.CutPrefix(line, "event: "); ok {
				kind = k
				continue
			}
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok {
				continue
			}
			if kind != "state" {
				select {
				case ev.others <- kind:
				default: // nobody waits for it
				}
				continue
			}
			var e struct {
				State string `json:"state"`
			}
			json.Unmarshal([]byte(data), &e)
			ev.mu.Lock()
			ev.states = append(ev.states, e.State)
			ev.mu.Unlock()
			ev.seen <- e.State
		}
	}()
	return ev
}

// waitOther waits for an event other than a state change, by name.
func (e *events) waitOther(t *testing.T, kind string, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	for {
		select {
		case k := <-e.others:
			if k == kind {
				return
			}
		case <-deadline:
			t.Fatalf("no %s event within %v; states %v", kind, limit, e.list())
		}
	}
}

// ended waits for the stream to end once voiced has exited, so that list holds every
// state voiced sent: the last ones may still be on their way when the process is gone.
func (e *events) ended(t *testing.T, limit time.Duration) {
	t.Helper()
	select {
	case <-e.done:
	case <-time.After(limit):
		t.Errorf("/v1/events still open %v after voiced exited", limit)
	}
}

func (e *events) waitFor(t *testing.T, state string, limit time.Duration) {
	t.Helper()
	timeout := time.After(limit)
	for {
		select {
		case s := <-e.seen:
			if s == state {
				return
			}
		case <-timeout:
			t.Fatalf("no %s state within %v; states: %v", state, limit, e.list())
		}
	}
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.states...)
}

// inOrder reports whether want appears in got as a subsequence.
func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func control(t *testing.T, base, action string) {
	t.Helper()
	resp, err := http.Post(base+"/v1/control", "application/json", strings.NewReader(`{"action":"`+action+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("control %s = %d %s", action, resp.StatusCode, b)
	}
}

// metricValue is the value of one sample line of GET /metrics (-1 when absent).
func metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics %s: %v", name, err)
			}
			return f
		}
	}
	return -1
}

func status(t *testing.T, base string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func waitStatus(t *testing.T, base, state string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if status(t, base)["state"] == state {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("state never became %s: %v", state, status(t, base))
}

// question writes examples/question.wav with lead seconds of silence before it and
// tail after, and returns the path and the question at 24 kHz.
func question(t *testing.T, lead, tail float64) (string, []int16) {
	t.Helper()
	pcm, rate, err := realtimetest.ReadWAV("../../examples/question.wav")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, int(lead*float64(rate)))
	out = append(out, pcm...)
	out = append(out, make([]int16, int(tail*float64(rate)))...)
	return writeMic(t, out, rate), trimSilence(realtimetest.Resample(pcm, rate, 24000))
}

// writeMic writes mono 16-bit samples as a WAV file for a file: microphone.
func writeMic(t *testing.T, out []int16, rate int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mic.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wav.NewWriter(f, wav.Header{Channels: 1, Rate: rate, Bits: 16, Container: 2})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2*len(out))
	for i, s := range out {
		buf[2*i], buf[2*i+1] = byte(s), byte(uint16(s)>>8)
	}
	if _, err := w.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}

// trimSilence cuts the quiet ends, so a comparison looks at the speech only.
func trimSilence(pcm []int16) []int16 {
	loud := func(s int16) bool { return s > 300 || s < -300 }
	i, j := 0, len(pcm)
	for i < j && !loud(pcm[i]) {
		i++
	}
	for j > i && !loud(pcm[j-1]) {
		j--
	}
	return pcm[i:j]
}

// envelope is the RMS level in 10 ms steps.
func envelope(pcm []int16, rate int) []float64 {
	step := rate / 100
	env := make([]float64, 0, len(pcm)/step)
	for i := 0; i+step <= len(pcm); i += step {
		var sum float64
		for _, s := range pcm[i : i+step] {
			sum += float64(s) * float64(s)
		}
		env = append(env, math.Sqrt(sum/float64(step)))
	}
	return env
}

// bestCorrelation slides want's envelope over got's and returns the best normalised
// correlation: near 1 when got contains want (the parrot reply), whatever the delay
// and silence around it.
func bestCorrelation(got, want []int16, rate int) float64 {
	g, w := envelope(got, rate), envelope(want, rate)
	best := -1.0
	for lag := 0; lag+len(w) <= len(g); lag++ {
		var sgw, sgg, sww float64
		var mg, mw float64
		for i := range w {
			mg += g[lag+i]
			mw += w[i]
		}
		mg /= float64(len(w))
		mw /= float64(len(w))
		for i := range w {
			a, b := g[lag+i]-mg, w[i]-mw
			sgw += a * b
			sgg += a * a
			sww += b * b
		}
		if sgg > 0 && sww > 0 {
			best = max(best, sgw/math.Sqrt(sgg*sww))
		}
	}
	return best
}

// checkReply checks that the speaker's WAV holds the parrot reply: the question, in
// order and whole. Runs of digital silence are left out of both before they are
// compared: the question's own pauses, and the silence a file: speaker writes when the
// playback loop comes late, as a sound card plays silence when it runs dry. A machine
// busy enough to hold the loop off for longer than the device buffer (80 ms) puts such
// gaps into a reply, and each one shifts all that follows it; the envelope of the
// question's 10 ms steps then no longer lines up with the reply's, and a correlation of
// 0.96 falls to 0.64 for a single gap of 60 ms. Leaving the gaps out still finds any
// audio lost, reordered or changed; that voiced writes a reply without gaps when it is
// on time is TestPlaybackFillingDevice's to show.
func checkReply(t *testing.T, path string, want []int16) {
	t.Helper()
	got, rate, err := realtimetest.ReadWAV(path)
	if err != nil {
		t.Fatalf("reply WAV: %v", err)
	}
	if rate != 24000 {
		t.Fatalf("reply rate %d, want 24000", rate)
	}
	got = trimSilence(got)
	c := replyCorrelation(got, want, rate)
	t.Logf("reply WAV correlates %.3f with the question, digital silence aside (%.3f s of it left out of the reply, %.3f s of the question)",
		c, float64(len(got)-len(dropDigitalSilence(got)))/float64(rate), float64(len(want)-len(dropDigitalSilence(want)))/float64(rate))
	if c < 0.85 {
		t.Errorf("reply WAV correlates %.3f with the question, digital silence aside, want >= 0.85 (the parrot reply)", c)
	}
}

// replyCorrelation is bestCorrelation of got and want without their digital silence.
// got gets 0.1 s of silence at each end: the playback volume rounds the quietest
// samples to zero, so that got can lose a little more to the dropping than want.
func replyCorrelation(got, want []int16, rate int) float64 {
	pad := make([]int16, rate/10)
	return bestCorrelation(slices.Concat(pad, dropDigitalSilence(got), pad), dropDigitalSilence(want), rate)
}

// dropDigitalSilence returns pcm without its runs of 2 ms or more of exact zeros:
// digital silence, which sound (speech, or the question's test tones) never holds.
func dropDigitalSilence(pcm []int16) []int16 {
	const minRun = 48 // 2 ms at 24 kHz
	out := make([]int16, 0, len(pcm))
	for i := 0; i < len(pcm); {
		j := i
		for j < len(pcm) && pcm[j] == 0 {
			j++
		}
		if j-i < minRun {
			out = append(out, pcm[i:j]...)
		}
		if j == len(pcm) {
			break
		}
		out = append(out, pcm[j])
		i = j + 1
	}
	return out
}

func checkRecord(t *testing.T, path string, want ...string) {
	t.Helper()
	v, err := schematest.Client("realtime-ga.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	counts, err := v.ValidateLines(path)
	if err != nil {
		t.Fatalf("--record output fails the strict schema: %v", err)
	}
	for _, w := range want {
		if counts[w] == 0 {
			t.Errorf("the server saw no %s; it saw %v", w, counts)
		}
	}
}

func TestEndToEndVoiceWake(t *testing.T) {
	t.Parallel()
	// on_demand dials at the wake: the speech waits in the uplink ring meanwhile.
	for _, conn := range []string{"always", "on_demand"} {
		t.Run(conn, func(t *testing.T) {
			voiced, sim := binaries(t)
			dir := t.TempDir()
			rec := filepath.Join(dir, "rec.jsonl")
			addr := startSim(t, sim, "--speed", "0", "--record", rec)
			mic, want := question(t, 1.5, 1.5)
			reply := filepath.Join(dir, "reply.wav")
			d := startDaemon(t, voiced, nil, "--config", "../../examples/demo.yaml",
				"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
				"--set", "realtime.connection="+conn,
				"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+reply,
				"--set", "http.listen=127.0.0.1:0", "--turns", "1", "--timeout", "60s")
			ev := subscribe(t, d.http)
			if err := d.wait(t, 60*time.Second); err != nil {
				t.Fatalf("voiced run --turns 1: %v\n%s", err, d.stderr.String())
			}
			ev.ended(t, 10*time.Second)
			if got, want := ev.list(), []string{"listening", "processing", "speaking"}; !inOrder(got, want) {
				t.Errorf("/v1/events states %v, want %v in order", got, want)
			}
			checkReply(t, reply, want)
			checkRecord(t, rec, "session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "response.create")
		})
	}
}

func TestEndToEndPushToTalk(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec.jsonl")
	addr := startSim(t, sim, "--speed", "0", "--record", rec)
	mic, want := question(t, 2, 3)
	reply := filepath.Join(dir, "reply.wav")
	d := startDaemon(t, voiced, nil, "--config", "../../examples/demo.yaml", "--set", "mode=push_to_talk",
		"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
		"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+reply,
		"--set", "http.listen=127.0.0.1:0", "--turns", "1", "--timeout", "60s")
	ev := subscribe(t, d.http)
	waitStatus(t, d.http, "connected")
	control(t, d.http, "ptt_start")
	// Hold the button over the whole question: until voiced's VAD has heard it end
	// (600 ms of silence after it, by demo.yaml). The microphone's clock starts when
	// voiced first reads it, which a busy machine delays by a second or more: a release
	// timed from the test's own clock cut the question short.
	ev.waitOther(t, "speech_ended", 30*time.Second)
	control(t, d.http, "ptt_stop")
	ev.waitFor(t, "speaking", 30*time.Second)
	// The reply plays for seconds: time to see the audio path's latencies counted.
	for _, h := range []string{"voiced_uplink_latency_seconds", "voiced_downlink_latency_seconds", "voiced_commit_latency_seconds"} {
		n, t0 := 0.0, time.Now()
		for n = metricValue(t, d.http, h+"_count"); n < 1 && time.Since(t0) < 2*time.Second; n = metricValue(t, d.http, h+"_count") {
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("%s_count %v, %v after speaking", h, n, time.Since(t0))
		if n < 1 {
			t.Errorf("/metrics %s_count = %v while speaking, want observations", h, n)
		}
	}
	if err := d.wait(t, 60*time.Second); err != nil {
		t.Fatalf("voiced run --turns 1: %v\n%s", err, d.stderr.String())
	}
	ev.ended(t, 10*time.Second)
	if got, want := ev.list(), []string{"listening", "processing", "speaking", "connected"}; !inOrder(got, want) {
		t.Errorf("/v1/events states %v, want %v in order", got, want)
	}
	checkReply(t, reply, want)
	checkRecord(t, rec, "session.update", "input_audio_buffer.clear", "input_audio_buffer.commit", "response.create")
}

func TestSIGTERMWhileSpeaking(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	addr := startSim(t, sim, "--speed", "1") // a real-time reply: SPEAKING lasts seconds
	mic, _ := question(t, 0.5, 5)
	d := startDaemon(t, voiced, nil, "--config", "../../examples/demo.yaml",
		"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
		"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "reply.wav"),
		"--set", "http.listen=127.0.0.1:0", "--timeout", "60s")
	ev := subscribe(t, d.http)
	ev.waitFor(t, "speaking", 30*time.Second)
	sent := time.Now()
	d.cmd.Process.Signal(syscall.SIGTERM)
	err := d.wait(t, 10*time.Second)
	took := time.Since(sent)
	if err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	if took > 2*time.Second {
		t.Errorf("exit took %v after SIGTERM, want within 2 s", took)
	}
}

func TestReloadAndConfigOverHTTP(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	addr := startSim(t, sim, "--speed", "0")
	cfgPath := filepath.Join(dir, "voiced.yaml")
	cfgText := fmt.Sprintf("mode: push_to_talk\nrealtime:\n  profile: custom\n  url: ws://%s/v1/realtime\n  model: sim\n  api_key: test-key\n  voice: marin\naudio:\n  capture: {device: 'file:%s', rate: 16000, channels: 1}\n  playback: {device: 'file:%s', rate: 24000, channels: 1}\ngpio: {enabled: false}\nhttp: {listen: '127.0.0.1:0'}\n",
		addr, filepath.Join("..", "..", "examples", "question.wav"), filepath.Join(dir, "reply.wav"))
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o640); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, voiced, nil, "--config", cfgPath, "--timeout", "60s")
	waitStatus(t, d.http, "connected")

	// SIGHUP with a broken file: the old config stays, and the reason is told.
	os.WriteFile(cfgPath, []byte(cfgText+"vad: {sensitivity: 9}\nbogus: 1\n"), 0o640)
	d.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(d.stderr.String(), "config reload rejected") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	st := status(t, d.http)
	cerr, _ := st["config_error"].(string)
	if !strings.Contains(cerr, "vad.sensitivity") || !strings.Contains(cerr, "bogus") {
		t.Errorf("after a broken SIGHUP config_error = %q, want it to name vad.sensitivity and bogus", cerr)
	}
	if st["state"] != "connected" {
		t.Errorf("after a broken SIGHUP state = %v, want connected", st["state"])
	}

	// A good file: reloaded, and a live change (the voice) is in force.
	os.WriteFile(cfgPath, []byte(strings.Replace(cfgText, "voice: marin", "voice: cedar", 1)), 0o640)
	d.cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(d.stderr.String(), "config reloaded") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := getConfig(t, d.http)["realtime"].(map[string]any)["voice"]; got != "cedar" {
		t.Errorf("after reload voice = %v, want cedar", got)
	}

	// PATCH out of range: 400 naming the field; nothing changes on disk or in memory.
	before, _ := os.ReadFile(cfgPath)
	resp, err := http.DefaultClient.Do(mustReq(t, "PATCH", d.http+"/v1/config", `{"audio":{"playback":{"volume":150}}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "audio.playback.volume") {
		t.Errorf("PATCH volume 150 = %d %s, want 400 naming audio.playback.volume", resp.StatusCode, body)
	}
	if after, _ := os.ReadFile(cfgPath); !bytes.Equal(before, after) {
		t.Errorf("a rejected PATCH changed the file")
	}
	// A good PATCH is saved atomically and applied.
	resp, err = http.DefaultClient.Do(mustReq(t, "PATCH", d.http+"/v1/config", `{"audio":{"playback":{"volume":55}}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PATCH volume 55 = %d", resp.StatusCode)
	}
	saved, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(saved), "volume: 55") {
		t.Errorf("saved config lacks volume: 55:\n%s", saved)
	}
	if fi, _ := os.Stat(cfgPath); fi.Mode().Perm() != 0o640 {
		t.Errorf("saved config mode %o, want 640 kept", fi.Mode().Perm())
	}
	d.stop(t)
}

func mustReq(t *testing.T, method, url, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

func getConfig(t *testing.T, base string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/v1/config")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c map[string]any
	json.NewDecoder(resp.Body).Decode(&c)
	return c
}

// TestSystemdNotify runs the daemon against a real unixgram NOTIFY_SOCKET.
func TestSystemdNotify(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	addr := startSim(t, sim, "--speed", "0")
	sockPath := filepath.Join(dir, "notify.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sockPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	var mu sync.Mutex
	var msgs []string
	var pings []time.Time
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := sock.Read(buf)
			if err != nil {
				return
			}
			m := string(buf[:n])
			mu.Lock()
			msgs = append(msgs, m)
			if m == "WATCHDOG=1" {
				pings = append(pings, time.Now())
			}
			mu.Unlock()
		}
	}()
	mic, _ := question(t, 0.5, 1)
	d := startDaemon(t, voiced, []string{"NOTIFY_SOCKET=" + sockPath, "WATCHDOG_USEC=1000000"},
		"--config", "../../examples/demo.yaml", "--set", "mode=push_to_talk",
		"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
		"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "r.wav"),
		"--set", "http.listen=127.0.0.1:0", "--timeout", "60s")
	waitStatus(t, d.http, "connected")
	time.Sleep(2500 * time.Millisecond) // long enough for several watchdog intervals
	d.stop(t)
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(msgs, "\n|")
	if len(msgs) == 0 || !strings.HasPrefix(msgs[0], "READY=1\nSTATUS=") {
		t.Errorf("first notification = %q, want READY=1 with a STATUS", all)
	}
	if !strings.Contains(all, "STATUS=connected") {
		t.Errorf("no STATUS for the connected state in %q", all)
	}
	if msgs[len(msgs)-1] != "STOPPING=1" {
		t.Errorf("last notification %q, want STOPPING=1", msgs[len(msgs)-1])
	}
	// WATCHDOG_USEC=1s: pings at about half of it, never a gap near the full second.
	if len(pings) < 3 {
		t.Fatalf("%d watchdog pings in 2.5 s, want at least 3 (%q)", len(pings), all)
	}
	for i := 1; i < len(pings); i++ {
		if gap := pings[i].Sub(pings[i-1]); gap > 900*time.Millisecond {
			t.Errorf("watchdog gap %v, want under the 1 s the watchdog allows", gap)
		}
	}
}

// TestMissingDeviceAndKey: a microphone that is not there yet and a wrong API key do
// not stop the daemon; it says what is missing and picks the device up when it appears.
func TestMissingDeviceAndKey(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	addr := startSim(t, sim, "--speed", "0")
	mic := filepath.Join(dir, "later.wav")
	d := startDaemon(t, voiced, nil, "--config", "../../examples/demo.yaml",
		"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=wrong-key",
		"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "r.wav"),
		"--set", "http.listen=127.0.0.1:0", "--timeout", "60s")
	// HTTP listens before the first build has been tried: STARTING until then.
	st := status(t, d.http)
	for deadline := time.Now().Add(10 * time.Second); st["state"] == "STARTING" && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		st = status(t, d.http)
	}
	if st["state"] != "WAITING" || !strings.Contains(fmt.Sprint(st["problem"]), "audio.capture.device") {
		t.Fatalf("status with no microphone = %v, want WAITING with a problem naming audio.capture.device", st)
	}
	// The microphone appears: the daemon picks it up by itself.
	src, _ := question(t, 0.2, 0.2)
	b, _ := os.ReadFile(src)
	os.WriteFile(mic, b, 0o644)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if st = status(t, d.http); st["state"] != "WAITING" && st["state"] != "STARTING" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The wrong key is refused by the server: no retry storm, and the reason is shown.
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && st["fatal"] == nil {
		time.Sleep(50 * time.Millisecond)
		st = status(t, d.http)
	}
	if f := fmt.Sprint(st["fatal"]); !strings.Contains(f, "401") && !strings.Contains(strings.ToLower(f), "key") {
		t.Errorf("status with a wrong key = %v, want a fatal error about the key", st)
	}
	d.stop(t)
}

// TestNoAPIKey: without a key the daemon does not dial in a loop; it stays idle and says
// what is missing.
func TestNoAPIKey(t *testing.T) {
	t.Parallel()
	voiced, _ := binaries(t)
	dir := t.TempDir()
	mic, _ := question(t, 0.2, 0.2)
	d := startDaemon(t, voiced, []string{"VOICED_API_KEY=", "OPENAI_API_KEY="}, "--config", "../../examples/demo.yaml",
		"--set", "realtime.profile=openai", "--set", "realtime.url=ws://127.0.0.1:1/v1/realtime", "--set", "realtime.api_key=",
		"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "r.wav"),
		"--set", "http.listen=127.0.0.1:0", "--timeout", "60s")
	waitStatus(t, d.http, "idle")
	time.Sleep(500 * time.Millisecond)
	st := status(t, d.http)
	if st["state"] != "idle" || !strings.Contains(fmt.Sprint(st["fatal"]), "no API key") || !strings.Contains(fmt.Sprint(st["api_key"]), "missing") {
		t.Errorf("status without a key = %v, want idle with the missing key named", st)
	}
	if strings.Contains(d.stderr.String(), "connecting") {
		t.Errorf("voiced dialled without a key:\n%s", d.stderr.String())
	}
}

// TestServerRestart: the server goes away and comes back; voiced shows DISCONNECTED (not
// a flicker of CONNECTING per retry) and is connected again soon after the server is.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	dir := t.TempDir()
	addr, simCmd := startSimCmd(t, sim, "--speed", "0")
	mic, _ := question(t, 0.2, 0.2)
	d := startDaemon(t, voiced, nil, "--config", "../../examples/demo.yaml", "--set", "mode=push_to_talk",
		"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
		"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "r.wav"),
		"--set", "http.listen=127.0.0.1:0", "--timeout", "60s")
	waitStatus(t, d.http, "connected")
	ev := subscribe(t, d.http)
	simCmd.Process.Kill()
	simCmd.Wait()
	ev.waitFor(t, "disconnected", 10*time.Second)
	time.Sleep(3 * time.Second) // several retries while the server is down
	addr2 := startSim(t, sim, "--addr", addr, "--speed", "0")
	if addr2 != addr {
		t.Fatalf("server came back on %s, not %s", addr2, addr)
	}
	back := time.Now()
	ev.waitFor(t, "connected", 10*time.Second)
	t.Logf("connected again %v after the server came back", time.Since(back).Round(time.Millisecond))
	if got := ev.list(); !slices.Equal(got, []string{"disconnected", "connected"}) {
		t.Errorf("states while the server was away: %v, want [disconnected connected]", got)
	}
	st := status(t, d.http)
	if n, _ := st["counters"].(map[string]any)["reconnects"].(float64); n < 1 {
		t.Errorf("reconnects counter = %v, want at least 1", st["counters"])
	}
}

// TestReconnectChurn: sessions that end every second or so, in the middle of a turn or a
// reply or between turns, leave nothing behind. After eight of them, with the server gone
// again, voiced holds no more goroutines and file descriptors than it did with the server
// gone after one session, and it still connects to the next server.
func TestReconnectChurn(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("file descriptors are counted in /proc/PID/fd")
	}
	voiced, sim := binaries(t)
	dir := t.TempDir()
	// The microphone: quiet while the baseline is taken, then short utterances with pauses,
	// so turns and replies run while the sessions end under them, then quiet again.
	pcm, rate, err := realtimetest.ReadWAV("../../examples/question.wav")
	if err != nil {
		t.Fatal(err)
	}
	speech := trimSilence(pcm)[:rate]
	// Speech lasts about as long as the churn below: with the backoff growing over
	// sessions this short, a dozen take most of a minute.
	const lead, utterances, gap = 4.0, 24, 0.7
	mic := make([]int16, int(lead*float64(rate)))
	for range utterances {
		mic = append(mic, speech...)
		mic = append(mic, make([]int16, int(gap*float64(rate)))...)
	}
	speechEnds := time.Duration(float64(len(mic)) / float64(rate) * float64(time.Second))

	addr, first := startSimCmd(t, sim, "--speed", "0")
	start := time.Now()
	d := startDaemon(t, voiced, nil, "--config", "../../examples/demo.yaml",
		"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
		"--set", "audio.capture.device=file:"+writeMic(t, mic, rate),
		"--set", "audio.playback.device=file:"+filepath.Join(dir, "reply.wav"),
		"--set", "http.listen=127.0.0.1:0", "--timeout", "120s")
	pid := d.cmd.Process.Pid
	ev := subscribe(t, d.http) // before the baseline: the stream holds a socket and goroutines
	waitStatus(t, d.http, "connected")
	first.Process.Kill()
	first.Wait()
	waitStatus(t, d.http, "disconnected")
	g0, f0 := settledCounts(t, d.http, pid, time.Second, -1, -1)
	if time.Since(start) > time.Duration(lead*float64(time.Second)) {
		t.Fatalf("the baseline took %v, past the microphone's %v s of quiet", time.Since(start), lead)
	}
	t.Logf("server gone after one session: %d goroutines, %d file descriptors", g0, f0)

	// Each session ends after a second (session_expired, then close 1001; voiced rolls it
	// over, or replaces it first if the room is quiet) or after 30 server events (the TCP
	// connection just closes: a disconnection with backoff), whichever comes first.
	sessions := func() float64 {
		return metricValue(t, d.http, "voiced_reconnects_total") + metricValue(t, d.http, "voiced_session_rollovers_total")
	}
	if metricValue(t, d.http, "voiced_session_rollovers_total") < 0 {
		t.Fatal("/metrics has no voiced_session_rollovers_total")
	}
	s0 := sessions()
	_, churn := startSimCmd(t, sim, "--addr", addr, "--speed", "0", "--session-max", "1s", "--fail-after", "30")
	// None of these sessions lasts long enough to reset the backoff, which
	// grows to 10 s: about ten sessions a minute.
	const want = 8
	deadline := time.Now().Add(90 * time.Second)
	for sessions()-s0 < want || time.Since(start) < speechEnds {
		if time.Now().After(deadline) {
			t.Fatalf("%v sessions ended in 90 s, want %d", sessions()-s0, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	churn.Process.Kill()
	churn.Wait()
	waitStatus(t, d.http, "disconnected")
	ended := sessions() - s0
	g1, f1 := settledCounts(t, d.http, pid, 5*time.Second, g0, f0)
	cut, n := map[string]int{}, 0
	states := ev.list()
	for i := 1; i < len(states); i++ {
		if states[i] == "disconnected" && states[i-1] != "connected" {
			cut[states[i-1]]++
			n++
		}
	}
	t.Logf("%v sessions ended (%v rollovers), %d of them during a turn or a reply %v; then %d goroutines, %d file descriptors",
		ended, metricValue(t, d.http, "voiced_session_rollovers_total"), n, cut, g1, f1)
	if n == 0 {
		t.Errorf("no session ended during a turn or a reply; states: %v", states)
	}
	if g1 > g0 {
		t.Errorf("goroutines %d after %v sessions, %d after one: a session leaks goroutines", g1, ended, g0)
	}
	if f1 > f0 {
		t.Errorf("file descriptors %d after %v sessions, %d after one: a session leaks descriptors", f1, ended, f0)
	}

	startSim(t, sim, "--addr", addr, "--speed", "0")
	waitStatus(t, d.http, "connected")
}

// settledCounts samples voiced's goroutines (from /metrics) and open file descriptors for
// up to limit and returns the lowest of each: a dial in flight adds a goroutine and a
// socket for a moment. With a target (>= 0) it stops as soon as both are at or below it.
func settledCounts(t *testing.T, base string, pid int, limit time.Duration, wantG, wantF int) (int, int) {
	t.Helper()
	g, f := math.MaxInt, math.MaxInt
	for end := time.Now().Add(limit); ; {
		g = min(g, int(metricValue(t, base, "voiced_go_goroutines")))
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			t.Fatal(err)
		}
		f = min(f, len(fds))
		if (wantG >= 0 && g <= wantG && f <= wantF) || time.Now().After(end) {
			return g, f
		}
		time.Sleep(20 * time.Millisecond)
	}
}
