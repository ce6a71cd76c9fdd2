package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/race"
	"github.com/voiced-project/voiced/internal/vad"
)

// captureFakeMic is a capture device that plays back a prepared signal in
// device format, one period per read, and then fails with its error (or
// loops when err is nil).
type captureFakeMic struct {
	data  []byte // whole signal, device format
	fb    int    // frame bytes
	pos   int
	err   error
	reads atomic.Int64
}

func (m *captureFakeMic) ReadFrames(buf []byte) (int, error) {
	if m.pos >= len(m.data) {
		if m.err != nil {
			return 0, m.err
		}
		m.pos = 0
	}
	n := copy(buf[:len(buf)/m.fb*m.fb], m.data[m.pos:])
	m.pos += n
	m.reads.Add(1)
	return n / m.fb, nil
}

// captureFakeVAD calls a frame speech when its mean magnitude is above a
// threshold, and remembers the frame sizes it was given.
type captureFakeVAD struct {
	threshold int
	calls     int
	badSize   int
}

func (v *captureFakeVAD) Process(f []int16) bool {
	v.calls++
	if len(f) != CaptureRate/100 {
		v.badSize++
	}
	var sum int
	for _, s := range f {
		sum += int(max(s, -s))
	}
	return sum/max(len(f), 1) > v.threshold
}

// captureSignal renders mono samples at rate into a device buffer of format
// f (the signal in every channel).
func captureSignal(f dsp.Format, samples []int16) []byte {
	out := make([]byte, len(samples)*f.FrameBytes())
	dsp.EncodeFrames(out, samples, f)
	return out
}

// captureSilenceThenTone is silenceMs of silence, then toneMs of a 500 Hz
// tone at half scale, at rate.
func captureSilenceThenTone(rate, silenceMs, toneMs int) []int16 {
	s := make([]int16, (silenceMs+toneMs)*rate/1000)
	start := silenceMs * rate / 1000
	for i := start; i < len(s); i++ {
		s[i] = int16(16000 * math.Sin(2*math.Pi*500*float64(i-start)/float64(rate)))
	}
	return s
}

type captureRig struct {
	mic   *captureFakeMic
	vad   *captureFakeVAD
	ring  *dsp.Ring
	c     *Capture
	voice []vad.Decision // every decision, when it has capacity
	edges []vad.Decision // decisions that changed, when it has capacity
}

func newCaptureRig(t testing.TB, f dsp.Format, period int, signal []int16, preRollMs int) *captureRig {
	t.Helper()
	mic := &captureFakeMic{data: captureSignal(f, signal), fb: f.FrameBytes(), err: errCaptureTestEOF}
	fv := &captureFakeVAD{threshold: 1000}
	ring, err := dsp.NewRing(CaptureRate*5, dsp.RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	r := &captureRig{mic: mic, vad: fv, ring: ring, voice: make([]vad.Decision, 0, 4096), edges: make([]vad.Decision, 0, 4096)}
	onVoice := func(v vad.Decision) {
		if len(r.voice) < cap(r.voice) {
			r.voice = append(r.voice, v)
		}
		if v.Changed && len(r.edges) < cap(r.edges) {
			r.edges = append(r.edges, v)
		}
	}
	c, err := NewCapture(mic, fv, ring, CaptureConfig{Device: f, PeriodFrames: period, Channel: dsp.MixChannels, PreRollMs: preRollMs, OnVoice: onVoice})
	if err != nil {
		t.Fatal(err)
	}
	r.c = c
	return r
}

var errCaptureTestEOF = errors.New("test: end of signal")

// TestCaptureWakeSendsPreRoll plays silence then speech. The test acts as
// the engine: on the speech edge it opens the gate, and the uplink ring
// must then start with the pre-roll, which holds the onset.
func TestCaptureWakeSendsPreRoll(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}
	sig := captureSilenceThenTone(48000, 1000, 500)
	r := newCaptureRig(t, f, 960, sig, 0)
	var edge vad.Decision
	opened := false
	for {
		if err := r.c.step(); err != nil {
			if !errors.Is(err, errCaptureTestEOF) {
				t.Fatalf("step = %v, want errCaptureTestEOF at the end", err)
			}
			break
		}
		// The engine reacts to the first edge after the period that held it.
		if !opened && len(r.edges) > 0 && r.edges[0].Speech {
			edge = r.edges[0]
			r.c.SetStreaming(true)
			opened = true
		}
	}
	if !opened {
		t.Fatal("no speech edge for a 500 ms tone")
	}
	// The onset is at 1000 ms = sample 24000; the detector needs part of a
	// frame of tone and the resampler's delay is well under a frame.
	if edge.Sample < 24000 || edge.Sample > 24000+3*240 {
		t.Errorf("speech edge at sample %d, want within 3 frames after 24000", edge.Sample)
	}
	sent := make([]int16, r.ring.Len())
	sent = sent[:r.ring.Read(sent)]
	// Pre-roll (300 ms, ending with the frame after the edge) plus the rest
	// of the signal: 1500 ms in all, the tail a partial frame short at most.
	wantLen := 1500*24 - int(edge.Sample) + 7200 - 240
	if d := len(sent) - wantLen; d < -240 || d > 240 {
		t.Errorf("uplink got %d samples, want %d within a frame", len(sent), wantLen)
	}
	onset := -1
	for i, s := range sent {
		if s > 1000 || s < -1000 {
			onset = i
			break
		}
	}
	// The tone starts (300 ms - the edge's lag) into the pre-roll.
	if onset < 7200-3*240-240 || onset > 7200 {
		t.Errorf("tone starts %d samples into the uplink audio, want about %d (inside the pre-roll)", onset, 7200-(int(edge.Sample)-24000))
	}
	if st := r.c.Stats(); st.Frames != 150 || st.Sent != uint64(len(sent)) || st.Speech == 0 {
		t.Errorf("Stats = %+v, want 150 frames, %d sent, some speech", st, len(sent))
	}
	if r.vad.badSize != 0 {
		t.Errorf("detector got %d frames of the wrong size", r.vad.badSize)
	}
}

