package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// runLED samples DIR/sim_gpioN/value every interval and writes "MS VALUE" at the start
// and at each change, "FROM gap TO" when it could not look for longer than maxGap (a
// starved guest), and "MS end" when stopped (SIGTERM or --seconds).
func runLED(ctx context.Context, args []string) error {
	fs := newFlags("led")
	sysfs := fs.String("sysfs", "", "gpio-sim chip directory (VOICED_HW_GPIO_SYSFS)")
	line := fs.Int("line", 27, "line offset")
	out := fs.String("out", "led.log", "trace file")
	interval := fs.Duration("interval", 10*time.Millisecond, "sampling interval")
	secs := fs.Float64("seconds", 0, "stop after this long (0: when signalled)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := filepath.Join(*sysfs, fmt.Sprintf("sim_gpio%d", *line), "value")
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := os.Create(*out)
	if err != nil {
		return err
	}
	ctx, cancel := withSeconds(ctx, *secs)
	defer cancel()
	buf := make([]byte, 8)
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	last := byte(0)
	var prev int64
	for ctx.Err() == nil {
		t := nowMs()
		if prev != 0 && t-prev > maxGap {
			fmt.Fprintf(w, "%d gap %d\n", prev, t)
		}
		prev = t
		n, err := f.ReadAt(buf, 0)
		if n == 0 && err != nil {
			w.Close()
			return fmt.Errorf("read %s: %w", path, err)
		}
		if v := buf[0]; v != last {
			fmt.Fprintf(w, "%d %c\n", t, v)
			last = v
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	fmt.Fprintf(w, "%d end\n", nowMs())
	return w.Close()
}

// maxGap is the longest pause between two samples (ms) that still counts as watching:
// the shortest run of any pattern is 75 ms.
const maxGap = 25

// edge is one LED change: at ms, the line became on.
type edge struct {
	ms int64
	on bool
}

// readTrace reads a led.log; the end time is the "end" line's, or the last change's.
func readTrace(path string) (edges []edge, gaps [][2]int64, end int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		ms, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("%s: bad time %q", path, fields[0])
		}
		if fields[1] == "gap" && len(fields) == 3 {
			to, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				return nil, nil, 0, fmt.Errorf("%s: bad gap %q", path, sc.Text())
			}
			gaps = append(gaps, [2]int64{ms, to})
			continue
		}
		end = ms
		switch fields[1] {
		case "1":
			edges = append(edges, edge{ms, true})
		case "0":
			edges = append(edges, edge{ms, false})
		}
	}
	if len(edges) == 0 {
		return nil, nil, 0, fmt.Errorf("%s: no samples", path)
	}
	return edges, gaps, end, sc.Err()
}

// segment is a stretch of constant LED level inside a window.
type segment struct {
	on       bool
	ms       int64 // as sampled
	unc      int64 // its true length is within ms±unc: an edge seen after a sampler gap happened somewhere in the gap
	complete bool  // both its edges are inside the window and no blink can hide in it
	blind    int64 // how much of it lies in sampler gaps long enough to hide a blink
}

// hideable is the longest sampler gap inside a run that cannot hide a whole blink (the
// shortest is 75 ms).
const hideable = 70

// segments cuts the trace to [from, to) and returns the level runs.
func segments(edges []edge, gaps [][2]int64, from, to int64) []segment {
	var out []segment
	// edgeUnc is how late the sampler may have seen an edge it logged at ms.
	edgeUnc := func(ms int64) int64 {
		for _, g := range gaps {
			if g[1] == ms {
				return g[1] - g[0]
			}
		}
		return 0
	}
	add := func(on bool, a, b int64, complete bool) {
		sg := segment{on: on, ms: b - a, complete: complete}
		if complete {
			sg.unc = edgeUnc(a) + edgeUnc(b)
		}
		for _, g := range gaps {
			// A short gap only blurs an edge (unc); a long one could hide a blink.
			lo, hi := max(g[0], a), min(g[1], b)
			if hi > lo && g[1]-g[0] > hideable {
				sg.blind += hi - lo
			}
			if g[0] >= a && g[1] < b && g[1]-g[0] > hideable {
				sg.complete = false
			}
		}
		out = append(out, sg)
	}
	level, start, startInside := false, from, false
	for _, e := range edges {
		if e.ms <= from {
			level = e.on
			continue
		}
		if e.ms >= to {
			break
		}
		if e.on != level {
			add(level, start, e.ms, startInside)
			level, start, startInside = e.on, e.ms, true
		}
	}
	if to > start {
		add(level, start, to, false)
	}
	return out
}

