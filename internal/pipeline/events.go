package pipeline

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

// Kinds of events the engine publishes.
const (
	EventState           EventKind = iota + 1 // State changed from Prev; Reason says why
	EventFlags                                // Muted or Paused changed; Reason says why
	EventSpeechStarted                        // the user started speaking (Source local or server)
	EventSpeechEnded                          // the user stopped speaking
	EventResponseStarted                      // the server started a reply: ResponseID
	EventResponseDone                         // the reply ended: ResponseID, Status
	EventTranscript                           // Role, Text, Final, ItemID
	EventError                                // Code, Message
	EventFault                                // a device problem began (Message) or ended (Message "")
)

var eventNames = [...]string{"", "state", "flags", "speech_started", "speech_ended", "response_started",
	"response_done", "transcript", "error", "fault"}

func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return fmt.Sprintf("event(%d)", int(k))
}

// MarshalText writes the kind's name, the SSE event name of /v1/events.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Event is one thing the engine reports to its subscribers (LED, /v1/events,
// sd_notify STATUS, logs). Only the fields its Kind names are set, apart from State,
// Muted and Paused, which always tell where the engine is.
type Event struct {
	Kind EventKind
	Seq  uint64 // 1, 2, 3... in publication order
	Time time.Time
	// Missed counts the events this subscriber lost, because it was slow, just before
	// this one.
	Missed uint64

	State  State
	Prev   State
	Muted  bool
	Paused bool
	Reason string

	Source     string        // speech events: local (the device's VAD) or server
	Length     time.Duration // local speech events: the speech heard (see SpeechEdge)
	Role       Role
	Text       string
	Final      bool
	ItemID     string
	ResponseID string
	Status     string
	Code       string
	Message    string
}

// MarshalJSON writes the event as /v1/events sends it: {"type": kind, ...}, leaving
// out the fields its kind does not use.
func (e Event) MarshalJSON() ([]byte, error) {
	type wire struct {
		Type       EventKind `json:"type"`
		Seq        uint64    `json:"seq"`
		Time       time.Time `json:"time"`
		Missed     uint64    `json:"missed,omitempty"`
		State      State     `json:"state"`
		Prev       *State    `json:"prev,omitempty"`
		Muted      bool      `json:"muted"`
		Paused     bool      `json:"paused"`
		Reason     string    `json:"reason,omitempty"`
		Source     string    `json:"source,omitempty"`
		LengthMs   int64     `json:"length_ms,omitempty"`
		Role       *Role     `json:"role,omitempty"`
		Text       *string   `json:"text,omitempty"`
		Final      *bool     `json:"final,omitempty"`
		ItemID     string    `json:"item_id,omitempty"`
		ResponseID string    `json:"response_id,omitempty"`
		Status     string    `json:"status,omitempty"`
		Code       string    `json:"code,omitempty"`
		Message    string    `json:"message,omitempty"`
	}
	w := wire{Type: e.Kind, Seq: e.Seq, Time: e.Time, Missed: e.Missed, State: e.State, Muted: e.Muted,
		Paused: e.Paused, Reason: e.Reason, Source: e.Source, LengthMs: e.Length.Milliseconds(), ItemID: e.ItemID, ResponseID: e.ResponseID,
		Status: e.Status, Code: e.Code, Message: e.Message}
	switch e.Kind {
	case EventState:
		w.Prev = &e.Prev
	case EventTranscript:
		w.Role, w.Text, w.Final = &e.Role, &e.Text, &e.Final
	}
	return json.Marshal(w)
}

// DefaultSubscriberBuffer is the channel size Subscribe uses when asked for 0 or less.
const DefaultSubscriberBuffer = 64

// bus fans events out to subscribers without ever blocking the publisher: a subscriber
// whose channel is full loses the event, and the loss is counted.
type bus struct {
	dropped atomic.Uint64 // events lost by all subscribers together

	mu     sync.Mutex // guards following fields
	subs   map[*subscriber]struct{}
	seq    uint64
	closed bool
}

type subscriber struct {
	ch     chan Event
	missed uint64 // guarded by bus.mu
}

// subscribe adds a subscriber. After close it returns a closed channel.
func (b *bus) subscribe(buffer int) (<-chan Event, func()) {
	if buffer <= 0 {
		buffer = DefaultSubscriberBuffer
	}
	s := &subscriber{ch: make(chan Event, buffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	if b.subs == nil {
		b.subs = make(map[*subscriber]struct{})
	}
	b.subs[s] = struct{}{}
	return s.ch, func() { b.unsubscribe(s) }
}

func (b *bus) unsubscribe(s *subscriber) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		close(s.ch)
	}
}

// publish numbers ev and offers it to every subscriber.
func (b *bus) publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	ev.Seq = b.seq
	for s := range b.subs {
		ev.Missed = s.missed
		select {
		case s.ch <- ev:
			s.missed = 0
		default:
			s.missed++
			b.dropped.Add(1)
		}
	}
}

// close ends every subscription; later subscriptions get a closed channel.
func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		close(s.ch)
	}
	b.subs = nil
}