// TestCaptureGate checks what each opening sends: the pre-roll only once,
// nothing while closed, and nothing twice.
func TestCaptureGate(t *testing.T) {
	const frame = 240
	tests := []struct {
		name      string
		preRollMs int
		// frames run before each action, and the action: 'o' open, 'c' close
		script   []any
		wantSent []int // uplink ring length after each action's frames
	}{
		{"pre-roll then live", 0, []any{40, 'o', 5}, []int{0, 30*frame + 5*frame - frame}},
		{"no pre-roll", -1, []any{40, 'o', 5}, []int{0, 5 * frame}},
		{"short pre-roll", 100, []any{40, 'o', 1}, []int{0, 10 * frame}},
		{"reopen sends only what is new", 0, []any{40, 'o', 5, 'c', 10, 'o', 1}, []int{0, 34 * frame, 34 * frame, 45 * frame}},
		{"reopen before the loop saw the close", 0, []any{40, 'o', 5, 'c', 'o', 1}, []int{0, 34 * frame, 35 * frame}},
		{"open twice is one opening", 0, []any{40, 'o', 'o', 2}, []int{0, 31 * frame}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
			sig := make([]int16, 24000*10)
			for i := range sig {
				sig[i] = int16(i % 30000) // increasing over the few seconds used
			}
			r := newCaptureRig(t, f, frame, sig, tc.preRollMs)
			var got []int
			for _, a := range tc.script {
				switch a := a.(type) {
				case int:
					for range a {
						if err := r.c.step(); err != nil {
							t.Fatal(err)
						}
					}
					got = append(got, r.ring.Len())
				case rune:
					r.c.SetStreaming(a == 'o')
					if r.c.Streaming() != (a == 'o') {
						t.Fatalf("Streaming = %v after SetStreaming(%v)", r.c.Streaming(), a == 'o')
					}
				}
			}
			if len(got) != len(tc.wantSent) {
				t.Fatalf("got %d checkpoints, want %d", len(got), len(tc.wantSent))
			}
			for i := range got {
				if got[i] != tc.wantSent[i] {
					t.Errorf("after step group %d: uplink holds %d samples, want %d", i, got[i], tc.wantSent[i])
				}
			}
			// Whatever was sent is the signal, in order, without repeats.
			buf := make([]int16, r.ring.Len())
			buf = buf[:r.ring.Read(buf)]
			for i := 1; i < len(buf); i++ {
				if buf[i] <= buf[i-1] {
					t.Fatalf("uplink audio goes from %d to %d at %d: repeated or reordered", buf[i-1], buf[i], i)
				}
			}
		})
	}
}

