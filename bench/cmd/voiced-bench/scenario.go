package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"
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
	Kind      string // voiced, reference, or reference-dsp (the reference with voiced's resampler)
	Mode      string // push_to_talk or continuous
	Voiced    string // binaries
	Sim       string
	Reference string
	Dir       string        // scratch directory of this run
	Audio     time.Duration // microphone audio to feed
	Speedup   float64       // how much faster than real time the sound card runs; 0: as fast as the client reads
	Speech    []int16       // 16 kHz mono speech the turns are cut from
	Log       io.Writer
	Profile   bool // voiced writes a CPU profile into Dir
	// AllocProfile: voiced records every allocation into Dir.
	AllocProfile bool

	scrapeCost float64 // heap objects of one /metrics request
}

// memoryUse is a process's resident memory in bytes: the peak, and the private and
// file-backed parts at the end.
type memoryUse struct{ Peak, Anon, File int64 }

// scenarioResult is what one conversation measured.
type scenarioResult struct {
	Kind, Mode      string
	AudioSeconds    float64 // microphone audio the client processed
	PlaybackSeconds float64 // speaker audio it wrote
	Turns, Replies  int
	CPU             time.Duration // user+system over the conversation
	Memory          memoryUse
	GoroutinesStart float64
	GoroutinesEnd   float64
	AllocsPerFrame  float64 // marginal heap objects per 20 ms period, both directions
	AllocsPerTurn   float64 // fixed heap objects per turn
	AllocsFitOK     bool
	AllocsTotal     float64            // heap objects over the conversation
	UplinkAllocs    float64            // heap objects while push-to-talk turns only streamed
	UplinkFrames    float64            // 20 ms periods (microphone and speaker) then
	DownlinkAllocs  float64            // heap objects while push-to-talk replies only played
	DownlinkFrames  float64            // 20 ms periods (microphone and speaker) then
	IdleAllocs      float64            // heap objects while idle
	IdleFrames      float64            // 20 ms periods (microphone and speaker) then
	IdleCPU         time.Duration      // user+system over the idle window
	IdleSeconds     float64            // microphone audio of the idle window
	IdleSentBytes   int                // client event bytes the server received in the idle window
	IdleSentAudio   float64            // seconds of audio among them
	Shortfall       int                // 24 kHz samples of push-to-talk speech the server did not get
	BargeInPeriods  []float64          // speaker periods with sound read after an interrupt
	Values          map[string]float64 // the last /metrics
	Frames          float64            // 20 ms periods, microphone and speaker, over the conversation
	MicToWire       []float64          // seconds: a period written to the microphone -> its append at the server
	ReleaseToCommit []float64          // seconds: ptt_stop sent -> commit at the server
	Histograms      map[string]*histogram
	Wall            time.Duration
}

