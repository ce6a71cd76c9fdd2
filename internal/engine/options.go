package engine

import (
	"fmt"
	"time"
)

// Default timings, used where Options leave a duration at 0.
const (
	DefaultListenTimeout  = 8 * time.Second
	DefaultMaxTurn        = 30 * time.Second
	DefaultReplyTimeout   = 15 * time.Second
	DefaultConnectTimeout = 30 * time.Second
	DefaultServerEndGrace = 8 * time.Second
	DefaultTapMax         = 350 * time.Millisecond
	DefaultDrainPoll      = 50 * time.Millisecond
	DefaultHeartbeat      = time.Second
	DefaultIdleHangup     = time.Minute
	DefaultAlarmMax       = time.Minute
)

// Options are the engine's behaviour; Reconfigure changes them while it runs. A
// duration left at 0 takes its default where 0 would make no sense.
type Options struct {
	Mode    Mode
	TurnEnd TurnEnd // who ends a turn not held on the button
	// VoiceBargeIn lets user speech (a VAD onset that passes the raised echo-guard
	// threshold) stop a reply.
	VoiceBargeIn bool
	// WakeWordOnly: speech no longer wakes the device in any mode, only a wake word
	// (HandleWakeWord) does (wake.mode word). Follow-up and barge-in are unchanged.
	WakeWordOnly bool
	// EchoGuard is how long after a reply voice wake stays off (echo_guard_ms). The
	// guard is on during SPEAKING in any case.
	EchoGuard time.Duration
	// FollowUp is the window after a reply (and its echo guard) in which speech starts a
	// turn without a wake or a press, in every mode; 0 is off. The voice detector runs
	// and the LED shows LISTENING's pattern while it is open; it closes with the
	// listen-end earcon when nothing was said.
	FollowUp time.Duration
	// AlarmMax is how long an alarm rings when nobody stops it (default 1 min).
	AlarmMax time.Duration
	// Continue opens a turn by itself after a reply that asks something (its
	// transcript ends with a question mark, or the model called ExpectAnswer), after
	// the echo guard; the listening timeout ends it quietly.
	Continue bool
	// ListenTimeout without speech after a wake or press gives up the turn.
	ListenTimeout time.Duration
	// MaxTurn caps one turn; at the cap the turn is sent.
	MaxTurn time.Duration
	// ReplyTimeout without a reply (PROCESSING), or with playback stalled (SPEAKING),
	// gives up with an error earcon.
	ReplyTimeout time.Duration
	// ServerEndGrace: when the server ends turns, this long after the local VAD heard
	// the end of speech without the server deciding, the engine commits the turn itself.
	ServerEndGrace time.Duration
	// ConnectTimeout in CONNECTING shows DISCONNECTED until the client reports again.
	ConnectTimeout time.Duration
	// TapMax: in mode both, a press released within TapMax before any speech is a tap
	// to talk and the VAD ends the turn; in push-to-talk it is dropped.
	TapMax time.Duration
	// DrainPoll is how often SPEAKING checks whether playback finished.
	DrainPoll time.Duration
	// IdleHangup: with a Connector, this long in CONNECTED hangs up (back to IDLE).
	IdleHangup time.Duration
	// ServerEndsHeld: the server ends turns even while the button is held (a service
	// with no commit, such as SelamGPT's): its end and its reply are taken, not refused.
	ServerEndsHeld bool
}

// check validates o and fills in the defaults.
func (o Options) check() (Options, []error) {
	var errs []error
	if o.Mode < ModePushToTalk || o.Mode > ModeBoth {
		errs = append(errs, fmt.Errorf("field Mode: %d is not a mode", int(o.Mode)))
	}
	if o.TurnEnd != TurnEndLocal && o.TurnEnd != TurnEndServer {
		errs = append(errs, fmt.Errorf("field TurnEnd: %d is not local or server", int(o.TurnEnd)))
	}
	durs := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"EchoGuard", &o.EchoGuard, 0},
		{"FollowUp", &o.FollowUp, 0},
		{"AlarmMax", &o.AlarmMax, DefaultAlarmMax},
		{"ListenTimeout", &o.ListenTimeout, DefaultListenTimeout},
		{"MaxTurn", &o.MaxTurn, DefaultMaxTurn},
		{"ReplyTimeout", &o.ReplyTimeout, DefaultReplyTimeout},
		{"ServerEndGrace", &o.ServerEndGrace, DefaultServerEndGrace},
		{"ConnectTimeout", &o.ConnectTimeout, DefaultConnectTimeout},
		{"TapMax", &o.TapMax, DefaultTapMax},
		{"DrainPoll", &o.DrainPoll, DefaultDrainPoll},
		{"IdleHangup", &o.IdleHangup, DefaultIdleHangup},
	}
	for _, d := range durs {
		switch {
		case *d.d < 0:
			errs = append(errs, fmt.Errorf("field %s: %v is negative", d.name, *d.d))
		case *d.d == 0:
			*d.d = d.def
		}
	}
	return o, errs
}