func TestCaptureOnVoice(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	// 10 ms of tone and 20 ms of silence, over and over.
	sig := make([]int16, 24000)
	for i := range sig {
		if (i/240)%3 == 0 {
			sig[i] = 8000
		}
	}
	r := newCaptureRig(t, f, 480, sig, 0)
	for range 50 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.voice) != 100 {
		t.Fatalf("OnVoice called %d times for 100 frames", len(r.voice))
	}
	prev := false
	for i, v := range r.voice {
		want := vad.Decision{Speech: i%3 == 0, Changed: (i%3 == 0) != prev, Sample: uint64(240 * (i + 1))}
		if v != want {
			t.Fatalf("frame %d: OnVoice got %+v, want %+v", i, v, want)
		}
		prev = want.Speech
	}
	if st := r.c.Stats(); st.Frames != 100 || st.Speech != 34 {
		t.Errorf("Stats = %+v, want 100 frames, 34 speech", st)
	}
}

// TestCaptureDetectingOff: with detection off the detector is not asked, every frame
// reads as silence (a turn in progress ends with a falling edge), and audio still
// flows through the pre-roll and the open gate; on again, it decides again.
func TestCaptureDetectingOff(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	sig := make([]int16, 24000)
	for i := range sig {
		sig[i] = 8000 // speech, by the fake's threshold, throughout
	}
	r := newCaptureRig(t, f, 240, sig, -1) // no pre-roll
	for range 5 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	r.c.SetDetecting(false)
	r.c.SetStreaming(true)
	calls := r.vad.calls
	for range 5 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	if r.vad.calls != calls {
		t.Errorf("detector asked %d times while off", r.vad.calls-calls)
	}
	if len(r.edges) != 2 || !r.edges[0].Speech || r.edges[1].Speech || r.edges[1].Sample != 6*240 {
		t.Errorf("edges %+v, want speech at the first frame and its end at the sixth", r.edges)
	}
	if got := r.ring.Len(); got != 5*240 {
		t.Errorf("uplink ring holds %d samples with the gate open, want %d", got, 5*240)
	}
	r.c.SetDetecting(true)
	if err := r.c.step(); err != nil {
		t.Fatal(err)
	}
	if r.vad.calls != calls+1 || len(r.edges) != 3 || !r.edges[2].Speech {
		t.Errorf("on again: %d detector calls, edges %+v; want it asked and a new speech edge", r.vad.calls-calls, r.edges)
	}
	if st := r.c.Stats(); st.Frames != 11 || st.Speech != 6 {
		t.Errorf("Stats = %+v, want 11 frames, 6 of them speech", st)
	}
}

func TestCaptureReadError(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 16000}
	r := newCaptureRig(t, f, 160, make([]int16, 320), 0)
	err := r.c.Run(context.Background())
	if !errors.Is(err, errCaptureTestEOF) {
		t.Errorf("Run = %v, want it to wrap the device error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.c.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run(cancelled) = %v, want context.Canceled", err)
	}
}

func TestNewCaptureErrors(t *testing.T) {
	mic := &captureFakeMic{fb: 4}
	ring, err := dsp.NewRing(4096, dsp.RingOverwrite) // 170 ms at 24 kHz
	if err != nil {
		t.Fatal(err)
	}
	good := CaptureConfig{Device: dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}, PeriodFrames: 960, PreRollMs: 150}
	tests := []struct {
		name string
		mod  func(c *CaptureConfig)
		dev  frameReader
		ring *dsp.Ring
	}{
		{"no device", nil, nil, ring},
		{"no ring", nil, mic, nil},
		{"bad format", func(c *CaptureConfig) { c.Device.Encoding = 0 }, mic, ring},
		{"bad rate", func(c *CaptureConfig) { c.Device.Rate = 96000 }, mic, ring},
		{"zero period", func(c *CaptureConfig) { c.PeriodFrames = 0 }, mic, ring},
		{"channel out of range", func(c *CaptureConfig) { c.Channel = 2 }, mic, ring},
		{"negative channel", func(c *CaptureConfig) { c.Channel = -5 }, mic, ring},
		{"pre-roll too long", func(c *CaptureConfig) { c.PreRollMs = 20000 }, mic, ring},
		{"pre-roll longer than the ring", func(c *CaptureConfig) { c.PreRollMs = 0 }, mic, ring},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			if tc.mod != nil {
				tc.mod(&c)
			}
			if _, err := NewCapture(tc.dev, nil, tc.ring, c); err == nil {
				t.Errorf("NewCapture = nil error, want error")
			}
		})
	}
	if _, err := NewCapture(mic, nil, ring, good); err != nil {
		t.Errorf("NewCapture(good) = %v", err)
	}
}

