package main

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseBench(t *testing.T) {
	out := `goos: linux
BenchmarkRing-2   	 9866402	       107.8 ns/op	  9503.09 MB/s	       0 B/op	       0 allocs/op
BenchmarkDecodeMono/S16_LE/2ch/channel-1-2         	  372715	      3201 ns/op	1199.61 MB/s	       0 B/op	       0 allocs/op
BenchmarkAppendEncodeJSON/20ms         	    2000	     18117 ns/op	  52.99 MB/s	    5030 B/op	       5 allocs/op
PASS
ok  	github.com/voiced-project/voiced/internal/pipeline	29.772s
`
	got, err := parseBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name   string
		n      int
		nsOp   float64
		allocs float64
	}{
		{"BenchmarkRing", 9866402, 107.8, 0},
		{"BenchmarkDecodeMono/S16_LE/2ch/channel-1", 372715, 3201, 0},
		{"BenchmarkAppendEncodeJSON/20ms", 2000, 18117, 5},
	}
	if len(got) != len(want) {
		t.Fatalf("parseBench found %d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.N != w.n || g.Metrics["ns/op"] != w.nsOp || g.Metrics["allocs/op"] != w.allocs {
			t.Errorf("result %d = %s N=%d %v, want %s N=%d %v ns/op %v allocs/op", i, g.Name, g.N, g.Metrics, w.name, w.n, w.nsOp, w.allocs)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	page := `# HELP voiced_commit_seconds Release to commit.
# TYPE voiced_commit_seconds histogram
voiced_commit_seconds_bucket{le="0.001"} 2
voiced_commit_seconds_bucket{le="0.005"} 8
voiced_commit_seconds_bucket{le="+Inf"} 10
voiced_commit_seconds_sum 0.05
voiced_commit_seconds_count 10
# TYPE voiced_go_heap_allocs_objects_total counter
voiced_go_heap_allocs_objects_total 12345
voiced_xruns_total{stream="capture"} 3
`
	s, err := parseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Values["voiced_go_heap_allocs_objects_total"]; got != 12345 {
		t.Errorf("allocs = %v, want 12345", got)
	}
	if got := s.Values[`voiced_xruns_total{stream="capture"}`]; got != 3 {
		t.Errorf("xruns = %v, want 3", got)
	}
	h := s.Histograms["voiced_commit_seconds"]
	if h == nil {
		t.Fatalf("histogram voiced_commit_seconds not found in %v", s.Histograms)
	}
	if h.Count != 10 || h.Sum != 0.05 || len(h.Bounds) != 3 || !math.IsInf(h.Bounds[2], 1) {
		t.Errorf("histogram = %+v, want 3 buckets, count 10, sum 0.05", h)
	}
	if _, err := parseMetrics(strings.NewReader("voiced_x notanumber\n")); err == nil {
		t.Error("parseMetrics accepted a value that is not a number")
	}
}

func TestQuantile(t *testing.T) {
	h := &histogram{Bounds: []float64{0.001, 0.005, math.Inf(1)}, Counts: []float64{2, 8, 10}}
	for _, tc := range []struct {
		q, want float64
	}{
		{0.1, 0.0005},  // inside the first bucket, from 0
		{0.2, 0.001},   // its top
		{0.5, 0.0030},  // rank 5: 3 of the 6 in (1 ms, 5 ms]
		{0.8, 0.005},   // top of the second
		{0.99, 0.005},  // in +Inf: the highest finite bound
		{1.0, 0.005},   // likewise
		{0.35, 0.0020}, // rank 3.5: 1.5 of 6
	} {
		if got := h.quantile(tc.q); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := (&histogram{Bounds: []float64{1}, Counts: []float64{0}}).quantile(0.5); !math.IsNaN(got) {
		t.Errorf("quantile of an empty histogram = %v, want NaN", got)
	}
}

func TestPercentile(t *testing.T) {
	s := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct{ q, want float64 }{{0.5, 5}, {0.99, 10}, {0.1, 1}, {0, 1}, {1, 10}} {
		if got := percentile(s, tc.q); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if s[0] != 5 {
		t.Error("percentile sorted its argument in place")
	}
	if got := percentile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("percentile(nil) = %v, want NaN", got)
	}
}

func TestFitLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		x, y   []float64
		a, b   float64
		wantOK bool
	}{
		{"exact", []float64{100, 200, 600}, []float64{50, 50, 50}, 50, 0, true},
		{"slope", []float64{1, 2, 3, 4}, []float64{3, 5, 7, 9}, 1, 2, true},
		{"x constant", []float64{2, 2, 2}, []float64{1, 2, 3}, 0, 0, false},
		{"one point", []float64{1}, []float64{1}, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, ok := fitLine(tc.x, tc.y)
			if ok != tc.wantOK || (ok && (math.Abs(a-tc.a) > 1e-9 || math.Abs(b-tc.b) > 1e-9)) {
				t.Errorf("fitLine = %v, %v, %v; want %v, %v, %v", a, b, ok, tc.a, tc.b, tc.wantOK)
			}
		})
	}
}

