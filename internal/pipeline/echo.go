package pipeline

import (
	"fmt"

	"github.com/voiced-project/voiced/internal/aec"
	"github.com/voiced-project/voiced/internal/dsp"
)

// EchoSink takes what the playback loop hands to the speaker, at CaptureRate:
// the echo canceller's reference (aec.Canceller.PlaybackInt16). queued is how
// many samples at CaptureRate the device still holds ahead of ref, or -1. It is
// called on the playback goroutine and must not block or allocate.
type EchoSink interface {
	PlaybackInt16(ref []int16, queued int)
}

// EchoCanceller is the echo canceller as the capture loop uses it
// (*aec.Canceller): it cleans each frame in place before the detector and the
// uplink, and skips the frames the loop did not process while dormant.
type EchoCanceller interface {
	ProcessInt16(mic, out []int16) error
	Skip(n int)
	Idle() bool
	Stats() aec.Stats
}

// echoResidual is a detector whose echo guard takes the canceller's estimate
// of the echo left in each frame (vad.Detector.NoteResidual). With the
// canceller on it is the guard's only input: the level played
// (PlaybackConfig.OnLevel, NoteReference) is for a guard without a canceller.
type echoResidual interface {
	NoteResidual(meanSquare float64)
}

// echoTap converts what the playback loop writes back to CaptureRate for the
// canceller, and its level for a detector whose guard follows the reference.
type echoTap struct {
	sink   EchoSink
	level  func(meanSquare float64)
	res    *dsp.Resampler // nil when the device runs at CaptureRate
	out    []int16
	rate   int // device rate
	resLag int // the resampler's delay, in samples at CaptureRate
}

func newEchoTap(sink EchoSink, level func(float64), devRate, period int) (*echoTap, error) {
	t := &echoTap{sink: sink, level: level, rate: devRate}
	if devRate != CaptureRate {
		res, err := dsp.NewResampler(devRate, CaptureRate)
		if err != nil {
			return nil, fmt.Errorf("echo reference: %w", err)
		}
		t.res = res
		t.out = make([]int16, res.MaxOutput(period))
		// A symmetric filter delays by half its span of input samples.
		t.resLag = res.Taps() / 2 * CaptureRate / devRate
	}
	return t, nil
}

// played takes the mono device-rate samples just written; queued is the device's
// delay after the write, in device frames, or -1.
func (t *echoTap) played(mono []int16, queued int) {
	if t.level != nil && len(mono) > 0 {
		var s float64
		for _, v := range mono {
			s += float64(v) * float64(v)
		}
		t.level(s / float64(len(mono)) / (32768 * 32768))
	}
	if t.sink == nil {
		return
	}
	q := -1
	if queued >= 0 {
		// The device holds queued frames, the ones just written last.
		q = max(0, queued-len(mono)) * CaptureRate / t.rate
	}
	if t.res == nil {
		t.sink.PlaybackInt16(mono, q)
		return
	}
	for len(mono) > 0 {
		used, made := t.res.Process(mono, t.out)
		mono = mono[used:]
		if made > 0 {
			if q >= 0 {
				q = max(0, q-t.resLag)
			}
			t.sink.PlaybackInt16(t.out[:made], q)
		}
		if used == 0 && made == 0 {
			break
		}
	}
}

// cancelEcho cleans frame f in place, first skipping what the loop did not
// process since the last frame (it slept) and leaving it alone while nothing was
// played, and hands the detector the canceller's estimate of the echo left in
// the frame (0 while idle: nothing was played), the echo guard's one input.
func (c *Capture) cancelEcho(f []int16) {
	if c.echoPos != c.pos {
		c.echo.Skip(int(c.pos - c.echoPos))
	}
	c.echoPos = c.pos + uint64(len(f))
	if c.echo.Idle() {
		// Nothing played within the filter's reach: the frame stays as it is, at
		// no cost (between replies, most of the time).
		c.echo.Skip(len(f))
		if r, ok := c.det.(echoResidual); ok {
			r.NoteResidual(0)
		}
		return
	}
	_ = c.echo.ProcessInt16(f, f) // the frame's length is fixed at construction
	if r, ok := c.det.(echoResidual); ok {
		r.NoteResidual(float64(c.echo.Stats().Residual))
	}
}
