package siolink

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
)

// proto records what a Link hands it.
type proto struct {
	audio  []string
	events []string
	acks   []int
	resets int
	err    error // Event's answer
}

func (p *proto) Audio(arg []byte) { p.audio = append(p.audio, string(arg)) }
func (p *proto) Event(name string, arg []byte) error {
	p.events = append(p.events, name)
	return p.err
}
func (p *proto) Ack(id int) { p.acks = append(p.acks, id) }
func (p *proto) Reset()     { p.resets++ }

// classified is a service error of kind k.
type classified struct {
	k     backend.ErrorKind
	fatal bool
}

func (e classified) Error() string           { return "service error" }
func (e classified) Kind() backend.ErrorKind { return e.k }
func (e classified) Fatal() bool             { return e.fatal }

func newLink(t *testing.T, o Options) (*Link, *proto) {
	t.Helper()
	p := &proto{}
	o.Name, o.AudioEvent, o.InputRate = "test", "voice", 16000
	l, err := New(o, sio.ClientOptions{URL: "http://127.0.0.1:1", Namespace: "/x"}, p)
	if err != nil {
		t.Fatal(err)
	}
	return l, p
}

func packet(t *testing.T, s string) sio.Packet {
	t.Helper()
	p, err := sio.ParsePacket([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPacketDispatch(t *testing.T) {
	l, p := newLink(t, Options{})
	for _, s := range []string{
		`2/x,["voice",{"audio":"AAAA"}]`,
		`2/x,["hello",{"a":1}]`,
		`3/x,7[]`,
		`2/x,not json`, // logged and skipped
		`0/x,{"sid":"s"}`,
	} {
		if err := l.Packet(packet(t, s)); err != nil {
			t.Errorf("Packet(%s) = %v, want nil", s, err)
		}
	}
	if !slices.Equal(p.audio, []string{`{"audio":"AAAA"}`}) || !slices.Equal(p.events, []string{"hello"}) || !slices.Equal(p.acks, []int{7}) {
		t.Errorf("audio %q, events %q, acks %v; want the voice argument, hello and 7", p.audio, p.events, p.acks)
	}
	p.err = errors.New("drop the link")
	if err := l.Packet(packet(t, `2/x,["bye"]`)); err != p.err {
		t.Errorf("Packet = %v, want Event's error", err)
	}
}

func TestClosed(t *testing.T) {
	stop := &sio.StopError{Err: classified{k: backend.KindTimeout}}
	for _, tc := range []struct {
		name  string
		fatal func(backend.Classified) bool
		err   error
		want  backend.Kind
	}{
		{"plain error", nil, errors.New("reset"), backend.Disconnected},
		{"fatal service error", nil, classified{k: backend.KindAuth, fatal: true}, backend.Fatal},
		{"retryable service error", nil, stop, backend.Disconnected},
		{"retryable made fatal", func(e backend.Classified) bool { return e.Kind() == backend.KindTimeout }, stop, backend.Fatal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, p := newLink(t, Options{Fatal: tc.fatal})
			l.live.Store(true)
			l.Closed(tc.err, time.Second)
			ev := <-l.Events()
			if ev.Kind != tc.want || ev.Err != tc.err || ev.RetryIn != time.Second {
				t.Errorf("Closed(%v) = %v %v %v, want %v with the error and 1s", tc.err, ev.Kind, ev.Err, ev.RetryIn, tc.want)
			}
			if p.resets != 1 || l.Connected() {
				t.Errorf("after Closed: %d resets, Connected %v; want 1 and false", p.resets, l.Connected())
			}
		})
	}
}

func TestRunClosesEvents(t *testing.T) {
	l, p := newLink(t, Options{Tuning: Tuning{BackoffMin: time.Hour, BackoffMax: time.Hour}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	if ev := <-l.Events(); ev.Kind != backend.Connecting {
		t.Fatalf("first event %v, want connecting", ev.Kind)
	}
	if ev := <-l.Events(); ev.Kind != backend.Disconnected { // nothing listens on port 1
		t.Fatalf("second event %v, want disconnected", ev.Kind)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	for range l.Events() {
	}
	if p.resets != 2 { // the failed dial, and Run's own on its way out
		t.Errorf("Reset called %d times, want 2", p.resets)
	}
	l.EmitAsync(backend.Event{Kind: backend.Error}) // after Run: dropped, no panic
	if err := l.CheckLive(); !errors.Is(err, backend.ErrNotConnected) || l.Dropped() != 1 {
		t.Errorf("CheckLive = %v with %d dropped, want ErrNotConnected and 1", err, l.Dropped())
	}
}
