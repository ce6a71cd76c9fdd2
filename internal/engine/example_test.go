package engine_test

import (
	"context"
	"fmt"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/engine/enginetest"
)

// A push-to-talk turn, with fakes in place of the realtime client, the capture gate and
// the player. In the daemon, the button, the capture loop (VoiceEdges) and the realtime
// client's events feed the engine the same way, and the LED, /v1/events and sd_notify
// follow its events.
func ExampleEngine() {
	log := &enginetest.Log{}
	player := &enginetest.Player{Log: log}
	e, err := engine.New(engine.Config{
		Options: engine.Options{Mode: engine.ModePushToTalk, EchoGuard: 800 * time.Millisecond},
		Conn:    &enginetest.Conn{Log: log},
		Gate:    &enginetest.Gate{Log: log},
		Player:  player,
		Clock:   clocktest.NewClock(time.Unix(0, 0)),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	events, _ := e.Subscribe(0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()

	e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
	e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "sess_1"})
	e.HandleButton(engine.ButtonPress)
	e.HandleSpeech(engine.SpeechEdge{Start: true})
	e.HandleButton(engine.ButtonRelease)
	e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
	player.Play()
	e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_1"})
	if err := e.Control(ctx, engine.ActionInterrupt); err != nil {
		fmt.Println(err)
	}
	if err := e.Control(ctx, engine.ActionInterrupt); err != nil {
		fmt.Println(err)
	}
	cancel()
	<-done

	for ev := range events {
		if ev.Kind == engine.EventState {
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
