package pipeline

import (
	"testing"

	"github.com/voiced-project/voiced/internal/dsp"
)

// TestCaptureOpenFrom: an opening after OpenFrom sends from that position when the
// pre-roll still holds it, and the usual pre-roll otherwise; it applies to one opening.
func TestCaptureOpenFrom(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: CaptureRate}
	const frame = CaptureRate / 100
	for _, tc := range []struct {
		name string
		back int // OpenFrom this many samples before the position at opening; -1: not called
		want int // samples the opening sends
	}{
		{"none", -1, 7200},                     // the pre-roll, 300 ms
		{"after the word", 4800, 4800 + frame}, // 200 ms back, plus the frame that opens
		{"longer than the pre-roll", 36000, 36000 + frame},
		{"older than what is held", 80000, 7200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mic := &captureFakeMic{data: captureSignal(f, make([]int16, 3*CaptureRate)), fb: f.FrameBytes(), err: errCaptureTestEOF}
			ring, _ := dsp.NewRing(CaptureRate*5, dsp.RingOverwrite)
			c, err := NewCapture(mic, nil, ring, CaptureConfig{Device: f, PeriodFrames: frame, OnFrame: func([]int16, uint64) {}, KeepMs: 2000})
			if err != nil {
				t.Fatal(err)
			}
			for range 250 { // 2.5 s
				if err := c.step(); err != nil {
					t.Fatal(err)
				}
			}
			if tc.back >= 0 {
				c.OpenFrom(c.pos - uint64(tc.back))
			}
			c.SetStreaming(true)
			if err := c.step(); err != nil {
				t.Fatal(err)
			}
			if got := ring.Len(); got != tc.want {
				t.Errorf("the opening sent %d samples, want %d", got, tc.want)
			}
			// The next opening is an ordinary one again.
			c.SetStreaming(false)
			ring.Read(make([]int16, ring.Len()))
			for range 40 {
				c.step()
			}
			c.SetStreaming(true)
			c.step()
			if got := ring.Len(); got != 7200 {
				t.Errorf("the opening after sent %d samples, want the pre-roll's 7200", got)
			}
		})
	}
}
