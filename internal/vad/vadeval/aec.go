package vadeval

import (
	"bufio"
	"fmt"
	"math"
	"os"

	"github.com/voiced-project/voiced/internal/aec"
	"github.com/voiced-project/voiced/internal/vad"
)

// readRef reads the far-end reference (echo_ref.wav) at rate, or returns nil
// when the directory has none.
func readRef(path string, rate int) ([]int16, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcm, r, err := ReadWAVMono16(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r != rate {
		return nil, fmt.Errorf("%s: rate %d Hz, the echo file's is %d Hz", path, r, rate)
	}
	return pcm, nil
}

// refLevels is the mean square (full scale 1) of each 10 ms frame of ref.
func refLevels(ref []int16, hop, frames int) []float64 {
	out := make([]float64, frames)
	for k := range out {
		if (k+1)*hop > len(ref) {
			break
		}
		var s float64
		for _, x := range ref[k*hop : (k+1)*hop] {
			s += float64(x) * float64(x)
		}
		out[k] = s / float64(hop) / (32768 * 32768)
	}
	return out
}

// cancel runs the echo canceller over mic with the reference ref played in step
// with it, as the capture loop does, and returns the cleaned signal realigned
// with mic (the canceller's latency taken out) and its estimate of the echo
// left in each 10 ms frame of it, which the echo guard takes as the capture
// loop has it do (NoteResidual).
func cancel(mic, ref []int16, rate int) ([]int16, []float64, error) {
	hop := rate * vad.FrameMs / 1000
	c, err := aec.New(aec.Config{SampleRate: rate, FrameSize: hop})
	if err != nil {
		return nil, nil, err
	}
	lat := c.Latency()
	frames := len(mic) / hop
	out := make([]int16, frames*hop+lat)
	residual := make([]float64, frames+(lat+hop-1)/hop)
	zero, dst := make([]int16, hop), make([]int16, hop)
	for k := 0; k*hop < len(out); k++ {
		r, m := zero, zero
		if (k+1)*hop <= len(ref) {
			r = ref[k*hop : (k+1)*hop]
		}
		if k < frames {
			m = mic[k*hop : (k+1)*hop]
		}
		c.PlaybackInt16(r, 0)
		if err := c.ProcessInt16(m, dst); err != nil {
			return nil, nil, err
		}
		copy(out[k*hop:], dst)
		// The frame's estimate is about the output just made, which is lat samples
		// late: it belongs to the frame lat earlier.
		if j := (k*hop - lat) / hop; k*hop >= lat && j < len(residual) {
			residual[j] = float64(c.Stats().Residual)
		}
		if len(out)-k*hop <= hop {
			break
		}
	}
	return out[lat : lat+frames*hop], residual[:frames], nil
}

// scoreAEC fills r's canceller figures for an echo file.
func scoreAEC(r *FileResult, o Options, rate int, samples, ref []int16, truth, device []bool) error {
	clean, residual, err := cancel(samples, ref, rate)
	if err != nil {
		return err
	}
	out, err := o.run(rate, clean, device, residual, true)
	if err != nil {
		return err
	}
	dec := o.held(out, rate)
	gc, _ := ScoreFrames(truth, dec)
	hop := rate * vad.FrameMs / 1000
	var flagged int
	var em, eo float64
	for i := range truth {
		if !device[i] || truth[i] {
			continue
		}
		if i < len(dec) && dec[i] {
			flagged++
		}
		if (i+1)*hop <= len(clean) {
			for j := i * hop; j < (i+1)*hop; j++ {
				em += float64(samples[j]) * float64(samples[j])
				eo += float64(clean[j]) * float64(clean[j])
			}
		}
	}
	r.AECFlagged = ratio(flagged, r.EchoOnly)
	r.AECRecall = gc.Recall()
	r.ERLE = 10 * math.Log10((em+1)/(eo+1))
	r.AECMeasured = true
	return nil
}
