package alsa_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/voiced-project/voiced/internal/alsa"
)

// A file: device stands in for a speaker and a microphone, so this runs anywhere.
func ExampleOpen() {
	path := filepath.Join(os.TempDir(), "voiced-example.wav")
	defer os.Remove(path)

	spk, err := alsa.Open("file:"+path, alsa.Playback, alsa.Config{Rate: 16000, Channels: 1, PeriodMs: 20},
		alsa.WithFileRealtime(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	par := spk.Params()
	period := make([]byte, par.PeriodFrames*par.FrameBytes())
	par.Format.FromInt16(period, []int16{1000, -1000, 500})
	n, _ := spk.WriteFrames(period)
	spk.Close()
	fmt.Println("wrote", n, "frames:", par)

	mic, err := alsa.Open("file:"+path, alsa.Capture, alsa.Config{PeriodMs: 20}, alsa.WithFileRealtime(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mic.Close()
	n, _ = mic.ReadFrames(period)
	samples := make([]int16, 3)
	mic.Params().Format.ToInt16(samples, period)
	fmt.Println("read", n, "frames, starting", samples)
	// Output:
	// wrote 320 frames: S16_LE 1 ch 16000 Hz, period 320 frames, buffer 1280 frames
	// read 320 frames, starting [1000 -1000 500]
}
