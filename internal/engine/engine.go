package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiced-project/voiced/internal/clock"
)

// realtimeConn is the send side of the realtime client as the engine uses it.
// *realtime.Client satisfies it. Audio itself goes from the uplink, not the engine.
type realtimeConn interface {
	CommitAudio() error
	ClearAudio() error
	CreateResponse() error
	CancelResponse() error
	TruncateItem(itemID string, contentIndex, audioEndMs int) error
}

// captureGate opens and closes the flow of captured audio to the server.
type captureGate interface {
	// SetStreaming(true) sends the pre-roll, then live audio. SetStreaming(false) stops
	// the flow; audio gated before it must reach AppendAudio before the engine's next
	// CommitAudio does.
	SetStreaming(on bool)
}

// voiceDetector switches the voice detector on the capture side. A Gate that also
// satisfies it (UplinkGate does) lets the engine run the detector only while
// something uses its decisions.
type voiceDetector interface {
	SetDetecting(on bool)
}

// player is the playback side as the engine uses it.
type player interface {
	// Stop silences playback within one period and drops what is queued, including
	// later audio of the item that was playing.
	Stop()
	// Heard is the milliseconds of the current (or just stopped) reply item the user
	// heard: frames handed to the device minus its delay, capped at what was received.
	Heard() int
	// Idle reports that nothing is queued or playing.
	Idle() bool
}

// connector opens and closes the realtime connection on demand (connection:
// on_demand). Both return at once; the outcome comes back as realtime events.
type connector interface {
	Dial()
	Hangup()
}

// echoGuard is the VAD's echo guard: wake off or threshold raised while the device
// speaks.
type echoGuard interface{ SetEchoGuard(on bool) }

// indicator is the status LED.
type indicator interface{ SetPattern(p LEDPattern) }

// earconPlayer plays short tones mixed into playback.
type earconPlayer interface{ PlayEarcon(c Cue) }

// Clock is the time source of the engine, injectable for tests (clocktest.Clock).
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) clock.Timer
}

// EngineConfig is what NewEngine needs. Conn, Gate and Player are required;
// Connector, LED, Earcons, VAD, Heartbeat and Logger may be nil.
type Config struct {
	Options

	Conn realtimeConn
	// Connector, when set, connects on demand: a wake in IDLE dials (the gate opens at
	// once and the audio path buffers until the session is up), and IdleHangup in
	// CONNECTED hangs up. Nil: the connection is always on and the engine only follows it.
	Connector connector
	Gate      captureGate
	Player    player
	VAD       echoGuard
	LED       indicator
	Earcons   earconPlayer
	Clock     Clock // nil: the system clock

	// Heartbeat is called from the engine loop every HeartbeatInterval (0: default); a
	// hung engine stops calling it (systemd watchdog).
	Heartbeat         func()
	HeartbeatInterval time.Duration

	Logger *slog.Logger
}

// Status is a snapshot of the engine, safe to take from any goroutine.
type Status struct {
	State          State     `json:"state"`
	StateSince     time.Time `json:"state_since"`
	Muted          bool      `json:"muted"`
	Paused         bool      `json:"paused"`
	FollowUp       bool      `json:"follow_up"`       // the follow-up window is open
	Alarm          string    `json:"alarm,omitempty"` // what rings, "" when nothing does
	Mode           Mode      `json:"mode"`
	TurnEnd        TurnEnd   `json:"turn_end"`
	SessionID      string    `json:"session_id,omitempty"`
	ConnectedSince time.Time `json:"connected_since,omitzero"` // zero while not connected
	ResponseActive bool      `json:"response_active"`
	Fatal          string    `json:"fatal,omitempty"` // why the connection gave up for good, if it did
	LastError      string    `json:"last_error,omitempty"`
	LastErrorAt    time.Time `json:"last_error_at,omitzero"`

	Turns          uint64 `json:"turns"`      // turns sent to the server
	Replies        uint64 `json:"replies"`    // responses completed
	Played         uint64 `json:"played"`     // replies played to their end
	Interrupts     uint64 `json:"interrupts"` // replies stopped by barge-in or control
	ListenTimeouts uint64 `json:"listen_timeouts"`
	ReplyTimeouts  uint64 `json:"reply_timeouts"`
	EchoSuppressed uint64 `json:"echo_suppressed"` // VAD onsets ignored by the echo guard
	Reconnects     uint64 `json:"reconnects"`
	Errors         uint64 `json:"errors"`
	DroppedInputs  uint64 `json:"dropped_inputs"` // speech edges lost because the engine was behind
	DroppedEvents  uint64 `json:"dropped_events"` // events lost by slow subscribers
}

