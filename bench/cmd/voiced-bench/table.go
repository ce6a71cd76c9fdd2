package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
)

// row is one figure of the table. Value is nil when there is nothing to show (Unit then
// says why); Budget and OK are nil for figures without a budget.
type row struct {
	Figure string   `json:"figure"`
	Value  *float64 `json:"value"`
	Unit   string   `json:"unit"`
	Budget *string  `json:"budget"`
	OK     *bool    `json:"ok"`
}

type table struct{ rows []row }

func (t *table) add(r row) {
	if r.Value != nil && (math.IsNaN(*r.Value) || math.IsInf(*r.Value, 0)) {
		r.Value = nil
		if r.Unit == "" {
			r.Unit = "not measurable"
		}
		r.OK = nil
	}
	t.rows = append(t.rows, r)
}

func ptr[T any](v T) *T { return &v }

// formatValue prints a figure with about three significant digits.
func formatValue(v float64) string {
	switch a := math.Abs(v); {
	case a == 0:
		return "0"
	case a >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// print writes the table as aligned text: figure, value and unit, budget, within budget.
func (t *table) print(w io.Writer) {
	cells := [][4]string{{"figure", "value", "budget", "ok"}}
	for _, r := range t.rows {
		v := r.Unit
		if r.Value != nil {
			v = formatValue(*r.Value) + " " + r.Unit
		}
		b, ok := "-", "-"
		if r.Budget != nil {
			b = *r.Budget
		}
		if r.OK != nil {
			ok = map[bool]string{true: "yes", false: "NO"}[*r.OK]
		}
		cells = append(cells, [4]string{r.Figure, v, b, ok})
	}
	var width [4]int
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], len(s))
		}
	}
	for i, c := range cells {
		fmt.Fprintf(w, "%-*s  %-*s  %-*s  %s\n", width[0], c[0], width[1], c[1], width[2], c[2], c[3])
		if i == 0 {
			fmt.Fprintln(w, strings.Repeat("-", width[0]+width[1]+width[2]+width[3]+6))
		}
	}
}

// resultSet collects figures that jobs on several goroutines measure, and turns them
// into rows in the order of hotSteps.
type resultSet struct {
	mu    sync.Mutex // guards following fields
	vals  map[string]map[string]float64
	notes []row
}

func newResultSet() *resultSet { return &resultSet{vals: map[string]map[string]float64{}} }

func (s *resultSet) set(kind, bench string, v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vals[kind] == nil {
		s.vals[kind] = map[string]float64{}
	}
	s.vals[kind][bench] = v
}

func (s *resultSet) note(r row) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes = append(s.notes, r)
}

