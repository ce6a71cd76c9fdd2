package pipeline

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/vad"
)

// CaptureRate is the pipeline's internal rate: mono int16 at 24 kHz, the
// Realtime API's PCM16 rate. Capture resamples to it; the uplink sends it.
const CaptureRate = 24000

// captureFrameMs is the length of the frames handed to the voice detector.
const captureFrameMs = 10

// frameReader is the capture device as the capture loop uses it.
// ReadFrames blocks until it has filled buf with whole interleaved frames in
// the device format, and returns the number of frames read.
type frameReader interface {
	ReadFrames(buf []byte) (int, error)
}

// captureDetector decides for one 10 ms frame at CaptureRate whether it
// holds speech. The VAD satisfies it; Process must not allocate.
type captureDetector interface {
	Process(frame []int16) bool
}

// echoGuarded is a detector that says whether its echo guard was on for the
// frame just processed (vad.Detector.EchoGuarded), for vad.Decision.Guarded.
type echoGuarded interface {
	EchoGuarded() bool
}

// CaptureConfig describes the capture device and what to take from it.
type CaptureConfig struct {
	Device       dsp.Format // as granted by the device
	PeriodFrames int        // frames per read; the device period
	// Channel picks the microphone channel (0-based), or MixChannels to
	// average them all. The zero value takes the first channel.
	Channel int
	// PreRollMs is how much audio before the gate opens is sent along:
	// 0 means DefaultPreRollMs, a negative value none.
	PreRollMs int
	// Gain scales the microphone (a linear factor, saturating); 0 means 1, unchanged.
	Gain float64
	// OnVoice, if set, is called on the capture goroutine with every
	// frame's decision, before the frame goes to the pre-roll and the
	// gate; the endpointer runs here and posts its turn edges to the
	// engine. It must not block: the microphone does not wait.
	OnVoice func(vad.Decision)
	// Level, if set, measures the microphone (after the gain) while it is active.
	Level *Level
	// OnFrame, if set, is called on the capture goroutine with every 10 ms
	// frame at CaptureRate and the stream position at its end, after the
	// voice detector; the wake-word listener runs here. With it the loop
	// never sleeps. It must not block, and the frame is reused.
	OnFrame func(frame []int16, end uint64)
	// KeepMs is how much audio the pre-roll holds for OpenFrom when that is
	// more than PreRollMs; an ordinary opening still sends PreRollMs.
	KeepMs int
	// Echo, if set, cancels the speaker's echo in every frame before the
	// detector, the pre-roll and the uplink (echo.go).
	Echo EchoCanceller
}

// CaptureStats are running totals for metrics.
type CaptureStats struct {
	Frames uint64 // 10 ms frames processed
	Speech uint64 // of those, frames the detector called speech
	Sent   uint64 // samples written to the uplink ring
}

// Gate states, in the low bits of Capture.gate; the rest is a generation
// counter that SetStreaming(true) increments, so that every opening sends
// the pre-roll even if the capture loop never saw the gate closed.
const (
	captureClosed  = 0
	captureOpen    = 1
	captureWriting = 2 // the capture loop is writing to the uplink ring
	captureMask    = 3
)

// Capture runs the capture loop: it reads device periods, converts them to
// mono int16, resamples to CaptureRate, cuts 10 ms frames, asks the voice
// detector about each, reports its decisions, keeps the pre-roll and,
// while the gate is open, writes the audio to the uplink ring.
//
// While nothing listens (the gate closed and the detector off or absent, as
// between push-to-talk turns) the loop is dormant: it keeps the pre-roll at
// the device rate and reports silent frames without resampling, which is most
// of a period's work. Opening the gate or turning the detector on resamples
// the held audio first, on the same sample grid as an unbroken stream, so
// what is sent is the same either way.
//
// Run belongs to one goroutine. SetStreaming, Streaming and Stats may be
// used from any goroutine.
type Capture struct {
	dev     frameReader
	det     captureDetector
	out     *dsp.Ring
	format  dsp.Format
	channel int
	gain    dsp.Gain

	raw   []byte  // one device period
	mono  []int16 // one period, mono at the device rate
	res   *dsp.Resampler
	rs    []int16 // resampled output
	frame []int16 // the 10 ms frame being filled
	fill  int
	pre   *dsp.PreRoll
	// preSend is how much of the pre-roll an opening sends; from, when not
	// 0, is the stream position OpenFrom asked the next opening to start at.
	preSend int
	from    atomic.Uint64
	onFrame func([]int16, uint64)

	// Dormant state (see Capture): the newest device-rate audio, enough for
	// the pre-roll and the resampler's window, and scratch to replay it.
	rawPre  *dsp.PreRoll
	replay  []int16
	devPos  uint64 // device samples read, ever
	dormant bool
	vacc    int // samples at CaptureRate toward the next silent frame

	// Owned by the Run goroutine.
	speech  bool
	sentGen uint64 // gate generation whose pre-roll was sent
	unsent  int    // newest pre-roll samples not yet sent
	pos     uint64 // samples at CaptureRate processed

	onVoice   func(vad.Decision)
	level     *Level // nil: no meter
	echo      EchoCanceller
	echoPos   uint64        // stream position the canceller expects next
	gate      atomic.Uint64 // generation<<2 | state
	detectOff atomic.Bool   // SetDetecting(false): the detector is skipped

	frames, speechFrames, sent atomic.Uint64

	// When the samples up to a stream position entered the uplink ring: the
	// capture loop writes stamps, the uplink reads them (CapturedAt).
	now    func() int64
	stamps [captureStamps]captureStamp
	nstamp atomic.Uint64 // stamps written, ever
}