// TestCaptureConcurrentGate runs the capture loop and the uplink in their
// goroutines while the test opens and closes the gate (run it with -race).
// After SetStreaming(false) and Flush, nothing more may reach the sink.
func TestCaptureConcurrentGate(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S32LE, Channels: 2, Rate: 16000}
	sig := captureSilenceThenTone(16000, 100, 400)
	mic := &captureFakeMic{data: captureSignal(f, sig), fb: f.FrameBytes()} // loops
	ring, err := dsp.NewRing(CaptureRate, dsp.RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCapture(mic, &captureFakeVAD{threshold: 1000}, ring, CaptureConfig{Device: f, PeriodFrames: 320})
	if err != nil {
		t.Fatal(err)
	}
	sink := &uplinkFakeSink{}
	u, err := NewUplink(ring, sink, UplinkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs <- c.Run(ctx) }()
	go func() { defer wg.Done(); errs <- u.Run(ctx) }()
	waitReads := func(n int64) {
		target := mic.reads.Load() + n
		for mic.reads.Load() < target {
			runtime.Gosched()
		}
	}
	for range 20 {
		c.SetStreaming(true)
		waitReads(3)
		c.SetStreaming(false)
		if err := u.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		before := sink.total()
		waitReads(3)
		if err := u.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if after := sink.total(); after != before {
			t.Fatalf("%d samples reached the sink after the gate closed", after-before)
		}
	}
	cancel()
	wg.Wait()
	for range 2 {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	}
	if sink.total() == 0 {
		t.Error("nothing reached the sink")
	}
}

// TestCaptureAllocs follows one device period from the device through
// conversion, resampling, the detector, the pre-roll and the uplink ring
// to the append call.
func TestCaptureAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	for _, f := range []dsp.Format{{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}, {Encoding: dsp.S32LE, Channels: 1, Rate: 16000}, {Encoding: dsp.S24_3LE, Channels: 2, Rate: 44100}} {
		t.Run(f.Encoding.String(), func(t *testing.T) {
			sig := captureSilenceThenTone(f.Rate, 0, 1000)
			period := f.Rate / 50
			r := newCaptureRig(t, f, period, sig, 0)
			r.mic.err = nil // loop
			sink := &uplinkTimedFake{uplinkFakeSink: uplinkFakeSink{keep: make([]int16, 0, 1<<16)}, at: make([]int64, 0, 1<<12)}
			u, err := NewUplink(r.ring, sink, UplinkConfig{ChunkMs: 20})
			if err != nil {
				t.Fatal(err)
			}
			u.TimeFrom(r.c) // capture times ride along
			r.c.SetStreaming(true)
			for range 50 { // past the pre-roll and any warm-up
				if err := r.c.step(); err != nil {
					t.Fatal(err)
				}
				u.drain(false)
			}
			sink.keep = sink.keep[:0]
			a := testing.AllocsPerRun(200, func() {
				if err := r.c.step(); err != nil {
					t.Fatal(err)
				}
				u.drain(false)
				if len(sink.keep) > cap(sink.keep)-4096 {
					sink.keep = sink.keep[:0]
				}
				if len(sink.at) == cap(sink.at) {
					sink.at = sink.at[:0]
				}
			})
			if a != 0 {
				t.Errorf("capture to uplink allocates %v times per period, want 0", a)
			}
			if sink.total() == 0 || len(sink.at) == 0 {
				t.Errorf("%d samples and %d capture times reached the sink; want both", sink.total(), len(sink.at))
			}
		})
	}
}

