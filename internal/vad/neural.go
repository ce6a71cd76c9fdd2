package vad

import (
	"fmt"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/vad/silero"
)

// Engine names, as vad.engine spells them.
const (
	EngineSilero  = "silero"
	EngineClassic = "classic"
)

// Silero's usual hysteresis: speech from a step whose probability reaches
// NeuralOn until one falls under NeuralOff.
const (
	NeuralOn  = 0.5
	NeuralOff = 0.35
)

// While the device speaks and the frames come from an echo canceller
// (NoteResidual), the network alone decides, with its hysteresis raised to
// NeuralEchoOn and NeuralEchoOff whenever the canceller says echo is left.
// The classic detector's band floors would have to be pessimistic to keep out
// a residual the canceller cannot yet take (the first seconds of a reply, a
// moved speaker) and then miss most of a user speaking over the reply; the
// network hears a user's voice at a probability near one and the leftovers of
// a cancelled echo rarely above 0.9. A frame must also be no more than 6 dB
// under the residual the canceller reports (all the echo, until its filter
// has adapted). On simulated rooms (echosim, rooms and voices unlike those of
// the VAD set, the user 6 dB under the echo and at its level) this flags 0.036
// of the echo-only frames and hears 0.82 of the user over the echo, where the
// classic guard flagged 0.022 and heard 0.29.
const (
	NeuralEchoOn  = 0.97
	NeuralEchoOff = 0.9
	// neuralResidualQuiet is the residual (mean square) under which the
	// canceller has left nothing worth guarding against: -80 dBFS.
	neuralResidualQuiet = 1e-8
	// neuralResidualMargin: a frame under the guard is speech only if its
	// mean square is above this share of the residual noted (6 dB under it).
	neuralResidualMargin = 0.25
)

// NeuralStepMs is the length of the network's step: its decisions change
// only at the end of one.
const NeuralStepMs = silero.StepSamples * 1000 / neuralRate

// neuralRate is the rate the network takes.
const neuralRate = 16000

// neuralPreSteps is how many steps of 16 kHz audio a sleeping network keeps
// (256 ms): when the gate opens it runs over them first, so that its state
// has caught up with the room and a first syllable the gate opened late for is
// still heard.
const neuralPreSteps = 8

// neuralSleepFrames is how long the gate must have heard nothing (and the
// network said no speech) before the network sleeps: 0.5 s of 10 ms frames.
const neuralSleepFrames = 50

// NeuralConfig configures a Neural detector.
type NeuralConfig struct {
	// SampleRate of the frames: 16000, 24000 or 48000 Hz.
	SampleRate int
	// HangoverMs keeps the decision on this long after the network's last
	// speech step; 0 or negative means none (the hysteresis and the
	// endpointer's silence already bridge short pauses).
	HangoverMs int
	// Gate makes the classic detector a first stage: while it has heard no
	// speech for a while the network sleeps, and wakes on its first speech
	// frame after a catch-up over the last neuralPreSteps steps.
	Gate bool
	// Classic configures the classic detector that gates the network and,
	// while the echo guard is on, must agree with it (SampleRate is ignored).
	Classic Config
}

// Neural is a voice activity detector on 10 ms frames that decides with
// Silero VAD (package silero) on 32 ms steps of 16 kHz audio, resampled from
// the frames' rate. The decision returned for a frame is the network's as of
// the last step completed with it, with Silero's hysteresis (NeuralOn,
// NeuralOff): it uses no future audio, and lags the speech by up to one step
// plus the resampler's delay.
//
// A classic Detector runs beside it on every frame. It serves as the echo
// guard (while the device speaks, both must hear speech, the classic one with
// its raised threshold) and, with NeuralConfig.Gate, as the first stage that
// lets the network sleep in a quiet room.
//
// A Neural is not safe for concurrent use but for SetEchoGuard; Process
// allocates nothing.
type Neural struct {
	classic *Detector
	net     *silero.Detector
	res     *dsp.Resampler
	rs      []int16 // one frame resampled to 16 kHz

	step [silero.StepSamples]int16
	fill int

	gate   bool
	asleep bool
	quiet  int // frames in a row the classic detector called non-speech
	// While asleep, the last neuralPreSteps full steps, a ring: wake fills
	// it from raw.
	pre    [neuralPreSteps][silero.StepSamples]int16
	preN   int // steps held
	preEnd int // index after the newest

	// The newest frames at their own rate, enough to resample the steps a
	// waking network runs over: asleep, the resampler is not run at all.
	raw        *dsp.PreRoll
	replay     []int16
	inPos      uint64 // samples taken at the frames' rate since Reset
	sleptSteps uint64 // steps of the 16 kHz stream complete when the network fell asleep
	// eager keeps resampling while asleep, as before raw: the reference the
	// tests compare the replay with.
	eager bool

	prob       float32
	on         bool
	echoOn     bool // the decision at NeuralEchoOn/NeuralEchoOff
	hang       int
	hangFrames int
	steps      uint64 // steps the network ran
}

