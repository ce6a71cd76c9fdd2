package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// benchResult is one line of `go test -bench` output.
type benchResult struct {
	Name    string // without the -GOMAXPROCS suffix
	N       int
	Metrics map[string]float64 // unit -> value: ns/op, MB/s, B/op, allocs/op, ...
}

// parseBench reads the benchmark lines of `go test -bench` output.
func parseBench(r io.Reader) ([]benchResult, error) {
	var out []benchResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		res := benchResult{Name: name, N: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: value %q: %w", name, f[i], err)
			}
			res.Metrics[f[i+1]] = v
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// histogram is a Prometheus histogram read from /metrics: cumulative counts per
// upper bound, ascending, the last bound +Inf.
type histogram struct {
	Bounds []float64
	Counts []float64 // cumulative
	Sum    float64
	Count  float64
}

// scrape is one read of a /metrics page: plain samples by name (with labels, if
// any, as written) and histograms by base name.
type scrape struct {
	Values     map[string]float64
	Histograms map[string]*histogram
}

// parseMetrics reads the Prometheus text exposition format.
func parseMetrics(r io.Reader) (scrape, error) {
	s := scrape{Values: map[string]float64{}, Histograms: map[string]*histogram{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	hist := func(name string) *histogram {
		h := s.Histograms[name]
		if h == nil {
			h = &histogram{}
			s.Histograms[name] = h
		}
		return h
	}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return s, fmt.Errorf("metrics line %q: no value", line)
		}
		key, vs := line[:i], line[i+1:]
		v, err := strconv.ParseFloat(vs, 64)
		if err != nil {
			return s, fmt.Errorf("metrics line %q: %w", line, err)
		}
		switch {
		case strings.Contains(key, "_bucket{") && strings.Contains(key, `le="`):
			name := key[:strings.Index(key, "_bucket{")]
			le := key[strings.Index(key, `le="`)+4:]
			le = le[:strings.IndexByte(le, '"')]
			b := math.Inf(1)
			if le != "+Inf" {
				if b, err = strconv.ParseFloat(le, 64); err != nil {
					return s, fmt.Errorf("metrics line %q: bound: %w", line, err)
				}
			}
			h := hist(name)
			h.Bounds = append(h.Bounds, b)
			h.Counts = append(h.Counts, v)
		case strings.HasSuffix(key, "_sum") && s.Histograms[strings.TrimSuffix(key, "_sum")] != nil:
			hist(strings.TrimSuffix(key, "_sum")).Sum = v
		case strings.HasSuffix(key, "_count") && s.Histograms[strings.TrimSuffix(key, "_count")] != nil:
			hist(strings.TrimSuffix(key, "_count")).Count = v
		default:
			s.Values[key] = v
		}
	}
	return s, sc.Err()
}

// quantile estimates the q-quantile (0..1) of a histogram by linear interpolation inside
// the bucket that holds it, as Prometheus' histogram_quantile does. A quantile in the
// +Inf bucket is reported as the highest finite bound. NaN when empty.
func (h *histogram) quantile(q float64) float64 {
	if h == nil || len(h.Counts) == 0 {
		return math.NaN()
	}
	total := h.Counts[len(h.Counts)-1]
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	lower, prev := 0.0, 0.0
	for i, c := range h.Counts {
		if c >= rank {
			if math.IsInf(h.Bounds[i], 1) {
				return lower
			}
			if c == prev {
				return h.Bounds[i]
			}
			return lower + (h.Bounds[i]-lower)*(rank-prev)/(c-prev)
		}
		lower, prev = h.Bounds[i], c
	}
	return lower
}

// percentile of samples by nearest rank; NaN when empty.
func percentile(samples []float64, q float64) float64 {
	if len(samples) == 0 {
		return math.NaN()
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// fitLine is the least-squares line y = a + b*x; ok is false when x does not vary.
func fitLine(x, y []float64) (a, b float64, ok bool) {
	n := float64(len(x))
	if len(x) != len(y) || len(x) < 2 {
		return 0, 0, false
	}
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0, 0, false
	}
	b = (n*sxy - sx*sy) / d
	a = (sy - b*sx) / n
	return a, b, true
}
