package wakeword

import (
	"fmt"
	"time"

	"github.com/voiced-project/voiced/internal/wakeword/tflite"
)

// DefaultRefractory is the time after a detection (and after start) during which the
// word is not reported again; ESPHome's 100 feature steps.
const DefaultRefractory = time.Second

// Config configures a Detector.
type Config struct {
	Models []*Model
	// Refractory is the quiet time after a detection; 0 means DefaultRefractory.
	Refractory time.Duration
}

// Detection is one wake word heard.
type Detection struct {
	// Word is the model's Name; Index its position in Config.Models.
	Word  string
	Index int
	// Score is the sliding mean probability (0..1) that crossed the cutoff.
	Score float64
	// Sample is the stream position, in samples since the start or the last Reset, at the
	// end of the 10 ms step that completed the detection.
	Sample int64
}

type word struct {
	m      *Model
	it     *tflite.Interpreter
	in     []byte
	out    []byte
	stride int
	pos    int // feature steps written into the input
	rule   rule
}

// rule is ESPHome's detection rule for one model: a ring of recent probabilities (0..255),
// a refractory count-down and the decision on each new probability.
type rule struct {
	probs   []uint8
	last    int // index of the newest
	cutoffQ int // cutoff on the 0..255 scale
	ignore  int // negative: steps still to wait
	fresh   bool
}

func (r *rule) reset(refractory int) {
	clear(r.probs)
	r.ignore = -refractory
	r.fresh = false
}

func (r *rule) push(p uint8) {
	r.last++
	if r.last == len(r.probs) {
		r.last = 0
	}
	r.probs[r.last] = p
	r.fresh = true
}

// step ends one 10 ms feature step: the refractory count-down advances only while the
// newest probability is under the cutoff (so a word still being heard cannot fire
// again), and a new probability is judged once the count-down is over. On a detection
// the ring is cleared and the count-down restarts.
func (r *rule) step(refractory int) (float64, bool) {
	if int(r.probs[r.last]) < r.cutoffQ {
		r.ignore = min(r.ignore+1, 0)
	}
	if !r.fresh || r.ignore < 0 {
		return 0, false
	}
	r.fresh = false
	sum := 0
	for _, p := range r.probs {
		sum += int(p)
	}
	if sum <= r.cutoffQ*len(r.probs) {
		return 0, false
	}
	r.reset(refractory)
	return float64(sum) / float64(len(r.probs)) / 255, true
}

// Detector runs several wake-word models on one front end. It is not safe for concurrent
// use; Process allocates nothing.
type Detector struct {
	fe         *Frontend
	feat       [Features]uint16
	feat8      [Features]int8
	words      []*word
	pending    [StepSamples]int16
	npend      int
	pos        int64
	refractory int
	dets       []Detection
}

// NewDetector builds a detector for the given models. Each detector has its own
// interpreters; Models may be shared between detectors.
func NewDetector(cfg Config) (*Detector, error) {
	if len(cfg.Models) == 0 {
		return nil, ErrNoModels
	}
	ref := cfg.Refractory
	if ref == 0 {
		ref = DefaultRefractory
	}
	if ref < 0 {
		return nil, fmt.Errorf("wakeword: refractory %v is negative", ref)
	}
	d := &Detector{fe: NewFrontend(), refractory: int(ref / (10 * time.Millisecond)), dets: make([]Detection, 0, len(cfg.Models))}
	for i, m := range cfg.Models {
		switch {
		case m == nil || m.tflite == nil:
			return nil, fmt.Errorf("wakeword: model %d: not loaded (use Builtin, LoadModel or ParseModel)", i)
		case m.Cutoff <= 0 || m.Cutoff >= 1:
			return nil, fmt.Errorf("wakeword: %s: cutoff %g not in (0,1)", m.Name, m.Cutoff)
		case m.Window < 1:
			return nil, fmt.Errorf("wakeword: %s: sliding window %d", m.Name, m.Window)
		}
		it, err := m.interpreter()
		if err != nil {
			return nil, fmt.Errorf("wakeword: %s: %w", m.Name, err)
		}
		w := &word{m: m, it: it, in: it.Input().Data, out: it.Output().Data, stride: it.Input().Shape[1],
			rule: rule{probs: make([]uint8, m.Window), cutoffQ: int(m.Cutoff * 255)}}
		d.words = append(d.words, w)
	}
	d.Reset()
	return d, nil
}

// Reset forgets all audio: front end, model state and probabilities. The stream
// position starts again at 0.
func (d *Detector) Reset() {
	d.fe.Reset()
	d.npend = 0
	d.pos = 0
	for _, w := range d.words {
		w.it.Reset()
		w.pos = 0
		w.rule.reset(d.refractory)
	}
}

// Process feeds 16 kHz mono samples of any length and returns the words detected in
// them. The returned slice is reused by the next call.
func (d *Detector) Process(pcm []int16) []Detection {
	d.dets = d.dets[:0]
	for len(pcm) > 0 {
		if d.npend == 0 && len(pcm) >= StepSamples {
			d.step(pcm[:StepSamples])
			pcm = pcm[StepSamples:]
			continue
		}
		n := copy(d.pending[d.npend:], pcm)
		d.npend += n
		pcm = pcm[n:]
		if d.npend == StepSamples {
			d.step(d.pending[:])
			d.npend = 0
		}
	}
	return d.dets
}

func (d *Detector) step(pcm []int16) {
	d.pos += StepSamples
	if !d.fe.Step(pcm, &d.feat) {
		return
	}
	for i, v := range d.feat {
		d.feat8[i] = Int8Feature(v)
	}
	for i, w := range d.words {
		if score, ok := w.feed(&d.feat8, d.refractory); ok {
			d.dets = append(d.dets, Detection{Word: w.m.Name, Index: i, Score: score, Sample: d.pos})
		}
	}
}

// feed writes one feature step into the model's input stride and runs the model when
// the stride is full, as ESPHome's streaming model does.
func (w *word) feed(f *[Features]int8, refractory int) (float64, bool) {
	off := w.pos * Features
	for i, v := range f {
		w.in[off+i] = byte(v)
	}
	w.pos++
	if w.pos == w.stride {
		w.pos = 0
		w.it.Invoke()
		w.rule.push(w.out[0])
	}
	return w.rule.step(refractory)
}

// Words returns the models in Config order.
func (d *Detector) Words() []*Model {
	out := make([]*Model, len(d.words))
	for i, w := range d.words {
		out[i] = w.m
	}
	return out
}

// Probability returns model i's newest probability (0..1), for meters and tuning.
func (d *Detector) Probability(i int) float64 {
	r := &d.words[i].rule
	return float64(r.probs[r.last]) / 255
}
