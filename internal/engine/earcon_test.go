package engine

import "testing"

func TestEarcon(t *testing.T) {
	for e := CueListenStart; e <= CueMuted; e++ {
		t.Run(e.String(), func(t *testing.T) {
			pcm := Earcon(e, 24000)
			var ms int
			for _, n := range earconScores[e] {
				ms += n.ms
			}
			if len(pcm) != ms*24 {
				t.Errorf("%d samples, want %d", len(pcm), ms*24)
			}
			var peak int
			for _, s := range pcm {
				peak = max(peak, int(s), -int(s))
			}
			if peak < 6000 || peak > 9000 {
				t.Errorf("peak %d, want about -12 dBFS (8192)", peak)
			}
			if a, b := int(pcm[0]), int(pcm[len(pcm)-1]); max(a, -a, b, -b) > 50 {
				t.Errorf("starts at %d and ends at %d: want a fade, not a click", a, b)
			}
		})
	}
}
