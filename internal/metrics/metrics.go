package metrics

import (
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
	write            func(b []byte, name, labels string) []byte
}

// Registry is a set of named metrics, written in registration order.
type Registry struct {
	mu      sync.Mutex // guards entries
	entries []entry

	// A scrape appends its text to one reused buffer, with strconv rather than fmt,
	// so that it costs the same few objects every time: allocation-per-frame figures
	// are differences of the heap count that scrapes read.
	out     sync.Mutex // guards buf and samples
	buf     []byte
	samples []metrics.Sample
}

// Counter registers and returns a counter.
func (r *Registry) Counter(name, help string) *Counter {
	c := &Counter{}
	r.add(entry{name: name, help: help, kind: "counter", write: func(b []byte, n, l string) []byte {
		return appendSample(b, n, l, "", c.Load())
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
	r.add(entry{name: name, help: help, kind: "gauge", write: func(b []byte, n, l string) []byte {
		b = append(append(append(b, n...), l...), ' ')
		return append(appendFloat(b, f()), '\n')
	}})
}

// CounterFunc registers a counter read from f at scrape time (e.g. a device's xruns).
func (r *Registry) CounterFunc(name, help string, f func() uint64) {
	r.add(entry{name: name, help: help, kind: "counter", write: func(b []byte, n, l string) []byte {
		return appendSample(b, n, l, "", f())
	}})
}

// Histogram registers and returns a histogram.
func (r *Registry) Histogram(name, help string, bounds ...float64) *Histogram {
	h := NewHistogram(bounds...)
	r.add(entry{name: name, help: help, kind: "histogram", write: func(b []byte, n, _ string) []byte {
		var cum uint64
		for i, bound := range h.bounds {
			cum += h.counts[i].Load()
			b = append(append(b, n...), `_bucket{le="`...)
			b = append(appendFloat(b, bound), `"} `...)
			b = append(strconv.AppendUint(b, cum, 10), '\n')
		}
		cum += h.counts[len(h.bounds)].Load()
		b = append(append(b, n...), `_bucket{le="+Inf"} `...)
		b = append(strconv.AppendUint(b, cum, 10), '\n')
		b = append(append(b, n...), "_sum "...)
		b = append(appendFloat(b, float64(h.sumNs.Load())/1e9), '\n')
		return appendSample(b, n, "", "_count", h.count.Load())
	}})
	return h
}

func (r *Registry) add(e entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
}

// WriteText writes every metric in the Prometheus text exposition format, then the Go
// runtime's heap allocation counters, in one Write.
func (r *Registry) WriteText(w io.Writer) {
	r.mu.Lock()
	entries := r.entries[:len(r.entries):len(r.entries)] // entries are only appended
	r.mu.Unlock()
	r.out.Lock()
	defer r.out.Unlock()
	b := r.buf[:0]
	for _, e := range entries {
		b = appendHeader(b, e.name, e.help, e.kind)
		b = e.write(b, e.name, e.labels)
	}
	b = r.appendRuntime(b)
	r.buf = b
	_, _ = w.Write(b)
}

var runtimeSamples = []struct{ metric, name, help, kind string }{
	{"/memory/classes/heap/objects:bytes", "voiced_go_heap_live_bytes", "Bytes in live heap objects.", "gauge"},
	{"/sched/goroutines:goroutines", "voiced_go_goroutines", "Goroutines now.", "gauge"},
}

func (r *Registry) appendRuntime(b []byte) []byte {
	objects, bytes := HeapAllocs()
	b = appendHeader(b, "voiced_go_heap_allocs_objects_total", "Heap objects allocated since start (exact).", "counter")
	b = appendSample(b, "voiced_go_heap_allocs_objects_total", "", "", objects)
	b = appendHeader(b, "voiced_go_heap_allocs_bytes_total", "Heap bytes allocated since start.", "counter")
	b = appendSample(b, "voiced_go_heap_allocs_bytes_total", "", "", bytes)
	if r.samples == nil {
		r.samples = make([]metrics.Sample, len(runtimeSamples))
		for i, rs := range runtimeSamples {
			r.samples[i].Name = rs.metric
		}
	}
	metrics.Read(r.samples)
	for i, rs := range runtimeSamples {
		if r.samples[i].Value.Kind() != metrics.KindUint64 {
			continue
		}
		b = appendHeader(b, rs.name, rs.help, rs.kind)
		b = appendSample(b, rs.name, "", "", r.samples[i].Value.Uint64())
	}
	return b
}

func appendHeader(b []byte, name, help, kind string) []byte {
	b = append(append(append(append(b, "# HELP "...), name...), ' '), help...)
	return append(append(append(append(append(b, "\n# TYPE "...), name...), ' '), kind...), '\n')
}

// appendSample appends "NAMEsuffixLABELS V\n".
func appendSample(b []byte, name, labels, suffix string, v uint64) []byte {
	b = append(append(append(append(b, name...), suffix...), labels...), ' ')
	return append(strconv.AppendUint(b, v, 10), '\n')
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

func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
