package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Action is a control request (POST /v1/control {"action": ...}).
type Action string

// Control actions. Two families: the voice detector (start, stop, pause and resume
// listening: whether speech may open a turn; the session stays) and turns
// (listen, ptt_start and ptt_stop: open one now, end it now).
const (
	ActionInterrupt Action = "interrupt" // stop the reply (SPEAKING) or drop the pending one (PROCESSING)
	// ActionStartListening is resume_listening, by the name other voice satellites use.
	ActionStartListening Action = "start_listening"
	// ActionStopListening is pause_listening, by the name other voice satellites use.
	ActionStopListening   Action = "stop_listening"
	ActionPauseListening  Action = "pause_listening"  // voice detection off: speech opens no turn; the button still works
	ActionResumeListening Action = "resume_listening" // voice detection on again
	ActionPause           Action = "pause"            // pause_listening, refused when already paused
	ActionResume          Action = "resume"           // resume_listening, refused when not paused
	ActionMute            Action = "mute"             // microphone gated: nothing is heard or sent
	ActionUnmute          Action = "unmute"
	ActionListen          Action = "listen"    // open a turn that the VAD (local or server) ends, as a wake does
	ActionPTTStart        Action = "ptt_start" // open a turn, as pressing the button: ptt_stop ends it
	ActionPTTStop         Action = "ptt_stop"  // end the open turn: send it and ask for the reply (dropped if nothing was said)
)

// Actions lists every control action, in the order of the documentation.
var Actions = []Action{ActionInterrupt, ActionStartListening, ActionStopListening, ActionPauseListening,
	ActionResumeListening, ActionPause, ActionResume, ActionMute, ActionUnmute, ActionListen, ActionPTTStart, ActionPTTStop}

// ErrUnknownAction is returned for an action that is not one of Actions.
var ErrUnknownAction = errors.New("pipeline: unknown control action")

// ErrNotRunning is returned by requests to an engine whose Run has returned.
var ErrNotRunning = errors.New("pipeline: engine not running")

// ParseAction checks s against the known actions.
func ParseAction(s string) (Action, error) {
	for _, a := range Actions {
		if string(a) == s {
			return a, nil
		}
	}
	names := make([]string, len(Actions))
	for i, a := range Actions {
		names[i] = string(a)
	}
	return "", fmt.Errorf("parse action %q: %w (want one of %s)", s, ErrUnknownAction, strings.Join(names, ", "))
}

// RefusedError says why a control action was not executed in the engine's current
// state (HTTP 409).
type RefusedError struct {
	Action Action
	State  State
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("pipeline: %s refused in state %s: %s", e.Action, e.State, e.Reason)
}

// controlReq travels to the engine goroutine and carries its own reply channel.
type controlReq struct {
	action Action
	reply  chan error // 1-buffered: the engine never blocks on it
}

// Control asks the engine to execute a. It returns nil once executed, a *RefusedError
// when the current state does not allow it, an error wrapping ErrUnknownAction for an
// unknown action, ErrNotRunning, or the context's error.
func (e *Engine) Control(ctx context.Context, a Action) error {
	if _, err := ParseAction(string(a)); err != nil {
		return err
	}
	req := &controlReq{action: a, reply: make(chan error, 1)}
	if err := e.send(ctx, input{kind: inControl, ctl: req}); err != nil {
		return fmt.Errorf("control %s: %w", a, err)
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("control %s: %w", a, ctx.Err())
	case <-e.done:
		return fmt.Errorf("control %s: %w", a, ErrNotRunning)
	}
}

// control executes a request on the engine goroutine.
func (e *Engine) control(a Action) error {
	refuse := func(reason string) error { return &RefusedError{Action: a, State: e.state, Reason: reason} }
	switch a {
	case ActionInterrupt:
		switch e.state {
		case StateSpeaking, StateProcessing:
			e.interruptReply()
			e.setState(StateConnected, "interrupted by control")
			return nil
		case StateListening:
			return refuse("the device is listening, not replying; use ptt_stop")
		}
		return refuse("there is no reply to interrupt")
	case ActionListen, ActionPTTStart:
		if reason := e.cannotListen(); reason != "" {
			return refuse(reason)
		}
		if e.state == StateListening || e.pending.by != 0 {
			return refuse("already listening")
		}
		by, why := trigControl, "listen"
		if a == ActionPTTStart {
			by, why = trigPTTControl, "ptt_start"
		}
		if !e.state.live() {
			e.wakeDial(by, false, why)
			return nil
		}
		if e.state == StateSpeaking || e.state == StateProcessing {
			e.interruptReply()
			why += " (reply interrupted)"
		}
		e.startListening(by, why)
		return nil
	case ActionPTTStop:
		if e.pending.by != 0 {
			if e.pending.by == trigPTTControl || e.pending.heard {
				e.pending.end = true // sent once the session is up
			} else {
				e.cancelPending("ptt_stop while connecting, before any speech", CueListenEnd)
			}
			return nil
		}
		if e.state != StateListening {
			return refuse("no turn is open")
		}
		if e.turn.heard || e.turn.by == trigPTTControl {
			e.commitTurn("ptt_stop")
		} else {
			e.abortTurn("ptt_stop before any speech", CueListenEnd)
		}
		return nil
	case ActionStartListening, ActionResumeListening:
		e.setPaused(false, string(a))
		return nil
	case ActionStopListening, ActionPauseListening:
		e.setPaused(true, string(a))
		return nil
	case ActionPause:
		if e.paused {
			return refuse("already paused")
		}
		e.setPaused(true, "pause")
		return nil
	case ActionResume:
		if !e.paused {
			return refuse("not paused")
		}
		e.setPaused(false, "resume")
		return nil
	case ActionMute:
		if e.muted {
			return refuse("already muted")
		}
		e.setMuted(true, "mute")
		return nil
	case ActionUnmute:
		if !e.muted {
			return refuse("not muted")
		}
		e.setMuted(false, "unmute")
		return nil
	}
	return fmt.Errorf("control %q: %w", a, ErrUnknownAction)
}

// cannotListen says why a turn cannot start now, or "" when it can.
func (e *Engine) cannotListen() string {
	switch {
	case e.fatal != "":
		return "the connection failed for good: " + e.fatal
	case e.muted:
		return "the microphone is muted; unmute first"
	case !e.state.live() && !e.canDial():
		return "not connected to the server"
	}
	return ""
}

// canDial reports whether a wake may open the connection (on demand).
func (e *Engine) canDial() bool {
	if e.cfg.Connector == nil || e.fatal != "" {
		return false
	}
	switch e.state {
	case StateIdle, StateDisconnected, StateConnecting:
		return true
	}
	return false
}