// NewNeural returns a detector for frames at c.SampleRate.
func NewNeural(c NeuralConfig) (*Neural, error) {
	cc := c.Classic
	cc.SampleRate = c.SampleRate
	classic, err := New(cc)
	if err != nil {
		return nil, err
	}
	res, err := dsp.NewResampler(c.SampleRate, neuralRate)
	if err != nil {
		return nil, fmt.Errorf("vad: neural detector: %w", err)
	}
	if c.HangoverMs > 2000 {
		return nil, fmt.Errorf("vad: neural hangover %d ms too long (at most 2000)", c.HangoverMs)
	}
	// Enough for the steps kept, a step cut short, the resampler's window and
	// the input step wake aligns to, so that the resampler's start-up falls
	// before the steps it makes.
	_, down := res.Ratio()
	held := ((neuralPreSteps+1)*silero.StepSamples*c.SampleRate+neuralRate-1)/neuralRate + res.Taps() + 2*down + 2
	return &Neural{
		classic:    classic,
		net:        silero.New(),
		res:        res,
		rs:         make([]int16, res.MaxOutput(classic.FrameSize())),
		gate:       c.Gate,
		asleep:     c.Gate,
		hangFrames: (max(c.HangoverMs, 0) + FrameMs - 1) / FrameMs,
		raw:        dsp.NewPreRollSamples(held),
		replay:     make([]int16, held),
	}, nil
}

// FrameSize is the number of samples Process takes: 10 ms at the rate.
func (n *Neural) FrameSize() int { return n.classic.FrameSize() }

// SetEchoGuard turns the echo guard on or off; any goroutine may call it. See
// Detector.SetEchoGuard.
func (n *Neural) SetEchoGuard(on bool) { n.classic.SetEchoGuard(on) }

// EchoGuarded reports whether the echo guard was on for the last frame
// processed; see Detector.EchoGuarded.
func (n *Neural) EchoGuarded() bool { return n.classic.EchoGuarded() }

// NoteReference gives the level of what the speaker played to the classic
// detector, whose guard decides the echo frames; see Detector.NoteReference.
func (n *Neural) NoteReference(meanSquare float64) { n.classic.NoteReference(meanSquare) }

// NoteResidual gives the echo canceller's estimate of the echo left in the
// next frame; see Detector.NoteResidual. From then on, frames under the echo
// guard are judged by the network at NeuralEchoOn and NeuralEchoOff.
func (n *Neural) NoteResidual(meanSquare float64) { n.classic.NoteResidual(meanSquare) }

// Probability is the network's speech probability at its last step (0 while
// it sleeps).
func (n *Neural) Probability() float32 { return n.prob }

// Steps is how many 32 ms steps the network has run: with the gate, fewer
// than the audio holds.
func (n *Neural) Steps() uint64 { return n.steps }

// Reset forgets the stream.
func (n *Neural) Reset() {
	n.classic.Reset()
	n.net.Reset()
	n.res.Reset()
	n.fill, n.quiet, n.preN, n.preEnd = 0, 0, 0, 0
	n.raw.Reset()
	n.inPos, n.sleptSteps = 0, 0
	n.asleep = n.gate
	n.prob, n.on, n.echoOn, n.hang = 0, false, false, 0
}

// Process takes the next FrameSize samples and reports whether speech is
// present.
func (n *Neural) Process(frame []int16) bool {
	heard := n.classic.Process(frame)
	if heard {
		n.quiet = 0
	} else {
		n.quiet++
	}
	// Into a canceller the network alone judges the device's speech: it stays
	// awake while the guard is on, the classic detector's floors being no gate.
	cancelled := n.classic.echoGuard && n.classic.ref.cancelled
	if n.asleep && (heard || cancelled) {
		n.wake()
	}
	if n.gate {
		n.raw.Write(frame)
		n.inPos += uint64(len(frame))
	}
	if !n.asleep || n.eager {
		n.resample(frame)
	}
	if n.gate && !n.asleep && !n.on && !cancelled && n.hang == 0 && n.quiet >= neuralSleepFrames {
		n.asleep = true
		n.preN, n.preEnd = 0, 0
		n.sleptSteps = n.outputsAt(n.inPos) / silero.StepSamples
	}
	out := n.on || n.hang > 0
	if !n.on && n.hang > 0 {
		n.hang--
	}
	switch {
	case cancelled:
		// The device is speaking into a canceller: the network decides, at
		// raised thresholds while echo is left (see NeuralEchoOn).
		if r := n.classic.ref.residual; r > neuralResidualQuiet {
			// The frame must also be louder than the echo said to be left
			// in it: that keeps out what a canceller still learning lets by.
			out = n.echoOn && meanSquare(frame) > neuralResidualMargin*r
		}
	case n.classic.echoGuard:
		// The device is speaking: the classic detector, measuring against
		// the echo with a raised threshold, must hear the user too.
		out = out && heard
	}
	return out
}

