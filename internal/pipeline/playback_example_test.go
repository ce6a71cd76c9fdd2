package pipeline_test

import (
	"context"
	"fmt"
	"time"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/pipeline"
)

// playbackExampleSpeaker stands in for an ALSA playback device that plays
// everything at once: nothing is ever queued.
type playbackExampleSpeaker struct{}

func (playbackExampleSpeaker) WriteFrames(buf []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return len(buf) / 4, nil // stereo S16_LE
}
func (playbackExampleSpeaker) Delay() (int, error) { return 0, nil }
func (playbackExampleSpeaker) Drop() error         { return nil }

// The playback side as the daemon wires it: the realtime client's audio
// sink writes reply items, the loop plays them on a 48 kHz device, and the
// engine asks what was heard when the user barges in.
func ExampleNewPlayback() {
	pb, err := pipeline.NewPlayback(playbackExampleSpeaker{}, pipeline.PlaybackConfig{
		Device:       dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000},
		PeriodFrames: 960,
		Earcons:      true,
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pb.Run(ctx) }()

	pb.WriteItem("item_1", make([]int16, 4800)) // 200 ms at 24 kHz, from the network
	for !pb.Idle() {
		time.Sleep(time.Millisecond)
	}
	pb.Stop() // barge-in
	fmt.Println("heard ms:", pb.Heard())
	pb.PlayEarcon(engine.CueListenStart)

	cancel()
	<-done
	// Output:
	// heard ms: 200
}
