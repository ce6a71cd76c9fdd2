package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/voiced-project/voiced/internal/wav"
)

// The conversation's audio format: what the configured microphone delivers and the
// speaker takes, as on a typical USB sound card.
const (
	micRate      = 16000
	periodFrames = micRate / 50 // 20 ms
	playRate     = 48000
	playChannels = 2
	playPeriodB  = playRate / 50 * playChannels * 2
	wireRate     = 24000
	apiKey       = "bench-key"
	// lockstepPeriods of each push-to-talk turn are written one at a time, each waiting
	// for the append it completes, to time microphone -> wire from the outside.
	lockstepPeriods = 12
)

// scenario is one conversation: one client (voiced or the reference) in one mode.
type scenario struct {
	Kind      string // voiced or reference
	Mode      string // push_to_talk or continuous
	Voiced    string // binaries
	Sim       string
	Reference string
	Dir       string        // scratch directory of this run
	Audio     time.Duration // microphone audio to feed
	Speech    []int16       // 16 kHz mono speech the turns are cut from
	Log       io.Writer
}

// scenarioResult is what one conversation measured.
type scenarioResult struct {
	Kind, Mode      string
	AudioSeconds    float64 // microphone audio the client processed
	PlaybackSeconds float64 // speaker audio it wrote
	Turns, Replies  int
	CPU             time.Duration // user+system over the conversation
	PeakRSS         int64
	GoroutinesStart float64
	GoroutinesEnd   float64
	AllocsPerFrame  float64 // marginal heap objects per 20 ms period, both directions
	AllocsPerTurn   float64 // fixed heap objects per turn
	AllocsFitOK     bool
	AllocsTotal     float64   // heap objects over the conversation
	Frames          float64   // 20 ms periods, microphone and speaker, over the conversation
	MicToWire       []float64 // seconds: a period written to the microphone -> its append at the server
	ReleaseToCommit []float64 // seconds: ptt_stop sent -> commit at the server
	Histograms      map[string]*histogram
	Wall            time.Duration
}

// recEvent is one client event the server received.
type recEvent struct {
	t       time.Time
	typ     string
	samples int // append: 24 kHz samples
}

func (s *scenario) logf(format string, args ...any) {
	if s.Log != nil {
		fmt.Fprintf(s.Log, "bench: %s/%s: "+format+"\n", append([]any{s.Kind, s.Mode}, args...)...)
	}
}

