// Command vadfit fits the weights of the VAD's model and writes internal/vad/model.go.
//
// It runs the VAD's feature extraction over the labeled set (default: the project's shared
// VAD set), trains a one-hidden-layer network (tanh, logistic output, cross-entropy, L2) with
// Adam, and picks the decision threshold, hysteresis and hangover on the training files by the
// set's scoring rule (best F1 with false alarms under -maxfa). Synthetic recordings of noise
// whose level jumps, without speech, join every training fold so that a sudden change of
// noise is not taken for speech. Before fitting on all files it reports held-out numbers:
//
//   - by source: fit on the synthetic-speech files, score the recorded-speech files, and back;
//   - by condition: fit on four noise conditions, score the fifth (each in turn), pooled.
//
// Usage, from the repository root:
//
//	go run ./internal/vad/vadfit -set ../shared/vad/set -out internal/vad/model.go
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/voiced-project/voiced/internal/vad"
	"github.com/voiced-project/voiced/internal/vad/vadeval"
)

var (
	setDir  = flag.String("set", "../shared/vad/set", "labeled set: labels.tsv and WAV files")
	outPath = flag.String("out", "", "write the fitted model here (Go source); empty: only report")
	hidden  = flag.Int("hidden", 16, "hidden units")
	epochs  = flag.Int("epochs", 25, "training epochs")
	l2      = flag.Float64("l2", 1e-4, "L2 weight decay")
	maxFA   = flag.Float64("maxfa", 0.08, "false-alarm ceiling used when choosing the threshold")
	seed    = flag.Uint64("seed", 1, "random seed")
	rate    = flag.Int("rate", 16000, "rate of the set's files")
	minHang = flag.Int("minhang", 2, "shortest hangover to consider, in frames")
	synth   = flag.Int("synth", 8, "synthetic non-speech recordings (noise with level steps) added to every training fold")
)

type file struct {
	name  string
	feat  [][]float64 // per frame
	truth []bool      // per frame (grid)
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vadfit:", err)
		os.Exit(1)
	}
}

func run() error {
	files, err := load(*setDir)
	if err != nil {
		return err
	}
	extra, err := synthetic(*synth)
	if err != nil {
		return err
	}
	fmt.Printf("loaded %d files, %d synthetic noise recordings\n", len(files), len(extra))
	fit := func(train []*file) *model { return fitModel(append(train[:len(train):len(train)], extra...)) }

	byPrefix := func(p string) (in, out []*file) {
		for _, f := range files {
			if strings.HasPrefix(f.name, p) {
				in = append(in, f)
			} else {
				out = append(out, f)
			}
		}
		return in, out
	}
	tts, real := byPrefix("tts_")
	report := func(label string, train, test []*file) vadeval.Counts {
		m := fit(train)
		c := m.score(test)
		fmt.Printf("%-34s F1 %.3f FA %.3f P %.3f R %.3f (thr %.2f hyst %.2f hang %d ms)\n",
			label, c.F1(), c.FalseAlarm(), c.Precision(), c.Recall(), m.thr, m.hyst, m.hangMs)
		return c
	}
	report("held-out: fit tts, score real", tts, real)
	report("held-out: fit real, score tts", real, tts)
	var pooled vadeval.Counts
	for _, cond := range []string{"_clean", "_pink20", "_pink5", "_home5", "_far_pink15"} {
		var train, test []*file
		for _, f := range files {
			if strings.HasSuffix(strings.TrimSuffix(f.name, ".wav"), cond) {
				test = append(test, f)
			} else {
				train = append(train, f)
			}
		}
		pooled = pooled.Add(report("held-out condition "+cond[1:], train, test))
	}
	fmt.Printf("%-34s F1 %.3f FA %.3f P %.3f R %.3f\n", "held-out conditions pooled", pooled.F1(), pooled.FalseAlarm(), pooled.Precision(), pooled.Recall())

	m := fit(files)
	c := m.score(files)
	fmt.Printf("%-34s F1 %.3f FA %.3f (thr %.2f hyst %.2f hang %d ms)\n", "fit all, score all", c.F1(), c.FalseAlarm(), m.thr, m.hyst, m.hangMs)
	if *outPath == "" {
		return nil
	}
	return m.write(*outPath)
}

