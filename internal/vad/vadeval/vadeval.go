package vadeval

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/voiced-project/voiced/internal/vad"
	"github.com/voiced-project/voiced/internal/vad/silero"
	"github.com/voiced-project/voiced/internal/wav"
)

// This file scores a VAD against labeled recordings, by the rule of the project's VAD
// evaluation set: a 10 ms frame grid; frame i is speech in the truth when
// start_ms/10 <= i < end_ms/10 for a labeled segment; the detector's decision for frame i is
// the one it held at the frame's centre (i*10+5 ms); counts are pooled over files.

// VADCounts are frame counts of a detector against the truth.
type Counts struct {
	TP, FP, FN, TN int
}

// Add returns the sum of two counts.
func (c Counts) Add(o Counts) Counts {
	return Counts{c.TP + o.TP, c.FP + o.FP, c.FN + o.FN, c.TN + o.TN}
}

// Frames is the number of frames counted.
func (c Counts) Frames() int { return c.TP + c.FP + c.FN + c.TN }

// Precision is TP/(TP+FP), 0 when nothing was flagged.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), 0 when there is no speech.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// FalseAlarm is FP/(FP+TN): the share of non-speech frames flagged as speech.
func (c Counts) FalseAlarm() float64 { return ratio(c.FP, c.FP+c.TN) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// VADSegment is a labeled span of speech in milliseconds, end exclusive.
type Segment struct {
	StartMs, EndMs int
}

// TruthFrames marks the n frames of the 10 ms grid that the segments cover.
func TruthFrames(segs []Segment, n int) []bool {
	t := make([]bool, n)
	for _, s := range segs {
		for i := max(s.StartMs/vad.FrameMs, 0); i < s.EndMs/vad.FrameMs && i < n; i++ {
			t[i] = true
		}
	}
	return t
}

// HeldDecisions turns the per-frame outputs of a causal detector on 10 ms frames (out[k] is
// known once frame k, ending at (k+1)*10 ms, has been processed) into the decisions held at
// the grid frames' centres: frame i gets out[i-1], frame 0 the detector's initial "no speech".
// lookahead is the detector's fixed lookahead in whole frames: with one frame of lookahead
// the decision for frame i would be out[i].
func HeldDecisions(out []bool, lookahead int) []bool {
	d := make([]bool, len(out))
	shift := 1 - lookahead
	for i := range d {
		if k := i - shift; k >= 0 && k < len(out) {
			d[i] = out[k]
		}
	}
	return d
}

// ScoreFrames counts decisions against the truth, frame by frame.
func ScoreFrames(truth, decision []bool) (Counts, error) {
	if len(truth) != len(decision) {
		return Counts{}, fmt.Errorf("score vad frames: %d truth frames but %d decisions", len(truth), len(decision))
	}
	var c Counts
	for i, t := range truth {
		switch d := decision[i]; {
		case t && d:
			c.TP++
		case t:
			c.FN++
		case d:
			c.FP++
		default:
			c.TN++
		}
	}
	return c, nil
}

// ReadVADLabels reads a labels file: a header line, then "file<TAB>start_ms<TAB>end_ms" lines.
// Segments are returned per file name.
func ReadLabels(r io.Reader) (map[string][]Segment, error) {
	out := map[string][]Segment{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if line == 1 && len(f) == 3 && f[1] == "start_ms" {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("read vad labels: line %d: want 3 fields (file start_ms end_ms), got %d", line, len(f))
		}
		start, err1 := strconv.Atoi(f[1])
		end, err2 := strconv.Atoi(f[2])
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("read vad labels: line %d: %w", line, err)
		}
		if start < 0 || end < start {
			return nil, fmt.Errorf("read vad labels: line %d: bad segment %d-%d ms", line, start, end)
		}
		out[f[0]] = append(out[f[0]], Segment{start, end})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read vad labels: %w", err)
	}
	return out, nil
}

// ReadWAVMono16 reads a PCM16 WAV file with one channel and returns its samples and rate.
func ReadWAVMono16(r io.Reader) ([]int16, int, error) {
	pcm, h, err := wav.ReadMono16(r)
	if err != nil {
		return nil, 0, fmt.Errorf("read wav: %w", err)
	}
	if h.Channels != 1 {
		return nil, 0, fmt.Errorf("read wav: %d channels; want 1", h.Channels)
	}
	return pcm, h.Rate, nil
}

// RunVAD feeds samples through a new VAD in 10 ms frames and returns its output per frame.
// guard, if not nil, says per frame whether the echo guard is on. A partial last frame is
// dropped.
func Run(c vad.Config, samples []int16, guard []bool) ([]bool, error) {
	return Options{Classic: c}.run(c.SampleRate, samples, guard, nil, false)
}

