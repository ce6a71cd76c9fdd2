package pipeline

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/voiced-project/voiced/internal/aec"
	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/dsp/dsptest"
	"github.com/voiced-project/voiced/internal/race"
)

// echoFakeSink records the reference the playback loop hands over.
type echoFakeSink struct {
	got    []int16
	queued []int
}

func (s *echoFakeSink) PlaybackInt16(ref []int16, queued int) {
	s.got = append(s.got, ref...)
	s.queued = append(s.queued, queued)
}

// TestPlaybackEchoReference: the canceller gets what the device got, volume
// applied, at CaptureRate, with the device's delay ahead of it.
func TestPlaybackEchoReference(t *testing.T) {
	for _, rate := range []int{24000, 48000} {
		f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: rate}
		sink := &echoFakeSink{}
		var levels []float64
		p, spk := newPlaybackRig(t, f, rate/50, func(c *PlaybackConfig) {
			c.Echo = sink
			c.OnLevel = func(ms float64) { levels = append(levels, ms) }
		})
		p.SetVolume(0.5)
		spk.delay.Store(int64(3 * rate / 50)) // three periods queued after each write
		audio := dsptest.Ramp(1, 960)
		for i := range audio {
			audio[i] = 8000
		}
		p.Write(audio)
		for range 2 {
			if err := p.step(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if len(sink.got) < 900 || len(sink.got) > 960 {
			t.Errorf("%d Hz: %d reference samples, want about the 960 played", rate, len(sink.got))
		}
		mid := sink.got[len(sink.got)/2]
		if mid < 3900 || mid > 4100 {
			t.Errorf("%d Hz: reference sample %d, want about 4000 (volume 0.5 applied)", rate, mid)
		}
		// Two periods (960 samples at CaptureRate) queued ahead of each write's samples,
		// less the resampler's delay at 48 kHz.
		if q := sink.queued[0]; q > 960 || q < 900 {
			t.Errorf("%d Hz: queued %d, want about 960", rate, q)
		}
		if len(levels) != 2 || levels[0] < 0.01 {
			t.Errorf("%d Hz: levels %v, want two of about 0.015", rate, levels)
		}
	}
}

// echoFakeCanceller halves every frame and counts what it skipped.
type echoFakeCanceller struct {
	frames, skipped int
	idle            bool
	residual        float32
}

func (e *echoFakeCanceller) ProcessInt16(mic, out []int16) error {
	for i, v := range mic {
		out[i] = v / 2
	}
	e.frames++
	return nil
}
func (e *echoFakeCanceller) Skip(n int)       { e.skipped += n }
func (e *echoFakeCanceller) Idle() bool       { return e.idle }
func (e *echoFakeCanceller) Stats() aec.Stats { return aec.Stats{Echo: 0.5, Residual: e.residual} }

// TestCaptureCancelsBeforeDetectorAndUplink: the detector and the uplink see the
// canceller's output; frames the loop slept through are skipped, not lost.
func TestCaptureCancelsBeforeDetectorAndUplink(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: CaptureRate}
	sig := make([]int16, CaptureRate)
	for i := range sig {
		sig[i] = 4000
	}
	r := newCaptureRig(t, f, 240, sig, -1)
	ec := &echoFakeCanceller{}
	r.c.echo = ec
	r.vad.threshold = 3000 // the microphone's 4000 is speech to it, the canceller's 2000 not
	r.c.SetStreaming(true)
	for range 10 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	got := drainRing(r.ring, nil)
	if len(got) == 0 || slices.ContainsFunc(got, func(v int16) bool { return v != 2000 }) {
		t.Errorf("uplink got %d samples, not all 2000: want the canceller's output", len(got))
	}
	if st := r.c.Stats(); ec.frames != 10 || st.Speech != 0 {
		t.Errorf("canceller ran %d frames, detector flagged %d; want 10 and 0", ec.frames, st.Speech)
	}
	// Asleep for 10 frames (gate closed, detection off), then awake again.
	r.c.SetStreaming(false)
	r.c.SetDetecting(false)
	for range 10 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	r.c.SetDetecting(true)
	for range 5 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	if ec.skipped+ec.frames*240 != 25*240 {
		t.Errorf("canceller: %d frames processed and %d samples skipped, want 25 frames' worth in all", ec.frames, ec.skipped)
	}
}

func TestCaptureEchoAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocations are not meaningful under -race")
	}
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: CaptureRate}
	r := newCaptureRig(t, f, 240, make([]int16, 240), -1)
	r.c.echo = &echoFakeCanceller{}
	raw := captureSignal(f, make([]int16, 240))
	if n := testing.AllocsPerRun(100, func() { r.c.process(raw) }); n != 0 {
		t.Errorf("a period with the canceller allocates %v times, want 0", n)
	}
}

// TestCaptureIdleCancellerLeavesFrames: with nothing played the canceller is
// not run; the frames go on unchanged and its position moves with them.
func TestCaptureIdleCancellerLeavesFrames(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: CaptureRate}
	sig := make([]int16, CaptureRate)
	for i := range sig {
		sig[i] = 4000
	}
	r := newCaptureRig(t, f, 240, sig, -1)
	ec := &echoFakeCanceller{idle: true}
	r.c.echo = ec
	r.c.SetStreaming(true)
	for range 10 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	got := drainRing(r.ring, nil)
	if len(got) == 0 || slices.ContainsFunc(got, func(v int16) bool { return v != 4000 }) {
		t.Errorf("uplink got %d samples, not all 4000: want the microphone as it was", len(got))
	}
	if ec.frames != 0 || ec.skipped != 2400 {
		t.Errorf("idle canceller: %d frames processed, %d samples skipped; want 0 and 2400", ec.frames, ec.skipped)
	}
}

// echoGuardVAD records what its echo guard is fed.
type echoGuardVAD struct {
	captureFakeVAD
	residual   []float64
	references int
}

func (v *echoGuardVAD) NoteResidual(ms float64)  { v.residual = append(v.residual, ms) }
func (v *echoGuardVAD) NoteReference(ms float64) { v.references++ }

// TestCaptureEchoGuardFedResidualOnly: with the canceller on, the detector's
// echo guard gets the canceller's residual estimate of every frame (0 while it
// is idle), and never a level to learn the echo from.
func TestCaptureEchoGuardFedResidualOnly(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: CaptureRate}
	r := newCaptureRig(t, f, CaptureRate/100, make([]int16, CaptureRate), -1)
	ec := &echoFakeCanceller{residual: 1e-4}
	r.c.echo = ec
	det := &echoGuardVAD{captureFakeVAD: *r.vad}
	r.c.det = det
	for range 5 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	ec.idle = true
	for range 3 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	want := []float64{1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 0, 0, 0}
	if len(det.residual) != len(want) {
		t.Fatalf("NoteResidual called %d times, want %d", len(det.residual), len(want))
	}
	for i, w := range want {
		if math.Abs(det.residual[i]-w) > 1e-9 {
			t.Errorf("NoteResidual #%d = %g, want %g", i, det.residual[i], w)
		}
	}
	if det.references != 0 {
		t.Errorf("NoteReference called %d times with the canceller on, want 0", det.references)
	}
}
