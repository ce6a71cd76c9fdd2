package main

import (
	"math"
	"slices"
	"testing"
	"time"
)

// trace lights the LED by a repeating pattern of (on, ms) steps from t0 for total ms,
// as the sampler would log it: one edge per change.
func trace(t0, total int64, steps ...int64) []edge {
	var out []edge
	t, on := t0, true
	for i := 0; t < t0+total; i++ {
		out = append(out, edge{t, on})
		t += steps[i%len(steps)]
		on = !on
	}
	return out
}

func TestPatternRules(t *testing.T) {
	const win = 3000
	tests := []struct {
		name  string
		edges []edge
		want  map[string]bool // rule -> fits
	}{
		{"solid", []edge{{0, true}}, map[string]bool{"solid": true, "off": false, "fast": false, "double": false, "disconnected": false}},
		{"off", []edge{{0, false}}, map[string]bool{"solid": false, "off": true, "fast": false, "double": false}},
		{"fast", trace(0, win, 125, 125), map[string]bool{"solid": false, "off": false, "fast": true, "double": false, "disconnected": false, "error": false}},
		{"double", trace(0, win, 100, 100, 100, 700), map[string]bool{"solid": false, "fast": false, "double": true, "slow": false, "error": false}},
		{"disconnected", trace(0, 5000, 75, 150, 75, 1700), map[string]bool{"fast": false, "double": false, "disconnected": true, "error": false}},
		{"disconnected with reconnect attempts", trace(0, 5000, 75, 150, 75, 600, 400, 100, 75, 150, 75, 1100, 30, 20),
			map[string]bool{"disconnected": true, "fast": false, "solid": false, "off": false}},
		{"slow", trace(0, win, 500, 500), map[string]bool{"fast": false, "double": false, "slow": true, "error": false}},
		{"error", trace(0, win, 100, 100, 100, 100, 100, 1000), map[string]bool{"error": true, "fast": false, "off": false, "solid": false}},
		{"double stretched by a loaded guest", trace(0, win, 125, 90, 110, 760), map[string]bool{"double": true, "fast": false}},
	}
	for _, tt := range tests {
		for rule, want := range tt.want {
			w := int64(win)
			if tt.name == "disconnected" {
				w = 5000
			}
			segs := segments(tt.edges, nil, 10, w)
			why := patternRules[rule].fits(segs, w-10)
			if got := why == ""; got != want {
				t.Errorf("%s judged as %s = %v (%q), want %v; runs %s", tt.name, rule, got, why, want, describe(segs))
			}
		}
	}
}

func TestSegmentsGaps(t *testing.T) {
	// On 0..125, off 125..250, on 250..375; the sampler slept 260..300, so it saw the
	// edge at 375 in time but logged the one at 250 at 300.
	edges := []edge{{0, true}, {125, false}, {300, true}, {375, false}, {500, true}}
	segs := segments(edges, [][2]int64{{260, 300}}, 0, 600)
	want := []segment{
		{on: true, ms: 125},
		{on: false, ms: 175, unc: 40, complete: true},
		{on: true, ms: 75, unc: 40, complete: true},
		{on: false, ms: 125, complete: true},
		{on: true, ms: 100},
	}
	if len(segs) != len(want) {
		t.Fatalf("segments = %+v, want %+v", segs, want)
	}
	for i := range want {
		if segs[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, segs[i], want[i])
		}
	}
	if why := patternRules["fast"].fits(segs, 600); why != "" {
		t.Errorf("a fast blink seen through a 40 ms gap is not fast: %s", why)
	}
	// A gap inside a run long enough to hide a blink: the run's length is unknown.
	segs = segments([]edge{{0, false}, {100, true}, {500, false}}, [][2]int64{{200, 300}}, 0, 600)
	if segs[1].complete {
		t.Errorf("a run with a 100 ms gap inside counted as complete: %+v", segs[1])
	}
	// Solid needs half the window seen.
	segs = segments([]edge{{0, true}}, [][2]int64{{100, 900}}, 0, 1000)
	if segs[0].blind != 800 {
		t.Errorf("blind %d ms, want the 800 ms gap", segs[0].blind)
	}
	if why := patternRules["solid"].fits(segs, 1000); why == "" {
		t.Errorf("solid judged from 200 ms seen of 1000")
	}
}

// TestSpansFault: a fault event puts the stays that follow in the pseudo-state fault
// until it clears, and state changes meanwhile only tell where it returns to.
func TestSpansFault(t *testing.T) {
	ms := func(v int64) time.Time { return time.UnixMilli(v) }
	evs := []event{
		{Type: "state", State: "connected", Time: ms(100)},
		{Type: "fault", Message: "the microphone hw:Loopback,1,0 disappeared", Time: ms(1000)},
		{Type: "state", State: "disconnected", Time: ms(1500)},
		{Type: "state", State: "connected", Time: ms(2000)},
		{Type: "fault", Message: "", Time: ms(4000)},
		{Type: "state", State: "listening", Time: ms(5000)},
	}
	got := spans(evs, 6000)
	want := []stateSpan{{"connected", 100, 1000}, {"fault", 1000, 4000}, {"connected", 4000, 5000}, {"listening", 5000, 6000}}
	if !slices.Equal(got, want) {
		t.Errorf("spans = %v, want %v", got, want)
	}
}

