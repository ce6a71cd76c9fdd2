package gpio

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// rawEdge is a change of the line at offset at, after which it reads pressed.
type rawEdge struct {
	at      time.Duration
	pressed bool
}

// simulate feeds edges to a debouncer and calls expire at every deadline it asks
// for, sampling the line as the edges left it, until end. It returns the events as
// "kind@offset" strings.
func simulate(c ButtonConfig, initial bool, edges []rawEdge, end time.Duration) []string {
	c = c.withDefaults()
	d := newDebouncer(c, t0, initial)
	level := initial
	levelAt := func(t time.Duration) bool {
		v := initial
		for _, e := range edges {
			if e.at <= t {
				v = e.pressed
			}
		}
		return v
	}
	i := 0
	for {
		dl, ok := d.next()
		if i < len(edges) && (!ok || !dl.Before(t0.Add(edges[i].at))) {
			level = edges[i].pressed
			d.edge(t0.Add(edges[i].at), level)
			i++
			continue
		}
		if !ok || dl.After(t0.Add(end)) {
			break
		}
		d.expire(dl, levelAt(dl.Sub(t0)))
	}
	var got []string
	for _, e := range d.out {
		s := fmt.Sprintf("%s@%v", e.Kind, e.Time.Sub(t0))
		if e.Held != 0 {
			s += fmt.Sprintf("/%v", e.Held)
		}
		got = append(got, s)
	}
	return got
}