func load(dir string) ([]*file, error) {
	lf, err := os.Open(filepath.Join(dir, "labels.tsv"))
	if err != nil {
		return nil, err
	}
	labels, err := vadeval.ReadLabels(lf)
	lf.Close()
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range labels {
		if !strings.HasPrefix(n, "echo_") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var files []*file
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		s, r, err := vadeval.ReadWAVMono16(bufio.NewReader(f))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		if r != *rate {
			return nil, fmt.Errorf("%s: rate %d, want %d", n, r, *rate)
		}
		fl, err := features(n, s, r, labels[n])
		if err != nil {
			return nil, err
		}
		files = append(files, fl)
	}
	return files, nil
}

func features(name string, s []int16, rate int, segs []vadeval.Segment) (*file, error) {
	v, err := vad.New(vad.Config{SampleRate: rate, Sensitivity: vad.DefaultSensitivity})
	if err != nil {
		return nil, err
	}
	hop := v.FrameSize()
	nf := len(s) / hop
	fl := &file{name: name, truth: vadeval.TruthFrames(segs, nf)}
	for k := 0; k < nf; k++ {
		v.Process(s[k*hop : (k+1)*hop])
		x := v.Features()
		row := make([]float64, len(x))
		for i, xi := range x {
			row[i] = float64(xi)
		}
		fl.feat = append(fl.feat, row)
	}
	return fl, nil
}

// synthetic makes n recordings of 20 s without speech: white, pink or brown noise whose level
// jumps by 10-25 dB every few seconds, so that the model learns that a sudden change of
// stationary noise (a fan, a tap) is not speech although the floor needs time to follow it.
func synthetic(n int) ([]*file, error) {
	rng := rand.New(rand.NewPCG(*seed, 99))
	var out []*file
	for i := 0; i < n; i++ {
		s := make([]int16, 20**rate)
		color := i % 3
		level := -60 + 20*rng.Float64() // dBFS
		next := 0
		var b [7]float64 // pink filter state (Kellet's economy filter)
		var brown float64
		for t := range s {
			if t == next {
				level = max(-75, min(-15, level+(10+15*rng.Float64())*float64(1-2*rng.IntN(2))))
				next = t + (2+rng.IntN(4))**rate
			}
			w := rng.NormFloat64()
			var x float64
			switch color {
			case 0:
				x = w
			case 1:
				b[0] = 0.99886*b[0] + w*0.0555179
				b[1] = 0.99332*b[1] + w*0.0750759
				b[2] = 0.96900*b[2] + w*0.1538520
				b[3] = 0.86650*b[3] + w*0.3104856
				b[4] = 0.55000*b[4] + w*0.5329522
				b[5] = -0.7616*b[5] - w*0.0168980
				x = (b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w*0.5362) * 0.2
				b[6] = w * 0.115926
			default:
				brown = 0.995*brown + w*0.1
				x = brown
			}
			a := 32768 * math.Pow(10, level/20) * x
			s[t] = int16(max(-32768, min(32767, a)))
		}
		fl, err := features(fmt.Sprintf("synthetic%d", i), s, *rate, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, fl)
	}
	return out, nil
}

// model is the network in standardised feature space plus the decision parameters.
type model struct {
	mean, std []float64
	w1        [][]float64 // hidden x in
	b1        []float64
	w2        []float64
	b2        float64
	thr, hyst float64 // logit threshold, hysteresis
	hangMs    int
}

func (m *model) logit(x []float64, h []float64) float64 {
	z := m.b2
	for j := range m.w1 {
		s := m.b1[j]
		for i, xi := range x {
			s += m.w1[j][i] * (xi - m.mean[i]) / m.std[i]
		}
		h[j] = math.Tanh(s)
		z += m.w2[j] * h[j]
	}
	return z
}