// resample converts samples to 16 kHz and takes them.
func (n *Neural) resample(in []int16) {
	for len(in) > 0 {
		used, made := n.res.Process(in, n.rs)
		in = in[used:]
		n.take(n.rs[:made])
		if used == 0 && made == 0 {
			break
		}
	}
}

// outputsAt is how many 16 kHz samples the resampler has made once it has
// taken the stream's first k samples: output j needs input j*down/up.
func (n *Neural) outputsAt(k uint64) uint64 {
	up, down := n.res.Ratio()
	return (k*uint64(up) + uint64(down) - 1) / uint64(down)
}

// take cuts 16 kHz samples into steps and runs or keeps each.
func (n *Neural) take(s []int16) {
	for len(s) > 0 {
		k := copy(n.step[n.fill:], s)
		n.fill += k
		s = s[k:]
		if n.fill < len(n.step) {
			return
		}
		n.fill = 0
		if n.asleep {
			n.pre[n.preEnd] = n.step
			n.preEnd = (n.preEnd + 1) % neuralPreSteps
			n.preN = min(n.preN+1, neuralPreSteps)
			continue
		}
		n.run(&n.step)
	}
}

// run runs the network over one step and applies the hysteresis.
func (n *Neural) run(step *[silero.StepSamples]int16) {
	n.prob = n.net.ProcessInt16(step)
	n.steps++
	was := n.on
	if n.on {
		n.on = n.prob >= NeuralOff
	} else {
		n.on = n.prob >= NeuralOn
	}
	if was && !n.on {
		n.hang = n.hangFrames
	}
	if n.echoOn {
		n.echoOn = n.prob >= NeuralEchoOff
	} else {
		n.echoOn = n.prob >= NeuralEchoOn
	}
}

// wake runs the network over the steps kept while it slept. It goes on from
// the state it fell asleep with, that of a quiet room: a network reset to zero
// flags more noise as speech in its first steps.
func (n *Neural) wake() {
	if !n.eager {
		n.replayRaw()
	}
	n.asleep = false
	for i := range n.preN {
		n.run(&n.pre[(n.preEnd-n.preN+i+neuralPreSteps)%neuralPreSteps])
	}
	n.preN, n.preEnd = 0, 0
}

// replayRaw makes, from the frames kept in raw, the steps and the step being
// filled that resampling every frame would have left while the network slept.
// The resampler starts afresh on a sample whose stream index is a multiple of
// its input step, so that its outputs fall on the unbroken stream's grid and,
// past its start-up, equal them; the start-up outputs are dropped.
func (n *Neural) replayRaw() {
	k := n.raw.Read(n.replay)
	start := n.inPos - uint64(k)
	_, d := n.res.Ratio()
	down := uint64(d)
	skip := (down - start%down) % down
	in := n.replay[min(int(skip), k):k]
	total := n.outputsAt(n.inPos)
	steps := min(total/silero.StepSamples-n.sleptSteps, neuralPreSteps)
	keep := total%silero.StepSamples + steps*silero.StepSamples
	drop := int(n.outputsAt(n.inPos) - n.outputsAt(start+skip) - keep)
	n.res.Reset()
	n.fill, n.preN, n.preEnd = 0, 0, 0
	for {
		used, made := n.res.Process(in, n.rs)
		in = in[used:]
		if made == 0 && (used == 0 || len(in) == 0) {
			break
		}
		out := n.rs[:made]
		k := min(drop, len(out))
		drop -= k
		n.take(out[k:])
	}
}

// meanSquare is the mean square of frame, full scale 1.
func meanSquare(frame []int16) float64 {
	var s float64
	for _, v := range frame {
		s += float64(v) * float64(v)
	}
	return s / float64(max(len(frame), 1)) / (32768 * 32768)
}
