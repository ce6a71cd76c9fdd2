package metrics

import (
	"slices"
	"strings"
	"sync"
)

// CounterVec is a family of counters told apart by one label's value, e.g. the wake
// word heard. Values appear as they are first counted.
type CounterVec struct {
	mu     sync.Mutex // guards counts
	counts map[string]uint64
}

// Inc adds one to the counter of value.
func (v *CounterVec) Inc(value string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.counts[value]++
}

// Load returns the count of value.
func (v *CounterVec) Load(value string) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.counts[value]
}

// CounterVec registers and returns a counter family labelled by label; its samples
// are written sorted by value.
func (r *Registry) CounterVec(name, help, label string) *CounterVec {
	v := &CounterVec{counts: map[string]uint64{}}
	r.add(entry{name: name, help: help, kind: "counter", write: func(b []byte, n, _ string) []byte {
		v.mu.Lock()
		defer v.mu.Unlock()
		keys := make([]string, 0, len(v.counts))
		for k := range v.counts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = appendSample(b, n, "{"+label+`="`+labelEscaper.Replace(k)+`"}`, "", v.counts[k])
		}
		return b
	}})
	return v
}

// labelEscaper escapes a label value as the text exposition format wants.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