// BenchmarkCapturePeriod is one 20 ms period of 48 kHz stereo S16 through
// the voice detector to the uplink ring, as in a turn.
func BenchmarkCapturePeriod(b *testing.B) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}
	r := newCaptureRig(b, f, 960, captureSilenceThenTone(48000, 0, 1000), 0)
	r.mic.err = nil
	// The daemon's default detector, not the rig's stand-in: it is most of a period's
	// work (the network runs on 32 ms steps, 0.625 a period on average).
	det, err := vad.NewNeural(vad.NeuralConfig{SampleRate: CaptureRate, Classic: vad.Config{Sensitivity: vad.DefaultSensitivity}})
	if err != nil {
		b.Fatal(err)
	}
	r.c.det = det
	r.c.SetStreaming(true)
	out := make([]int16, 4096)
	b.SetBytes(int64(960 * f.FrameBytes()))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.c.step(); err != nil {
			b.Fatal(err)
		}
		r.ring.Read(out)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20, "ns/audio-ms")
}

// BenchmarkCaptureQuietPeriod is one 20 ms period of 48 kHz stereo S16 in a quiet
// room while the device waits for speech (continuous mode): the default detector
// with its gate, whose network sleeps while the classic detector hears nothing.
func BenchmarkCaptureQuietPeriod(b *testing.B) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}
	room := make([]int16, 2*48000)
	seed := uint32(26)
	for i := range room {
		seed = seed*1664525 + 1013904223
		room[i] = int16(int32(seed) >> 26) // about -60 dBFS of white noise
	}
	r := newCaptureRig(b, f, 960, room, 0)
	r.mic.err = nil
	det, err := vad.NewNeural(vad.NeuralConfig{SampleRate: CaptureRate, Gate: true, Classic: vad.Config{Sensitivity: vad.DefaultSensitivity}})
	if err != nil {
		b.Fatal(err)
	}
	r.c.det = det
	for range 100 { // two seconds for the gate to settle
		if err := r.c.step(); err != nil {
			b.Fatal(err)
		}
	}
	steps := det.Steps()
	b.SetBytes(int64(960 * f.FrameBytes()))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.c.step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(det.Steps()-steps)/float64(b.N), "network-steps/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20, "ns/audio-ms")
}

// BenchmarkCaptureIdlePeriod is one 20 ms period of 48 kHz stereo S16 between
// push-to-talk turns: the gate closed and the detector off, so the loop is dormant.
func BenchmarkCaptureIdlePeriod(b *testing.B) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}
	r := newCaptureRig(b, f, 960, captureSilenceThenTone(48000, 0, 1000), 0)
	r.mic.err = nil
	r.c.SetDetecting(false)
	b.SetBytes(int64(960 * f.FrameBytes()))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.c.step(); err != nil {
			b.Fatal(err)
		}
	}
	if r.c.Stats().Frames == 0 {
		b.Fatal("no frames counted")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20, "ns/audio-ms")
}

// TestCaptureGain: the microphone gain scales what is sent and saturates instead of
// wrapping around.
func TestCaptureGain(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	sig := make([]int16, 2400)
	for i := range sig {
		sig[i] = 1000
		if i%2 == 1 {
			sig[i] = 30000
		}
	}
	ring, err := dsp.NewRing(CaptureRate, dsp.RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	mic := &captureFakeMic{data: captureSignal(f, sig), fb: f.FrameBytes(), err: errCaptureTestEOF}
	c, err := NewCapture(mic, nil, ring, CaptureConfig{Device: f, PeriodFrames: 240, PreRollMs: -1, Gain: 2})
	if err != nil {
		t.Fatal(err)
	}
	c.SetStreaming(true)
	for range 8 {
		if err := c.step(); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]int16, ring.Len())
	out = out[:ring.Read(out)]
	// Past the resampler's start-up, 1000 becomes about 2000 and 30000 saturates.
	var small, big int
	for _, s := range out[len(out)/2:] {
		switch {
		case s < 0:
			t.Fatalf("a sample wrapped around to %d", s)
		case s > 1500 && s < 2500:
			small++
		case s > 32000:
			big++
		}
	}
	if small == 0 || big == 0 {
		t.Errorf("gain 2: %d samples near 2000 and %d saturated, want both (%v...)", small, big, out[len(out)/2:len(out)/2+8])
	}
}

