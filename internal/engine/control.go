package engine

import (
	"context"
	"errors"
	"fmt"
)

// Action is a control request (POST /v1/control {"action": ...}).
type Action string

// Control actions.
const (
	ActionInterrupt      Action = "interrupt"       // stop the reply (SPEAKING) or drop the pending one (PROCESSING)
	ActionStartListening Action = "start_listening" // open a turn that the VAD (local or server) ends
	ActionStopListening  Action = "stop_listening"  // end the turn now: send it if speech was heard, else drop it
	ActionPause          Action = "pause"           // voice wake off; the button still works
	ActionResume         Action = "resume"
	ActionMute           Action = "mute" // microphone gated: nothing is heard or sent
	ActionUnmute         Action = "unmute"
	ActionPTTStart       Action = "ptt_start" // as pressing the button
	ActionPTTStop        Action = "ptt_stop"  // as releasing it: commit and ask for the reply
)

// Actions lists every control action, in the order of the documentation.
var Actions = []Action{ActionInterrupt, ActionStartListening, ActionStopListening, ActionPause,
	ActionResume, ActionMute, ActionUnmute, ActionPTTStart, ActionPTTStop}

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
	return "", fmt.Errorf("parse action %q: %w (want one of interrupt, start_listening, stop_listening, pause, resume, mute, unmute, ptt_start, ptt_stop)", s, ErrUnknownAction)
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
			return refuse("the device is listening, not replying; use stop_listening")
		}
		return refuse("there is no reply to interrupt")
	case ActionStartListening, ActionPTTStart:
		if reason := e.cannotListen(); reason != "" {
			return refuse(reason)
		}
		if e.state == StateListening || e.pending.by != 0 {
			return refuse("already listening")
		}
		by, why := trigControl, "start_listening"
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
	case ActionStopListening:
		if e.pending.by != 0 {
			e.cancelPending("stop_listening while connecting", CueListenEnd)
			return nil
		}
		if e.state != StateListening {
			return refuse("not listening")
		}
		if e.turn.heard {
			e.commitTurn("stop_listening")
		} else {
			e.abortTurn("stop_listening before any speech", CueListenEnd)
		}
		return nil
	case ActionPTTStop:
		if e.pending.by == trigPTTControl {
			e.pending.end = true
			return nil
		}
		if e.state != StateListening || e.turn.by != trigPTTControl {
			return refuse("no push-to-talk turn started by ptt_start is open")
		}
		e.commitTurn("ptt_stop")
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