// captureStamps is how many ring writes are remembered: over a second of 10 ms
// frames, far more than the uplink ever lags.
const captureStamps = 128

type captureStamp struct {
	end atomic.Uint64 // ring position after the write
	at  atomic.Int64  // unix nanoseconds
}

// NewCapture returns a capture loop reading from dev, deciding with det
// (nil: no voice detection) and writing to the uplink ring out
// while the gate is open.
func NewCapture(dev frameReader, det captureDetector, out *dsp.Ring, c CaptureConfig) (*Capture, error) {
	if dev == nil || out == nil {
		return nil, fmt.Errorf("new capture: device and uplink ring are required")
	}
	if err := c.Device.Validate(); err != nil {
		return nil, fmt.Errorf("new capture: device format: %w", err)
	}
	if c.PeriodFrames < 1 || c.PeriodFrames > c.Device.Rate {
		return nil, fmt.Errorf("new capture: period of %d frames out of range [1, %d]", c.PeriodFrames, c.Device.Rate)
	}
	if c.Channel != dsp.MixChannels && (c.Channel < 0 || c.Channel >= c.Device.Channels) {
		return nil, fmt.Errorf("new capture: channel %d out of range for %d channels", c.Channel, c.Device.Channels)
	}
	preMs := c.PreRollMs
	switch {
	case preMs == 0:
		preMs = dsp.DefaultPreRollMs
	case preMs < 0:
		preMs = 0
	}
	pre, err := dsp.NewPreRoll(max(preMs, c.KeepMs), CaptureRate)
	if err != nil {
		return nil, fmt.Errorf("new capture: %w", err)
	}
	frame := CaptureRate * captureFrameMs / 1000
	if out.Cap() < pre.Cap()+frame {
		return nil, fmt.Errorf("new capture: uplink ring of %d samples cannot take the pre-roll of %d ms and a frame", out.Cap(), preMs)
	}
	res, err := dsp.NewResampler(c.Device.Rate, CaptureRate)
	if err != nil {
		return nil, fmt.Errorf("new capture: %w", err)
	}
	gain := dsp.UnityGain
	if c.Gain != 0 {
		gain = dsp.GainFromLinear(c.Gain)
	}
	// The device-rate pre-roll covers the pre-roll, a frame that may be cut
	// short, the resampler's window and the input step wake aligns to, so
	// that the resampler's start-up falls before the audio kept.
	held := ((pre.Cap()+frame)*c.Device.Rate+CaptureRate-1)/CaptureRate + res.Taps() + 2*resDown(res) + 2
	rawPre := dsp.NewPreRollSamples(held)
	return &Capture{
		rawPre:  rawPre,
		replay:  make([]int16, held),
		dev:     dev,
		det:     det,
		out:     out,
		format:  c.Device,
		channel: c.Channel,
		gain:    gain,
		raw:     make([]byte, c.PeriodFrames*c.Device.FrameBytes()),
		mono:    make([]int16, c.PeriodFrames),
		res:     res,
		rs:      make([]int16, res.MaxOutput(c.PeriodFrames)),
		frame:   make([]int16, frame),
		pre:     pre,
		preSend: preMs * CaptureRate / 1000,
		onFrame: c.OnFrame,
		onVoice: c.OnVoice,
		level:   c.Level,
		echo:    c.Echo,
		now:     func() int64 { return time.Now().UnixNano() },
	}, nil
}

