package aec_test

import (
	"fmt"

	"github.com/voiced-project/voiced/internal/aec"
)

// The capture loop's shape: 10 ms frames at 24 kHz. The playback goroutine hands
// over what it writes, with the device's delay; the capture goroutine cancels
// each frame before the detector and the uplink.
func Example() {
	c, err := aec.New(aec.Config{SampleRate: 24000, FrameSize: 240})
	if err != nil {
		fmt.Println(err)
		return
	}
	reply := make([]int16, 240) // from the playback ring, as written to the device
	c.PlaybackInt16(reply, 960) // the device holds 40 ms ahead of it

	mic := make([]int16, 240)
	_ = c.ProcessInt16(mic, mic) // in place
	s := c.Stats()
	fmt.Println("latency", c.Latency(), "samples; residual echo", s.Residual)
	// Output: latency 256 samples; residual echo 0
}
