package vad

import "testing"

func TestEndpointer(t *testing.T) {
	// Frames are 10 ms; a turn starts after 30 ms of speech and ends after 50 ms of silence.
	c := EndpointerConfig{FrameMs: 10, MinSpeechMs: 30, SilenceMs: 50}
	tests := []struct {
		name   string
		frames string // x speech, . not
		want   string // S start, E end, - nothing, one per frame
		onset  int    // OnsetFrames after the last start
	}{
		{"too short", "xx..xx...", "---------", 0},
		{"onset", "..xxx", "----S", 3},
		{"onset across one gap", ".xx.x", "----S", 4},
		{"two gaps restart", "xx..xxx", "------S", 3},
		{"end after silence", "xxx.....", "--S----E", 3},
		{"speech resets silence", "xxx....x.....", "--S---------E", 3},
		{"second turn", "xxx.....xxx", "--S----E--S", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewEndpointer(c)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(tt.frames))
			for i, f := range tt.frames {
				switch e.Push(f == 'x') {
				case EndpointStart:
					got[i] = 'S'
				case EndpointEnd:
					got[i] = 'E'
				default:
					got[i] = '-'
				}
			}
			if string(got) != tt.want {
				t.Errorf("Push(%q) = %q, want %q", tt.frames, got, tt.want)
			}
			if tt.onset != 0 && e.OnsetFrames() != tt.onset {
				t.Errorf("OnsetFrames() = %d, want %d", e.OnsetFrames(), tt.onset)
			}
		})
	}
}

func TestEndpointerTurnState(t *testing.T) {
	e, err := NewEndpointer(EndpointerConfig{FrameMs: 10, MinSpeechMs: 150, SilenceMs: 700})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 15; i++ {
		e.Push(true)
	}
	if !e.InTurn() {
		t.Fatal("InTurn() = false after 150 ms of speech")
	}
	for i := 0; i < 30; i++ {
		e.Push(true)
	}
	if got := e.TurnFrames(); got != 30 {
		t.Errorf("TurnFrames() = %d, want 30", got)
	}
	for i := 0; i < 69; i++ {
		if ev := e.Push(false); ev != EndpointNone {
			t.Fatalf("silence frame %d: %v, want none before 700 ms", i, ev)
		}
	}
	if ev := e.Push(false); ev != EndpointEnd {
		t.Errorf("70th silent frame: %v, want end", ev)
	}
	e.Push(true)
	e.Reset()
	if e.InTurn() {
		t.Error("InTurn() after Reset = true")
	}
	// Reset also forgets a partial onset.
	for i := 0; i < 14; i++ {
		e.Push(true)
	}
	e.Reset()
	if ev := e.Push(true); ev != EndpointNone {
		t.Errorf("first speech frame after Reset: %v, want none", ev)
	}
}

func TestNewEndpointerErrors(t *testing.T) {
	for _, c := range []EndpointerConfig{
		{FrameMs: 0, MinSpeechMs: 100, SilenceMs: 500},
		{FrameMs: 10, MinSpeechMs: -1, SilenceMs: 500},
		{FrameMs: 10, MinSpeechMs: 100, SilenceMs: 0},
		{FrameMs: 10, MinSpeechMs: 100, SilenceMs: 70000},
	} {
		if _, err := NewEndpointer(c); err == nil {
			t.Errorf("NewEndpointer(%+v): no error", c)
		}
	}
}

func TestEndpointEventString(t *testing.T) {
	for ev, want := range map[EndpointEvent]string{EndpointNone: "none", EndpointStart: "start", EndpointEnd: "end", 7: "EndpointEvent(7)"} {
		if got := ev.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(ev), got, want)
		}
	}
}

// TestEndpointerGuarded: while the echo guard is on, an onset (a barge-in)
// needs GuardedMinSpeechMs; runs of speech shorter than that start nothing,
// and the same run starts a turn at once without the guard.
func TestEndpointerGuarded(t *testing.T) {
	e, err := NewEndpointer(EndpointerConfig{FrameMs: 10, MinSpeechMs: 30, GuardedMinSpeechMs: 60, SilenceMs: 50})
	if err != nil {
		t.Fatal(err)
	}
	push := func(guarded bool, frames string) string {
		got := make([]byte, len(frames))
		for i, f := range frames {
			e.SetGuarded(guarded)
			switch e.Push(f == 'x') {
			case EndpointStart:
				got[i] = 'S'
			case EndpointEnd:
				got[i] = 'E'
			default:
				got[i] = '-'
			}
		}
		return string(got)
	}
	if got := push(true, "xxxxx..xxxx.xx"); got != "-------------S" {
		t.Errorf("guarded: %q, want a start only after 6 speech frames", got)
	}
	if got := push(false, "....."); got != "----E" {
		t.Errorf("end: %q", got)
	}
	if got := push(false, "xxx"); got != "--S" {
		t.Errorf("unguarded: %q, want a start after 3 speech frames", got)
	}
	e.Reset()
	if got := push(true, "xxxxxx"); got != "-----S" {
		t.Errorf("guarded after Reset: %q, want a start after 6 speech frames", got)
	}
	if _, err := NewEndpointer(EndpointerConfig{FrameMs: 10, MinSpeechMs: 30, GuardedMinSpeechMs: -1, SilenceMs: 50}); err == nil {
		t.Error("a negative GuardedMinSpeechMs was accepted")
	}
}
