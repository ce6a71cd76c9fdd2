package engine

import "time"

// alarmEvery is how often the alarm earcon starts again: its 1 s of beeps and rest,
// and a little more, so that repeats never overlap.
const alarmEvery = 1200 * time.Millisecond

// startAlarm rings for what. The alarm sounds over whatever the conversation does:
// the earcon is mixed into playback, and the state machine goes on underneath.
func (e *Engine) startAlarm(what string) {
	was := e.alarm
	e.alarm = what
	e.alarmUntil = e.clock.Now().Add(e.cfg.AlarmMax)
	if was == "" {
		e.log.Info("alarm", "what", what)
		e.earcon(CueAlarm)
		e.arm(tAlarm, alarmEvery)
	}
	e.publish(Event{Kind: EventAlarm, Message: what})
}

// stopAlarm silences the alarm (the earcon under way finishes).
func (e *Engine) stopAlarm(why string) {
	if e.alarm == "" {
		return
	}
	e.log.Info("alarm stopped", "what", e.alarm, "reason", why)
	e.alarm = ""
	e.disarm(tAlarm)
	e.publish(Event{Kind: EventAlarm, Reason: why})
}

func (e *Engine) alarmTick() {
	if e.alarm == "" {
		return
	}
	if !e.clock.Now().Before(e.alarmUntil) {
		e.stopAlarm("nobody stopped it within " + e.cfg.AlarmMax.String())
		return
	}
	e.earcon(CueAlarm)
	e.arm(tAlarm, alarmEvery)
}
