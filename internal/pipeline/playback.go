package pipeline

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/engine"
)

// Playback defaults.
const (
	// DefaultPlaybackBufferMs sizes the playback ring. Replies arrive
	// faster than they play, so the ring must hold most of a long one.
	DefaultPlaybackBufferMs = 40000
	// DefaultIdlePeriods is how many periods of silence are kept queued
	// while there is nothing to play: enough that the device never runs
	// dry (no xrun, no restart click), few enough that a reply starts
	// without noticeable delay.
	DefaultIdlePeriods = 2
)

// frameWriter is the playback device as the playback loop uses it.
// WriteFrames blocks until it has queued whole interleaved frames in the
// device format and returns the number of frames written; Delay is the
// number of frames queued and not yet heard; Drop throws the queue away at
// once, after which WriteFrames starts the stream again.
type frameWriter interface {
	WriteFrames(buf []byte) (int, error)
	Delay() (int, error)
	Drop() error
}

// silenceFiller is a playback device that can play silence by itself when it runs dry
// (*alsa.PCM: ALSA's free-running mode, and file: devices). While FillsSilence, the loop
// writes nothing when it has nothing to play, and calls CatchUp before it writes again:
// it moves the device's write position up to what plays now if the device played past
// it, and returns the delay after that.
type silenceFiller interface {
	FillsSilence() bool
	CatchUp() (int, error)
}

// fillerCheck is how often an idle loop whose device fills silence looks at the device
// anyway: to find it gone (unplugged) about as soon as the LED would show it, and to keep
// its write position near the hardware's, as the device's pointers wrap after some hours
// (2^30 frames on a 32-bit kernel) and one left behind longer could no longer be told from
// one ahead. Two wake-ups a second instead of fifty.
const fillerCheck = 500 * time.Millisecond

// PlaybackConfig describes the playback device and the audio fed to it.
type PlaybackConfig struct {
	Device       dsp.Format // as granted by the device
	PeriodFrames int        // frames per write; the device period
	// InputRate is the rate of the audio given to Write: 0 means
	// CaptureRate (24 kHz, the Realtime API's rate).
	InputRate int
	// BufferMs sizes the ring between Write and the device: 0 means
	// DefaultPlaybackBufferMs.
	BufferMs int
	// IdlePeriods is the silence kept queued while idle: 0 means
	// DefaultIdlePeriods.
	IdlePeriods int
	// Earcons turns earcons on; SetEarcons changes it later.
	Earcons bool
	// Now is the clock used to age the device delay between writes; nil
	// means time.Now.
	Now func() time.Time
	// OnStarted, if set, is called on the Run goroutine when audio that was
	// written while nothing was queued (a reply's first delta, or one after
	// the stream ran dry) has its first frame written to the device, with the
	// time since Write: the latency playback adds to a reply. It must not
	// block.
	OnStarted func(time.Duration)
	// OnSilenced, if set, is called on the Run goroutine when a Stop that
	// found audio playing has thrown the device's queue away, with the time
	// since Stop: how long a barge-in takes to silence the speaker. It must
	// not block.
	OnSilenced func(time.Duration)
	// Echo, if set, is handed what is written to the device (after volume and
	// earcons), at CaptureRate and with the device's delay: the echo canceller's
	// reference. OnLevel, if set, gets its mean square each period: an echo
	// guard's reference level. Both run on the Run goroutine (echo.go).
	Echo    EchoSink
	OnLevel func(meanSquare float64)
}

// PlaybackStats are running totals for metrics.
type PlaybackStats struct {
	Written   uint64 // input samples queued by Write
	Refused   uint64 // input samples refused because the ring was full
	Discarded uint64 // input samples thrown away by Stop or written while stopped
	Handed    uint64 // device frames of audio handed to the device
	Silence   uint64 // device frames of silence written (idle, underrun)
}

