package gpio

import (
	"fmt"
	"strings"
	"time"
)

// Pattern is what the LED shows; there is one per conversation state, plus Muted and
// Error for the orthogonal conditions.
type Pattern int

const (
	Off          Pattern = iota // IDLE: not connected and not trying
	Connecting                  // opening the WebSocket: slow blink 1 Hz
	Connected                   // session live, waiting for the user: off
	Listening                   // user audio is streaming: solid on
	Processing                  // turn committed, waiting for the reply: fast blink 4 Hz
	Speaking                    // reply playing: double blink
	Disconnected                // lost, reconnecting: 2 short blinks every 2 s
	Muted                       // mic gated: a short blip every 3 s
	Error                       // fatal error: 3 quick blinks, repeated
	numPatterns
)

// Color is the colour of an RGB LED while a pattern is on; a one-line LED ignores it.
type Color uint8

// Primary colours; mix them with |.
const (
	Red   Color = 1 << 0
	Green Color = 1 << 1
	Blue  Color = 1 << 2
)

// tick is the LED's time step: every step of every pattern is a multiple of it, so
// the ticker lands exactly on each change.
const tick = 25 * time.Millisecond

// step is one segment of a pattern: the LED on or off for d.
type step struct {
	on bool
	d  time.Duration
}

type patternSpec struct {
	name  string
	color Color
	steps []step // repeated forever; one step means a steady level
}

func on(d time.Duration) step  { return step{true, d * time.Millisecond} }
func off(d time.Duration) step { return step{false, d * time.Millisecond} }

// patterns is the one place that says what each state looks like (DESIGN.md, "States").
var patterns = [numPatterns]patternSpec{
	Off:          {"off", 0, []step{off(1000)}},
	Connecting:   {"connecting", Red | Green, []step{on(500), off(500)}},
	Connected:    {"connected", 0, []step{off(1000)}},
	Listening:    {"listening", Blue, []step{on(1000)}},
	Processing:   {"processing", Blue | Green, []step{on(125), off(125)}},
	Speaking:     {"speaking", Green, []step{on(100), off(100), on(100), off(700)}},
	Disconnected: {"disconnected", Red | Green, []step{on(75), off(150), on(75), off(1700)}},
	Muted:        {"muted", Red, []step{on(50), off(2950)}},
	Error:        {"error", Red, []step{on(100), off(100), on(100), off(100), on(100), off(1000)}},
}

// Patterns returns every pattern, in order.
func Patterns() []Pattern {
	ps := make([]Pattern, numPatterns)
	for i := range ps {
		ps[i] = Pattern(i)
	}
	return ps
}

func (p Pattern) valid() bool { return p >= 0 && p < numPatterns }

func (p Pattern) String() string {
	if !p.valid() {
		return fmt.Sprintf("Pattern(%d)", int(p))
	}
	return patterns[p].name
}

// Color returns the colour an RGB LED shows for p.
func (p Pattern) Color() Color {
	if !p.valid() {
		return 0
	}
	return patterns[p].color
}

// ParsePattern returns the pattern named s (case-insensitive), as String prints it.
func ParsePattern(s string) (Pattern, error) {
	for i := range patterns {
		if strings.EqualFold(patterns[i].name, s) {
			return Pattern(i), nil
		}
	}
	names := make([]string, len(patterns))
	for i := range patterns {
		names[i] = patterns[i].name
	}
	return 0, fmt.Errorf("gpio: unknown LED pattern %q (want one of %s)", s, strings.Join(names, ", "))
}

// steady reports whether p never changes level, so the LED needs no ticker.
func (p Pattern) steady() bool { return len(patterns[p].steps) == 1 }

// period is the length of one repetition of p.
func (p Pattern) period() time.Duration {
	var sum time.Duration
	for _, s := range patterns[p].steps {
		sum += s.d
	}
	return sum
}

// at reports whether the LED is lit at elapsed time since p started.
func (p Pattern) at(elapsed time.Duration) bool {
	steps := patterns[p].steps
	if elapsed < 0 {
		elapsed = 0
	}
	pos := elapsed % p.period()
	for _, s := range steps {
		if pos < s.d {
			return s.on
		}
		pos -= s.d
	}
	return steps[len(steps)-1].on
}