func (s *resultSet) rows(t *table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.notes {
		t.add(n)
	}
	// The per-period work of both directions as a share of a Pi's core: a Cortex-A53 at
	// 1 GHz (Pi Zero 2 W, arm64) or an ARM1176 at 1 GHz (Pi Zero W, ARMv6), taking one
	// instruction per cycle, which such in-order cores reach at best.
	for _, pi := range []struct{ key, figure string }{
		{"arm64 insn", "Pi Zero 2 W estimate (arm64)"},
		{"arm insn", "Pi Zero W estimate (ARMv6)"},
	} {
		c, ok1 := s.vals[pi.key]["BenchmarkCapturePeriod"]
		p, ok2 := s.vals[pi.key]["BenchmarkPlaybackPeriod/48000"]
		if ok1 && ok2 {
			t.add(row{Figure: pi.figure + ": capture + playback periods, share of one 1 GHz core at 1 instruction/cycle", Value: ptr((c + p) * 50 / 1e9 * 100), Unit: "%"})
		}
		// Issue 26: a capture period with speech (resampling, both detectors, the ring) at
		// most 8 % of the Cortex-A53 and 20 % of the ARM1176; waiting in a quiet room 2 % and 5 %.
		speechMax, quietMax := 8.0, 2.0
		if pi.key == "arm insn" {
			speechMax, quietMax = 20, 5
		}
		if ok1 {
			share := c * 50 / 1e9 * 100
			t.add(row{Figure: pi.figure + ": capture period with speech (resampling, silero and classic detectors, ring), share of one 1 GHz core", Value: ptr(share), Unit: "%",
				Budget: ptr(fmt.Sprintf("<= %.0f %%", speechMax)), OK: ptr(share <= speechMax)})
		}
		if q, ok := s.vals[pi.key]["BenchmarkCaptureQuietPeriod"]; ok {
			share := q * 50 / 1e9 * 100
			t.add(row{Figure: pi.figure + ": capture period in a quiet room waiting for speech, share of one 1 GHz core", Value: ptr(share), Unit: "%",
				Budget: ptr(fmt.Sprintf("<= %.0f %%", quietMax)), OK: ptr(share <= quietMax)})
		}
		if c, ok := s.vals[pi.key]["BenchmarkCaptureIdlePeriod"]; ok {
			t.add(row{Figure: pi.figure + ": capture period between push-to-talk turns, share of one 1 GHz core", Value: ptr(c * 50 / 1e9 * 100), Unit: "%"})
		}
		// A wake word costs its 10 ms steps, 100 a second (issue 22: at most 3 % of the
		// Cortex-A53, 10 % of the ARM1176, per word).
		if w, ok := s.vals[pi.key]["BenchmarkDetectorStep/okay_nabu"]; ok {
			share, limit := w*100/1e9*100, 3.0
			if pi.key == "arm insn" {
				limit = 10
			}
			t.add(row{Figure: pi.figure + ": wake word okay_nabu (front end and model), share of one 1 GHz core", Value: ptr(share), Unit: "%",
				Budget: ptr(fmt.Sprintf("<= %.0f %%", limit)), OK: ptr(share <= limit)})
		}
		// The echo canceller per 20 ms, 50 a second (issue 27: at most 3 % of the
		// Cortex-A53, 8 % of the ARM1176).
		if w, ok := s.vals[pi.key]["BenchmarkProcess24kHz"]; ok {
			share, limit := w*50/1e9*100, 3.0
			if pi.key == "arm insn" {
				limit = 8
			}
			t.add(row{Figure: pi.figure + ": echo canceller (24 kHz, 128 ms tail), share of one 1 GHz core", Value: ptr(share), Unit: "%",
				Budget: ptr(fmt.Sprintf("<= %.0f %%", limit)), OK: ptr(share <= limit)})
		}
	}
	for _, kind := range []struct{ key, figure, unit string }{
		{"amd64 insn", "micro amd64 (valgrind)", "instructions/op"},
		{"arm64 ns", "micro arm64 (qemu-user)", "ns/op emulated"},
		{"arm64 insn", "micro arm64 (qemu-user)", "instructions/op"},
		{"arm ns", "micro arm/ARMv6 (qemu-user)", "ns/op emulated"},
		{"arm insn", "micro arm/ARMv6 (qemu-user)", "instructions/op"},
	} {
		vals := s.vals[kind.key]
		for _, h := range hotSteps {
			if v, ok := vals[h.Bench]; ok {
				t.add(row{Figure: kind.figure + ": " + h.Label, Value: ptr(v), Unit: kind.unit})
			}
		}
		for _, pair := range [][2]string{{"BenchmarkAppendEncodeJSON/20ms", "BenchmarkAppendEncode/20ms"}, {"BenchmarkDeltaDecodeJSON/50ms", "BenchmarkDeltaDecode/50ms"}} {
			slow, ok1 := vals[pair[0]]
			fast, ok2 := vals[pair[1]]
			if ok1 && ok2 && fast > 0 {
				t.add(row{Figure: fmt.Sprintf("%s: %s, encoding/json way / voiced's", kind.figure, strings.TrimPrefix(pair[1], "Benchmark")), Value: ptr(slow / fast), Unit: "ratio of " + kind.unit})
			}
		}
	}
}