// Playback runs the playback loop: it takes audio written by the network
// side, resamples it to the device rate, applies the volume, mixes in
// earcons, converts it to the device format and writes it to the device,
// counting what it hands over so that Heard can tell how much the user
// heard.
//
// The device must not stop between replies: an empty ALSA buffer stops the
// stream with an xrun, and restarting it clicks on many DACs and waits for
// the start threshold. A device that plays silence by itself when it runs
// dry (silenceFiller: ALSA's free-running mode) is left to do so, and the
// loop sleeps until there is something to play, costing nothing while
// idle; before it writes again it puts IdlePeriods of silence ahead of the
// audio. Any other device gets IdlePeriods of silence kept queued by the
// loop, a period at a time. Either way a reply starts within that time,
// and audio that arrives slower than it plays is written as it comes, in
// short writes, with the same silence bridging the gaps.
//
// Run belongs to one goroutine. Write and Begin belong to one other
// goroutine (the one receiving audio). Stop, Heard, PlayEarcon, SetVolume,
// SetEarcons and Stats may be called from anywhere.
type Playback struct {
	dev        frameWriter
	filler     silenceFiller // dev, if it can fill silence; nil otherwise
	format     dsp.Format
	inRate     int
	period     int
	idleFrames int
	ring       *dsp.Ring
	res        *dsp.Resampler
	in         []int16 // input staging for one period
	mono       []int16 // one period, mono at the device rate
	raw        []byte  // one period in the device format
	zeros      []byte  // one period of silence in the device format
	earcons    [engine.EarconCount][]int16
	escratch   []int16 // one period of an earcon at its volume
	now        func() time.Time
	timer      *time.Timer

	onStarted  func(time.Duration)
	onSilenced func(time.Duration)
	tap        *echoTap

	// Owned by the Run goroutine.
	stopSeen     uint64
	earcon       []int16 // rest of the earcon being played
	silenceSince int     // silence frames written since the last audio
	consumed     uint64  // ring samples read or discarded: the ring's read position

	// Owned by the writing goroutine.
	item    [64]byte // start of the ID of the item being written
	itemLen int      // length of that ID (may exceed len(item))

	gain       atomic.Int32 // Gain
	earconGain atomic.Int32 // Gain of the earcons, before the volume
	earconsOn  atomic.Bool
	earconReq  atomic.Int32  // Cue requested plus one, 0 for none
	stopGen    atomic.Uint64 // incremented by Stop
	stopMu     sync.Mutex    // orders Write against Stop (not taken by Run)
	stopAt     atomic.Uint64 // ring write position at the last Stop
	stopped    atomic.Bool   // Write refuses audio until Begin
	busy       atomic.Bool   // audio handed to the device may still be playing
	wake       chan struct{} // coalesced: Stop or PlayEarcon

	handed  atomic.Uint64 // device frames of audio handed over, ever
	origin  atomic.Uint64 // handed at the last Begin
	begun   atomic.Uint64 // written at the last Begin
	delay   atomic.Int64  // device delay after the last write, in frames
	delayAt atomic.Int64  // when it was read, unix nanoseconds
	frozen  atomic.Int64  // Heard as of the last Stop, -1 while playing

	arrivedPos atomic.Uint64 // ring position of audio written to an empty queue
	arrivedAt  atomic.Int64  // when, unix nanoseconds; 0 when none is pending
	stoppedAt  atomic.Int64  // unix nanoseconds of a Stop that found audio playing; 0 none

	written, discarded, silence atomic.Uint64
}