// recEvent is one client event the server received.
type recEvent struct {
	t       time.Time
	typ     string
	samples int // append: 24 kHz samples
	bytes   int // the event as recorded, JSON
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
	spkPath := filepath.Join(s.Dir, "speaker.wav")
	for _, p := range []string{micPath, recPath, spkPath} {
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
	go readRecord(recf, rec, s.logf)

	clock, err := newAVClock(micPath, spkPath, s.Speedup)
	if err != nil {
		return res, err
	}
	defer clock.close()

	port, err := freePort()
	if err != nil {
		return res, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client, err := s.startClient(ctx, simAddr, micPath, spkPath, port)
	if err != nil {
		return res, err
	}
	defer stopProcess(client)
	pid := client.Process.Pid

	if err := waitConnected(ctx, base, client, 20*time.Second); err != nil {
		return res, err
	}
	states, err := subscribe(ctx, base)
	if err != nil {
		return res, err
	}
	// Let the capture start (and the VAD settle) on quiet room noise.
	if err := clock.run(500 * time.Millisecond); err != nil {
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
	s.scrapeCost = scrapeCost
	// What reached the server before the idle window is not the window's.
	time.Sleep(recordSettle)
	drain(rec)
	idleFrames0 := clock.frames()
	idleCPU0, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	// Idle: the microphone hears the quiet room, the speaker plays silence.
	const idleAudio = 60 * time.Second
	if err := clock.run(idleAudio); err != nil {
		return res, err
	}
	idleCPU1, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	res.IdleCPU, res.IdleSeconds = idleCPU1-idleCPU0, idleAudio.Seconds()
	res.IdleFrames = clock.frames() - idleFrames0
	// With the clock stopped the client has nothing more to send: what the
	// window made reaches the record within the settle time.
	time.Sleep(recordSettle)
	for ev := range drained(rec) {
		res.IdleSentBytes += ev.bytes
		res.IdleSentAudio += float64(ev.samples) / 24000
	}
	idle, idleCost, err := scrapeWindowEnd(base)
	if err != nil {
		return res, err
	}
	res.IdleAllocs = idle.Values["voiced_go_heap_allocs_objects_total"] - first.Values["voiced_go_heap_allocs_objects_total"] - idleCost
	first = idle
	res.GoroutinesStart = first.Values["voiced_go_goroutines"]
	allocs0 := first.Values["voiced_go_heap_allocs_objects_total"]
	mic0, spk0 := clock.micFrames, clock.spkBytes
	s.logf("connected; scrape costs %.0f heap objects", scrapeCost)

	var frames, allocs []float64
	utter := utterances(s.Speech)
	lockstep := s.Mode == "push_to_talk"
	for i := 0; time.Duration(clock.micFrames-mic0)*time.Second/micRate < s.Audio; i++ {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		u := utter[i%len(utter)]
		a, err := scrapeMetrics(base)
		if err != nil {
			return res, err
		}
		f0 := clock.frames()
		var replied bool
		if s.Mode == "push_to_talk" {
			// Every fourth reply of voiced's is interrupted, as a button press would.
			bargeIn := s.Kind == "voiced" && i%4 == 3
			// The first turns warm up buffers that are made on first use (the
			// client's 64 append slots); steady-state windows skip them.
			replied, lockstep, err = s.pttTurn(base, clock, rec, states, u, turnOptions{Lockstep: lockstep, BargeIn: bargeIn, Warm: i >= 2}, &res)
		} else {
			replied, err = s.continuousTurn(clock, states, u)
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
		frames = append(frames, clock.frames()-f0)
		allocs = append(allocs, b.Values["voiced_go_heap_allocs_objects_total"]-a.Values["voiced_go_heap_allocs_objects_total"]-scrapeCost)
	}
	// Let what is in flight settle before the last look.
	if err := clock.run(200 * time.Millisecond); err != nil {
		return res, err
	}
	last, err := scrapeMetrics(base)
	if err != nil {
		return res, err
	}
	cpu1, err := cpuTime(pid)
	if err != nil {
		return res, err
	}
	if res.Memory, err = memory(pid); err != nil {
		return res, err
	}
	res.CPU = cpu1 - cpu0
	res.GoroutinesEnd = last.Values["voiced_go_goroutines"]
	res.Histograms = last.Histograms
	res.Values = last.Values
	res.AudioSeconds = float64(clock.micFrames-mic0) / micRate
	res.PlaybackSeconds = float64(clock.spkBytes-spk0) / (playRate * playChannels * 2)
	res.Frames = res.AudioSeconds*50 + res.PlaybackSeconds*50
	res.AllocsTotal = last.Values["voiced_go_heap_allocs_objects_total"] - allocs0
	res.AllocsPerTurn, res.AllocsPerFrame, res.AllocsFitOK = fitLine(frames, allocs)
	res.Wall = time.Since(start)
	s.logf("%d turns, %d replies, %.0f s of microphone and %.0f s of speaker audio in %.1f s, CPU %v", res.Turns, res.Replies, res.AudioSeconds, res.PlaybackSeconds, res.Wall.Seconds(), res.CPU)
	return res, nil
}

// turnOptions shape one push-to-talk turn.
type turnOptions struct {
	// Lockstep writes the first periods one at a time, each waiting for the append it
	// produces, to time microphone -> wire.
	Lockstep bool
	// BargeIn interrupts the reply, as a button press would.
	BargeIn bool
	// Warm marks a turn past the first ones, which warm up buffers made on first use:
	// only warm turns count in the steady-state windows.
	Warm bool
}

// pttTurn: press, speak, release, wait for the reply. With o.Lockstep the first periods
// are written in lockstep with the appends they produce; lockstep goes off (lockstepOut
// false) for the rest of the conversation if the client never answers a period with an
// append.
func (s *scenario) pttTurn(base string, clock *avClock, rec <-chan recEvent, states <-chan string, u []int16, o turnOptions, res *scenarioResult) (replied, lockstepOut bool, err error) {
	lockstep, bargeIn, warm := o.Lockstep, o.BargeIn, o.Warm
	drain(rec)
	if err := control(base, "ptt_start"); err != nil {
		return false, lockstep, err
	}
	if _, err := clock.waitState(states, "listening"); err != nil {
		return false, lockstep, fmt.Errorf("after ptt_start: %w", err)
	}
	// The pre-roll goes out at the press; let it pass.
	time.Sleep(10 * time.Millisecond)
	drain(rec)
	rest := u
	if lockstep {
		got := 0
		for k := 0; k < lockstepPeriods && len(rest) >= periodFrames; k++ {
			clock.say(rest[:periodFrames])
			rest = rest[periodFrames:]
			written := time.Now()
			if err := clock.tick(); err != nil {
				return false, lockstep, err
			}
			select {
			case ev := <-rec:
				if ev.typ == "input_audio_buffer.append" {
					res.MicToWire = append(res.MicToWire, ev.t.Sub(written).Seconds())
					got++
				}
			case <-time.After(25 * time.Millisecond):
			}
		}
		lockstep = got > 0
	}
	// The rest streams in one go: a window of nothing but the steady state (speech
	// going up, the idle speaker's silence going down).
	const allocs = "voiced_go_heap_allocs_objects_total"
	w0, err := scrapeMetrics(base)
	if err != nil {
		return false, lockstep, err
	}
	f0 := clock.frames()
	clock.say(rest)
	for clock.speaking() {
		if err := clock.step(); err != nil {
			return false, lockstep, err
		}
	}
	// Wait until the server has the turn's audio (at 24 kHz), give or take a chunk.
	want := len(rest)*wireRate/micRate - wireRate/10
	have := 0
	deadline := time.Now().Add(10 * time.Second)
	for have < want {
		if time.Now().After(deadline) {
			res.Shortfall += want - have
			break
		}
		select {
		case ev := <-rec:
			have += ev.samples
		default:
			if err := clock.step(); err != nil {
				return false, lockstep, err
			}
		}
	}
	f1 := clock.frames()
	w1, cost, err := scrapeWindowEnd(base)
	if err != nil {
		return false, lockstep, err
	}
	s.logf("streaming window: %.0f heap objects in %.0f frames", w1.Values[allocs]-w0.Values[allocs]-cost, f1-f0)
	if warm {
		res.UplinkAllocs += w1.Values[allocs] - w0.Values[allocs] - cost
		res.UplinkFrames += f1 - f0
	}
	drain(rec)
	t0 := time.Now()
	if err := control(base, "ptt_stop"); err != nil {
		return false, lockstep, err
	}
	deadline = time.Now().Add(3 * time.Second)
	for committed := false; !committed; {
		select {
		case ev := <-rec:
			if ev.typ == "input_audio_buffer.commit" {
				res.ReleaseToCommit = append(res.ReleaseToCommit, ev.t.Sub(t0).Seconds())
				committed = true
			}
		default:
			if time.Now().After(deadline) {
				return false, lockstep, errors.New("no commit within 3 s of ptt_stop")
			}
			if err := clock.step(); err != nil {
				return false, lockstep, err
			}
		}
	}
	if bargeIn {
		if _, err := clock.waitState(states, "speaking"); err != nil {
			return false, lockstep, fmt.Errorf("before the barge-in: %w", err)
		}
		// The reply has started: interrupt it, then count the speaker periods that
		// still carry sound (the 4 KiB FIFO holds one of them).
		if err := control(base, "interrupt"); err != nil {
			return false, lockstep, err
		}
		// Silent means silent for good: a client slow to write for a tick would leave
		// the card playing silence too, for that tick only.
		const quiet = 5
		sounding, run := 0, 0
		for deadline := time.Now().Add(3 * time.Second); run < quiet; {
			if err := clock.step(); err != nil {
				return false, lockstep, err
			}
			if clock.silent() {
				run++
				continue
			}
			sounding += run + 1
			run = 0
			if time.Now().After(deadline) {
				return false, lockstep, errors.New("the speaker did not fall silent within 3 s of interrupt")
			}
		}
		res.BargeInPeriods = append(res.BargeInPeriods, float64(sounding))
	}
	spoke := bargeIn
	if !bargeIn && warm && s.Kind == "voiced" {
		// A window of nothing but the reply playing: the server has sent it all
		// (speed 0) and said response.done within the first periods; the parrot's
		// reply is as long as the turn, and the window ends well before that.
		if _, err := clock.waitState(states, "speaking"); err != nil {
			return false, lockstep, fmt.Errorf("after ptt_stop: %w", err)
		}
		spoke = true
		if p := len(u) / periodFrames; p > 80 {
			if err := clock.run(25 * 20 * time.Millisecond); err != nil {
				return false, lockstep, err
			}
			w0, err := scrapeMetrics(base)
			if err != nil {
				return false, lockstep, err
			}
			f0 := clock.frames()
			if err := clock.run(time.Duration(p-60) * 20 * time.Millisecond); err != nil {
				return false, lockstep, err
			}
			f1 := clock.frames()
			w1, cost, err := scrapeWindowEnd(base)
			if err != nil {
				return false, lockstep, err
			}
			if w1.Values["voiced_state"] == w0.Values["voiced_state"] {
				res.DownlinkAllocs += w1.Values[allocs] - w0.Values[allocs] - cost
				res.DownlinkFrames += f1 - f0
			}
		}
	}
	seen, err := clock.waitState(states, "connected")
	if err != nil {
		return false, lockstep, fmt.Errorf("after ptt_stop: %w", err)
	}
	return spoke || seen["speaking"], lockstep, nil
}

// continuousTurn: speak, then the room's quiet, until the client has answered.
func (s *scenario) continuousTurn(clock *avClock, states <-chan string, u []int16) (replied bool, err error) {
	clock.say(u)
	seen := map[string]bool{}
	deadline := time.Now().Add(stateTimeout)
	for time.Now().Before(deadline) {
		select {
		case st := <-states:
			seen[st] = true
			if st == "connected" && (seen["processing"] || seen["speaking"]) {
				return seen["speaking"], nil
			}
		default:
			if err := clock.step(); err != nil {
				return false, err
			}
		}
	}
	return false, fmt.Errorf("no reply within %v (states seen: %v)", stateTimeout, seen)
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

// recordSettle is how long an event the client has sent takes, at most, to
// reach the record FIFO's reader on an idle machine, with margin.
const recordSettle = 200 * time.Millisecond

// drained yields the events waiting in c, without blocking.
func drained(c <-chan recEvent) iter.Seq[recEvent] {
	return func(yield func(recEvent) bool) {
		for {
			select {
			case ev := <-c:
				if !yield(ev) {
					return
				}
			default:
				return
			}
		}
	}
}

func drain(c <-chan recEvent) {
	for range drained(c) {
	}
}

// readRecord timestamps each client event the server writes to the record FIFO.
// A line that is not a client event is passed on without a type and logged.
func readRecord(r io.Reader, out chan<- recEvent, logf func(string, ...any)) {
	br := bufio.NewReaderSize(r, 1<<20)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			line = bytes.TrimSuffix(line, []byte("\n"))
			ev := recEvent{t: time.Now(), bytes: len(line)}
			var perr error
			ev.typ, ev.samples, perr = parseRecord(line)
			if perr != nil && logf != nil {
				logf("record line %d: %v", n, perr)
			}
			out <- ev
		}
		if err != nil {
			return
		}
	}
}

// parseRecord reads one recorded client event: its type and, for an append, the
// 16-bit samples its base64 audio holds. Any JSON spelling is read alike (spaces
// after colons, key order, escapes).
func parseRecord(line []byte) (typ string, samples int, err error) {
	var ev struct {
		Type  string `json:"type"`
		Audio string `json:"audio"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return "", 0, fmt.Errorf("not a JSON event: %w", err)
	}
	if ev.Type == "" {
		return "", 0, errors.New("event without a type")
	}
	if ev.Type != "input_audio_buffer.append" {
		return ev.Type, 0, nil
	}
	a := ev.Audio
	if len(a)%4 != 0 {
		return ev.Type, 0, fmt.Errorf("append's audio: %d base64 characters, not a multiple of 4", len(a))
	}
	n := len(a) / 4 * 3
	for i := 0; i < 2 && strings.HasSuffix(a, "="); i++ {
		a = a[:len(a)-1]
		n--
	}
	return ev.Type, n / 2, nil
}
