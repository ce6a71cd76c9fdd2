package engine_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/engine/enginetest"
)

// detectGate is the fake gate with the detector switch a real UplinkGate has.
type detectGate struct {
	*enginetest.Gate
	mu  sync.Mutex
	set []bool
}

func (g *detectGate) SetDetecting(on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.set = append(g.set, on)
}

func (g *detectGate) take() []bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.set
	g.set = nil
	return s
}

// TestEngineVoiceDetectorSwitch: in push-to-talk mode the detector runs only while a
// turn is listened to (its decisions tell a long press-to-talk turn from a silent
// long press that mutes); voice wake and barge-in by voice keep it on throughout.
func TestEngineVoiceDetectorSwitch(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     engine.Mode
		voice    bool
		wantTurn []bool // switches from the start through one push-to-talk turn and reply
	}{
		{"push to talk", engine.ModePushToTalk, false, []bool{false, true, false}},
		{"push to talk, barge-in by voice", engine.ModePushToTalk, true, []bool{true}},
		{"continuous", engine.ModeContinuous, false, []bool{true}},
		{"both", engine.ModeBoth, false, []bool{true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g *detectGate
			h := newHarness(t, func(c *engine.Config) {
				c.Mode, c.VoiceBargeIn = tc.mode, tc.voice
				g = &detectGate{Gate: c.Gate.(*enginetest.Gate)}
				c.Gate = g
			})
			h.connect()
			h.toSpeaking()
			if got := g.take(); !slices.Equal(got, tc.wantTurn) {
				t.Errorf("detector switched %v through a turn, want %v", got, tc.wantTurn)
			}
		})
	}
}

// TestEngineFaultShowsOnLED: a device fault shows the error pattern whatever the state,
// for as long as it lasts; the conversation goes on underneath and the LED follows it
// again once the fault clears.
func TestEngineFaultShowsOnLED(t *testing.T) {
	h := newHarness(t, nil)
	h.connect()
	last := func() engine.LEDPattern { p := h.led.Patterns(); return p[len(p)-1] }
	h.e.SetFault("the microphone hw:1,0 disappeared")
	h.sync()
	if got := last(); got != engine.LEDError {
		t.Fatalf("LED %v with a device gone, want the error pattern", got)
	}
	n := len(h.led.Patterns())
	h.button(engine.ButtonPress) // LISTENING underneath
	if got := h.led.Patterns(); len(got) != n || last() != engine.LEDError {
		t.Errorf("LED changed to %v during the fault, want it to stay on the error pattern", got[n:])
	}
	h.e.SetFault("")
	h.sync()
	if got := last(); got != engine.LEDListening {
		t.Errorf("LED %v once the fault cleared, want LISTENING's", got)
	}
	var faults []string
	for _, ev := range h.takeEvents() {
		if ev.Kind == engine.EventFault {
			faults = append(faults, ev.Message)
		}
	}
	if want := []string{"the microphone hw:1,0 disappeared", ""}; !slices.Equal(faults, want) {
		t.Errorf("fault events %q, want %q", faults, want)
	}
}