// run is the length of a complete run, give or take unc.
type run struct{ ms, unc int64 }

// fits reports whether the run may have lasted between lo and hi ms.
func (r run) fits(lo, hi int64) bool { return r.ms+r.unc >= lo && r.ms-r.unc <= hi }

// patternRule says what a pattern looks like to a sampler whose clock jitters: the
// lengths of complete on and off runs, and how much of the time the LED is lit.
type patternRule struct {
	desc string
	fits func(segs []segment, window int64) string // "" when it fits, else why not
}

// onOff collects the complete runs, and the time seen lit and seen at all.
func onOff(segs []segment) (on, off []run, onTotal, seen int64) {
	for _, s := range segs {
		seen += s.ms - s.blind
		if s.on {
			onTotal += s.ms - s.blind
		}
		if !s.complete {
			continue
		}
		if s.on {
			on = append(on, run{s.ms, s.unc})
		} else {
			off = append(off, run{s.ms, s.unc})
		}
	}
	return on, off, onTotal, seen
}

func within(v []run, lo, hi int64) bool {
	for _, r := range v {
		if !r.fits(lo, hi) {
			return false
		}
	}
	return true
}

func count(v []run, lo, hi int64) int {
	n := 0
	for _, r := range v {
		if r.fits(lo, hi) {
			n++
		}
	}
	return n
}