// bounce returns n edges alternating every step from at, ending at level pressed.
func bounce(at time.Duration, n int, step time.Duration, pressed bool) []rawEdge {
	var es []rawEdge
	for i := 0; i < n; i++ {
		es = append(es, rawEdge{at + time.Duration(i)*step, pressed == ((n-1-i)%2 == 0)})
	}
	return es
}

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestDebouncer(t *testing.T) {
	cfg := ButtonConfig{Debounce: ms(20), LongPress: ms(1000), DoublePress: ms(300)}
	cat := func(parts ...[]rawEdge) []rawEdge {
		var all []rawEdge
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	tests := []struct {
		name    string
		cfg     ButtonConfig
		initial bool
		edges   []rawEdge
		end     time.Duration
		want    []string
	}{
		{
			name:  "clean press and release",
			cfg:   cfg,
			edges: []rawEdge{{ms(0), true}, {ms(200), false}},
			end:   ms(3000),
			want:  []string{"press@20ms", "release@220ms/200ms"},
		},
		{
			name:  "ten bounces within 5 ms on press and on release",
			cfg:   cfg,
			edges: cat(bounce(ms(0), 11, ms(0.5), true), bounce(ms(300), 11, ms(0.5), false)),
			end:   ms(3000),
			want:  []string{"press@25ms", "release@325ms/300ms"}, // 20 ms after the last bounce
		},
		{
			name:  "bounces that end where they started give nothing more",
			cfg:   cfg,
			edges: cat(bounce(ms(0), 11, ms(0.5), true), bounce(ms(100), 10, ms(0.5), true)),
			end:   ms(500),
			want:  []string{"press@25ms"},
		},
		{
			name:  "glitch shorter than the debounce window is ignored",
			cfg:   cfg,
			edges: []rawEdge{{ms(0), true}, {ms(5), false}},
			end:   ms(3000),
			want:  nil,
		},
		{
			name:  "long press at its configured time",
			cfg:   cfg,
			edges: cat(bounce(ms(0), 7, ms(0.7), true), bounce(ms(2500), 7, ms(0.7), false)),
			end:   ms(4000),
			want:  []string{"press@24.2ms", "long-press@1.0242s/1s", "release@2.5242s/2.5s"},
		},
		{
			name:  "long press with another duration",
			cfg:   ButtonConfig{Debounce: ms(10), LongPress: ms(2300)},
			edges: []rawEdge{{ms(100), true}, {ms(5000), false}},
			end:   ms(6000),
			want:  []string{"press@110ms", "long-press@2.41s/2.3s", "release@5.01s/4.9s"},
		},
		{
			name:  "long press disabled",
			cfg:   ButtonConfig{Debounce: ms(10), LongPress: -1},
			edges: []rawEdge{{ms(0), true}, {ms(5000), false}},
			end:   ms(6000),
			want:  []string{"press@10ms", "release@5.01s/5s"},
		},
		{
			name:  "double press at the second press",
			cfg:   cfg,
			edges: cat(bounce(ms(0), 5, ms(1), true), bounce(ms(100), 5, ms(1), false), bounce(ms(350), 5, ms(1), true), bounce(ms(450), 5, ms(1), false)),
			end:   ms(3000),
			want:  []string{"press@24ms", "release@124ms/100ms", "press@374ms", "double-press@374ms", "release@474ms/100ms"},
		},
		{
			name:  "gap too long for a double press",
			cfg:   cfg,
			edges: []rawEdge{{ms(0), true}, {ms(100), false}, {ms(401), true}, {ms(500), false}},
			end:   ms(3000),
			want:  []string{"press@20ms", "release@120ms/100ms", "press@421ms", "release@520ms/99ms"},
		},
		{
			name:  "triple tap is a double press and a press",
			cfg:   cfg,
			edges: []rawEdge{{ms(0), true}, {ms(100), false}, {ms(200), true}, {ms(300), false}, {ms(400), true}, {ms(500), false}},
			end:   ms(3000),
			want: []string{"press@20ms", "release@120ms/100ms", "press@220ms", "double-press@220ms",
				"release@320ms/100ms", "press@420ms", "release@520ms/100ms"},
		},
		{
			name:  "a long press does not begin a double press",
			cfg:   cfg,
			edges: []rawEdge{{ms(0), true}, {ms(1200), false}, {ms(1300), true}, {ms(1400), false}},
			end:   ms(3000),
			want:  []string{"press@20ms", "long-press@1.02s/1s", "release@1.22s/1.2s", "press@1.32s", "release@1.42s/100ms"},
		},
		{
			name:    "held at start: neither that press nor its release is reported",
			cfg:     cfg,
			initial: true,
			edges:   []rawEdge{{ms(2000), false}, {ms(2500), true}, {ms(2600), false}},
			end:     ms(4000),
			want:    []string{"press@2.52s", "release@2.62s/100ms"},
		},
		{
			name:  "no debounce: every change counts",
			cfg:   ButtonConfig{Debounce: -1, LongPress: -1, DoublePress: -1},
			edges: []rawEdge{{ms(0), true}, {ms(1), false}, {ms(2), true}, {ms(3), false}},
			end:   ms(100),
			want:  []string{"press@0s", "release@1ms/1ms", "press@2ms", "release@3ms/1ms"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := simulate(tt.cfg, tt.initial, tt.edges, tt.end)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("events = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDebouncerAlternates checks, over many random bounce trains, that Press and
// Release alternate and that the final state matches the final level.
func TestDebouncerAlternates(t *testing.T) {
	seed := uint32(1)
	rnd := func(n int) int { // xorshift: deterministic and dependency-free
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return int(seed % uint32(n))
	}
	for trial := 0; trial < 200; trial++ {
		var edges []rawEdge
		at := time.Duration(0)
		level := false
		for i := 0; i < 40; i++ {
			at += time.Duration(rnd(30000)) * time.Microsecond
			level = !level
			edges = append(edges, rawEdge{at, level})
		}
		got := simulate(ButtonConfig{Debounce: ms(5), LongPress: -1, DoublePress: -1}, false, edges, at+time.Second)
		want := "press"
		for i, s := range got {
			if !strings.HasPrefix(s, want+"@") {
				t.Fatalf("trial %d: event %d = %s, want a %s (all: %q)", trial, i, s, want, got)
			}
			if want == "press" {
				want = "release"
			} else {
				want = "press"
			}
		}
		if final := want == "release"; final != level {
			t.Fatalf("trial %d: ends pressed=%v, line ends pressed=%v (%q)", trial, final, level, got)
		}
	}
}