// NewPlayback returns a playback loop writing to dev.
func NewPlayback(dev frameWriter, c PlaybackConfig) (*Playback, error) {
	if dev == nil {
		return nil, fmt.Errorf("new playback: device is required")
	}
	if err := c.Device.Validate(); err != nil {
		return nil, fmt.Errorf("new playback: device format: %w", err)
	}
	if c.PeriodFrames < 1 || c.PeriodFrames > c.Device.Rate {
		return nil, fmt.Errorf("new playback: period of %d frames out of range [1, %d]", c.PeriodFrames, c.Device.Rate)
	}
	if c.InputRate == 0 {
		c.InputRate = CaptureRate
	}
	if c.BufferMs == 0 {
		c.BufferMs = DefaultPlaybackBufferMs
	}
	if c.BufferMs < 100 || c.BufferMs > 600000 {
		return nil, fmt.Errorf("new playback: buffer of %d ms out of range [100, 600000]", c.BufferMs)
	}
	if c.IdlePeriods == 0 {
		c.IdlePeriods = DefaultIdlePeriods
	}
	if c.IdlePeriods < 1 || c.IdlePeriods > 16 {
		return nil, fmt.Errorf("new playback: %d idle periods out of range [1, 16]", c.IdlePeriods)
	}
	res, err := dsp.NewResampler(c.InputRate, c.Device.Rate)
	if err != nil {
		return nil, fmt.Errorf("new playback: %w", err)
	}
	ring, err := dsp.NewRing(int(int64(c.BufferMs)*int64(c.InputRate)/1000), dsp.RingReject)
	if err != nil {
		return nil, fmt.Errorf("new playback: %w", err)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	p := &Playback{
		dev:        dev,
		format:     c.Device,
		inRate:     c.InputRate,
		period:     c.PeriodFrames,
		idleFrames: c.IdlePeriods * c.PeriodFrames,
		ring:       ring,
		res:        res,
		in:         make([]int16, res.InputFor(c.PeriodFrames)+8),
		mono:       make([]int16, c.PeriodFrames),
		escratch:   make([]int16, c.PeriodFrames),
		raw:        make([]byte, c.PeriodFrames*c.Device.FrameBytes()),
		zeros:      make([]byte, c.PeriodFrames*c.Device.FrameBytes()),
		now:        c.Now,
		onStarted:  c.OnStarted,
		onSilenced: c.OnSilenced,
		timer:      time.NewTimer(time.Hour),
		wake:       make(chan struct{}, 1),
	}
	p.timer.Stop()
	if c.Echo != nil || c.OnLevel != nil {
		if p.tap, err = newEchoTap(c.Echo, c.OnLevel, c.Device.Rate, c.PeriodFrames); err != nil {
			return nil, fmt.Errorf("new playback: %w", err)
		}
	}
	p.filler, _ = dev.(silenceFiller)
	for e := range p.earcons {
		p.earcons[e] = engine.Earcon(engine.Cue(e), c.Device.Rate)
	}
	p.gain.Store(int32(dsp.UnityGain))
	p.earconGain.Store(int32(dsp.UnityGain))
	p.earconsOn.Store(c.Earcons)
	p.frozen.Store(-1)
	return p, nil
}

// Write queues reply audio at the input rate and returns how many samples
// were queued. It never blocks: what does not fit is refused and counted.
// After Stop, audio is refused until Begin.
func (p *Playback) Write(pcm []int16) int {
	// Under stopMu, so that a concurrent Stop either refuses this audio or records a
	// ring position after it: never one before audio it did not refuse.
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	if p.stopped.Load() {
		p.discarded.Add(uint64(len(pcm)))
		return 0
	}
	if p.onStarted != nil && len(pcm) > 0 && p.ring.Len() == 0 && p.arrivedAt.Load() == 0 {
		p.arrivedPos.Store(p.ring.Written())
		p.arrivedAt.Store(p.now().UnixNano())
	}
	n := p.ring.Write(pcm)
	p.written.Add(uint64(n))
	return n
}

// WriteItem is Write for audio of a reply item: the first audio of a new
// item ID calls Begin, so that Heard counts per item and a Stop refuses
// only the rest of the item that was playing. Its signature matches the
// realtime client's audio sink. It does not allocate; IDs longer than 64
// bytes are told apart by their first 64 bytes and their length.
func (p *Playback) WriteItem(itemID string, pcm []int16) int {
	if len(itemID) != p.itemLen || string(p.item[:min(p.itemLen, len(p.item))]) != itemID[:min(len(itemID), len(p.item))] {
		p.itemLen = len(itemID)
		copy(p.item[:], itemID)
		p.Begin()
	}
	return p.Write(pcm)
}

// Begin starts a new reply: Heard counts from here, and audio is accepted
// again after a Stop. Call it from the writing goroutine before the
// reply's first Write (WriteItem does).
func (p *Playback) Begin() {
	p.origin.Store(p.handed.Load())
	p.begun.Store(p.written.Load())
	p.frozen.Store(-1)
	p.stopped.Store(false)
}

// Stop silences playback within one device period: it throws away the
// queued audio and the device's queue, and refuses further audio until
// the next Begin or item (the rest of a cancelled reply keeps arriving
// for a while). Heard keeps returning its value as of the Stop.
func (p *Playback) Stop() {
	if p.onSilenced != nil && !p.Idle() {
		p.stoppedAt.CompareAndSwap(0, p.now().UnixNano())
	}
	p.frozen.CompareAndSwap(-1, int64(p.heardNow()))
	p.stopMu.Lock()
	p.stopped.Store(true)
	p.stopAt.Store(p.ring.Written())
	p.stopMu.Unlock()
	p.stopGen.Add(1)
	p.signal()
}

// Idle reports that nothing is queued or playing: the ring is empty and
// the device holds no more audio (at most silence).
func (p *Playback) Idle() bool {
	return !p.busy.Load() && p.ring.Len() == 0
}

// Heard is how many milliseconds of the current reply item the user has
// heard: the audio frames handed to the device since Begin minus the
// device's delay, aged by the time since it was read, and at most what
// was written. Silence queued ahead of the reply's first frames makes it
// read low for that long, never high. After Stop it keeps the value it had
// then.
func (p *Playback) Heard() int {
	if f := p.frozen.Load(); f >= 0 {
		return int(f)
	}
	return p.heardNow()
}

func (p *Playback) heardNow() int {
	rate := int64(p.format.Rate)
	h := int64(p.handed.Load() - p.origin.Load())
	d := p.delay.Load()
	if age := p.now().UnixNano() - p.delayAt.Load(); age > 0 {
		// The queue drains in real time, but never by more than a period
		// between two reads: beyond that the loop has been idle.
		d -= min(age*rate/int64(time.Second), int64(p.period))
	}
	ms := max(h-max(d, 0), 0) * 1000 / rate
	got := int64(p.written.Load()-p.begun.Load()) * 1000 / int64(p.inRate)
	return int(min(ms, got))
}

// PlayEarcon mixes the earcon of cue c into the output from the next
// period on, replacing an earcon still playing. It does nothing while
// earcons are off.
func (p *Playback) PlayEarcon(c engine.Cue) {
	if c < 0 || int(c) >= engine.EarconCount || !p.earconsOn.Load() {
		return
	}
	p.earconReq.Store(int32(c) + 1)
	p.signal()
}

// SetEarcons turns earcons on or off.
func (p *Playback) SetEarcons(on bool) { p.earconsOn.Store(on) }

// SetEarconVolume sets the earcons' level as a linear factor of their standard level
// (1), before the volume applies.
func (p *Playback) SetEarconVolume(v float64) { p.earconGain.Store(int32(dsp.GainFromLinear(v))) }

// SetVolume sets the software volume as a linear factor: 1 leaves the
// audio as it is, 0 silences it, above 1 amplifies with saturation (up to
// 16).
func (p *Playback) SetVolume(v float64) { p.gain.Store(int32(dsp.GainFromLinear(v))) }

// Volume returns the software volume as a linear factor.
func (p *Playback) Volume() float64 { return float64(p.gain.Load()) / float64(dsp.UnityGain) }

// Stats returns running totals.
func (p *Playback) Stats() PlaybackStats {
	return PlaybackStats{
		Written:   p.written.Load(),
		Refused:   p.ring.Dropped(),
		Discarded: p.discarded.Load(),
		Handed:    p.handed.Load(),
		Silence:   p.silence.Load(),
	}
}

func (p *Playback) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run plays until ctx is done or the device fails.
func (p *Playback) Run(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.step(ctx); err != nil {
			return err
		}
	}
}