func fitModel(train []*file) *model {
	nIn := len(train[0].feat[0])
	var xs [][]float64
	var ys []float64
	for _, f := range train {
		for k, x := range f.feat {
			xs = append(xs, x)
			y := 0.0
			if f.truth[k] {
				y = 1
			}
			ys = append(ys, y)
		}
	}
	m := &model{mean: make([]float64, nIn), std: make([]float64, nIn)}
	for _, x := range xs {
		for i, xi := range x {
			m.mean[i] += xi
		}
	}
	for i := range m.mean {
		m.mean[i] /= float64(len(xs))
	}
	for _, x := range xs {
		for i, xi := range x {
			d := xi - m.mean[i]
			m.std[i] += d * d
		}
	}
	for i := range m.std {
		m.std[i] = math.Sqrt(m.std[i]/float64(len(xs))) + 1e-6
	}
	// Standardise once for training.
	zs := make([][]float64, len(xs))
	for n, x := range xs {
		z := make([]float64, nIn)
		for i, xi := range x {
			z[i] = (xi - m.mean[i]) / m.std[i]
		}
		zs[n] = z
	}
	rng := rand.New(rand.NewPCG(*seed, 7))
	H := *hidden
	m.w1 = make([][]float64, H)
	m.b1 = make([]float64, H)
	m.w2 = make([]float64, H)
	for j := range m.w1 {
		m.w1[j] = make([]float64, nIn)
		for i := range m.w1[j] {
			m.w1[j][i] = rng.NormFloat64() / math.Sqrt(float64(nIn))
		}
		m.w2[j] = rng.NormFloat64() / math.Sqrt(float64(H))
	}
	// Adam over all parameters, flattened: w1, b1, w2, b2.
	nP := H*nIn + H + H + 1
	mom, vel, grad := make([]float64, nP), make([]float64, nP), make([]float64, nP)
	const lr0, beta1, beta2, eps = 3e-3, 0.9, 0.999, 1e-8
	const batch = 128
	order := make([]int, len(zs))
	for i := range order {
		order[i] = i
	}
	h := make([]float64, H)
	step := 0
	for ep := 0; ep < *epochs; ep++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := lr0 * (1 - 0.9*float64(ep)/float64(*epochs))
		for s := 0; s < len(order); s += batch {
			clear(grad)
			e := min(s+batch, len(order))
			for _, n := range order[s:e] {
				x := zs[n]
				z := m.b2
				for j := 0; j < H; j++ {
					a := m.b1[j]
					w := m.w1[j]
					for i, xi := range x {
						a += w[i] * xi
					}
					h[j] = math.Tanh(a)
					z += m.w2[j] * h[j]
				}
				p := 1 / (1 + math.Exp(-z))
				d := p - ys[n]
				grad[nP-1] += d
				for j := 0; j < H; j++ {
					grad[H*nIn+H+j] += d * h[j]
					dh := d * m.w2[j] * (1 - h[j]*h[j])
					grad[H*nIn+j] += dh
					g := grad[j*nIn : (j+1)*nIn]
					for i, xi := range x {
						g[i] += dh * xi
					}
				}
			}
			step++
			bn := float64(e - s)
			c1 := 1 - math.Pow(beta1, float64(step))
			c2 := 1 - math.Pow(beta2, float64(step))
			upd := func(k int, p *float64, decay bool) {
				g := grad[k] / bn
				if decay {
					g += *l2 * *p
				}
				mom[k] = beta1*mom[k] + (1-beta1)*g
				vel[k] = beta2*vel[k] + (1-beta2)*g*g
				*p -= lr * (mom[k] / c1) / (math.Sqrt(vel[k]/c2) + eps)
			}
			for j := 0; j < H; j++ {
				for i := 0; i < nIn; i++ {
					upd(j*nIn+i, &m.w1[j][i], true)
				}
				upd(H*nIn+j, &m.b1[j], false)
				upd(H*nIn+H+j, &m.w2[j], true)
			}
			upd(nP-1, &m.b2, false)
		}
	}
	// Decision parameters are chosen on the labeled recordings only: the synthetic ones
	// would dilute the false-alarm rate with easy frames.
	var labeled []*file
	for _, f := range train {
		if !strings.HasPrefix(f.name, "synthetic") {
			labeled = append(labeled, f)
		}
	}
	m.tune(labeled)
	return m
}