// Summary says the state in words, for sd_notify STATUS and logs.
func (s Status) Summary() string {
	var b strings.Builder
	b.WriteString(s.State.String())
	if s.Muted {
		b.WriteString(", muted")
	}
	if s.Paused {
		b.WriteString(", paused")
	}
	if s.Fatal != "" {
		b.WriteString(": ")
		b.WriteString(s.Fatal)
	}
	return b.String()
}

type inputKind uint8

const (
	inButton inputKind = iota + 1
	inSpeech
	inRealtime
	inControl
	inOptions
	inTimer
	inSync
	inFault
	inExpectAnswer
	inAlarm
	inWakeWord
	inAnnounce
)

// input is one thing for the engine goroutine. A struct, not an interface, so that
// posting from the audio path does not allocate.
type input struct {
	kind   inputKind
	button ButtonEvent
	speech SpeechEdge
	rt     RealtimeEvent
	ctl    *controlReq
	opts   *Options
	timer  timerKind
	gen    uint64
	sync   chan struct{}
	fault  string
	wake   WakeWord
	ann    *announceReq
}

const inputQueue = 256

// Engine is the conversation state machine. All conversation state belongs to the
// goroutine running Run; everything else talks to it through inputs.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	clock Clock
	in    chan input
	done  chan struct{} // closed when Run returns
	bus   bus

	started       atomic.Bool
	droppedInputs atomic.Uint64

	mu     sync.Mutex // guards following fields
	status Status

	// Owned by the Run goroutine.
	state       State
	stateSince  time.Time
	muted       bool
	paused      bool
	fatal       string
	fault       string // a device problem (SetFault); "" when none
	everLive    bool
	sessionID   string
	liveSince   time.Time
	lastErr     string
	lastErrAt   time.Time
	counts      Status // counter fields only
	turn        turn
	pending     pendingTurn // a wake waiting for the connection (on demand)
	detecting   bool        // the voice detector was last switched on
	detectSet   bool        // ... and was switched at all
	hangingUp   bool        // the engine hung up: the disconnect that follows is expected
	resp        response
	audioItem   string // output audio item playing, "" when none
	audioDone   bool
	idleSince   time.Time // SPEAKING: playback idle since, zero while playing
	guardOn     bool
	alarm       string    // what rings ("" when nothing does)
	alarmUntil  time.Time // the alarm stops by itself then
	followUp    bool      // the follow-up window is open: speech starts a turn in any mode
	replyAsks   bool      // the reply's transcript ends with a question
	expectAns   bool      // the model said (expect_answer) that it waits for an answer
	forceListen bool      // the turn opens whatever Options.Continue says (Announcement.Listen)
	// announcing names the announcement whose reply is awaited or playing ("" for a
	// turn's reply); announceSend asks for it again after a session rollover.
	announcing   string
	announceSend func() error
	skipRel      bool      // ignore the next button release
	pressAt      time.Time // last button press
	led          LEDPattern
	ledSet       bool
	timers       [numTimers]timerSlot
}

type trigger int

const (
	trigButton     trigger = iota + 1 // held button: the release ends it
	trigTap                           // tapped button: the VAD ends it
	trigVoice                         // VAD wake or follow-up
	trigControl                       // listen
	trigPTTControl                    // ptt_start: ptt_stop ends it
	trigContinue                      // the reply asked a question: the VAD ends it
	trigWord                          // wake word: the VAD ends it
)

// held reports whether the turn ends by a release (button or ptt_stop), not the VAD.
func (t trigger) held() bool { return t == trigButton || t == trigPTTControl }

type turn struct {
	by    trigger
	heard bool // speech onset seen (local or server)
}

// pendingTurn is a turn started while the connection was being made.
type pendingTurn struct {
	by    trigger // 0: none
	heard bool
	end   bool // the turn ended (release, end of speech) before the session was up
}

type response struct {
	active     bool // response.created seen, response.done not yet
	id         string
	cancelSent bool // response.cancel sent: its audio is unwanted
	discardNew bool // a response created next belongs to a turn given up: cancel it
}

type timerKind uint8

const (
	tListen timerKind = iota
	tMaxTurn
	tReply
	tDrain
	tEchoTail
	tServerEnd
	tHangup
	tConnect
	tHeartbeat
	tFollowUp // the follow-up window closes
	tContinue // the echo guard is over: open the turn that continues the conversation
	tAlarm    // the alarm earcon again, or the alarm gives up
	numTimers
)

type timerSlot struct {
	t     clock.Timer
	cell  *timerCell // what t's call posts
	gen   uint64     // generation of the latest arm or disarm
	spent bool       // t's call has happened and been handled, or t was stopped
}

// timerCell holds the generation a timer's call posts. Only a timer with no call on
// its way is re-armed with a new generation, so a call never posts a newer one.
type timerCell struct{ gen atomic.Uint64 }