// TestCaptureDormantSendsTheSame runs two captures over the same noise: one whose
// detector is on (it never sleeps) and one whose detector is off, which sleeps while
// the gate is closed. Through openings after long and short closed spells, the
// sleeper must send exactly the same audio and report exactly the same frames, and
// must not ask its detector while asleep.
func TestCaptureDormantSendsTheSame(t *testing.T) {
	formats := []dsp.Format{
		{Encoding: dsp.S16LE, Channels: 1, Rate: 16000}, {Encoding: dsp.S16LE, Channels: 2, Rate: 48000}, {Encoding: dsp.S24_3LE, Channels: 2, Rate: 44100},
		{Encoding: dsp.S16LE, Channels: 1, Rate: 22050}, {Encoding: dsp.S16LE, Channels: 1, Rate: 8000}, {Encoding: dsp.S16LE, Channels: 1, Rate: 24000},
	}
	for _, f := range formats {
		// periods of 20 ms, and of an odd length that leaves frames cut short
		for i, period := range []int{f.Rate / 50, f.Rate*17/1000 + 3} {
			preRollMs := []int{0, -1, 1000}[(i+f.Rate)%3]
			t.Run(fmt.Sprintf("%d Hz %dch period %d pre-roll %d", f.Rate, f.Channels, period, preRollMs), func(t *testing.T) {
				sig := make([]int16, f.Rate*8)
				x := uint32(1)
				for i := range sig {
					x = x*1664525 + 1013904223
					sig[i] = int16(int32(x>>16)%9000) + int16(6000*math.Sin(float64(i)/7))
				}
				awake := newCaptureRig(t, f, period, sig, preRollMs)
				awake.vad.threshold = math.MaxInt32 // on, and never speech
				asleep := newCaptureRig(t, f, period, sig, preRollMs)
				asleep.c.SetDetecting(false)
				// periods before each gate change: long closed, open, short closed,
				// open, closed past the pre-roll, open
				script := []int{60, 10, 10, 5, 80, 3, 7}
				var sentAwake, sentAsleep []int16
				calls := 0
				for i, n := range script {
					for range n {
						for _, r := range []*captureRig{awake, asleep} {
							if err := r.c.step(); err != nil {
								t.Fatal(err)
							}
						}
					}
					if i%2 == 0 && asleep.vad.calls != calls {
						t.Fatalf("the sleeping capture asked its detector %d times with the gate closed", asleep.vad.calls-calls)
					}
					sentAwake = drainRing(awake.ring, sentAwake)
					sentAsleep = drainRing(asleep.ring, sentAsleep)
					if len(sentAwake) != len(sentAsleep) {
						t.Fatalf("after step group %d: the sleeper sent %d samples, the other %d", i, len(sentAsleep), len(sentAwake))
					}
					for j := range sentAwake {
						if sentAwake[j] != sentAsleep[j] {
							t.Fatalf("after step group %d: sample %d of %d differs: %d, want %d", i, j, len(sentAwake), sentAsleep[j], sentAwake[j])
						}
					}
					open := i%2 == 0
					awake.c.SetStreaming(open)
					asleep.c.SetStreaming(open)
					calls = asleep.vad.calls
				}
				if len(sentAwake) < 3*f.Rate/50 {
					t.Fatalf("only %d samples sent: the test did not exercise the gate", len(sentAwake))
				}
				if len(awake.voice) != len(asleep.voice) {
					t.Fatalf("the sleeper reported %d frames, the other %d", len(asleep.voice), len(awake.voice))
				}
				for j := range awake.voice {
					if awake.voice[j] != asleep.voice[j] {
						t.Fatalf("frame %d: the sleeper reported %+v, the other %+v", j, asleep.voice[j], awake.voice[j])
					}
				}
				if a, b := awake.c.Stats(), asleep.c.Stats(); a != b {
					t.Errorf("Stats: the sleeper has %+v, the other %+v", b, a)
				}
			})
		}
	}
}

func drainRing(r *dsp.Ring, dst []int16) []int16 {
	buf := make([]int16, r.Len())
	return append(dst, buf[:r.Read(buf)]...)
}

// TestCaptureDormantAllocs: sleeping, waking and sleeping again allocate nothing.
func TestCaptureDormantAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 44100}
	r := newCaptureRig(t, f, 882, captureSilenceThenTone(f.Rate, 0, 1000), 0)
	r.mic.err = nil
	r.c.SetDetecting(false)
	buf := make([]int16, 1<<16)
	i := 0
	a := testing.AllocsPerRun(200, func() {
		i++
		r.c.SetStreaming(i%20 >= 15)
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
		r.ring.Read(buf)
	})
	if a != 0 {
		t.Errorf("a dormant capture allocates %v times per period, want 0", a)
	}
	if r.c.Stats().Sent == 0 {
		t.Error("nothing sent: the gate never opened")
	}
}