// step writes at most one period to the device, or waits when there is
// nothing to write and enough silence queued.
func (p *Playback) step(ctx context.Context) error {
	if g := p.stopGen.Load(); g != p.stopSeen {
		p.stopSeen = g
		d := p.ring.DiscardTo(p.stopAt.Load())
		p.consumed += uint64(d)
		p.discarded.Add(uint64(d))
		p.res.Reset()
		p.earcon = nil
		p.arrivedAt.Store(0) // what arrived may have been thrown away
		if err := p.dev.Drop(); err != nil {
			return fmt.Errorf("drop playback frames: %w", err)
		}
		if at := p.stoppedAt.Swap(0); at != 0 {
			p.onSilenced(time.Duration(p.now().UnixNano() - at))
		}
		p.busy.Store(false)
		p.delay.Store(0)
		p.delayAt.Store(p.now().UnixNano())
	}
	if e := p.earconReq.Swap(0); e != 0 {
		p.earcon = p.earcons[e-1]
	}

	wasBusy := p.busy.Load()
	if p.ring.Len() > 0 {
		p.busy.Store(true) // before the ring empties, so Idle never sees neither
	}
	audio := p.fill()
	frames := audio
	if len(p.earcon) > 0 {
		clear(p.mono[audio:])
		frames = p.period
		k := min(len(p.earcon), frames)
		e := p.escratch[:k]
		copy(e, p.earcon[:k])
		dsp.ApplyGain(e, dsp.Gain(p.earconGain.Load()))
		dsp.MixInto(p.mono[:k], e)
		p.earcon = p.earcon[k:]
	}
	fills := p.filler != nil && p.filler.FillsSilence()
	switch {
	case frames == 0 && fills:
		// The device plays silence by itself: write nothing. Look again when the audio
		// queued should have played (at most a period, so that Heard ages right), or,
		// once only silence is left, after fillerCheck.
		d, err := p.catchUp()
		if err != nil {
			return err
		}
		if d <= p.silenceSince {
			p.busy.Store(false)
			return p.wait(ctx, fillerCheck)
		}
		return p.wait(ctx, p.frames(min(d-p.silenceSince, p.period)))
	case frames == 0:
		d := p.readDelay()
		if d <= p.silenceSince {
			p.busy.Store(false) // only silence is left in the device
		}
		if d >= p.idleFrames {
			return p.wait(ctx, p.frames(min(d-p.idleFrames+1, p.period)))
		}
		clear(p.mono)
		frames = p.period
	case fills:
		if err := p.lead(wasBusy); err != nil {
			return err
		}
	}
	dsp.ApplyGain(p.mono[:frames], dsp.Gain(p.gain.Load()))
	fb := p.format.FrameBytes()
	dsp.EncodeFrames(p.raw, p.mono[:frames], p.format)
	done := 0
	for done < frames {
		n, err := p.dev.WriteFrames(p.raw[done*fb : frames*fb])
		if err != nil {
			return fmt.Errorf("write playback frames: %w", err)
		}
		if n <= 0 {
			break
		}
		done += n
	}
	played := min(audio, done)
	if played > 0 {
		if at := p.arrivedAt.Load(); at != 0 && p.consumed > p.arrivedPos.Load() && p.arrivedAt.CompareAndSwap(at, 0) {
			p.onStarted(time.Duration(p.now().UnixNano() - at))
		}
	}
	p.handed.Add(uint64(played))
	p.silence.Add(uint64(done - played))
	if played > 0 {
		p.silenceSince = 0
	}
	p.silenceSince += done - played
	d := p.readDelay()
	if p.tap != nil {
		p.tap.played(p.mono[:done], d)
	}
	return nil
}

