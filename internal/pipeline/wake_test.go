package pipeline

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/race"
	"github.com/voiced-project/voiced/internal/wakeword"
	"github.com/voiced-project/voiced/internal/wav"
)

// wakeClip is flite's rms voice saying "okay nabu" (the word from 1000 to 2345 ms) at
// 16 kHz, from the development set's sample.
func wakeClip(t testing.TB) []int16 {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "test", "wakeword", "devset-sample", "pos", "flite-rms", "okay_nabu-1.0-clean.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, h, err := wav.ReadMono16(f)
	if err != nil || h.Rate != WakeRate {
		t.Fatalf("read clip: %v, rate %d", err, h.Rate)
	}
	return pcm
}

func newWakeDetector(t testing.TB) *wakeword.Detector {
	t.Helper()
	m, err := wakeword.Builtin("okay_nabu")
	if err != nil {
		t.Fatal(err)
	}
	det, err := wakeword.NewDetector(wakeword.Config{Models: []*wakeword.Model{m}})
	if err != nil {
		t.Fatal(err)
	}
	return det
}

// TestCaptureWakeWord runs the clip, with a second of silence before it, through a
// 48 kHz stereo capture loop: the word is heard once, ending at the end of the word on
// the capture clock, and the opening that follows sends from there, not the pre-roll.
func TestCaptureWakeWord(t *testing.T) {
	clip := wakeClip(t)
	up, err := dsp.NewResampler(WakeRate, 48000)
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]int16, up.MaxOutput(len(clip)+WakeRate))
	in := append(make([]int16, WakeRate), clip...)
	_, made := up.Process(in, sig)
	sig = sig[:made]

	f := dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}
	mic := &captureFakeMic{data: captureSignal(f, sig), fb: f.FrameBytes(), err: errCaptureTestEOF}
	ring, _ := dsp.NewRing(CaptureRate*5, dsp.RingOverwrite)
	var wakes []Wake
	var c *Capture
	wl, err := NewWakeListener(newWakeDetector(t), func(w Wake) {
		wakes = append(wakes, w)
		c.OpenFrom(w.End)
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err = NewCapture(mic, nil, ring, CaptureConfig{Device: f, PeriodFrames: 960, Channel: dsp.MixChannels, OnFrame: wl.Listen, KeepMs: 1500})
	if err != nil {
		t.Fatal(err)
	}
	var opened uint64
	for {
		if err := c.step(); err != nil {
			if !errors.Is(err, errCaptureTestEOF) {
				t.Fatal(err)
			}
			break
		}
		if len(wakes) > 0 && opened == 0 {
			c.SetStreaming(true) // the engine, a period later
			opened = c.pos
		}
	}
	if len(wakes) != 1 || wakes[0].Word != "okay_nabu" || wakes[0].Score <= 0.5 {
		t.Fatalf("wakes = %+v, want okay_nabu once", wakes)
	}
	// The word ends at 2000+2345 ms; a detection closes within a few steps of it.
	wordEnd := uint64((1000 + 2345) * CaptureRate / 1000)
	if end := wakes[0].End; end+CaptureRate/2 < wordEnd || end > wordEnd+CaptureRate/2 {
		t.Errorf("wake at stream position %d, want within 500 ms of the word's end at %d", end, wordEnd)
	}
	sent := drainRing(ring, nil)
	if want := int(c.pos - wakes[0].End); len(sent) != want {
		t.Errorf("sent %d samples, want %d: from the wake to the end", len(sent), want)
	}
}

func TestWakeListenerAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not exact under -race")
	}
	clip := wakeClip(t)
	wl, err := NewWakeListener(newWakeDetector(t), func(Wake) {})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, CaptureRate/100)
	i, pos := 0, uint64(0)
	allocs := testing.AllocsPerRun(300, func() {
		for j := range frame {
			frame[j] = clip[(i+j*2/3)%len(clip)]
		}
		i += 160
		pos += uint64(len(frame))
		wl.Listen(frame, pos)
	})
	if allocs != 0 {
		t.Errorf("Listen allocates %v times per frame, want 0", allocs)
	}
}

func TestNewWakeListenerErrors(t *testing.T) {
	if _, err := NewWakeListener(nil, func(Wake) {}); err == nil {
		t.Error("NewWakeListener(nil detector) = nil error")
	}
	if _, err := NewWakeListener(newWakeDetector(t), nil); err == nil {
		t.Error("NewWakeListener(nil callback) = nil error")
	}
}

// BenchmarkWakeListener is one 10 ms frame through the listener: resampling to 16 kHz
// and the okay_nabu detector (one model step every third frame).
func BenchmarkWakeListener(b *testing.B) {
	clip := wakeClip(b)
	wl, err := NewWakeListener(newWakeDetector(b), func(Wake) {})
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, CaptureRate/100)
	for j := range frame {
		frame[j] = clip[WakeRate+j*2/3]
	}
	b.ReportAllocs()
	b.SetBytes(int64(2 * len(frame)))
	pos := uint64(0)
	for b.Loop() {
		pos += uint64(len(frame))
		wl.Listen(frame, pos)
	}
}
