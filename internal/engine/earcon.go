package engine

import "math"

// The earcons are the tones for the engine's cues, generated at the
// device rate when the playback loop is made: no asset files. Rising
// notes invite speech, falling notes close the turn, a low double beep
// means something went wrong, a single soft low note means the microphone
// is muted.

// earconNote is one note of an earcon; hz 0 is a rest.
type earconNote struct {
	hz float64
	ms int
}

// earconScores holds the notes of each earcon, indexed by Cue.
var earconScores = [...][]earconNote{
	CueListenStart: {{660, 70}, {990, 90}},
	CueListenEnd:   {{990, 70}, {660, 90}},
	CueError:       {{330, 110}, {0, 60}, {311, 160}},
	CueMuted:       {{440, 80}},
	// Three bright beeps and a rest, repeated while a timer rings: a kitchen timer,
	// well above speech, nothing like the other cues.
	CueAlarm: {{1760, 120}, {0, 80}, {1760, 120}, {0, 80}, {1760, 120}, {0, 500}},
}

// EarconCount is the number of cues with a sound: Earcon takes 0 <= c < EarconCount.
const EarconCount = len(earconScores)

const (
	earconAmplitude = 0.25 * math.MaxInt16 // -12 dBFS: audible, not startling
	earconFadeMs    = 8                    // raised-cosine fade, so notes do not click
)

// Earcon synthesises the earcon of cue e at rate Hz, mono. The playback loop makes
// them once, when it is set up.
func Earcon(e Cue, rate int) []int16 {
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