// run runs the conversation and measures it.
func (s *scenario) run(ctx context.Context) (res scenarioResult, err error) {
	res = scenarioResult{Kind: s.Kind, Mode: s.Mode}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := os.RemoveAll(s.Dir); err != nil {
		return res, err
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return res, err
	}
	micPath := filepath.Join(s.Dir, "mic.wav")
	recPath := filepath.Join(s.Dir, "record.jsonl")
	outPath := filepath.Join(s.Dir, "speaker.wav")
	for _, p := range []string{micPath, recPath} {
		if err := mkfifo(p); err != nil {
			return res, fmt.Errorf("mkfifo %s: %w", p, err)
		}
	}

	// The server, recording every client event into a FIFO we timestamp.
	sim, simAddr, err := startSim(ctx, s.Sim, recPath, filepath.Join(s.Dir, "sim.log"))
	if err != nil {
		return res, err
	}
	defer stopProcess(sim)
	recf, err := os.Open(recPath)
	if err != nil {
		return res, err
	}
	defer recf.Close()
	rec := make(chan recEvent, 1<<16)
	go readRecord(recf, rec)

	// The microphone: a FIFO the client reads as a WAV file. Opened read-write so that
	// opening never blocks, whether or not the client has it open yet.
	mic, err := os.OpenFile(micPath, os.O_RDWR, 0)
	if err != nil {
		return res, err
	}
	defer mic.Close()
	if _, err := wav.NewWriter(mic, wav.Header{Channels: 1, Rate: micRate, Bits: 16, Container: 2}); err != nil {
		return res, err
	}
	feeder := &micFeeder{w: mic, rng: rand.New(rand.NewPCG(1, 2))}

	port, err := freePort()
	if err != nil {
		return res, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client, err := s.startClient(ctx, simAddr, micPath, outPath, port)
	if err != nil {
		return res, err
	}
	defer stopProcess(client)
	pid := client.Process.Pid

	// Let the capture start (and the VAD settle) on quiet room noise.
	if err := feeder.silence(500 * time.Millisecond); err != nil {
		return res, err
	}
	if err := waitConnected(ctx, base, client, 20*time.Second); err != nil {
		return res, err
	}
	states, err := subscribe(ctx, base)
	if err != nil {
		return res, err
	}
	cpu0, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	scrapeCost, first, err := scrapeOverhead(base)
	if err != nil {
		return res, err
	}
	res.GoroutinesStart = first.Values["voiced_go_goroutines"]
	allocs0 := first.Values["voiced_go_heap_allocs_objects_total"]
	fed0 := feeder.frames
	play0 := fileSize(outPath)
	s.logf("connected; scrape costs %.0f heap objects", scrapeCost)

	var frames, allocs []float64
	utter := utterances(s.Speech)
	lockstep := s.Mode == "push_to_talk"
	for i := 0; time.Duration(feeder.frames-fed0)*time.Second/micRate < s.Audio; i++ {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		u := utter[i%len(utter)]
		a, err := scrapeMetrics(base)
		if err != nil {
			return res, err
		}
		f0, p0 := feeder.frames, fileSize(outPath)
		var replied bool
		if s.Mode == "push_to_talk" {
			replied, lockstep, err = s.pttTurn(base, feeder, rec, states, u, lockstep, &res)
		} else {
			replied, err = s.continuousTurn(feeder, states, u)
		}
		if err != nil {
			return res, fmt.Errorf("turn %d: %w", i+1, err)
		}
		b, err := scrapeMetrics(base)
		if err != nil {
			return res, err
		}
		res.Turns++
		if replied {
			res.Replies++
		}
		fr := float64(feeder.frames-f0)/periodFrames + float64(fileSize(outPath)-p0)/playPeriodB
		frames = append(frames, fr)
		allocs = append(allocs, b.Values["voiced_go_heap_allocs_objects_total"]-a.Values["voiced_go_heap_allocs_objects_total"]-scrapeCost)
	}
	// Let what is in flight settle before the last look.
	time.Sleep(200 * time.Millisecond)
	last, err := scrapeMetrics(base)
	if err != nil {
		return res, err
	}
	cpu1, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	if res.PeakRSS, err = peakRSS(pid); err != nil {
		return res, err
	}
	res.CPU = cpu1 - cpu0
	res.GoroutinesEnd = last.Values["voiced_go_goroutines"]
	res.Histograms = last.Histograms
	res.AudioSeconds = float64(feeder.frames-fed0) / micRate
	res.PlaybackSeconds = float64(fileSize(outPath)-play0) / (playRate * playChannels * 2)
	res.Frames = res.AudioSeconds*50 + res.PlaybackSeconds*50
	res.AllocsTotal = last.Values["voiced_go_heap_allocs_objects_total"] - allocs0
	res.AllocsPerTurn, res.AllocsPerFrame, res.AllocsFitOK = fitLine(frames, allocs)
	res.Wall = time.Since(start)
	s.logf("%d turns, %d replies, %.0f s of audio in %.1f s, CPU %v", res.Turns, res.Replies, res.AudioSeconds, res.Wall.Seconds(), res.CPU)
	return res, nil
}

// pttTurn: press, speak, release, wait for the reply. The first periods are written in
// lockstep with the appends they produce, to time microphone -> wire; lockstep goes off
// for the rest of the conversation if the client never answers a period with an append.
func (s *scenario) pttTurn(base string, mic *micFeeder, rec <-chan recEvent, states <-chan string, u []int16, lockstep bool, res *scenarioResult) (replied, lockstepOut bool, err error) {
	drain(rec)
	if err := control(base, "ptt_start"); err != nil {
		return false, lockstep, err
	}
	if _, err := waitState(states, 3*time.Second, "listening"); err != nil {
		return false, lockstep, fmt.Errorf("after ptt_start: %w", err)
	}
	// The pre-roll goes out at the press; let it pass.
	time.Sleep(20 * time.Millisecond)
	drain(rec)
	rest := u
	if lockstep {
		got := 0
		var lastWrite time.Time
		for k := 0; k < lockstepPeriods && len(rest) >= periodFrames; k++ {
			lastWrite = time.Now()
			if err := mic.write(rest[:periodFrames]); err != nil {
				return false, lockstep, err
			}
			rest = rest[periodFrames:]
			select {
			case ev := <-rec:
				if ev.typ == "input_audio_buffer.append" {
					res.MicToWire = append(res.MicToWire, ev.t.Sub(lastWrite).Seconds())
					got++
				}
			case <-time.After(25 * time.Millisecond):
			}
		}
		lockstep = got > 0
	}
	if err := mic.write(rest); err != nil {
		return false, lockstep, err
	}
	// Wait until the server has the turn's audio (at 24 kHz), give or take a chunk.
	want := len(rest)*wireRate/micRate - 2*wireRate/10
	deadline := time.Now().Add(5 * time.Second)
	for have := 0; have < want; {
		select {
		case ev := <-rec:
			have += ev.samples
		case <-time.After(time.Until(deadline)):
			return false, lockstep, fmt.Errorf("the server got %d of %d samples of the turn", have, want)
		}
	}
	drain(rec)
	t0 := time.Now()
	if err := control(base, "ptt_stop"); err != nil {
		return false, lockstep, err
	}
	for committed := false; !committed; {
		select {
		case ev := <-rec:
			if ev.typ == "input_audio_buffer.commit" {
				res.ReleaseToCommit = append(res.ReleaseToCommit, ev.t.Sub(t0).Seconds())
				committed = true
			}
		case <-time.After(3 * time.Second):
			return false, lockstep, errors.New("no commit within 3 s of ptt_stop")
		}
	}
	seen, err := waitState(states, 20*time.Second, "connected")
	if err != nil {
		return false, lockstep, fmt.Errorf("after ptt_stop: %w", err)
	}
	return seen["speaking"], lockstep, nil
}

// continuousTurn: speak, fall silent, and keep the room's quiet coming (faster than
// real time) until the client has answered.
func (s *scenario) continuousTurn(mic *micFeeder, states <-chan string, u []int16) (replied bool, err error) {
	if err := mic.write(u); err != nil {
		return false, err
	}
	if err := mic.silence(1200 * time.Millisecond); err != nil {
		return false, err
	}
	seen := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case st := <-states:
			seen[st] = true
			if st == "connected" && (seen["processing"] || seen["speaking"]) {
				return seen["speaking"], nil
			}
		case <-time.After(4 * time.Millisecond):
			if err := mic.silence(20 * time.Millisecond); err != nil {
				return false, err
			}
		}
	}
	return false, fmt.Errorf("no reply within 20 s (states seen: %v)", seen)
}

