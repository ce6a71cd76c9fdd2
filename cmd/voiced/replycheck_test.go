package main

import (
	"slices"
	"testing"
)

// TestReplyCorrelation: the end-to-end tests' reply check lets through the silence a
// late playback loop puts into a file: speaker's WAV, and still fails a reply that lost
// audio or the question's end.
func TestReplyCorrelation(t *testing.T) {
	_, want := question(t, 0, 0)
	const rate = 24000
	at := func(s float64) int { return int(s * rate) }
	// The speaker's WAV: the reply at the playback volume (0.8), after a lead of silence.
	speaker := func(pcm []int16) []int16 {
		out := make([]int16, at(0.5), at(0.5)+len(pcm))
		for _, s := range pcm {
			out = append(out, int16(int32(s)*4/5))
		}
		return out
	}
	gaps := func(pcm []int16, gap map[float64]float64) []int16 {
		out := slices.Clone(pcm)
		for _, pos := range []float64{2.4, 1.1, 0.6} { // from the end, so positions hold
			if d, ok := gap[pos]; ok {
				out = slices.Insert(out, at(pos), make([]int16, at(d))...)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		reply []int16
		ok    bool
	}{
		{"as sent", want, true},
		{"gaps of 60, 120 and 230 ms", gaps(want, map[float64]float64{0.6: 0.06, 1.1: 0.12, 2.4: 0.23}), true},
		{"one gap of 500 ms", gaps(want, map[float64]float64{1.1: 0.5}), true},
		{"300 ms lost", slices.Delete(slices.Clone(want), at(1.1), at(1.4)), false},
		{"the last 0.5 s cut", want[:len(want)-at(0.5)], false},
		{"the first 0.5 s cut", want[at(0.5):], false},
	} {
		c := replyCorrelation(trimSilence(speaker(tc.reply)), want, rate)
		if (c >= 0.85) != tc.ok {
			t.Errorf("%s: reply correlates %.3f, want it %s 0.85", tc.name, c, map[bool]string{true: ">=", false: "<"}[tc.ok])
		}
	}
}
