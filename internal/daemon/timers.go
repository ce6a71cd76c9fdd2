package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/httpapi"
	"github.com/voiced-project/voiced/internal/realtime"
	"github.com/voiced-project/voiced/internal/timers"
)

// openTimers opens the timer store in paths.state_dir. It belongs to the daemon, not
// to a runtime: timers ring on through a reconnect and a config change, and the file
// keeps them across a restart. A file that cannot be read is reported and set aside;
// voiced goes on with no timers.
func (d *Daemon) openTimers() {
	s, err := timers.Open(timers.Options{Dir: d.cfg.Paths.StateDir, OnRing: d.timerRang, OnChange: d.timersChanged})
	if err != nil {
		d.log.Warn("timers not restored", "err", err)
	} else if n := len(s.List()); n > 0 {
		d.log.Info("timers restored", "count", n, "file", d.cfg.Paths.StateDir)
	}
	d.timers = s
}

// currentRuntime is the runtime running now, nil between two.
func (d *Daemon) currentRuntime() *runtime {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rt
}

// timerRang rings a timer that fell due: the alarm, an event, and a spoken
// announcement when a session is up. Without a runtime, the next one rings it.
func (d *Daemon) timerRang(t timers.Timer) {
	d.log.Info("timer rings", "id", t.ID, "label", t.Label, "late", time.Since(t.EndsAt).Round(time.Second))
	d.hub.publish(httpapi.Event{Type: "timer", Data: t})
	if rt := d.currentRuntime(); rt != nil {
		rt.engine.Alarm(timerName(t))
		rt.announceTimer(t)
	}
}

// timersChanged stops the alarm once no timer rings any more (cancelled or dismissed
// over HTTP or by the model).
func (d *Daemon) timersChanged() {
	if d.timers == nil { // during Open
		return
	}
	d.hub.publish(httpapi.Event{Type: "timers", Data: d.timers.List()})
	if d.timers.Ringing() {
		return
	}
	if rt := d.currentRuntime(); rt != nil {
		rt.engine.StopAlarm()
	}
}

// ringPending rings again, in a new runtime, what rang before it.
func (d *Daemon) ringPending(rt *runtime) {
	if d.timers == nil {
		return
	}
	for _, t := range d.timers.List() {
		if t.Ringing {
			rt.engine.Alarm(timerName(t))
			return
		}
	}
}

// alarmStopped dismisses the ringing timers when the engine's alarm stops (the
// button, or nobody for a minute).
func (d *Daemon) alarmStopped() {
	if d.timers == nil {
		return
	}
	if gone, err := d.timers.Dismiss(); err != nil {
		d.log.Warn("timers not saved", "err", err)
	} else if len(gone) > 0 {
		d.log.Info("timers dismissed", "count", len(gone))
	}
}

func timerName(t timers.Timer) string {
	if t.Label != "" {
		return "timer " + t.Label
	}
	return "timer " + t.ID
}

// announceTimer asks the model to say that t has finished, when the conversation is
// idle and the model is one that speaks (not a Socket.IO service); the alarm rings
// anyway.
func (rt *runtime) announceTimer(t timers.Timer) {
	if rt.client == nil || rt.engine.Status().State != engine.StateConnected {
		return
	}
	what := "A timer"
	if t.Label != "" {
		what = fmt.Sprintf("The %q timer", t.Label)
	}
	msg := fmt.Sprintf("%s set for %v has just finished. Tell the user so in one short sentence.", what, t.Duration)
	if err := rt.client.Announce(msg); err != nil {
		rt.log.Info("timer not announced", "err", err)
	}
}

// timerTools are the device tools set_timer, cancel_timer and list_timers.
func (rt *runtime) timerTools() map[string]realtime.Tool {
	store := rt.d.timers
	return map[string]realtime.Tool{
		"set_timer": {
			Def: realtime.ToolDef{Name: "set_timer", Description: "Set a timer on the device; it rings even without a connection and survives a restart.",
				Parameters: json.RawMessage(`{"type":"object","properties":{"duration":{"type":"string","description":"how long: 90s, 5m, 1h30m, or a number of seconds"},"label":{"type":"string","description":"what it is for, e.g. tea"}},"required":["duration"]}`)},
			Run: func(_ context.Context, args json.RawMessage) (string, error) {
				var a struct {
					Duration json.RawMessage `json:"duration"`
					Label    string          `json:"label"`
				}
				if err := json.Unmarshal(args, &a); err != nil {
					return "", fmt.Errorf("arguments: %w", err)
				}
				d, err := timers.ParseDuration(strings.Trim(string(a.Duration), `"`))
				if err != nil {
					return "", err
				}
				t, err := store.Set(d, a.Label)
				if t.ID == "" {
					return "", err
				}
				if err != nil {
					rt.log.Warn("timer set but not saved", "err", err)
				}
				return fmt.Sprintf("timer %s set for %v%s; it rings at %s", t.ID, t.Duration, labelSuffix(t), t.EndsAt.Local().Format("15:04:05")), nil
			},
		},
		"cancel_timer": {
			Def: realtime.ToolDef{Name: "cancel_timer", Description: "Cancel a timer, by its id (from list_timers) or its label.",
				Parameters: json.RawMessage(`{"type":"object","properties":{"timer":{"type":"string","description":"the id or the label"}},"required":["timer"]}`)},
			Run: func(_ context.Context, args json.RawMessage) (string, error) {
				var a struct {
					Timer string `json:"timer"`
				}
				if err := json.Unmarshal(args, &a); err != nil {
					return "", fmt.Errorf("arguments: %w", err)
				}
				t, err := store.Cancel(a.Timer)
				if errors.Is(err, timers.ErrNotFound) {
					return "", fmt.Errorf("no timer %q; list_timers says which there are", a.Timer)
				}
				if t.ID == "" {
					return "", err
				}
				return fmt.Sprintf("timer %s%s cancelled", t.ID, labelSuffix(t)), nil
			},
		},
		"list_timers": {
			Def: realtime.ToolDef{Name: "list_timers", Description: "The timers set on the device and the time left on each.",
				Parameters: json.RawMessage(`{"type":"object","properties":{}}`)},
			Run: func(context.Context, json.RawMessage) (string, error) {
				ts := store.List()
				if len(ts) == 0 {
					return "no timers are set", nil
				}
				var b strings.Builder
				now := time.Now()
				for _, t := range ts {
					if t.Ringing {
						fmt.Fprintf(&b, "%s%s: ringing now\n", t.ID, labelSuffix(t))
						continue
					}
					fmt.Fprintf(&b, "%s%s: %v left of %v\n", t.ID, labelSuffix(t), t.Remaining(now).Round(time.Second), t.Duration)
				}
				return b.String(), nil
			},
		},
	}
}

func labelSuffix(t timers.Timer) string {
	if t.Label == "" {
		return ""
	}
	return fmt.Sprintf(" (%s)", t.Label)
}