// Options chooses the detector that Evaluate scores.
type Options struct {
	// Engine is vad.EngineClassic (also the zero value) or vad.EngineSilero.
	Engine string
	// Classic configures the classic detector, on its own or beside the network
	// (its SampleRate is taken from each file).
	Classic vad.Config
	// Gate lets the classic detector put the network to sleep (silero only).
	Gate bool
}

// detector is what a file is run through.
type detector interface {
	FrameSize() int
	Process(frame []int16) bool
	SetEchoGuard(on bool)
}

// LookaheadMs is the detector's stated lookahead: 0 for the classic detector;
// for the network one step, vad.NeuralStepMs, as each 32 ms step's decision is
// taken to cover the step's own audio (see StepHeld).
func (o Options) LookaheadMs() int {
	if o.Engine == vad.EngineSilero {
		return vad.NeuralStepMs
	}
	return 0
}

// held turns a detector's per-frame outputs into the decisions scored.
func (o Options) held(out []bool, rate int) []bool {
	if o.LookaheadMs() == 0 {
		return HeldDecisions(out, 0)
	}
	return StepHeld(out, rate*vad.FrameMs/1000, rate)
}

// StepHeld turns the per-frame outputs of the silero engine (out[k] is known once frame k
// of frame samples has been processed) into the decisions held at the grid frames'
// centres when each 32 ms step's decision covers that step's own audio: frame i gets the
// output of the frame that completed the step its centre falls in. That is a lookahead
// of at most one step; at 16 kHz it is exact, at other rates it ignores the resampler's
// few samples of delay.
func StepHeld(out []bool, frame, rate int) []bool {
	d := make([]bool, len(out))
	step := silero.StepSamples * rate / 16000
	for i := range d {
		c := i*frame + frame/2
		end := (c/step + 1) * step // the stream position at which that step is complete
		if k := (end - 1) / frame; k < len(out) {
			d[i] = out[k]
		}
	}
	return d
}

func (o Options) newDetector(rate int) (detector, error) {
	c := o.Classic
	c.SampleRate = rate
	switch o.Engine {
	case "", vad.EngineClassic:
		return vad.New(c)
	case vad.EngineSilero:
		return vad.NewNeural(vad.NeuralConfig{SampleRate: rate, Gate: o.Gate, Classic: c})
	}
	return nil, fmt.Errorf("vad engine %q: want silero or classic", o.Engine)
}

// run runs samples through the detector, with the echo guard on in the frames guard
// marks and, when levels is set, noted in each frame: the level of what was played
// (NoteReference), or with residual the canceller's estimate of the echo left in
// it (NoteResidual).
func (o Options) run(rate int, samples []int16, guard []bool, levels []float64, residual bool) ([]bool, error) {
	v, err := o.newDetector(rate)
	if err != nil {
		return nil, err
	}
	var noter interface{ NoteReference(float64) }
	if residual {
		if r, ok := v.(interface{ NoteResidual(float64) }); ok {
			noter = noteResidual(r.NoteResidual)
		}
	} else {
		noter, _ = v.(interface{ NoteReference(float64) })
	}
	n := len(samples) / v.FrameSize()
	out := make([]bool, n)
	for k := 0; k < n; k++ {
		if guard != nil {
			v.SetEchoGuard(k < len(guard) && guard[k])
		}
		if noter != nil && k < len(levels) {
			noter.NoteReference(levels[k])
		}
		out[k] = v.Process(samples[k*v.FrameSize() : (k+1)*v.FrameSize()])
	}
	return out, nil
}

// noteResidual passes NoteReference's level on to a NoteResidual.
type noteResidual func(float64)

func (f noteResidual) NoteReference(x float64) { f(x) }

// VADFileResult is the score of one file.
type FileResult struct {
	File   string
	Counts Counts
	// Echo files (echo_*) are not pooled; they are scored on their echo-only frames: frames
	// of the device's own speech (from echo_ref_segments.tsv, else every unlabeled frame)
	// where the user is silent.
	Echo              bool
	EchoOnly          int     // echo-only frames
	EchoFlagged       float64 // share of them flagged as speech
	EchoGuardFlagged  float64 // the same with the echo guard on while the device speaks
	EchoGuardRecall   float64 // recall of the user's speech with that guard
	EchoGuardMeasured bool    // whether the guarded figures exist (needs the reference segments)
	// With the far-end reference (echo_ref.wav beside the echo file): the detector
	// on the echo canceller's output, its echo guard following the residual echo.
	AECMeasured bool
	AECFlagged  float64 // echo-only frames flagged
	AECRecall   float64 // recall of the user's speech
	ERLE        float64 // echo return loss enhancement over the echo-only frames, dB
}

// VADEvalReport is the evaluation of a directory.
type Report struct {
	Files  []FileResult // sorted by name
	Pooled Counts       // over the files that are not echo files
	// LookaheadMs is the lookahead the decisions were scored with; when it is not 0,
	// PooledNoLookahead is the pooled score without any.
	LookaheadMs       int
	PooledNoLookahead Counts
}

