package metrics

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// Counter only goes up.
type Counter struct{ v atomic.Uint64 }

// Add n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Load the value.
func (c *Counter) Load() uint64 { return c.v.Load() }

// Gauge is a value that goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Set the value.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Load the value.
func (g *Gauge) Load() float64 { return math.Float64frombits(g.bits.Load()) }

// Histogram counts observations into fixed buckets (upper bounds, in seconds for latencies).
type Histogram struct {
	bounds []float64
	counts []atomic.Uint64 // one per bound, plus +Inf
	count  atomic.Uint64
	sumNs  atomic.Uint64 // sum in billionths of the unit, to stay atomic without floats
}

// NewHistogram with ascending upper bounds.
func NewHistogram(bounds ...float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// LatencyBuckets suit the daemon's latencies: 0.5 ms to 5 s.
var LatencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// AudioLatencyBuckets suit what the audio path adds: 0.1 ms to 250 ms, fine around
// a 20 ms period.
var AudioLatencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25}

// Observe one value.
func (h *Histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v)
	h.counts[i].Add(1)
	h.count.Add(1)
	if v > 0 {
		h.sumNs.Add(uint64(v * 1e9))
	}
}

// Count of observations.
func (h *Histogram) Count() uint64 { return h.count.Load() }

type entry struct {
	name, help, kind string
	labels           string // `{k="v"}` or ""
	write            func(w io.Writer, name, labels string)
}

// Registry is a set of named metrics, written in registration order.
type Registry struct {
	mu      sync.Mutex // guards entries
	entries []entry
}

// Counter registers and returns a counter.
func (r *Registry) Counter(name, help string) *Counter {
	c := &Counter{}
	r.add(entry{name: name, help: help, kind: "counter", write: func(w io.Writer, n, l string) {
		fmt.Fprintf(w, "%s%s %d\n", n, l, c.Load())
	}})
	return c
}

// Gauge registers and returns a gauge.
func (r *Registry) Gauge(name, help string) *Gauge {
	g := &Gauge{}
	r.GaugeFunc(name, help, g.Load)
	return g
}

// GaugeFunc registers a gauge read from f at scrape time.
func (r *Registry) GaugeFunc(name, help string, f func() float64) {
	r.add(entry{name: name, help: help, kind: "gauge", write: func(w io.Writer, n, l string) {
		fmt.Fprintf(w, "%s%s %s\n", n, l, formatFloat(f()))
	}})
}

// CounterFunc registers a counter read from f at scrape time (e.g. a device's xruns).
func (r *Registry) CounterFunc(name, help string, f func() uint64) {
	r.add(entry{name: name, help: help, kind: "counter", write: func(w io.Writer, n, l string) {
		fmt.Fprintf(w, "%s%s %d\n", n, l, f())
	}})
}

// Histogram registers and returns a histogram.
func (r *Registry) Histogram(name, help string, bounds ...float64) *Histogram {
	h := NewHistogram(bounds...)
	r.add(entry{name: name, help: help, kind: "histogram", write: func(w io.Writer, n, _ string) {
		var cum uint64
		for i, b := range h.bounds {
			cum += h.counts[i].Load()
			fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", n, formatFloat(b), cum)
		}
		cum += h.counts[len(h.bounds)].Load()
		fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n", n, cum)
		fmt.Fprintf(w, "%s_sum %s\n", n, formatFloat(float64(h.sumNs.Load())/1e9))
		fmt.Fprintf(w, "%s_count %d\n", n, h.count.Load())
	}})
	return h
}

func (r *Registry) add(e entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
}

// WriteText writes every metric in the Prometheus text exposition format, then the Go
// runtime's heap allocation counters.
func (r *Registry) WriteText(w io.Writer) {
	r.mu.Lock()
	entries := append([]entry(nil), r.entries...)
	r.mu.Unlock()
	for _, e := range entries {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", e.name, e.help, e.name, e.kind)
		e.write(w, e.name, e.labels)
	}
	writeRuntime(w)
}

var runtimeSamples = []struct{ metric, name, help, kind string }{
	{"/memory/classes/heap/objects:bytes", "voiced_go_heap_live_bytes", "Bytes in live heap objects.", "gauge"},
	{"/sched/goroutines:goroutines", "voiced_go_goroutines", "Goroutines now.", "gauge"},
}

func writeRuntime(w io.Writer) {
	objects, bytes := HeapAllocs()
	fmt.Fprintf(w, "# HELP voiced_go_heap_allocs_objects_total Heap objects allocated since start (exact).\n# TYPE voiced_go_heap_allocs_objects_total counter\nvoiced_go_heap_allocs_objects_total %d\n", objects)
	fmt.Fprintf(w, "# HELP voiced_go_heap_allocs_bytes_total Heap bytes allocated since start.\n# TYPE voiced_go_heap_allocs_bytes_total counter\nvoiced_go_heap_allocs_bytes_total %d\n", bytes)
	s := make([]metrics.Sample, len(runtimeSamples))
	for i, rs := range runtimeSamples {
		s[i].Name = rs.metric
	}
	metrics.Read(s)
	for i, rs := range runtimeSamples {
		if s[i].Value.Kind() != metrics.KindUint64 {
			continue
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", rs.name, rs.help, rs.name, rs.kind, rs.name, s[i].Value.Uint64())
	}
}

// HeapAllocs returns the heap objects and bytes allocated since start, exactly. The
// allocation-free audio path is judged by differences of this count, so it comes from
// runtime.ReadMemStats, which counts every object (tiny ones included) at the moment
// of the call, at the price of a brief stop of the world; runtime/metrics counts a
// span of objects at a time, good only to a few hundred.
func HeapAllocs() (objects, bytes uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs, ms.TotalAlloc
}

func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
