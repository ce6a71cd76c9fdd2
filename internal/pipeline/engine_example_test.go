package pipeline_test

import (
	"context"
	"fmt"
	"time"

	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/pipeline/pipelinetest"
)

// A push-to-talk turn, with fakes in place of the realtime client, the capture gate and
// the player. In the daemon, the button, the capture loop (VoiceEdges) and the realtime
// client's events feed the engine the same way, and the LED, /v1/events and sd_notify
// follow its events.
func ExampleEngine() {
	log := &pipelinetest.Log{}
	player := &pipelinetest.Player{Log: log}
	e, err := pipeline.NewEngine(pipeline.EngineConfig{
		Options: pipeline.Options{Mode: pipeline.ModePushToTalk, EchoGuard: 800 * time.Millisecond},
		Conn:    &pipelinetest.Conn{Log: log},
		Gate:    &pipelinetest.Gate{Log: log},
		Player:  player,
		Clock:   pipelinetest.NewClock(time.Unix(0, 0)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	events, _ := e.Subscribe(0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()

	e.HandleRealtime(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnecting})
	e.HandleRealtime(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnected, SessionID: "sess_1"})
	e.HandleButton(pipeline.ButtonPress)
	e.HandleSpeech(pipeline.SpeechEdge{Start: true})
	e.HandleButton(pipeline.ButtonRelease)
	e.HandleRealtime(pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseCreated, ResponseID: "resp_1"})
	player.Play()
	e.HandleRealtime(pipeline.RealtimeEvent{Kind: pipeline.RealtimeAudioStarted, ItemID: "item_1"})
	if err := e.Control(ctx, pipeline.ActionInterrupt); err != nil {
		fmt.Println(err)
	}
	if err := e.Control(ctx, pipeline.ActionInterrupt); err != nil {
		fmt.Println(err)
	}
	cancel()
	<-done

	for ev := range events {
		if ev.Kind == pipeline.EventState {
			fmt.Printf("%s (%s)\n", ev.State, ev.Reason)
		}
	}
	fmt.Println(log.Calls())
	// Output:
	// pipeline: interrupt refused in state connected: there is no reply to interrupt
	// connecting (connecting)
	// connected (connected)
	// listening (button press)
	// processing (button release)
	// speaking (reply audio)
	// connected (interrupted by control)
	// [input_audio_buffer.clear stream on stream off input_audio_buffer.commit response.create player stop response.cancel stream off]
}