// fill resamples queued audio into p.mono and returns the frames made.
func (p *Playback) fill() int {
	got := 0
	for got < p.period {
		need := min(p.res.InputFor(p.period-got), len(p.in))
		k := 0
		if need > 0 {
			k = p.ring.Read(p.in[:need])
			p.consumed += uint64(k)
		}
		_, made := p.res.Process(p.in[:k], p.mono[got:])
		got += made
		if k < need || (k == 0 && made == 0) {
			break // the ring ran dry
		}
	}
	return got
}

// readDelay asks the device for its queue and records it for Heard. A
// device that cannot say (stopped, just dropped) counts as empty.
func (p *Playback) readDelay() int {
	d, err := p.dev.Delay()
	if err != nil || d < 0 {
		d = 0
	}
	p.delay.Store(int64(d))
	p.delayAt.Store(p.now().UnixNano())
	return d
}

// catchUp is readDelay for a device that fills silence: it first moves the
// device's write position up to what plays now if the device played past it.
func (p *Playback) catchUp() (int, error) {
	d, err := p.filler.CatchUp()
	if err != nil {
		return 0, fmt.Errorf("catch up with playback device: %w", err)
	}
	p.delay.Store(int64(d))
	p.delayAt.Store(p.now().UnixNano())
	return d, nil
}

// lead readies a device that fills silence for what is about to be written:
// it catches the device up, and if none of the loop's audio was left in it
// (it was idle, or stopped), queues silence up to IdlePeriods ahead, as the
// loop keeps queued for a device that does not fill: the same start latency,
// and a margin against running dry again at once. Audio that follows audio
// still queued goes right after it; a device whose delay always reads 0 (a
// file: device in fast mode) gets no silence in the middle of a reply.
func (p *Playback) lead(wasBusy bool) error {
	d, err := p.catchUp()
	if err != nil || wasBusy {
		return err
	}
	fb := p.format.FrameBytes()
	for pad := p.idleFrames - d; pad > 0; {
		n, err := p.dev.WriteFrames(p.zeros[:min(pad, p.period)*fb])
		if err != nil {
			return fmt.Errorf("write playback frames: %w", err)
		}
		if n <= 0 {
			break
		}
		pad -= n
		p.silence.Add(uint64(n))
		p.silenceSince += n
	}
	return nil
}

// frames is how long n device frames play.
func (p *Playback) frames(n int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(p.format.Rate)
}

// wait sleeps until audio, an earcon or a Stop arrives, or for at most d.
func (p *Playback) wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.timer.Reset(d)
	defer p.timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.ring.Ready():
	case <-p.wake:
	case <-p.timer.C:
	}
	return nil
}