func TestBenchPattern(t *testing.T) {
	for _, tc := range []struct {
		name, match, miss string
	}{
		{"BenchmarkRing", "BenchmarkRing", "BenchmarkRingConcurrent"},
		{"BenchmarkResample/16000-24000", "BenchmarkResample/16000-24000", "BenchmarkResample/16000-240000"},
	} {
		parts := strings.Split(benchPattern(tc.name), "/")
		ok := func(name string) bool {
			elems := strings.Split(name, "/")
			if len(elems) != len(parts) {
				return false
			}
			for i, p := range parts {
				if !regexp.MustCompile(p).MatchString(elems[i]) {
					return false
				}
			}
			return true
		}
		if !ok(tc.match) || ok(tc.miss) {
			t.Errorf("benchPattern(%q) = %q: matches %q %v (want true), %q %v (want false)", tc.name, benchPattern(tc.name), tc.match, ok(tc.match), tc.miss, ok(tc.miss))
		}
	}
}

func TestTableDropsNaN(t *testing.T) {
	var tb table
	tb.add(row{Figure: "x", Value: ptr(math.NaN()), Budget: ptr("0"), OK: ptr(true)})
	r := tb.rows[0]
	if r.Value != nil || r.OK != nil || r.Unit == "" {
		t.Errorf("row with NaN = value %v ok %v unit %q; want no value, no verdict, a reason", r.Value, r.OK, r.Unit)
	}
	for _, tc := range []struct {
		v    float64
		want string
	}{{0, "0"}, {1234.6, "1235"}, {123.45, "123.5"}, {1.234, "1.23"}, {0.001234, "0.00123"}} {
		if got := formatValue(tc.v); got != tc.want {
			t.Errorf("formatValue(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestFindKey(t *testing.T) {
	v := map[string]any{"engine": map[string]any{"state": "connected"}, "turns": 3.0}
	if got := findKey(v, "state"); got != "connected" {
		t.Errorf("findKey(state) = %v, want connected", got)
	}
	if got := findKey(v, "missing"); got != nil {
		t.Errorf("findKey(missing) = %v, want nil", got)
	}
}

func TestBusiestThread(t *testing.T) {
	// Blocks: a step of 3 instructions, a runtime function of 2, the division helper of
	// 1, and the kernel's compare-and-swap page (no symbol) of 2. Thread 12 enters them
	// most. A second, one-instruction block at the step's pc (qemu running an atomic
	// instruction alone) has its own host address, and thread 0 entering the older
	// block afterwards still counts 3.
	trace := `----------------
IN: github.com/x/y.(*T).step
0x00401000:  e59d0000  ldr      r0, [sp]
0x00401004:  e28d1004  add      r1, sp, #4
0x00401008:  eafff702  b        #0xaff4c

Trace 12: 0x7f0000001000 [00000000/00401000/00000001/00080201] github.com/x/y.(*T).step
----------------
IN:
0xffff0fc0:  e59d0000  ldr      r0, [sp]
0xffff0fc4:  e12fff1e  bx       lr

Trace 12: 0x7f0000005000 [00000480/ffff0fc0/00000000/00080200]
----------------
IN: runtime.findRunnable
0x00402000:  e59d0000  ldr      r0, [sp]
0x00402004:  eafff702  b        #0xaff4c

Trace 12: 0x7f0000002000 [00000000/00402000/00000001/00080201] runtime.findRunnable
----------------
IN: runtime.udiv
0x00403000:  e12fff1e  bx       lr

Trace 12: 0x7f0000003000 [00000000/00403000/00000001/00080201] runtime.udiv
Trace 12: 0x7f0000005000 [00000480/ffff0fc0/00000000/00080200]
Trace 12: 0x7f0000001000 [00000000/00401000/00000001/00080201] github.com/x/y.(*T).step
Trace 12: 0x7f0000003000 [00000000/00403000/00000001/00080201] runtime.udiv
Trace 1: 0x7f0000002000 [00000000/00402000/00000001/00080201] runtime.findRunnable
----------------
IN: github.com/x/y.(*T).step
0x00401000:  e59d0000  ldr      r0, [sp]

Trace 0: 0x7f0000001000 [00000000/00401000/00000001/00080201] github.com/x/y.(*T).step
Trace 12: 0x7f0000004000 [00000000/00401000/00000001/00080001] github.com/x/y.(*T).step
PASS
BenchmarkX 	       2	      1000 ns/op
`
	got, err := busiestThread(strings.NewReader(trace))
	if err != nil {
		t.Fatal(err)
	}
	// Thread 12: step 3, the kernel's page 2 (called by the step), findRunnable 2 and
	// the udiv and kernel page after it (the runtime's: left out), step 3, udiv 1
	// (the step's), step 1.
	if got != 10 {
		t.Errorf("busiestThread = %v, want 10", got)
	}
	if got, _ := busiestThread(strings.NewReader("PASS\n")); got != 0 {
		t.Errorf("busiestThread of no trace = %v, want 0", got)
	}
	if _, err := busiestThread(strings.NewReader("Trace 0: 0x7f00 [0/00409000/0/0] main.f\n")); err == nil {
		t.Error("busiestThread of a block never translated: no error")
	}
}

func TestFnKind(t *testing.T) {
	for fn, want := range map[string]int{
		"github.com/x/y.(*Ring).Write":      fnStep,
		"math.sin":                          fnStep,
		"runtime.findRunnable":              fnRuntime,
		"internal/runtime/syscall.Syscall6": fnRuntime,
		"gogo":                              fnRuntime,
		"runtime.memmove":                   fnHelper,
		"runtime._div":                      fnHelper,
		"internal/runtime/atomic.goLoad64":  fnHelper,
		"kernelcas":                         fnHelper,
		"":                                  fnHelper,
	} {
		if got := fnKind([]byte(fn)); got != want {
			t.Errorf("fnKind(%q) = %d, want %d", fn, got, want)
		}
	}
}

// Peak RSS and mic -> wire are shown for every client, with a budget only for voiced.
func TestScenarioRowsEveryClient(t *testing.T) {
	res := func(kind string, peak int64, wire float64) scenarioResult {
		return scenarioResult{Kind: kind, AudioSeconds: 60, CPU: time.Second, Frames: 3000, AllocsTotal: 10,
			Memory: memoryUse{Peak: peak}, MicToWire: []float64{wire, wire}}
	}
	var tb table
	scenarioRows(&tb, "push_to_talk", res("voiced", 15<<20, 0.0002), res("reference", 9<<20, 0.0003), res("reference-dsp", 10<<20, 0.0004))
	find := func(prefix string) *row {
		for i := range tb.rows {
			if strings.HasPrefix(tb.rows[i].Figure, prefix) {
				return &tb.rows[i]
			}
		}
		t.Errorf("no row %q", prefix)
		return nil
	}
	for _, c := range []struct {
		kind      string
		mib, wire float64
		budget    bool
	}{{"voiced", 15, 0.2, true}, {"reference", 9, 0.3, false}, {"reference-dsp", 10, 0.4, false}} {
		if r := find("push-to-talk " + c.kind + ": peak RSS"); r != nil && (r.Value == nil || *r.Value != c.mib || (r.Budget != nil) != c.budget) {
			t.Errorf("%s peak RSS row %+v, want %v MiB, budget %v", c.kind, r, c.mib, c.budget)
		}
		if r := find("push-to-talk " + c.kind + ": mic -> wire, outside p50"); r != nil && (r.Value == nil || math.Abs(*r.Value-c.wire) > 1e-9) {
			t.Errorf("%s mic -> wire row %+v, want %v ms", c.kind, r, c.wire)
		}
	}
}
