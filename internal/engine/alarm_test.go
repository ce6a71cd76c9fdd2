package engine_test

import (
	"slices"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
)

func alarmEvents(h *harness) []engine.Event {
	return slices.DeleteFunc(slices.Clone(h.history), func(ev engine.Event) bool { return ev.Kind != engine.EventAlarm })
}

// TestAlarm: the alarm earcon repeats until the button stops it; that press opens no
// turn, and the next one does.
func TestAlarm(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	h.e.Alarm("tea")
	h.sync()
	h.expect("ring", nil, []string{"earcon alarm"})
	if s := h.e.Status(); s.Alarm != "tea" {
		t.Errorf("Status().Alarm = %q, want tea", s.Alarm)
	}
	h.advance(2500 * time.Millisecond)
	h.expect("repeats", nil, []string{"earcon alarm", "earcon alarm"})
	h.button(engine.ButtonPress)
	h.button(engine.ButtonRelease)
	h.expect("button", nil, nil)
	evs := alarmEvents(h)
	if len(evs) != 2 || evs[0].Message != "tea" || evs[1].Message != "" || evs[1].Reason != "stopped by the button" {
		t.Errorf("alarm events %+v, want ringing tea, then stopped by the button", evs)
	}
	h.advance(5 * time.Second)
	h.expect("silent", nil, nil)
	h.button(engine.ButtonPress)
	h.expect("next press", []string{"listening"}, []string{"input_audio_buffer.clear", "stream on", "earcon listen-start"})
}

// TestAlarmGivesUp: nobody stops it, the alarm ends after AlarmMax.
func TestAlarmGivesUp(t *testing.T) {
	h := newHarness(t, func(c *engine.Config) { c.AlarmMax = 5 * time.Second })
	h.connect()
	h.e.Alarm("")
	h.sync()
	h.advance(10 * time.Second)
	if n := len(h.log.Take()); n < 4 || n > 6 {
		t.Errorf("%d earcons in 5 s of alarm, want one every 1.2 s", n)
	}
	evs := alarmEvents(h)
	if len(evs) != 2 || evs[0].Message != "alarm" || evs[1].Reason != "nobody stopped it within 5s" {
		t.Errorf("alarm events %+v", evs)
	}
	if s := h.e.Status(); s.Alarm != "" {
		t.Errorf("Status().Alarm = %q after giving up", s.Alarm)
	}
}
