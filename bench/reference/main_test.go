package main

import (
	"math"
	"testing"
)

func TestResamplers(t *testing.T) {
	for _, tc := range []struct {
		kind     string
		from, to int
	}{
		{"linear", 16000, 24000},
		{"linear", 24000, 48000},
		{"voiced", 16000, 24000},
		{"voiced", 24000, 48000},
		{"voiced", 24000, 24000},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			rs, err := newResampler(tc.kind, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			// One second of 440 Hz in 20 ms blocks: about a second comes out, and the
			// tone's level survives.
			block := tc.from / 50
			total, peak := 0, 0
			for k := range 50 {
				in := make([]int16, block)
				for i := range in {
					in[i] = int16(10000 * math.Sin(2*math.Pi*440*float64(k*block+i)/float64(tc.from)))
				}
				out := rs(in)
				total += len(out)
				for _, s := range out[len(out)/2:] {
					peak = max(peak, int(s))
				}
			}
			if d := total - tc.to; d < -tc.to/50 || d > tc.to/100 {
				t.Errorf("%s %d->%d: one second gave %d samples, want about %d", tc.kind, tc.from, tc.to, total, tc.to)
			}
			if peak < 9000 || peak > 11000 {
				t.Errorf("%s %d->%d: peak %d, want about 10000", tc.kind, tc.from, tc.to, peak)
			}
		})
	}
	if _, err := newResampler("voiced", 16000, 12345); err == nil {
		t.Error("newResampler accepted a rate voiced does not convert to")
	}
}