// NewEngine checks c and returns an engine ready to Run.
func New(c Config) (*Engine, error) {
	var errs []error
	if c.Conn == nil {
		errs = append(errs, errors.New("no Conn (the realtime connection)"))
	}
	if c.Gate == nil {
		errs = append(errs, errors.New("no Gate (the capture gate)"))
	}
	if c.Player == nil {
		errs = append(errs, errors.New("no Player"))
	}
	opts, oerrs := c.Options.check()
	c.Options = opts
	errs = append(errs, oerrs...)
	if c.HeartbeatInterval < 0 {
		errs = append(errs, fmt.Errorf("field HeartbeatInterval: %v is negative", c.HeartbeatInterval))
	} else if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeat
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("pipeline: engine config: %w", errors.Join(errs...))
	}
	if c.Clock == nil {
		c.Clock = &clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: c, log: c.Logger, clock: c.Clock, in: make(chan input, inputQueue), done: make(chan struct{})}
	e.stateSince = e.clock.Now()
	e.updateStatus()
	return e, nil
}

// Run runs the state machine until ctx is cancelled, then closes the audio gate, stops
// the timers, ends every subscription and returns nil. Run may be called once.
func (e *Engine) Run(ctx context.Context) error {
	if !e.started.CompareAndSwap(false, true) {
		return errors.New("pipeline: engine already ran")
	}
	defer close(e.done)
	defer e.bus.close()
	defer e.stopTimers()
	e.updateLED()
	e.updateDetect()
	if e.cfg.Heartbeat != nil {
		e.cfg.Heartbeat()
		e.arm(tHeartbeat, e.cfg.HeartbeatInterval)
	}
	for {
		select {
		case <-ctx.Done():
			e.cfg.Gate.SetStreaming(false)
			e.updateStatus()
			return nil
		case in := <-e.in:
			e.handle(in)
			e.updateStatus()
			e.updateDetect()
		}
	}
}

// updateDetect turns the voice detector on while its decisions are used: voice wake,
// barge-in by voice, a follow-up window, and any turn being listened to (speech during
// a button hold is what tells a long press-to-talk turn from a silent long press that
// mutes, and a tap from a turn). In push-to-talk mode between turns, and while
// listening is paused, it is off, saving the detector's CPU.
func (e *Engine) updateDetect() {
	d, ok := e.cfg.Gate.(voiceDetector)
	if !ok {
		return
	}
	wake := !e.paused && (e.voiceWakes() || e.cfg.VoiceBargeIn || e.followUp)
	want := wake || e.state == StateListening || e.pending.by != 0
	if e.detectSet && want == e.detecting {
		return
	}
	e.detectSet, e.detecting = true, want
	d.SetDetecting(want)
}