// Run reads and processes device periods until ctx is done or the device
// fails. A read in progress is not interrupted by ctx: closing the device
// unblocks it.
func (c *Capture) Run(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.step(); err != nil {
			return err
		}
	}
}

// step reads and processes one device period.
func (c *Capture) step() error {
	n, err := c.dev.ReadFrames(c.raw)
	if err != nil {
		return fmt.Errorf("read capture frames: %w", err)
	}
	c.process(c.raw[:n*c.format.FrameBytes()])
	return nil
}

// process handles interleaved device frames.
func (c *Capture) process(raw []byte) {
	n := dsp.DecodeMono(c.mono, raw, c.format, c.channel)
	in := c.mono[:n]
	if c.gain != dsp.UnityGain {
		dsp.ApplyGain(in, c.gain)
	}
	if c.level != nil {
		c.level.add(in, c.format.Rate)
	}
	asleep := c.gate.Load()&captureMask == captureClosed && (c.det == nil || c.detectOff.Load()) && c.onFrame == nil
	if c.dormant && !asleep {
		c.wake()
	}
	c.rawPre.Write(in)
	c.devPos += uint64(n)
	if asleep {
		if !c.dormant {
			// The frame being cut goes on counting; wake refills it.
			c.dormant, c.vacc = true, c.fill
		}
		c.idle(c.devPos - uint64(n))
		return
	}
	for len(in) > 0 {
		used, made := c.res.Process(in, c.rs)
		in = in[used:]
		c.cut(c.rs[:made])
		if used == 0 && made == 0 {
			break
		}
	}
}

// idle accounts for the device samples up to devPos while dormant: the
// outputs the resampler would have made, cut into frames on the stream's grid
// and reported as silence, as with the detector off.
func (c *Capture) idle(before uint64) {
	frame := len(c.frame)
	c.vacc += int(c.outputsAt(c.devPos) - c.outputsAt(before))
	for ; c.vacc >= frame; c.vacc -= frame {
		c.decided(frame, false)
		c.unsent = min(c.unsent+frame, c.pre.Cap())
	}
}

// resDown is the resampler's input step: down of its up/down ratio.
func resDown(r *dsp.Resampler) int {
	_, down := r.Ratio()
	return down
}

// outputsAt is how many samples the resampler has made once it has taken the
// stream's first n device samples: output j needs input j*down/up.
func (c *Capture) outputsAt(n uint64) uint64 {
	up, down := c.res.Ratio()
	return (n*uint64(up) + uint64(down) - 1) / uint64(down)
}

// wake leaves the dormant state. The resampler starts afresh on the held
// device audio, from a sample whose stream index is a multiple of its input
// step, so that its outputs fall on the unbroken stream's grid and, past
// its start-up, equal them; the newest outputs refill the frame being cut
// and, before them, the pre-roll, as if the loop had never slept.
func (c *Capture) wake() {
	c.dormant = false
	k := c.rawPre.Read(c.replay)
	start := c.devPos - uint64(k)
	down := uint64(resDown(c.res))
	skip := (down - start%down) % down
	in := c.replay[min(int(skip), k):k]
	toPre := int(c.outputsAt(c.devPos)-c.outputsAt(start+skip)) - c.vacc
	c.res.Reset()
	c.pre.Reset()
	c.fill = 0
	for {
		// Until the input is used up and every output it allows is out.
		used, made := c.res.Process(in, c.rs)
		in = in[used:]
		if made == 0 && (used == 0 || len(in) == 0) {
			break
		}
		out := c.rs[:made]
		if toPre > 0 {
			k := min(toPre, len(out))
			c.pre.Write(out[:k])
			toPre -= k
			out = out[k:]
		}
		c.fill += copy(c.frame[c.fill:], out)
	}
	c.unsent = min(c.unsent, c.pre.Len())
}

// cut collects resampled audio into 10 ms frames.
func (c *Capture) cut(s []int16) {
	for len(s) > 0 {
		k := copy(c.frame[c.fill:], s)
		c.fill += k
		s = s[k:]
		if c.fill == len(c.frame) {
			c.fill = 0
			c.handleFrame(c.frame)
		}
	}
}