// TestSpansFollowUp: the follow-up window open in CONNECTED is the pseudo-state
// follow_up, from the flags event that opens it to the one that closes it (or the
// state change that ends it).
func TestSpansFollowUp(t *testing.T) {
	ms := func(v int64) time.Time { return time.UnixMilli(v) }
	yes, no := true, false
	evs := []event{
		{Type: "state", State: "speaking", Time: ms(100), FollowUp: &no},
		{Type: "state", State: "connected", Time: ms(1000), FollowUp: &no},
		{Type: "flags", Reason: "follow-up window open", Time: ms(1001), FollowUp: &yes},
		{Type: "speech_started", Time: ms(2000), FollowUp: &yes},
		{Type: "state", State: "listening", Time: ms(2001), FollowUp: &no},
		{Type: "state", State: "connected", Time: ms(4000), FollowUp: &no},
		{Type: "flags", Reason: "follow-up window open", Time: ms(4001), FollowUp: &yes},
		{Type: "flags", Reason: "nothing said in the follow-up window", Time: ms(7000), FollowUp: &no},
		{Type: "level", Time: ms(7100)}, // no follow_up field: changes nothing
	}
	got := spans(evs, 9000)
	want := []stateSpan{{"speaking", 100, 1000}, {"connected", 1000, 1001}, {"follow_up", 1001, 2001},
		{"listening", 2001, 4000}, {"connected", 4000, 4001}, {"follow_up", 4001, 7000}, {"connected", 7000, 9000}}
	if !slices.Equal(got, want) {
		t.Errorf("spans = %v, want %v", got, want)
	}
}

func TestMerge(t *testing.T) {
	all := []stateSpan{
		{"speaking", 0, 100}, {"disconnected", 100, 1600}, {"connecting", 1600, 1610},
		{"disconnected", 1610, 3100}, {"connecting", 3100, 3600}, {"connected", 3600, 5000},
	}
	got := merge(all, "disconnected+connecting")
	if len(got) != 1 || got[0].from != 100 || got[0].to != 3100 {
		t.Errorf("merge = %v, want one stretch 100..3100 (the last, successful connecting left out)", got)
	}
	if got := merge(all, "connected"); len(got) != 1 || got[0].from != 3600 {
		t.Errorf("merge connected = %v", got)
	}
}

func TestQuietAfter(t *testing.T) {
	var blocks []block
	for ms := int64(0); ms < 3000; ms += 10 {
		level := 2000.0
		if ms >= 1040 || (ms >= 500 && ms < 700) { // a pause in the speech, then silenced
			level = 0
		}
		blocks = append(blocks, block{ms, level})
	}
	from, sound, ok := quietAfter(blocks, 1000, 300, 800)
	if !ok || !sound || from != 1040 {
		t.Errorf("quietAfter = %d, %v, %v; want 1040, true, true", from, sound, ok)
	}
	// Playing on after the event: never quiet for 800 ms.
	for i := range blocks {
		if blocks[i].ms >= 1040 {
			blocks[i].level = 2000
		}
	}
	if _, _, ok := quietAfter(blocks, 1000, 300, 800); ok {
		t.Errorf("quietAfter found silence in audio that played on")
	}
}

func TestCorrelation(t *testing.T) {
	w := make([]float64, 100)
	for i := range w {
		w[i] = 1000 + 800*math.Sin(float64(i)/3)
	}
	g := append(append(make([]float64, 37), w...), make([]float64, 20)...)
	c, lag := correlation(g, w)
	if c < 0.999 || lag != 37 {
		t.Errorf("correlation = %.3f at %d, want 1 at 37", c, lag)
	}
	other := make([]float64, 157)
	for i := range other {
		other[i] = 1000 + 800*math.Sin(float64(i)/11+1)
	}
	if c, _ := correlation(other, w); c > 0.8 {
		t.Errorf("unrelated envelopes correlate %.3f", c)
	}
}

func TestField(t *testing.T) {
	m := map[string]any{"devices": map[string]any{"microphone": map[string]any{"xruns": 3.0}}}
	if v, ok := field(m, "devices.microphone.xruns"); !ok || v != 3.0 {
		t.Errorf("field = %v, %v", v, ok)
	}
	if _, ok := field(m, "devices.speaker.xruns"); ok {
		t.Errorf("field found a missing path")
	}
}