// utterances are the turns' speech: cuts of the sample of different lengths, so that
// heap objects per turn can be split into a fixed part and a part per frame.
func utterances(speech []int16) [][]int16 {
	var out [][]int16
	for _, sec := range []float64{2, 4, 8, 3, 12, 6} {
		n := int(sec * micRate)
		u := make([]int16, 0, n)
		for len(u) < n {
			u = append(u, speech[:min(len(speech), n-len(u))]...)
		}
		out = append(out, u)
	}
	return out
}

// micFeeder writes the microphone's samples into the FIFO.
type micFeeder struct {
	w      io.Writer
	rng    *rand.Rand
	frames int64
	buf    []byte
}

func (m *micFeeder) write(pcm []int16) error {
	m.buf = m.buf[:0]
	for _, v := range pcm {
		m.buf = binary.LittleEndian.AppendUint16(m.buf, uint16(v))
	}
	if _, err := m.w.Write(m.buf); err != nil {
		return fmt.Errorf("write microphone: %w", err)
	}
	m.frames += int64(len(pcm))
	return nil
}

// silence is a quiet room: noise around -60 dBFS, never digital zero.
func (m *micFeeder) silence(d time.Duration) error {
	pcm := make([]int16, int(d.Seconds()*micRate))
	for i := range pcm {
		pcm[i] = int16(m.rng.NormFloat64() * 30)
	}
	return m.write(pcm)
}