// The patterns of internal/gpio (DESIGN.md "States"), with room for an emulated guest:
// a run may stretch or shrink by a few of the LED's 25 ms ticks.
var patternRules = map[string]patternRule{
	"solid": {"on all the time", func(segs []segment, window int64) string {
		_, _, onTotal, seen := onOff(segs)
		if seen*2 < window || onTotal*100 < seen*97 {
			return fmt.Sprintf("lit %d of the %d ms seen (of %d)", onTotal, seen, window)
		}
		return ""
	}},
	"off": {"off all the time", func(segs []segment, window int64) string {
		if _, _, onTotal, seen := onOff(segs); seen*2 < window || onTotal > 0 {
			return fmt.Sprintf("lit %d of the %d ms seen (of %d)", onTotal, seen, window)
		}
		return ""
	}},
	"fast": {"4 Hz blink: on 125 ms, off 125 ms", func(segs []segment, window int64) string {
		on, off, _, _ := onOff(segs)
		switch {
		case len(on) < 1 || len(off) < 1:
			return fmt.Sprintf("%d complete on and %d off runs, want one of each at least", len(on), len(off))
		case !within(on, 60, 250) || !within(off, 60, 250):
			return "a run outside 60..250 ms"
		}
		return ""
	}},
	"double": {"double blink: on 100, off 100, on 100, off 700", func(segs []segment, window int64) string {
		on, off, _, _ := onOff(segs)
		switch {
		case len(on) < 2:
			return fmt.Sprintf("%d complete on runs, want 2 at least", len(on))
		case !within(on, 40, 200):
			return "an on run outside 40..200 ms"
		case count(off, 40, 250) < 1:
			return "no short (40..250 ms) gap between the two blinks"
		case count(off, 450, 1000) < 1 && window >= 1500:
			return "no long (450..1000 ms) pause between pairs"
		case !within(off, 40, 1000):
			return "an off run outside 40..1000 ms"
		}
		return ""
	}},
	// While reconnecting, each new attempt shows CONNECTING (a slow blink, starting lit:
	// up to 500 ms) for as long as the attempt takes, then this pattern starts again, so
	// over an outage the LED shows its pairs cut short and mixed with CONNECTING's. What
	// must show: a pair (short, short gap, short), a long pause, a LED dark at least half
	// of the time, and no lit run longer than CONNECTING's first and this pattern's first
	// back to back (575 ms), give or take a starved guest. Its shape is the double
	// blink's, nearly: what this tells apart is a dark, steady or fast-blinking LED.
	"disconnected": {"2 short blinks every 2 s: on 75, off 150, on 75, off 1700", func(segs []segment, window int64) string {
		on, off, onTotal, seen := onOff(segs)
		pair := false
		for i := 0; i+2 < len(segs); i++ {
			a, g, b := segs[i], segs[i+1], segs[i+2]
			if a.on && a.complete && g.complete && b.complete &&
				(run{a.ms, a.unc}).fits(25, 175) && (run{g.ms, g.unc}).fits(75, 300) && (run{b.ms, b.unc}).fits(25, 175) {
				pair = true
			}
		}
		switch {
		case !pair:
			return "no pair of short blinks (25..175 ms, 75..300 ms apart)"
		case count(off, 400, 2400) < 1:
			return "no long (400..2400 ms) pause between pairs"
		case !within(on, 0, 1000):
			return "a lit run over 1 s"
		case onTotal*100 > seen*50:
			return fmt.Sprintf("lit %d of the %d ms seen, want a mostly dark LED", onTotal, seen)
		}
		return ""
	}},
	// The error pattern: three quick blinks, then a pause.
	"error": {"3 quick blinks, repeated: on 100, off 100, on 100, off 100, on 100, off 1000", func(segs []segment, window int64) string {
		on, off, _, _ := onOff(segs)
		short := func(sg segment, lo, hi int64) bool { return sg.complete && (run{sg.ms, sg.unc}).fits(lo, hi) }
		triple := false // what tells it from the double blinks: three in a row
		for i := 0; i+4 < len(segs); i++ {
			if segs[i].on && short(segs[i], 40, 200) && short(segs[i+1], 40, 250) && short(segs[i+2], 40, 200) &&
				short(segs[i+3], 40, 250) && short(segs[i+4], 40, 200) {
				triple = true
			}
		}
		switch {
		case !triple:
			return "no three quick blinks in a row (40..200 ms, 40..250 ms apart)"
		case !within(on, 40, 200):
			return "an on run outside 40..200 ms"
		case count(off, 40, 250) < 2:
			return "fewer than 2 short (40..250 ms) gaps between blinks"
		case count(off, 600, 1500) < 1 && window >= 2000:
			return "no long (600..1500 ms) pause between triples"
		case !within(off, 40, 1500):
			return "an off run outside 40..1500 ms"
		}
		return ""
	}},
	"slow": {"1 Hz blink: on 500 ms, off 500 ms", func(segs []segment, window int64) string {
		on, off, _, _ := onOff(segs)
		switch {
		case len(on)+len(off) < 1:
			return "no complete run"
		case !within(on, 350, 700) || !within(off, 350, 700):
			return "a run outside 350..700 ms"
		}
		return ""
	}},
}

// stateSpan is one stay in a state, by the daemon's event times.
type stateSpan struct {
	state    string
	from, to int64
}

// spans turns the recorded state events into stays; the last ends at end. While a
// fault event (a sound device gone) is in force the stay is in the pseudo-state
// "fault", whatever the state underneath, as the LED then shows the error pattern.
// While the follow-up window is open in CONNECTED (follow_up true on a state or
// flags event) the stay is in the pseudo-state "follow_up": the LED shows listening.
func spans(evs []event, end int64) []stateSpan {
	var out []stateSpan
	enter := func(state string, at int64) {
		if n := len(out); n > 0 {
			out[n-1].to = at
		}
		out = append(out, stateSpan{state: state, from: at, to: end})
	}
	state, fault, follow := "", false, false
	shown := func() string {
		if follow && state == "connected" {
			return "follow_up"
		}
		return state
	}
	for _, e := range evs {
		switch {
		case e.Type == "state":
			state = e.State
			if e.FollowUp != nil {
				follow = *e.FollowUp
			}
			if !fault {
				enter(shown(), e.at())
			}
		case e.Type == "flags" && e.FollowUp != nil && *e.FollowUp != follow:
			was := shown()
			follow = *e.FollowUp
			if !fault && shown() != was {
				enter(shown(), e.at())
			}
		case e.Type == "fault" && e.Message != "" && !fault:
			fault = true
			enter("fault", e.at())
		case e.Type == "fault" && e.Message == "" && fault:
			fault = false
			enter(shown(), e.at())
		}
	}
	return out
}