// send queues in, waiting for room. Inputs sent before Run starts wait for it.
func (e *Engine) send(ctx context.Context, in input) error {
	select {
	case e.in <- in:
		return nil
	case <-e.done:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
}

// post queues in for producers without a context: it waits for room unless the engine
// has stopped.
func (e *Engine) post(in input) {
	select {
	case e.in <- in:
	case <-e.done:
	}
}

// HandleButton reports a button event. It waits while the engine is behind, and
// returns at once when the engine has stopped.
func (e *Engine) HandleButton(b ButtonEvent) { e.post(input{kind: inButton, button: b}) }

// SetFault reports a problem outside the conversation that the user must see, such as
// a sound device that has gone ("" when it is over): the LED shows the error pattern
// until it clears, whatever the state. It waits while the engine is behind, and
// returns at once when the engine has stopped.
func (e *Engine) SetFault(problem string) { e.post(input{kind: inFault, fault: problem}) }

// Alarm starts the alarm earcon, repeated until StopAlarm, a button press or
// AlarmMax; what says what rings (a timer's label), shown on the EventAlarm. It
// waits while the engine is behind, and returns at once when the engine has stopped.
func (e *Engine) Alarm(what string) {
	if what == "" {
		what = "alarm"
	}
	e.post(input{kind: inAlarm, fault: what})
}

// StopAlarm stops the alarm, if one rings (the EventAlarm says so).
func (e *Engine) StopAlarm() { e.post(input{kind: inAlarm}) }

// LocalItemPrefix starts the item ID of audio the device plays by itself (an
// announcement's WAV): the engine treats it as a reply, but the server never heard
// of it, so an interruption does not truncate it there.
const LocalItemPrefix = "local_"

// ExpectAnswer says the reply being made asks the user something (the model's
// expect_answer tool): with Options.Continue, the microphone opens after it as
// after a reply ending with a question. It waits while the engine is behind, and
// returns at once when the engine has stopped.
func (e *Engine) ExpectAnswer() { e.post(input{kind: inExpectAnswer}) }

// HandleRealtime reports an event of the realtime connection. It waits while the
// engine is behind, and returns at once when the engine has stopped.
func (e *Engine) HandleRealtime(ev RealtimeEvent) { e.post(input{kind: inRealtime, rt: ev}) }

// HandleSpeech reports a local VAD edge. It never blocks and does not allocate (it is
// called from the capture loop); if the engine is far behind, the edge is dropped and
// counted in Status.DroppedInputs.
func (e *Engine) HandleSpeech(s SpeechEdge) {
	select {
	case e.in <- input{kind: inSpeech, speech: s}:
	default:
		e.droppedInputs.Add(1)
	}
}

// Sync returns once the engine has handled every input queued before the call.
func (e *Engine) Sync(ctx context.Context) error {
	ch := make(chan struct{})
	if err := e.send(ctx, input{kind: inSync, sync: ch}); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	select {
	case <-ch:
		return nil
	case <-e.done:
		return fmt.Errorf("sync: %w", ErrNotRunning)
	case <-ctx.Done():
		return fmt.Errorf("sync: %w", ctx.Err())
	}
}

// Subscribe returns a channel of events and a function that ends the subscription
// (and closes the channel). buffer is the channel's size (0: DefaultSubscriberBuffer);
// a subscriber that lets it fill loses events, counted in Event.Missed and
// Status.DroppedEvents, and never slows the engine. The channel closes when Run returns.
func (e *Engine) Subscribe(buffer int) (<-chan Event, func()) { return e.bus.subscribe(buffer) }

// Reconfigure validates o and makes it the engine's behaviour from the next decision
// on; a turn or reply in progress goes on.
func (e *Engine) Reconfigure(ctx context.Context, o Options) error {
	o, errs := o.check()
	if len(errs) > 0 {
		return fmt.Errorf("pipeline: engine options: %w", errors.Join(errs...))
	}
	req := &controlReq{reply: make(chan error, 1)}
	if err := e.send(ctx, input{kind: inOptions, opts: &o, ctl: req}); err != nil {
		return fmt.Errorf("reconfigure: %w", err)
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("reconfigure: %w", ctx.Err())
	case <-e.done:
		return fmt.Errorf("reconfigure: %w", ErrNotRunning)
	}
}

// Status returns a snapshot of the engine.
func (e *Engine) Status() Status {
	e.mu.Lock()
	s := e.status
	e.mu.Unlock()
	s.DroppedInputs = e.droppedInputs.Load()
	s.DroppedEvents = e.bus.dropped.Load()
	return s
}

// updateStatus publishes the loop's state to Status.
func (e *Engine) updateStatus() {
	s := e.counts
	s.State, s.StateSince, s.Muted, s.Paused, s.FollowUp = e.state, e.stateSince, e.muted, e.paused, e.followUp
	s.Mode, s.TurnEnd, s.Alarm = e.cfg.Mode, e.cfg.TurnEnd, e.alarm
	s.ResponseActive = e.resp.active
	s.Fatal, s.LastError, s.LastErrorAt = e.fatal, e.lastErr, e.lastErrAt
	if e.state.live() {
		s.SessionID, s.ConnectedSince = e.sessionID, e.liveSince
	}
	e.mu.Lock()
	e.status = s
	e.mu.Unlock()
}

// live reports whether a session is up in this state.
func (s State) live() bool {
	switch s {
	case StateConnected, StateListening, StateProcessing, StateSpeaking:
		return true
	}
	return false
}

// arm (re)starts timer k; a timer that fires after being re-armed or disarmed is
// recognised by its generation and ignored.
func (e *Engine) arm(k timerKind, d time.Duration) {
	s := &e.timers[k]
	s.gen++
	// A timer none of whose calls is pending or on its way is reused: the drain
	// poll re-arms every 50 ms through a reply, and a new timer each time would
	// be the downlink's only allocation.
	if s.t != nil && (s.t.Stop() || s.spent) {
		s.cell.gen.Store(s.gen)
		s.spent = false
		s.t.Reset(d)
		return
	}
	cell := &timerCell{}
	cell.gen.Store(s.gen)
	s.cell, s.spent = cell, false
	s.t = e.clock.AfterFunc(d, func() { e.post(input{kind: inTimer, timer: k, gen: cell.gen.Load()}) })
}

func (e *Engine) disarm(k timerKind) {
	s := &e.timers[k]
	if s.t != nil && !s.t.Stop() && !s.spent {
		// Its call is on its way: it will be stale, and the timer cannot be reused.
		s.t, s.cell = nil, nil
	} else if s.t != nil {
		s.spent = true
	}
	s.gen++
}

func (e *Engine) stopTimers() {
	for k := range e.timers {
		e.disarm(timerKind(k))
	}
}
