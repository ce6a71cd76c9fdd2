package backend

import (
	"context"
	"errors"
	"time"
)

// Backend is one voice service as the engine uses it. Run owns the
// connection; every other method may be called from any goroutine, returns
// at once, and reports the outcome through Events.
type Backend interface {
	// Run connects and keeps the service connected, reconnecting with a
	// jittered backoff, until ctx is done.
	Run(ctx context.Context) error
	// Events delivers what the service reports; it is closed when Run
	// returns. The caller must keep reading it.
	Events() <-chan Event
	// InputRate is the sample rate AppendAudio wants.
	InputRate() int
	// StartTurn opens a user turn (push-to-talk press, wake): whatever
	// was buffered or is playing on the server side is dropped.
	StartTurn() error
	// AppendAudio streams mono PCM16 at InputRate. It must not block or
	// allocate: audio the socket cannot take is dropped and counted.
	AppendAudio(pcm []int16) error
	// EndTurn closes the user turn (push-to-talk release) and asks for
	// the reply.
	EndTurn() error
	// Interrupt stops the reply replyID (barge-in): the server stops
	// generating, and where the protocol can (Realtime's truncate), forgets
	// what was not heard: heardMs of it were played; negative when unknown
	// (cancel without truncating).
	Interrupt(replyID string, heardMs int) error
	// PlaybackDone says the speaker has really played all of replyID.
	PlaybackDone(replyID string) error
	// Control forwards a control action to the service, where the
	// protocol has one; ErrUnsupported otherwise (the engine acts alone).
	Control(a Action) error
}

// TextSender is an optional capability: a typed user message, answered like
// speech. Check for it with a type assertion.
type TextSender interface {
	SendText(text string) error
}

// TimedAppender is an optional capability: AppendAudioAt also carries when
// the newest sample was captured (unix nanoseconds), for the uplink latency
// metric, as realtime.Client does.
type TimedAppender interface {
	AppendAudioAt(pcm []int16, captured int64) error
}

// OnDemand is an optional capability: connect only between Dial and Hangup
// (connection policy on_demand), as realtime.Client does.
type OnDemand interface {
	Dial()
	Hangup()
}

// AudioSink receives reply audio on the reader goroutine: mono PCM16 at rate
// Hz, valid only during the call. It must not block.
type AudioSink func(replyID string, pcm []int16, rate int)

// Action is a control action, with the names of /v1/control.
type Action string

// The control actions.
const (
	ActionInterrupt      Action = "interrupt"
	ActionStartListening Action = "start_listening"
	ActionStopListening  Action = "stop_listening"
	ActionPause          Action = "pause"
	ActionResume         Action = "resume"
)

// Kind says what an Event reports.
type Kind int

// Event kinds. The comments name the fields each one sets.
const (
	Connecting    Kind = iota + 1 // dialling or setting the session up
	Connected                     // session live: SessionID
	Disconnected                  // link lost: Err, RetryIn
	Fatal                         // retrying soon will not help: Err, RetryIn (0: only on Redial)
	SpeechStarted                 // the service heard the user start
	SpeechStopped                 // and stop
	Committed                     // the service closed the user's turn (its endpointing, or after EndTurn)
	Transcript                    // Role, Text, Final, ReplyID (assistant)
	ReplyStarted                  // a reply begins: ReplyID
	ReplyDone                     // all of a reply's text and audio were sent: ReplyID
	Interrupted                   // the service cut the reply: ReplyID (may be "")
	ControlAck                    // the service executed Action
	Error                         // a non-fatal service error: Err
)

var kindNames = [...]string{"", "connecting", "connected", "disconnected", "fatal",
	"speech_started", "speech_stopped", "committed", "transcript", "reply_started", "reply_done",
	"interrupted", "control_ack", "error"}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Role says who spoke a transcript.
type Role int

// Roles.
const (
	User Role = iota + 1
	Assistant
)

// Event is one report of a backend. Only the fields its Kind names are set.
type Event struct {
	Kind      Kind
	SessionID string
	ReplyID   string
	Role      Role
	Text      string
	Final     bool
	Action    Action
	Err       error
	RetryIn   time.Duration
}

// Errors shared by the backends.
var (
	ErrNotConnected = errors.New("backend: not connected")
	ErrDropped      = errors.New("backend: socket behind, audio dropped")
	ErrUnsupported  = errors.New("backend: not supported by this service")
)

// ErrorKind classifies a service error so the engine and /v1/status can say
// what to do about it.
type ErrorKind int

// Error kinds.
const (
	KindOther      ErrorKind = iota
	KindAuth                 // the key or token was rejected
	KindPermission           // the account may not do this
	KindQuota                // nothing left to spend
	KindInvalid              // the request or its audio was not accepted
	KindSession              // the session is gone or could not be made
	KindAudio                // the service could not process the audio
	KindTimeout              // the service ended an idle session
)

// Classified is implemented by service errors that know their ErrorKind and
// whether retrying soon can help.
type Classified interface {
	error
	Kind() ErrorKind
	Fatal() bool
}

// KindOf returns the ErrorKind of err, KindOther when it has none.
func KindOf(err error) ErrorKind {
	var c Classified
	if errors.As(err, &c) {
		return c.Kind()
	}
	return KindOther
}