// handleFrame runs one frame through the detector, the pre-roll and the
// gate.
func (c *Capture) handleFrame(f []int16) {
	if c.echo != nil {
		c.cancelEcho(f)
	}
	// With detection off every frame reads as silence, so a turn the
	// endpointer saw starting still ends.
	c.decided(len(f), c.det != nil && !c.detectOff.Load() && c.det.Process(f))
	if c.onFrame != nil {
		c.onFrame(f, c.pos)
	}
	c.pre.Write(f)
	c.unsent = min(c.unsent+len(f), c.pre.Len())

	g := c.gate.Load()
	if g&captureMask != captureOpen || !c.gate.CompareAndSwap(g, g&^captureMask|captureWriting) {
		return
	}
	var n int
	if gen := g >> 2; gen != c.sentGen && c.unsent >= len(f) {
		// A new opening: send the pre-roll, which ends with this frame,
		// but nothing that an earlier opening already sent.
		c.sentGen = gen
		n = c.pre.WriteTo(c.out, c.opening())
	} else {
		c.sentGen = gen
		n = c.out.Write(f)
	}
	c.unsent = 0
	c.sent.Add(uint64(n))
	if n > 0 {
		c.stamp(c.out.Written())
	}
	c.gate.Store(g) // back to open; only this goroutine leaves captureWriting
}

// decided counts a frame of n samples and, with a detector, reports its
// decision on it.
func (c *Capture) decided(n int, speech bool) {
	c.pos += uint64(n)
	c.frames.Add(1)
	if c.det == nil {
		return
	}
	if speech {
		c.speechFrames.Add(1)
	}
	changed := speech != c.speech
	c.speech = speech
	if c.onVoice != nil {
		g, ok := c.det.(echoGuarded)
		c.onVoice(vad.Decision{Speech: speech, Changed: changed, Sample: c.pos, Guarded: ok && g.EchoGuarded()})
	}
}

// stamp notes that the ring holds everything before stream position end as of now.
func (c *Capture) stamp(end uint64) {
	i := c.nstamp.Load()
	st := &c.stamps[i%captureStamps]
	st.end.Store(0) // marks the slot as being rewritten
	st.at.Store(c.now())
	st.end.Store(end)
	c.nstamp.Store(i + 1)
}

// CapturedAt is when the sample just before ring position end was written to the
// uplink ring, in unix nanoseconds, if that is still remembered. The uplink calls it
// with Ring.ReadEnd after each read; it does not allocate.
func (c *Capture) CapturedAt(end uint64) (int64, bool) {
	n := c.nstamp.Load()
	// Newest first: the uplink asks about recent audio.
	for k := uint64(0); k < min(n, captureStamps); k++ {
		st := &c.stamps[(n-1-k)%captureStamps]
		e := st.end.Load()
		at := st.at.Load()
		if e == 0 || st.end.Load() != e {
			return 0, false // rewritten under us: too old
		}
		if e < end {
			return 0, false // not written yet: cannot happen for audio read from the ring
		}
		// The oldest write whose end reaches the position holds its sample.
		if k+1 == min(n, captureStamps) {
			// The oldest stamp kept: it is that write only if it is the first ever.
			return at, n <= captureStamps
		}
		if c.stamps[(n-2-k)%captureStamps].end.Load() < end {
			return at, true
		}
	}
	return 0, false
}

// SetStreaming opens or closes the gate to the uplink ring. Opening sends
// the pre-roll first, then live audio, from the next 10 ms frame on.
// After SetStreaming(false) returns, no more samples are written to the
// uplink ring, so a following Uplink.Flush sends the turn's last audio.
func (c *Capture) SetStreaming(on bool) {
	for {
		g := c.gate.Load()
		state := g & captureMask
		switch {
		case on && state != captureClosed, !on && state == captureClosed:
			return
		case on:
			if c.gate.CompareAndSwap(g, (g>>2+1)<<2|captureOpen) {
				return
			}
		case state == captureOpen:
			if c.gate.CompareAndSwap(g, g&^captureMask|captureClosed) {
				return
			}
		default:
			// The capture loop is copying one frame into the ring, which
			// takes microseconds; wait for it rather than let it finish
			// after we return.
			runtime.Gosched()
		}
	}
}

// SetDetecting turns the voice detector on (the default) or off. Nothing
// needs it in push-to-talk mode without barge-in by voice, and it is the
// largest cost of a capture period after resampling: off, every frame is
// reported as silence without being analysed. The detector adapts to the
// room again within its first frames after it is turned back on.
func (c *Capture) SetDetecting(on bool) { c.detectOff.Store(!on) }

// Streaming reports whether the gate is open.
func (c *Capture) Streaming() bool { return c.gate.Load()&captureMask != captureClosed }

// Stats returns running totals.
func (c *Capture) Stats() CaptureStats {
	return CaptureStats{
		Frames: c.frames.Load(),
		Speech: c.speechFrames.Load(),
		Sent:   c.sent.Load(),
	}
}