// settle is how long after a state change the LED may still show the old pattern: the
// LED runs on its own goroutine, which an emulated, loaded guest may not schedule at once.
const settle = 150

// runLEDCheck checks that, for each STATE=PATTERN, every stay in STATE long enough to
// judge (and at least one) showed PATTERN on the LED.
func runLEDCheck(ctx context.Context, args []string) error {
	fs := newFlags("ledcheck")
	ledPath := fs.String("led", "led.log", "trace from vmprobe led")
	evPath := fs.String("events", "events.log", "log from vmprobe events")
	minMs := fs.Int64("min", 400, "judge only stays at least this long (ms), after the settling time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	edges, gaps, end, err := readTrace(*ledPath)
	if err != nil {
		return err
	}
	evs, err := readEvents(*evPath)
	if err != nil {
		return err
	}
	want := map[string]string{}
	order := []string{}
	for _, a := range fs.Args() {
		st, pat, ok := strings.Cut(a, "=")
		if _, known := patternRules[pat]; !ok || !known {
			return fmt.Errorf("bad STATE=PATTERN %q (patterns: solid, off, fast, double, disconnected, error, slow)", a)
		}
		want[st] = pat
		order = append(order, st)
	}
	if len(want) == 0 {
		return fmt.Errorf("no STATE=PATTERN given")
	}
	judged := map[string]int{}
	failed := false
	all := spans(evs, end)
	for _, key := range order {
		pat := want[key]
		for _, sp := range merge(all, key) {
			from, to := sp.from+settle, sp.to-25
			segs := segments(edges, gaps, from, to)
			desc := describe(segs)
			if to-from < *minMs {
				fmt.Printf("%s for %d ms: too short to judge (%s)\n", key, sp.to-sp.from, desc)
				continue
			}
			if _, _, _, seen := onOff(segs); seen*2 < to-from {
				// The guest did not let the sampler look (a busy host stalls it all):
				// this stay says nothing either way. Another must be judged.
				fmt.Printf("%s for %d ms: not judged, the sampler saw only %d ms of it (%s)\n", key, sp.to-sp.from, seen, desc)
				continue
			}
			judged[key]++
			if why := patternRules[pat].fits(segs, to-from); why != "" {
				fmt.Printf("FAIL: %s for %d ms: LED %s; want %s (%s): %s\n", key, sp.to-sp.from, desc, pat, patternRules[pat].desc, why)
				failed = true
			} else {
				fmt.Printf("ok: %s for %d ms: LED %s is %s\n", key, sp.to-sp.from, desc, pat)
			}
		}
		if judged[key] == 0 {
			fmt.Printf("FAIL: no stay in %s long enough (%d ms) to judge its LED pattern\n", key, *minMs)
			failed = true
		}
	}
	if failed {
		return errCheck
	}
	return nil
}

// merge returns the stays in the states named by key ("a" or "a+b+..."), consecutive
// stays in any of them joined into one: a reconnect loop alternates DISCONNECTED with
// short CONNECTING stays, and its LED pattern shows only over the whole outage.
func merge(all []stateSpan, key string) []stateSpan {
	names := strings.Split(key, "+")
	in := map[string]bool{}
	for _, s := range names {
		in[s] = true
	}
	// A joined stretch starts and ends with a stay in the first state named: the
	// CONNECTING that succeeds at last shows its own pattern, not the outage's.
	var out []stateSpan
	joined := false
	for _, sp := range all {
		switch {
		case !in[sp.state]:
			joined = false
		case sp.state == names[0] && joined:
			out[len(out)-1].to = sp.to
		case sp.state == names[0]:
			out = append(out, stateSpan{key, sp.from, sp.to})
			joined = true
		}
	}
	return out
}

// describe prints runs as on/off lengths, "+" marking a run cut by the window.
func describe(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if i == 12 {
			fmt.Fprintf(&b, " ...(%d more)", len(segs)-i)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		c := "off"
		if s.on {
			c = "on"
		}
		fmt.Fprintf(&b, "%s%d", c, s.ms)
		if s.unc > 0 {
			fmt.Fprintf(&b, "±%d", s.unc)
		}
		if !s.complete {
			b.WriteByte('+')
		}
	}
	return b.String()
}