// EvaluateVAD scores every WAV file listed in dir/labels.tsv with a VAD built from c (its
// SampleRate is taken from each file).
func Evaluate(dir string, c vad.Config) (*Report, error) {
	return EvaluateWith(dir, Options{Classic: c})
}

// EvaluateWith scores every WAV file listed in dir/labels.tsv with the detector o
// describes, at each file's rate.
func EvaluateWith(dir string, o Options) (*Report, error) {
	if _, err := o.newDetector(16000); err != nil {
		return nil, fmt.Errorf("evaluate vad: %w", err)
	}
	lf, err := os.Open(filepath.Join(dir, "labels.tsv"))
	if err != nil {
		return nil, fmt.Errorf("evaluate vad: %w", err)
	}
	labels, err := ReadLabels(lf)
	lf.Close()
	if err != nil {
		return nil, fmt.Errorf("evaluate vad %s: %w", dir, err)
	}
	var ref []Segment
	if rf, err := os.Open(filepath.Join(dir, "echo_ref_segments.tsv")); err == nil {
		refs, rerr := readRefSegments(rf)
		rf.Close()
		if rerr != nil {
			return nil, fmt.Errorf("evaluate vad %s: %w", dir, rerr)
		}
		ref = refs
	}
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	rep := &Report{LookaheadMs: o.LookaheadMs()}
	for _, name := range names {
		r, plain, err := evaluateFile(filepath.Join(dir, name), labels[name], ref, o)
		if err != nil {
			return nil, fmt.Errorf("evaluate vad %s: %w", name, err)
		}
		r.File = name
		r.Echo = strings.HasPrefix(name, "echo_")
		if !r.Echo {
			rep.Pooled = rep.Pooled.Add(r.Counts)
			rep.PooledNoLookahead = rep.PooledNoLookahead.Add(plain)
		}
		rep.Files = append(rep.Files, r)
	}
	if len(rep.Files) == 0 {
		return nil, fmt.Errorf("evaluate vad %s: labels.tsv lists no files", dir)
	}
	return rep, nil
}

// evaluateFile scores one file, with the detector's lookahead (r) and without (plain).
func evaluateFile(path string, segs, ref []Segment, o Options) (r FileResult, plain Counts, err error) {
	f, err := os.Open(path)
	if err != nil {
		return r, plain, err
	}
	samples, rate, err := ReadWAVMono16(bufio.NewReader(f))
	f.Close()
	if err != nil {
		return r, plain, err
	}
	out, err := o.run(rate, samples, nil, nil, false)
	if err != nil {
		return r, plain, err
	}
	truth := TruthFrames(segs, len(out))
	dec := o.held(out, rate)
	if r.Counts, err = ScoreFrames(truth, dec); err != nil {
		return r, plain, err
	}
	if plain, err = ScoreFrames(truth, HeldDecisions(out, 0)); err != nil {
		return r, plain, err
	}
	if !strings.HasPrefix(filepath.Base(path), "echo_") {
		return r, plain, nil
	}
	device := make([]bool, len(out))
	if ref != nil {
		device = TruthFrames(ref, len(out))
	} else {
		for i := range device {
			device[i] = true
		}
	}
	flagged := 0
	for i := range truth {
		if device[i] && !truth[i] {
			r.EchoOnly++
			if dec[i] {
				flagged++
			}
		}
	}
	r.EchoFlagged = ratio(flagged, r.EchoOnly)
	if ref == nil {
		return r, plain, nil
	}
	// The guard follows the device's speech, as the engine would drive it from
	// playback, and the floor the level of what it played when that is known.
	refPCM, err := readRef(filepath.Join(filepath.Dir(path), "echo_ref.wav"), rate)
	if err != nil {
		return r, plain, err
	}
	var levels []float64
	if refPCM != nil {
		levels = refLevels(refPCM, rate*vad.FrameMs/1000, len(out))
	}
	gout, err := o.run(rate, samples, device, levels, false)
	if err != nil {
		return r, plain, err
	}
	gdec := o.held(gout, rate)
	gc, _ := ScoreFrames(truth, gdec)
	flagged = 0
	for i := range truth {
		if device[i] && !truth[i] && gdec[i] {
			flagged++
		}
	}
	r.EchoGuardFlagged = ratio(flagged, r.EchoOnly)
	r.EchoGuardRecall = gc.Recall()
	r.EchoGuardMeasured = true
	if refPCM != nil {
		if err := scoreAEC(&r, o, rate, samples, refPCM, truth, device); err != nil {
			return r, plain, err
		}
	}
	return r, plain, nil
}

// readRefSegments reads "name start_ms end_ms" lines (no header) of the far-end reference.
func readRefSegments(r io.Reader) ([]Segment, error) {
	m, err := ReadLabels(r)
	if err != nil {
		return nil, fmt.Errorf("read echo reference segments: %w", err)
	}
	var segs []Segment
	for _, s := range m {
		segs = append(segs, s...)
	}
	return segs, nil
}