func drain(c <-chan recEvent) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// waitState reads state changes until want; it returns every state seen on the way.
func waitState(states <-chan string, timeout time.Duration, want string) (map[string]bool, error) {
	seen := map[string]bool{}
	deadline := time.After(timeout)
	for {
		select {
		case st, ok := <-states:
			if !ok {
				return seen, errors.New("event stream ended")
			}
			seen[st] = true
			if st == want {
				return seen, nil
			}
		case <-deadline:
			return seen, fmt.Errorf("state %s not reached within %v (seen %v)", want, timeout, seen)
		}
	}
}

// readRecord timestamps each client event the server writes to the record FIFO.
func readRecord(r io.Reader, out chan<- recEvent) {
	br := bufio.NewReaderSize(r, 1<<20)
	appendType := []byte(`"input_audio_buffer.append"`)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			ev := recEvent{t: time.Now()}
			if bytes.Contains(line, appendType) {
				ev.typ = "input_audio_buffer.append"
				if i := bytes.Index(line, []byte(`"audio":"`)); i >= 0 {
					rest := line[i+9:]
					if j := bytes.IndexByte(rest, '"'); j >= 0 {
						ev.samples = j * 3 / 4 / 2
					}
				}
			} else {
				var t struct {
					Type string `json:"type"`
				}
				_ = json.Unmarshal(line, &t)
				ev.typ = t.Type
			}
			out <- ev
		}
		if err != nil {
			return
		}
	}
}

func startSim(ctx context.Context, bin, record, logPath string) (*exec.Cmd, string, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, bin, "--addr", "127.0.0.1:0", "--speed", "0", "--record", record, "--api-key", apiKey, "--reply", "parrot")
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start %s: %w", bin, err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		stopProcess(cmd)
		return nil, "", fmt.Errorf("%s did not say where it listens (%q, %v); see %s", bin, line, err, logPath)
	}
	return cmd, addr, nil
}

