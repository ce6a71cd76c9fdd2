package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/pipeline"
)

// captureExampleMic stands in for an ALSA capture device: 48 kHz stereo
// S16_LE, one second of it, then io.EOF.
type captureExampleMic struct{ left int }

func (m *captureExampleMic) ReadFrames(buf []byte) (int, error) {
	if m.left == 0 {
		return 0, io.EOF
	}
	n := min(m.left, len(buf)/4)
	clear(buf[:4*n]) // silence
	m.left -= n
	return n, nil
}

// captureExampleClient stands in for the realtime client.
type captureExampleClient struct{ samples int }

func (c *captureExampleClient) AppendAudio(pcm []int16) error {
	c.samples += len(pcm)
	return nil
}

// The capture side as the daemon wires it: device → Capture → uplink ring
// → Uplink → client, with the gate the engine opens and closes.
func ExampleNewCapture() {
	ring, err := dsp.NewRing(5*pipeline.CaptureRate, dsp.RingOverwrite)
	if err != nil {
		panic(err)
	}
	mic := &captureExampleMic{left: 48000}
	capture, err := pipeline.NewCapture(mic, nil, ring, pipeline.CaptureConfig{
		Device:       dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000},
		PeriodFrames: 960,
		Channel:      dsp.MixChannels,
	})
	if err != nil {
		panic(err)
	}
	client := &captureExampleClient{}
	uplink, err := pipeline.NewUplink(ring, client, pipeline.UplinkConfig{ChunkMs: 40})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- uplink.Run(ctx) }()

	gate := &pipeline.UplinkGate{Capture: capture, Uplink: uplink} // the engine's capture gate
	gate.SetStreaming(true)
	err = capture.Run(ctx) // until the device fails or ctx ends
	gate.SetStreaming(false)
	cancel()
	<-done

	fmt.Println("capture ended:", errors.Is(err, io.EOF))
	fmt.Println("samples sent at 24 kHz:", client.samples)
	// Output:
	// capture ended: true
	// samples sent at 24 kHz: 24000
}
