package pipeline_test

import (
	"context"
	"testing"

	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/pipeline/pipelinetest"
)

// signalConn reports each commit on a channel.
type signalConn struct {
	pipelinetest.Conn
	commits chan struct{}
}

func (c *signalConn) CommitAudio() error {
	c.commits <- struct{}{}
	return nil
}

// BenchmarkReleaseToCommit measures the engine's part of "button release to commit on
// the wire" (budget: 5 ms): from HandleButton(ButtonRelease) to the CommitAudio call.
func BenchmarkReleaseToCommit(b *testing.B) {
	log := &pipelinetest.Log{}
	conn := &signalConn{Conn: pipelinetest.Conn{Log: log}, commits: make(chan struct{}, 1)}
	e, err := pipeline.NewEngine(pipeline.EngineConfig{Conn: conn, Gate: nopGate{}, Player: &pipelinetest.Player{Log: log}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	e.HandleRealtime(pipeline.RealtimeEvent{Kind: pipeline.RealtimeConnected, SessionID: "s"})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		e.HandleButton(pipeline.ButtonPress)
		e.HandleSpeech(pipeline.SpeechEdge{Start: true})
		if err := e.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		log.Take()
		b.StartTimer()
		e.HandleButton(pipeline.ButtonRelease)
		<-conn.commits
		b.StopTimer()
		// Back to CONNECTED for the next round.
		e.HandleRealtime(pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseCreated, ResponseID: "r"})
		e.HandleRealtime(pipeline.RealtimeEvent{Kind: pipeline.RealtimeResponseDone, ResponseID: "r", Status: "completed"})
		b.StartTimer()
	}
}