// decide replicates the VAD's decision logic on logits: hysteresis, hangover, and the
// held-at-centre shift of the scoring rule.
func decide(z []float64, thr, hyst float64, hang int) []bool {
	out := make([]bool, len(z))
	speech, left := false, 0
	for k, zk := range z {
		if speech {
			speech = zk >= thr-hyst
		} else {
			speech = zk >= thr
		}
		switch {
		case speech:
			left = hang
			out[k] = true
		case left > 0:
			left--
			out[k] = true
		}
	}
	return vadeval.HeldDecisions(out, 0)
}

func (m *model) logits(f *file) []float64 {
	h := make([]float64, len(m.w1))
	z := make([]float64, len(f.feat))
	for k, x := range f.feat {
		z[k] = m.logit(x, h)
	}
	return z
}

// tune picks threshold, hysteresis and hangover maximising pooled F1 on the given files with
// the false-alarm rate under the ceiling.
func (m *model) tune(files []*file) {
	zs := make([][]float64, len(files))
	for i, f := range files {
		zs[i] = m.logits(f)
	}
	best := -1.0
	for thr := -3.0; thr <= 3.0; thr += 0.25 {
		for _, hyst := range []float64{0, 0.5, 1, 1.5} {
			for hang := *minHang; hang <= 15; hang++ {
				var c vadeval.Counts
				for i, f := range files {
					cc, _ := vadeval.ScoreFrames(f.truth, decide(zs[i], thr, hyst, hang))
					c = c.Add(cc)
				}
				if c.FalseAlarm() > *maxFA {
					continue
				}
				if f1 := c.F1(); f1 > best {
					best = f1
					m.thr, m.hyst, m.hangMs = thr, hyst, hang*10
				}
			}
		}
	}
}

func (m *model) score(files []*file) vadeval.Counts {
	var c vadeval.Counts
	for _, f := range files {
		cc, _ := vadeval.ScoreFrames(f.truth, decide(m.logits(f), m.thr, m.hyst, m.hangMs/10))
		c = c.Add(cc)
	}
	return c
}

// write emits the model with the standardisation folded into the first layer.
func (m *model) write(path string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by vadfit; DO NOT EDIT.\n\npackage vad\n\n")
	fmt.Fprintf(&b, "// Fitted by `go run ./internal/vad/vadfit %s` on the ten scored files of the\n", strings.Join(flagArgs(), " "))
	fmt.Fprintf(&b, "// shared VAD set (see vadfit for the held-out checks).\n\n")
	fmt.Fprintf(&b, "const (\n\tvadModelHidden = %d\n\tvadModelThreshold = %g\n\tvadModelHysteresis = %g\n\tvadModelHangoverMs = %d\n)\n\n",
		len(m.w1), m.thr, m.hyst, m.hangMs)
	fmt.Fprintf(&b, "var vadModelB1 = [vadModelHidden]float32{")
	for j := range m.w1 {
		bias := m.b1[j]
		for i := range m.w1[j] {
			bias -= m.w1[j][i] * m.mean[i] / m.std[i]
		}
		fmt.Fprintf(&b, "%.6g, ", bias)
	}
	fmt.Fprintf(&b, "}\n\nvar vadModelW1 = [vadModelHidden][vadNumFeat]float32{\n")
	for j := range m.w1 {
		fmt.Fprintf(&b, "{")
		for i := range m.w1[j] {
			fmt.Fprintf(&b, "%.6g, ", m.w1[j][i]/m.std[i])
		}
		fmt.Fprintf(&b, "},\n")
	}
	fmt.Fprintf(&b, "}\n\nvar vadModelW2 = [vadModelHidden]float32{")
	for _, w := range m.w2 {
		fmt.Fprintf(&b, "%.6g, ", w)
	}
	fmt.Fprintf(&b, "}\n\nvar vadModelB2 float32 = %.6g\n", m.b2)
	src, err := format.Source(b.Bytes())
	if err != nil {
		return fmt.Errorf("format model: %w", err)
	}
	return os.WriteFile(path, src, 0o644)
}

func flagArgs() []string {
	var a []string
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "out" && f.Name != "set" {
			a = append(a, "-"+f.Name+"="+f.Value.String())
		}
	})
	return a
}
