package engine_test

import (
	"context"
	"testing"

	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/engine/enginetest"
)

// signalConn reports each commit on a channel.
type signalConn struct {
	enginetest.Conn
	commits chan struct{}
}

func (c *signalConn) CommitAudio() error {
	c.commits <- struct{}{}
	return nil
}

// BenchmarkReleaseToCommit measures the engine's part of "button release to commit on
// the wire" (budget: 5 ms): from HandleButton(ButtonRelease) to the CommitAudio call.
func BenchmarkReleaseToCommit(b *testing.B) {
	log := &enginetest.Log{}
	conn := &signalConn{Conn: enginetest.Conn{Log: log}, commits: make(chan struct{}, 1)}
	e, err := engine.New(engine.Config{Conn: conn, Gate: nopGate{}, Player: &enginetest.Player{Log: log}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "s"})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		e.HandleButton(engine.ButtonPress)
		e.HandleSpeech(engine.SpeechEdge{Start: true})
		if err := e.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		log.Take()
		b.StartTimer()
		e.HandleButton(engine.ButtonRelease)
		<-conn.commits
		b.StopTimer()
		// Back to CONNECTED for the next round.
		e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "r"})
		e.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: "r", Status: "completed"})
		b.StartTimer()
	}
}