func (s *scenario) startClient(ctx context.Context, simAddr, mic, speaker string, port int) (*exec.Cmd, error) {
	url := "ws://" + simAddr + "/v1/realtime"
	var cmd *exec.Cmd
	switch s.Kind {
	case "voiced":
		cfg := filepath.Join(s.Dir, "voiced.yaml")
		if err := os.WriteFile(cfg, []byte(voicedConfig(s.Mode, url, mic, speaker, port)), 0o644); err != nil {
			return nil, err
		}
		cmd = exec.CommandContext(ctx, s.Voiced, "run", "--config", cfg)
	case "reference":
		cmd = exec.CommandContext(ctx, s.Reference, "--url", url, "--api-key", apiKey,
			"--capture", mic, "--playback", speaker, "--mode", s.Mode,
			"--http", fmt.Sprintf("127.0.0.1:%d", port),
			"--playback-rate", fmt.Sprint(playRate), "--playback-channels", fmt.Sprint(playChannels))
	default:
		return nil, fmt.Errorf("client %q: want voiced or reference", s.Kind)
	}
	logf, err := os.Create(filepath.Join(s.Dir, s.Kind+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return cmd, nil
}

// voicedConfig is voiced's configuration for the conversation: the FIFO as microphone,
// a file as speaker, no GPIO, the server's parrot as the assistant. The echo guard is
// off because the benchmark's microphone does not hear the speaker.
func voicedConfig(mode, url, mic, speaker string, port int) string {
	return fmt.Sprintf(`mode: %s
realtime:
  profile: custom
  url: %s
  model: voiced-sim
  api_key: %s
  connection: always
  turn_detection:
    type: local
audio:
  capture:
    device: file:%s
    rate: %d
    channels: 1
    period_ms: 20
  playback:
    device: file:%s
    rate: %d
    channels: %d
    period_ms: 20
vad:
  silence_ms: 600
barge_in:
  echo_guard_ms: 0
turn:
  follow_up_ms: 0
gpio:
  enabled: false
http:
  listen: 127.0.0.1:%d
log:
  level: warn
`, mode, url, apiKey, mic, micRate, speaker, playRate, playChannels, port)
}

func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func control(base, action string) error {
	resp, err := httpClient.Post(base+"/v1/control", "application/json", strings.NewReader(`{"action":"`+action+`"}`))
	if err != nil {
		return fmt.Errorf("control %s: %w", action, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("control %s: %s: %s", action, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

func scrapeMetrics(base string) (scrape, error) {
	resp, err := httpClient.Get(base + "/metrics")
	if err != nil {
		return scrape{}, fmt.Errorf("get /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return scrape{}, fmt.Errorf("get /metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

// scrapeOverhead is the heap objects one /metrics request costs the client, the least
// of a few back-to-back differences; it also returns the last scrape.
func scrapeOverhead(base string) (float64, scrape, error) {
	prev, err := scrapeMetrics(base)
	if err != nil {
		return 0, prev, err
	}
	if _, ok := prev.Values["voiced_go_heap_allocs_objects_total"]; !ok {
		return 0, prev, errors.New("/metrics has no voiced_go_heap_allocs_objects_total")
	}
	best := math.Inf(1)
	for range 6 {
		cur, err := scrapeMetrics(base)
		if err != nil {
			return 0, cur, err
		}
		best = min(best, cur.Values["voiced_go_heap_allocs_objects_total"]-prev.Values["voiced_go_heap_allocs_objects_total"])
		prev = cur
	}
	return best, prev, nil
}

// waitConnected polls /v1/status until the client reports the connected state.
func waitConnected(ctx context.Context, base string, cmd *exec.Cmd, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if cmd.ProcessState != nil {
			return fmt.Errorf("%s exited: %v", cmd.Path, cmd.ProcessState)
		}
		resp, err := httpClient.Get(base + "/v1/status")
		if err == nil {
			var v any
			_ = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if st, _ := findKey(v, "state").(string); st != "" {
				last = st
				if st == "connected" {
					return nil
				}
			}
		} else {
			last = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not connected within %v (last: %s)", timeout, last)
}

// findKey finds the first value under key in decoded JSON, breadth first.
func findKey(v any, key string) any {
	queue := []any{v}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		switch m := cur.(type) {
		case map[string]any:
			if x, ok := m[key]; ok {
				return x
			}
			for _, x := range m {
				queue = append(queue, x)
			}
		case []any:
			queue = append(queue, m...)
		}
	}
	return nil
}

// subscribe follows /v1/events and delivers the state of every state event.
func subscribe(ctx context.Context, base string) (<-chan string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("get /v1/events: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("get /v1/events: %s", resp.Status)
	}
	out := make(chan string, 1024)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(line[6:])
			case strings.HasPrefix(line, "data:"):
				var d struct {
					Type  string `json:"type"`
					State string `json:"state"`
				}
				if json.Unmarshal([]byte(strings.TrimSpace(line[5:])), &d) == nil && d.State != "" && (event == "state" || d.Type == "state") {
					out <- d.State
				}
			case line == "":
				event = ""
			}
		}
	}()
	return out, nil
}
