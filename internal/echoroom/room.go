package echoroom

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/voiced-project/voiced/internal/aec/echosim"
	"github.com/voiced-project/voiced/internal/dsp"
)

// Config is a room and the two rates of the device in it.
type Config struct {
	Room        echosim.Room
	SpeakerRate int     // Hz of what Step is given
	MicRate     int     // Hz of what Step returns
	NoiseDBFS   float64 // the room's noise floor (white); 0 means -60 dBFS
}

// activeFloor is the level above which a sample counts towards an active level
// (-60 dBFS).
const activeFloor = 1e-3

// Room is a live echosim.Room. Step runs on the caller's audio goroutine; Say,
// SayOver, Speaking and EchoDBFS may be called from any other.
type Room struct {
	clip    float64   // the loudspeaker's drive (linear), 0: linear
	conv    *conv     // the impulse response from its first non-zero tap
	noise   []float32 // the room's noise, a few seconds looped: cheaper than drawing it
	noiseAt int
	micRate int
	res     *dsp.Resampler // speaker rate to mic rate; nil when they are equal

	in   []int16   // the resampler's output
	cin  []float64 // what the loudspeaker sends out, not yet a whole block
	cout []float64 // the echo, not yet heard
	blk  []float64

	mu      sync.Mutex // guards following fields
	voice   []float32  // the user's speech still to be heard, scaled
	echoSum float64    // energy of the echo's active samples
	echoN   int64      // and their count
}

// New returns the room, silent. A room's delay below one block of the
// convolution (16 ms at 16 kHz) becomes that block: no pair of sound cards is
// quicker.
func New(c Config) (*Room, error) {
	if c.SpeakerRate <= 0 || c.MicRate <= 0 {
		return nil, fmt.Errorf("echoroom: rates %d and %d Hz", c.SpeakerRate, c.MicRate)
	}
	h := c.Room.Impulse(c.MicRate)
	lead := 0
	for lead < len(h) && h[lead] == 0 {
		lead++
	}
	if lead == len(h) {
		return nil, errors.New("echoroom: the room's impulse response is silent")
	}
	noise := c.NoiseDBFS
	if noise == 0 {
		noise = -60
	}
	rng := rand.New(rand.NewPCG(c.Room.Seed, 7))
	r := &Room{conv: newConv(h[lead:]), noise: make([]float32, 3*c.MicRate+1), micRate: c.MicRate,
		// The delay: the echo's first lead samples are silence. The block the
		// convolution waits for fills at the other end.
		cout: make([]float64, max(lead, convBlock)), blk: make([]float64, convBlock)}
	for i := range r.noise {
		r.noise[i] = float32(math.Pow(10, noise/20) * rng.NormFloat64())
	}
	if c.Room.ClipDB != 0 {
		r.clip = math.Pow(10, c.Room.ClipDB/20)
	}
	if c.SpeakerRate != c.MicRate {
		res, err := dsp.NewResampler(c.SpeakerRate, c.MicRate)
		if err != nil {
			return nil, fmt.Errorf("echoroom: %w", err)
		}
		r.res = res
	}
	return r, nil
}

// Step takes what the speaker played during one period (mono, at the speaker's
// rate; a device that played less than the period played silence for the rest,
// so played may be short or empty) and fills mic, the same period at the
// microphone's rate, with what the microphone heard.
func (r *Room) Step(played []int16, mic []int16) {
	n := len(mic)
	// The speaker's samples at mic rate, in order; a period that brings fewer
	// than n (the resampler's start, a short write) is padded with silence.
	start := len(r.cin)
	if r.res != nil {
		if len(r.in) < r.res.MaxOutput(len(played)) {
			r.in = make([]int16, r.res.MaxOutput(len(played)))
		}
		_, got := r.res.Process(played, r.in)
		played = r.in[:got]
	}
	for _, v := range played[:min(n, len(played))] {
		r.cin = append(r.cin, float64(v)/32768)
	}
	for len(r.cin) < start+n {
		r.cin = append(r.cin, 0)
	}
	if r.clip != 0 {
		for i, v := range r.cin[start:] {
			r.cin[start+i] = math.Tanh(v*r.clip) / r.clip * 1.5
		}
	}
	k := 0
	for ; k+convBlock <= len(r.cin); k += convBlock {
		r.conv.block(r.cin[k:k+convBlock], r.blk)
		r.cout = append(r.cout, r.blk...)
	}
	r.cin = r.cin[:copy(r.cin, r.cin[k:])]

	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range mic {
		e := r.cout[i]
		if math.Abs(e) > activeFloor {
			r.echoSum += e * e
			r.echoN++
		}
		v := e + float64(r.noise[r.noiseAt])
		r.noiseAt = (r.noiseAt + 1) % len(r.noise)
		if len(r.voice) > 0 {
			v += float64(r.voice[0])
			r.voice = r.voice[1:]
		}
		mic[i] = int16(max(-32768, min(32767, math.Round(v*32768))))
	}
	r.cout = r.cout[:copy(r.cout, r.cout[n:])]
}

// Say queues speech (mono, at the microphone's rate) at its own level, after
// whatever is still being said.
func (r *Room) Say(pcm []int16) { r.say(pcm, 1) }

// SayOver queues speech so that its active level is db above the echo's active
// level as heard since New or ResetEchoLevel, and returns that gain. It is an error to call it before
// the microphone has heard any echo.
func (r *Room) SayOver(pcm []int16, db float64) (float64, error) {
	echo := r.echoRMS()
	speech := activeRMS(pcm)
	if echo == 0 || speech == 0 {
		return 0, fmt.Errorf("echoroom: no level to set the voice against (echo %.3g, speech %.3g)", echo, speech)
	}
	g := echo / speech * math.Pow(10, db/20)
	r.say(pcm, g)
	return g, nil
}

func (r *Room) say(pcm []int16, g float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.voice) == 0 {
		r.voice = nil // the old backing array is done with
	}
	for _, v := range pcm {
		r.voice = append(r.voice, float32(g*float64(v)/32768))
	}
}

// Speaking reports whether queued speech is still to be heard.
func (r *Room) Speaking() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.voice) > 0
}

// EchoDBFS is the echo's active level so far, dBFS; -Inf before any echo.
func (r *Room) EchoDBFS() float64 { return 20 * math.Log10(r.echoRMS()) }

// ResetEchoLevel starts the echo's level afresh: SayOver will set a voice against
// what is heard from now on.
func (r *Room) ResetEchoLevel() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.echoSum, r.echoN = 0, 0
}

// EchoSeconds is how much of the echo heard since New or ResetEchoLevel was
// active (above -60 dBFS), in seconds at the microphone's rate.
func (r *Room) EchoSeconds() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return float64(r.echoN) / float64(r.micRate)
}

func (r *Room) echoRMS() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.echoN == 0 {
		return 0
	}
	return math.Sqrt(r.echoSum / float64(r.echoN))
}

// activeRMS is the active level of 16-bit samples, full scale 1.
func activeRMS(pcm []int16) float64 {
	var s float64
	var n int
	for _, v := range pcm {
		f := float64(v) / 32768
		if math.Abs(f) > activeFloor {
			s += f * f
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Sqrt(s / float64(n))
}

// ActiveDBFS is the active level of 16-bit samples, dBFS; -Inf for silence.
func ActiveDBFS(pcm []int16) float64 { return 20 * math.Log10(activeRMS(pcm)) }
