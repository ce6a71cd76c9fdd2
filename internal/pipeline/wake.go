package pipeline

import (
	"fmt"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/wakeword"
)

// WakeRate is the rate the wake-word models were trained at.
const WakeRate = 16000

// Wake is what a wake-word listener reports: the word, its score and the stream
// position at CaptureRate where the detection ended (the end of the word, give or
// take a step), on the capture loop's clock (Capture.OpenFrom takes it).
type Wake struct {
	Word  string
	Score float64
	End   uint64
}

// WakeListener runs a wake-word detector on the capture loop's frames: it resamples
// them from CaptureRate to WakeRate and feeds the detector. Its Listen is
// CaptureConfig.OnFrame; it belongs to the capture goroutine and allocates nothing.
type WakeListener struct {
	det    *wakeword.Detector
	res    *dsp.Resampler
	buf    []int16
	n16    int64 // samples fed to the detector, ever
	onWake func(Wake)
}

// NewWakeListener returns a listener feeding det and calling onWake, on the capture
// goroutine, for each word heard; onWake must not block.
func NewWakeListener(det *wakeword.Detector, onWake func(Wake)) (*WakeListener, error) {
	if det == nil || onWake == nil {
		return nil, fmt.Errorf("new wake listener: detector and callback are required")
	}
	res, err := dsp.NewResampler(CaptureRate, WakeRate)
	if err != nil {
		return nil, fmt.Errorf("new wake listener: %w", err)
	}
	return &WakeListener{det: det, res: res, buf: make([]int16, res.MaxOutput(CaptureRate*captureFrameMs/1000)), onWake: onWake}, nil
}

// Listen takes one frame at CaptureRate ending at stream position end.
func (w *WakeListener) Listen(frame []int16, end uint64) {
	for len(frame) > 0 {
		used, made := w.res.Process(frame, w.buf)
		frame = frame[used:]
		if made == 0 && used == 0 {
			return
		}
		w.n16 += int64(made)
		for _, d := range w.det.Process(w.buf[:made]) {
			// The detection's position counts the detector's own samples; the ones
			// fed after it are that much before end, at the capture rate.
			back := uint64(w.n16-d.Sample) * CaptureRate / WakeRate
			w.onWake(Wake{Word: d.Word, Score: d.Score, End: end - min(back, end)})
		}
	}
}
