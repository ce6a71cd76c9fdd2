package realtimetest

import (
	"fmt"
	"io"
	"math"
	"os"

	"github.com/voiced-project/voiced/internal/wav"
)

// Tone returns ms milliseconds of a sine at hz, at rate, amplitude amp.
func Tone(hz float64, ms, rate int, amp float64) []int16 {
	n := ms * rate / 1000
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return out
}

// Resample converts mono PCM from one rate to another by linear
// interpolation: plenty for a test peer.
func Resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 {
		return append([]int16(nil), in...)
	}
	n := int(int64(len(in)) * int64(to) / int64(from))
	out := make([]int16, n)
	for i := range out {
		pos := float64(i) * float64(from) / float64(to)
		j := int(pos)
		frac := pos - float64(j)
		a := float64(in[min(j, len(in)-1)])
		b := float64(in[min(j+1, len(in)-1)])
		out[i] = int16(a + (b-a)*frac)
	}
	return out
}

// ReadWAV reads a PCM16 WAV file and mixes it down to mono.
func ReadWAV(path string) (pcm []int16, rate int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	pcm, rate, err = DecodeWAV(f)
	if err != nil {
		return nil, 0, fmt.Errorf("read wav %s: %w", path, err)
	}
	return pcm, rate, nil
}

// DecodeWAV decodes a RIFF/WAVE stream of 16-bit PCM, mixed down to mono.
func DecodeWAV(r io.Reader) (pcm []int16, rate int, err error) {
	pcm, h, err := wav.ReadMono16(r)
	if err != nil {
		return nil, 0, err
	}
	return pcm, h.Rate, nil
}

// energyVAD is the server's voice activity detector: 10 ms frames whose
// RMS exceeds a threshold derived from turn_detection.threshold.
type energyVAD struct {
	rate      int
	threshold float64 // RMS in sample units
}

func newEnergyVAD(rate int, threshold float64) *energyVAD {
	if threshold <= 0 {
		threshold = 0.5
	}
	// 0.5 (the service's default) is about -32 dBFS.
	return &energyVAD{rate: rate, threshold: 1600 * threshold}
}

func (v *energyVAD) frameLen() int { return v.rate / 100 }

func (v *energyVAD) speech(frame []int16) bool {
	var sum float64
	for _, s := range frame {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum/float64(len(frame))) > v.threshold
}
