package engine

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// EventKind says what an Event reports.
type EventKind int

// Kinds of events the engine publishes.
const (
	EventState           EventKind = iota + 1 // State changed from Prev; Reason says why
	EventFlags                                // Muted, Paused or FollowUp changed; Reason says why
	EventSpeechStarted                        // the user started speaking (Source local or server)
	EventSpeechEnded                          // the user stopped speaking
	EventResponseStarted                      // the server started a reply: ResponseID
	EventResponseDone                         // the reply ended: ResponseID, Status
	EventTranscript                           // Role, Text, Final, ItemID
	EventError                                // Code, Message
	EventFault                                // a device problem began (Message) or ended (Message "")
	EventAlarm                                // the alarm started (Message says what rings) or stopped (Message "", Reason why)
	EventWakeWord                             // a wake word was heard: Word, Score
)

var eventNames = [...]string{"", "state", "flags", "speech_started", "speech_ended", "response_started",
	"response_done", "transcript", "error", "fault", "alarm", "wake_word"}

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
// Muted, Paused and FollowUp, which always tell where the engine is.
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
	// FollowUp: the follow-up window is open (speech starts a turn without a wake).
	FollowUp bool
	Reason   string

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
	Word       string  // wake_word: the word's name
	Score      float64 // wake_word: the detector's score, 0..1
}

// MarshalJSON writes the event as /v1/events sends it: {"type": kind, ...}, leaving
// out the fields its kind does not use.
func (e Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

// AppendJSON appends the event's JSON (as MarshalJSON) to b. It allocates nothing
// when b has room: /v1/events streams every speech edge of a turn, and an event
// stream must not make the audio path's steady state allocate.
func (e Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendJSONString(b, e.Kind.String())
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if e.Missed != 0 {
		b = append(b, `,"missed":`...)
		b = strconv.AppendUint(b, e.Missed, 10)
	}
	b = append(b, `,"state":`...)
	b = appendJSONString(b, e.State.String())
	if e.Kind == EventState {
		b = append(b, `,"prev":`...)
		b = appendJSONString(b, e.Prev.String())
	}
	b = append(b, `,"muted":`...)
	b = strconv.AppendBool(b, e.Muted)
	b = append(b, `,"paused":`...)
	b = strconv.AppendBool(b, e.Paused)
	b = append(b, `,"follow_up":`...)
	b = strconv.AppendBool(b, e.FollowUp)
	b = appendJSONField(b, "reason", e.Reason)
	b = appendJSONField(b, "source", e.Source)
	if ms := e.Length.Milliseconds(); ms != 0 {
		b = append(b, `,"length_ms":`...)
		b = strconv.AppendInt(b, ms, 10)
	}
	if e.Kind == EventTranscript {
		b = append(b, `,"role":`...)
		b = appendJSONString(b, e.Role.String())
		b = append(b, `,"text":`...)
		b = appendJSONString(b, e.Text)
		b = append(b, `,"final":`...)
		b = strconv.AppendBool(b, e.Final)
	}
	b = appendJSONField(b, "item_id", e.ItemID)
	b = appendJSONField(b, "response_id", e.ResponseID)
	b = appendJSONField(b, "status", e.Status)
	b = appendJSONField(b, "code", e.Code)
	b = appendJSONField(b, "message", e.Message)
	if e.Kind == EventWakeWord {
		b = appendJSONField(b, "word", e.Word)
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, e.Score, 'f', 3, 64)
	}
	return append(b, '}')
}

// appendJSONField appends ,"name":"v" unless v is empty (omitempty).
func appendJSONField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(append(append(b, `,"`...), name...), `":`...)
	return appendJSONString(b, v)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json does: quotes,
// backslashes and control characters; <, > and & for HTML; U+2028 and U+2029 for
// JavaScript; invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
