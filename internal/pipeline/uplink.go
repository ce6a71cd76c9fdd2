package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/voiced-project/voiced/internal/dsp"
)

// DefaultUplinkChunkMs is how much audio goes into one append by default:
// small enough to keep mic-to-wire latency low, large enough that the
// per-message overhead stays small.
const DefaultUplinkChunkMs = 40

// uplinkSink takes audio for the server. *realtime.Client satisfies it:
// AppendAudio encodes pcm (24 kHz mono) before it returns, never blocks and
// does not keep pcm.
type uplinkSink interface {
	AppendAudio(pcm []int16) error
}

// uplinkTimedSink is a sink that can also carry when the newest sample of an append
// was captured, to measure what the daemon adds between microphone and socket.
// *realtime.Client satisfies it.
type uplinkTimedSink interface {
	AppendAudioAt(pcm []int16, captured int64) error
}

// uplinkStamps says when audio entered the ring. *Capture satisfies it.
type uplinkStamps interface {
	CapturedAt(end uint64) (int64, bool)
}

// UplinkConfig sets the chunk size of the uplink.
type UplinkConfig struct {
	// ChunkMs is the audio per append, 20 to 100 ms; 0 means
	// DefaultUplinkChunkMs.
	ChunkMs int
}

// UplinkStats are running totals for metrics.
type UplinkStats struct {
	Chunks  uint64 // appends made
	Samples uint64 // samples appended
	Errors  uint64 // appends that returned an error (their audio is lost)
}

// errUplinkStopped is returned by Flush when Run has returned.
var errUplinkStopped = errors.New("pipeline: uplink stopped")

// Uplink drains the uplink ring into the realtime client in fixed chunks.
// Run belongs to one goroutine; Flush, SetHold and Stats may be called from
// any other.
type Uplink struct {
	ring   *dsp.Ring
	sink   uplinkSink
	timed  uplinkTimedSink // sink, when it takes capture times
	stamps uplinkStamps    // set by TimeFrom before Run
	chunk  []int16

	hold    atomic.Bool
	wake    chan struct{}      // coalesced: hold changed
	flushes chan chan struct{} // Flush requests, each with its reply
	done    chan struct{}      // closed when Run returns

	chunks, samples, errs atomic.Uint64
}

// NewUplink returns an uplink from ring to sink.
func NewUplink(ring *dsp.Ring, sink uplinkSink, c UplinkConfig) (*Uplink, error) {
	if ring == nil || sink == nil {
		return nil, fmt.Errorf("new uplink: ring and sink are required")
	}
	ms := c.ChunkMs
	if ms == 0 {
		ms = DefaultUplinkChunkMs
	}
	if ms < 20 || ms > 100 {
		return nil, fmt.Errorf("new uplink: chunk of %d ms out of range [20, 100]", ms)
	}
	timed, _ := sink.(uplinkTimedSink)
	return &Uplink{
		ring:    ring,
		sink:    sink,
		timed:   timed,
		chunk:   make([]int16, CaptureRate*ms/1000),
		wake:    make(chan struct{}, 1),
		flushes: make(chan chan struct{}),
		done:    make(chan struct{}),
	}, nil
}

// Run sends whole chunks as they fill until ctx is done. Call it once.
func (u *Uplink) Run(ctx context.Context) error {
	defer close(u.done)
	for {
		if !u.hold.Load() {
			u.drain(false)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-u.ring.Ready():
		case <-u.wake:
		case reply := <-u.flushes:
			u.drain(true)
			close(reply)
		}
	}
}

// drain appends whole chunks, and with partial also the remainder.
func (u *Uplink) drain(partial bool) {
	for {
		n := u.ring.Len()
		if n == 0 || (n < len(u.chunk) && !partial) {
			return
		}
		u.send(u.ring.Read(u.chunk))
	}
}

// TimeFrom makes each append carry when its newest sample entered the ring, from the
// capture loop's stamps, if the sink takes it. Call it before Run.
func (u *Uplink) TimeFrom(s uplinkStamps) { u.stamps = s }

func (u *Uplink) send(n int) {
	if n == 0 {
		return
	}
	var err error
	if at, ok := u.capturedAt(); ok {
		err = u.timed.AppendAudioAt(u.chunk[:n], at)
	} else {
		err = u.sink.AppendAudio(u.chunk[:n])
	}
	if err != nil {
		// The client counts and reports its own failures; the audio of
		// this chunk is gone either way, and the next one may succeed.
		u.errs.Add(1)
		return
	}
	u.chunks.Add(1)
	u.samples.Add(uint64(n))
}

func (u *Uplink) capturedAt() (int64, bool) {
	if u.stamps == nil || u.timed == nil {
		return 0, false
	}
	return u.stamps.CapturedAt(u.ring.ReadEnd())
}

// Flush sends everything queued, a last partial chunk included, and
// returns once it has been appended (also while held). The engine calls it
// after Capture.SetStreaming(false) and before committing the turn.
func (u *Uplink) Flush(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case u.flushes <- reply:
	case <-u.done:
		return fmt.Errorf("flush uplink: %w", errUplinkStopped)
	case <-ctx.Done():
		return fmt.Errorf("flush uplink: %w", ctx.Err())
	}
	select {
	case <-reply:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush uplink: %w", ctx.Err())
	}
}

// SetHold stops (true) or resumes (false) sending. While held, audio stays
// in the ring (the newest of it, up to the ring's size), for example while
// an on-demand connection is being opened.
func (u *Uplink) SetHold(on bool) {
	u.hold.Store(on)
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// DefaultUplinkFlushTimeout bounds how long UplinkGate waits for the
// uplink; appends never block, so it only matters when the uplink has
// stopped.
const DefaultUplinkFlushTimeout = 200 * time.Millisecond

// UplinkGate is the capture gate the engine drives: it opens and closes
// the Capture's gate, and on closing waits until the Uplink has appended
// every sample gated before, so that the engine's next CommitAudio covers
// the whole turn. It takes well under a millisecond.
type UplinkGate struct {
	Capture *Capture
	Uplink  *Uplink
	// Timeout bounds the wait for the flush: 0 means
	// DefaultUplinkFlushTimeout.
	Timeout time.Duration
}

// SetStreaming opens (true) or closes (false) the flow of captured audio.
func (g *UplinkGate) SetStreaming(on bool) {
	g.Capture.SetStreaming(on)
	if on {
		return
	}
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = DefaultUplinkFlushTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// A failed flush (uplink stopped) loses only this turn's tail; the
	// connection's own errors reach the engine as realtime events.
	_ = g.Uplink.Flush(ctx)
}

// SetDetecting switches the Capture's voice detector (see Capture.SetDetecting); the
// engine calls it through the gate.
func (g *UplinkGate) SetDetecting(on bool) {
	if g.Capture != nil {
		g.Capture.SetDetecting(on)
	}
}

// Stats returns running totals.
func (u *Uplink) Stats() UplinkStats {
	return UplinkStats{Chunks: u.chunks.Load(), Samples: u.samples.Load(), Errors: u.errs.Load()}
}
