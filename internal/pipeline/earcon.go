package pipeline

import (
	"fmt"
	"math"
)

// Earcon is a short generated sound that tells the user what the device is
// doing without words.
type Earcon int

// The earcons. Rising notes invite speech, falling notes close the turn,
// a low double beep means something went wrong, a single soft low note
// means the microphone is muted.
const (
	EarconListenStart Earcon = iota + 1
	EarconListenEnd
	EarconError
	EarconMuted
	earconCount = iota
)

// String names the earcon as in configuration and logs.
func (e Earcon) String() string {
	switch e {
	case EarconListenStart:
		return "listening-start"
	case EarconListenEnd:
		return "listening-end"
	case EarconError:
		return "error"
	case EarconMuted:
		return "muted"
	}
	return fmt.Sprintf("Earcon(%d)", int(e))
}

// earconNote is one note of an earcon; hz 0 is a rest.
type earconNote struct {
	hz float64
	ms int
}

// earconScores holds the notes of each earcon, indexed by Earcon.
var earconScores = [earconCount + 1][]earconNote{
	EarconListenStart: {{660, 70}, {990, 90}},
	EarconListenEnd:   {{990, 70}, {660, 90}},
	EarconError:       {{330, 110}, {0, 60}, {311, 160}},
	EarconMuted:       {{440, 80}},
}

const (
	earconAmplitude = 0.25 * math.MaxInt16 // -12 dBFS: audible, not startling
	earconFadeMs    = 8                    // raised-cosine fade, so notes do not click
)

// earconRender synthesises e at rate Hz, mono.
func earconRender(e Earcon, rate int) []int16 {
	var n int
	for _, note := range earconScores[e] {
		n += note.ms * rate / 1000
	}
	out := make([]int16, 0, n)
	fade := earconFadeMs * rate / 1000
	for _, note := range earconScores[e] {
		k := note.ms * rate / 1000
		for i := range k {
			if note.hz == 0 {
				out = append(out, 0)
				continue
			}
			env := 1.0
			if d := min(i, k-1-i); d < fade {
				env = 0.5 - 0.5*math.Cos(math.Pi*float64(d)/float64(fade))
			}
			// A little of the octave makes small speakers carry the note.
			w := 2 * math.Pi * note.hz * float64(i) / float64(rate)
			v := env * earconAmplitude * (0.85*math.Sin(w) + 0.15*math.Sin(2*w))
			out = append(out, int16(math.Round(v)))
		}
	}
	return out
}
