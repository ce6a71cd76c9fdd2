package metrics

import (
	"io"
	"strings"
	"testing"

	"github.com/voiced-project/voiced/internal/race"
)

func TestWriteText(t *testing.T) {
	var r Registry
	c := r.Counter("voiced_turns_total", "Completed turns.")
	g := r.Gauge("voiced_state", "State number.")
	h := r.Histogram("voiced_commit_seconds", "Release to commit.", 0.001, 0.01)
	r.CounterFunc("voiced_xruns_total", "Device xruns.", func() uint64 { return 4 })
	c.Add(2)
	c.Inc()
	g.Set(4)
	h.Observe(0.0005)
	h.Observe(0.005)
	h.Observe(0.5)
	var b strings.Builder
	r.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"# TYPE voiced_turns_total counter\nvoiced_turns_total 3\n",
		"# TYPE voiced_state gauge\nvoiced_state 4\n",
		"voiced_commit_seconds_bucket{le=\"0.001\"} 1\n",
		"voiced_commit_seconds_bucket{le=\"0.01\"} 2\n",
		"voiced_commit_seconds_bucket{le=\"+Inf\"} 3\n",
		"voiced_commit_seconds_sum 0.5055\n",
		"voiced_commit_seconds_count 3\n",
		"voiced_xruns_total 4\n",
		"# TYPE voiced_go_heap_allocs_objects_total counter\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestUpdatesDoNotAllocate(t *testing.T) {
	var r Registry
	c := r.Counter("c", "c")
	h := r.Histogram("h", "h", LatencyBuckets...)
	if n := testing.AllocsPerRun(100, func() { c.Inc(); h.Observe(0.002) }); n != 0 {
		t.Errorf("Inc+Observe allocate %v times, want 0", n)
	}
}

var heapSink []*[4]int64

// TestHeapAllocsExact: the count moves by exactly the objects allocated, one at a
// time, which is what allocation-per-frame figures need.
func TestHeapAllocsExact(t *testing.T) {
	heapSink = make([]*[4]int64, 0, 64)
	for _, n := range []int{0, 1, 3, 17} {
		before, _ := HeapAllocs()
		for range n {
			heapSink = append(heapSink, new([4]int64))
		}
		after, _ := HeapAllocs()
		if got := int(after - before); got != n {
			t.Errorf("%d allocations counted as %d", n, got)
		}
	}
}

// TestScrapeCostConstant: what a scrape allocates does not depend on the values it
// writes (boxing a number above 255 for fmt would), so a window of allocation counting
// between two scrapes can subtract one scrape's cost exactly.
func TestScrapeCostConstant(t *testing.T) {
	var r Registry
	c := r.Counter("c_total", "c")
	h := r.Histogram("h_seconds", "h", AudioLatencyBuckets...)
	r.GaugeFunc("g", "g", func() float64 { return float64(c.Load()) / 3 })
	r.WriteText(io.Discard) // the buffer grows once
	small := testing.AllocsPerRun(20, func() { r.WriteText(io.Discard) })
	c.Add(1 << 40)
	for range 100000 {
		h.Observe(0.003)
	}
	r.WriteText(io.Discard)
	large := testing.AllocsPerRun(20, func() { r.WriteText(io.Discard) })
	if small != large {
		t.Errorf("a scrape allocates %v objects with small values and %v with large ones, want the same", small, large)
	}
	if !race.Enabled && small > 2 {
		t.Errorf("a scrape allocates %v objects, want at most 2 (runtime/metrics.Read)", small)
	}
}

func TestCounterVec(t *testing.T) {
	var r Registry
	v := r.CounterVec("voiced_wake_words_total", "Wake words heard.", "word")
	v.Inc("okay_nabu")
	v.Inc(`a"b`)
	v.Inc("okay_nabu")
	var b strings.Builder
	r.WriteText(&b)
	for _, want := range []string{
		"# TYPE voiced_wake_words_total counter\n",
		"voiced_wake_words_total{word=\"a\\\"b\"} 1\nvoiced_wake_words_total{word=\"okay_nabu\"} 2\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("WriteText = %q, want it to contain %q", b.String(), want)
		}
	}
	if got := v.Load("okay_nabu"); got != 2 {
		t.Errorf("Load(okay_nabu) = %d, want 2", got)
	}
}
