package silero_test

import (
	"fmt"
	"math"

	"github.com/voiced-project/voiced/internal/vad/silero"
)

// A detector takes consecutive 32 ms steps of 16 kHz audio; a steady tone is
// not speech.
func Example() {
	d := silero.New()
	var step [silero.StepSamples]float32
	var p float32
	for n := range 30 { // about one second
		for i := range step {
			t := float64(n*silero.StepSamples+i) / silero.SampleRate
			step[i] = float32(0.3 * math.Sin(2*math.Pi*440*t))
		}
		p = d.Process(&step)
	}
	fmt.Println("speech:", p >= 0.5)
	d.Reset() // before another stream
	// Output: speech: false
}
