package pipeline

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/dsp/dsptest"
)

// uplinkFakeSink stands in for the realtime client.
type uplinkFakeSink struct {
	n, calls atomic.Int64
	failing  atomic.Bool
	mu       sync.Mutex // guards following fields
	sizes    []int
	keep     []int16 // appended audio, when it has capacity
}

var errUplinkTestSend = errors.New("test: not connected")

func (s *uplinkFakeSink) AppendAudio(pcm []int16) error {
	if s.failing.Load() {
		return errUplinkTestSend
	}
	s.calls.Add(1)
	s.n.Add(int64(len(pcm)))
	s.mu.Lock()
	defer s.mu.Unlock()
	if cap(s.keep) > 0 {
		s.keep = append(s.keep, pcm...)
	}
	if cap(s.sizes) > 0 {
		s.sizes = append(s.sizes, len(pcm))
	}
	return nil
}

func (s *uplinkFakeSink) total() int { return int(s.n.Load()) }

func (s *uplinkFakeSink) snapshot() ([]int, []int16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sizes), slices.Clone(s.keep)
}

// uplinkStart runs u until the test ends.
func uplinkStart(t *testing.T, u *Uplink) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	})
}

func TestUplinkChunksAndFlush(t *testing.T) {
	ring, err := dsp.NewRing(CaptureRate, dsp.RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	sink := &uplinkFakeSink{sizes: make([]int, 0, 16), keep: make([]int16, 0, 4096)}
	u, err := NewUplink(ring, sink, UplinkConfig{}) // 40 ms = 960 samples
	if err != nil {
		t.Fatal(err)
	}
	uplinkStart(t, u)
	audio := dsptest.Ramp(0, 2400) // 100 ms, in 10 ms frames as capture writes it
	for i := 0; i < len(audio); i += 240 {
		ring.Write(audio[i : i+240])
	}
	ctx := context.Background()
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sizes, got := sink.snapshot()
	if !slices.Equal(sizes, []int{960, 960, 480}) {
		t.Errorf("append sizes = %v, want [960 960 480]", sizes)
	}
	if !slices.Equal(got, audio) {
		t.Errorf("appended audio differs from what was written (%d vs %d samples)", len(got), len(audio))
	}
	if st := u.Stats(); st.Chunks != 3 || st.Samples != 2400 || st.Errors != 0 {
		t.Errorf("Stats = %+v, want 3 chunks, 2400 samples, no errors", st)
	}
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := u.Stats(); st.Chunks != 3 {
		t.Errorf("an empty Flush appended: %+v", st)
	}
}

func TestUplinkHold(t *testing.T) {
	ring, err := dsp.NewRing(CaptureRate, dsp.RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	sink := &uplinkFakeSink{}
	u, err := NewUplink(ring, sink, UplinkConfig{ChunkMs: 20})
	if err != nil {
		t.Fatal(err)
	}
	u.SetHold(true)
	uplinkStart(t, u)
	ring.Write(make([]int16, 4800))
	// Give a (wrongly) unheld uplink every chance to send.
	time.Sleep(20 * time.Millisecond)
	if n := sink.total(); n != 0 {
		t.Fatalf("held uplink sent %d samples", n)
	}
	u.SetHold(false)
	for sink.total() < 4800 {
		time.Sleep(time.Millisecond)
	}
	if c := sink.calls.Load(); c != 10 {
		t.Errorf("%d appends for 200 ms in 20 ms chunks, want 10", c)
	}
}

func TestUplinkSinkErrors(t *testing.T) {
	ring, err := dsp.NewRing(CaptureRate, dsp.RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	sink := &uplinkFakeSink{}
	sink.failing.Store(true)
	u, err := NewUplink(ring, sink, UplinkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	uplinkStart(t, u)
	ring.Write(make([]int16, 1000))
	if err := u.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := u.Stats(); st.Errors != 2 || st.Chunks != 0 {
		t.Errorf("Stats = %+v, want 2 errors and no chunks", st)
	}
	sink.failing.Store(false)
	ring.Write(make([]int16, 100))
	if err := u.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := u.Stats(); st.Chunks != 1 || st.Samples != 100 {
		t.Errorf("after recovery Stats = %+v, want 1 chunk of 100", st)
	}
}

func TestUplinkFlushWithoutRun(t *testing.T) {
	ring, err := dsp.NewRing(1024, dsp.RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	u, err := NewUplink(ring, &uplinkFakeSink{}, UplinkConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := u.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush before Run = %v, want context.Canceled", err)
	}
	if err := u.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run(cancelled) = %v, want context.Canceled", err)
	}
	if err := u.Flush(context.Background()); !errors.Is(err, errUplinkStopped) {
		t.Errorf("Flush after Run = %v, want errUplinkStopped", err)
	}
}

func TestNewUplinkErrors(t *testing.T) {
	ring, err := dsp.NewRing(1024, dsp.RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ring *dsp.Ring
		sink uplinkSink
		ms   int
	}{
		{"no ring", nil, &uplinkFakeSink{}, 0},
		{"no sink", ring, nil, 0},
		{"chunk too small", ring, &uplinkFakeSink{}, 10},
		{"chunk too large", ring, &uplinkFakeSink{}, 101},
	} {
		if _, err := NewUplink(tc.ring, tc.sink, UplinkConfig{ChunkMs: tc.ms}); err == nil {
			t.Errorf("%s: NewUplink = nil error, want error", tc.name)
		}
	}
}

func BenchmarkUplinkChunk(b *testing.B) {
	ring, err := dsp.NewRing(CaptureRate, dsp.RingOverwrite)
	if err != nil {
		b.Fatal(err)
	}
	u, err := NewUplink(ring, &uplinkFakeSink{}, UplinkConfig{})
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, len(u.chunk))
	b.SetBytes(int64(2 * len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		ring.Write(frame)
		u.drain(false)
	}
}

// TestUplinkGate checks the promise the engine relies on: once
// SetStreaming(false) returns, every gated sample has been appended.
func TestUplinkGate(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	sig := make([]int16, 24000)
	for i := range sig {
		sig[i] = int16(i%1000 + 1)
	}
	r := newCaptureRig(t, f, 240, sig, -1)
	r.mic.err = nil
	sink := &uplinkFakeSink{}
	u, err := NewUplink(r.ring, sink, UplinkConfig{ChunkMs: 100})
	if err != nil {
		t.Fatal(err)
	}
	uplinkStart(t, u)
	g := &UplinkGate{Capture: r.c, Uplink: u}
	g.SetStreaming(true)
	for range 7 { // 70 ms: less than one chunk
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	g.SetStreaming(false)
	if n := sink.total(); n != 7*240 {
		t.Errorf("after SetStreaming(false) the sink has %d samples, want %d", n, 7*240)
	}
}

// uplinkTimedSink records the capture time each append carried.
type uplinkTimedFake struct {
	uplinkFakeSink
	at []int64
}

func (s *uplinkTimedFake) AppendAudioAt(pcm []int16, captured int64) error {
	s.at = append(s.at, captured)
	return s.AppendAudio(pcm)
}

// TestUplinkCaptureTimes: each append carries when its newest sample entered the ring,
// from the capture loop's stamps: with 10 ms frames and 40 ms chunks, the time of every
// fourth frame; the pre-roll sent on opening counts as written when it was sent.
func TestUplinkCaptureTimes(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	r := newCaptureRig(t, f, 240, make([]int16, 240*200), 20) // 20 ms of pre-roll
	clock := int64(1_000_000)
	r.c.now = func() int64 { return clock }
	sink := &uplinkTimedFake{}
	u, err := NewUplink(r.ring, sink, UplinkConfig{ChunkMs: 40})
	if err != nil {
		t.Fatal(err)
	}
	u.TimeFrom(r.c)
	step := func() {
		t.Helper()
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
		clock += 10
	}
	step()
	step() // two frames of pre-roll, not sent
	r.c.SetStreaming(true)
	for range 8 {
		step() // frame k written at 1_000_020 + 10k
	}
	u.drain(false)
	// Ring: 20 ms pre-roll (sent at the first open frame, 1_000_020, which is its
	// end), then 7 more frames. Chunks of 4 frames end at frames 3 and 7 counting the
	// pre-roll's two: written at 1_000_040 and 1_000_080.
	if want := []int64{1_000_040, 1_000_080}; !slices.Equal(sink.at, want) {
		t.Errorf("appends carried capture times %v, want %v", sink.at, want)
	}
	// Stamps too old to be remembered are not guessed.
	for range captureStamps + 1 {
		step()
	}
	if _, ok := r.c.CapturedAt(1); ok {
		t.Errorf("CapturedAt found a time for audio written %d writes ago", captureStamps+1)
	}
}
