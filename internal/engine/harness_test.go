package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/engine/enginetest"
)

// harness runs an engine against the fakes of enginetest on a fake clock. Every
// step waits (Sync) until the engine has handled it, so what a test sees is
// deterministic without sleeping.
type harness struct {
	t       *testing.T
	e       *engine.Engine
	log     *enginetest.Log
	conn    *enginetest.Conn
	player  *enginetest.Player
	gate    *enginetest.Gate
	vad     *enginetest.VAD
	led     *enginetest.LED
	clock   *clocktest.Clock
	events  <-chan engine.Event
	got     []engine.Event // received, not yet taken
	history []engine.Event // everything received
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// baseConfig is the config of most scenarios: mode both, local end of turn.
func baseConfig() engine.Config {
	return engine.Config{Options: engine.Options{
		Mode:          engine.ModeBoth,
		TurnEnd:       engine.TurnEndLocal,
		EchoGuard:     800 * time.Millisecond,
		ListenTimeout: 8 * time.Second,
		MaxTurn:       30 * time.Second,
		ReplyTimeout:  15 * time.Second,
	}}
}

func newHarness(t *testing.T, mutate func(*engine.Config)) *harness {
	t.Helper()
	h := &harness{t: t, log: &enginetest.Log{}, led: &enginetest.LED{}, clock: clocktest.NewClock(epoch)}
	h.conn = &enginetest.Conn{Log: h.log}
	h.player = &enginetest.Player{Log: h.log}
	c := baseConfig()
	h.gate, h.vad = &enginetest.Gate{Log: h.log}, &enginetest.VAD{Log: h.log}
	c.Conn, c.Gate, c.Player = h.conn, h.gate, h.player
	c.VAD, c.LED, c.Earcons, c.Clock = h.vad, h.led, &enginetest.Earcons{Log: h.log}, h.clock
	if mutate != nil {
		mutate(&c)
	}
	e, err := engine.New(c)
	if err != nil {
		t.Fatalf("NewEngine: %v", err)
	}
	h.e = e
	var cancel func()
	h.events, cancel = e.Subscribe(4096)
	_ = cancel // the subscription ends with Run
	ctx, stop := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-errc; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
	h.sync()
	return h
}

// sync waits until the engine handled everything sent so far and collects the events.
func (h *harness) sync() {
	h.t.Helper()
	// The deadline only turns a hung engine into a failure; it never paces the test.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.e.Sync(ctx); err != nil {
		h.t.Fatalf("Sync: %v", err)
	}
	for {
		select {
		case ev, ok := <-h.events:
			if !ok {
				return
			}
			h.got = append(h.got, ev)
			h.history = append(h.history, ev)
		default:
			return
		}
	}
}

func (h *harness) button(b engine.ButtonEvent) { h.e.HandleButton(b); h.sync() }
func (h *harness) speech(start bool)           { h.e.HandleSpeech(engine.SpeechEdge{Start: start}); h.sync() }
func (h *harness) rt(ev engine.RealtimeEvent)  { h.e.HandleRealtime(ev); h.sync() }

// advance moves the clock by d one due timer at a time, letting the engine handle each
// before the next, so that timers armed by timers fire within the same advance.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	end := h.clock.Now().Add(d)
	for {
		next, ok := h.clock.Next()
		if !ok || next.After(end) {
			h.clock.Advance(end.Sub(h.clock.Now()))
			h.sync()
			return
		}
		h.clock.Advance(next.Sub(h.clock.Now()))
		h.sync()
	}
}

func (h *harness) control(a engine.Action) error {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := h.e.Control(ctx, a)
	h.sync()
	return err
}

// takeEvents returns the events received since the last take.
func (h *harness) takeEvents() []engine.Event {
	ev := h.got
	h.got = nil
	return ev
}

// takeStates returns the states entered since the last take (and drops the other
// events).
func (h *harness) takeStates() []string {
	var s []string
	for _, ev := range h.takeEvents() {
		if ev.Kind == engine.EventState {
			s = append(s, ev.State.String())
		}
	}
	return s
}

// connect brings a fresh engine to CONNECTED and forgets what that logged.
func (h *harness) connect() {
	h.t.Helper()
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: "sess_1"})
	h.expect("connect", []string{"connecting", "connected"}, nil)
}

// expect asserts the states entered and the calls made since the last check.
func (h *harness) expect(step string, states, calls []string) {
	h.t.Helper()
	if got := h.takeStates(); !slices.Equal(got, states) {
		h.t.Errorf("%s: states = %q, want %q", step, got, states)
	}
	if got := h.log.Take(); !slices.Equal(got, calls) {
		h.t.Errorf("%s: calls = %q, want %q", step, got, calls)
	}
}

// toSpeaking runs a push-to-talk turn up to a reply that is playing item_1 of resp_1.
func (h *harness) toSpeaking() {
	h.t.Helper()
	h.button(engine.ButtonPress)
	h.speech(true)
	h.advance(time.Second)
	h.button(engine.ButtonRelease)
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: "resp_1"})
	h.player.Play()
	h.rt(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: "item_1"})
	h.expect("to speaking", []string{"listening", "processing", "speaking"}, []string{
		"input_audio_buffer.clear", "stream on", "earcon listen-start",
		"stream off", "input_audio_buffer.commit", "response.create", "earcon listen-end",
		"echo guard on"})
}

// findEvent returns the first event of kind k in evs.
func findEvent(evs []engine.Event, k engine.EventKind) (engine.Event, bool) {
	for _, ev := range evs {
		if ev.Kind == k {
			return ev, true
		}
	}
	return engine.Event{}, false
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
