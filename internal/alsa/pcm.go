package alsa

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/voiced-project/voiced/internal/clock"
)

// backend is one open device: hardware or file.
type backend interface {
	params() Params
	read(buf []byte, frames int) (int, error)
	write(buf []byte, frames int) (int, error)
	delay() (int, error)
	fillsSilence() bool
	catchUp() (int, error)
	status() (Status, error)
	drop() error
	drain() error
	pause(on bool) error
	close() error
}

// PCM is an open capture or playback stream. ReadFrames/WriteFrames are meant for one
// goroutine; Delay, Drop, Pause, Xruns and Close may be called from others.
type PCM struct {
	name   string
	dn     devName
	stream Stream
	cfg    Config
	opts   options
	par    Params
	stop   chan struct{} // closed on Close
	xruns  atomic.Uint64

	mu     sync.Mutex // guards following fields
	b      backend    // nil while reopening or after Close
	closed bool
}

// Open opens the device called name for stream s, negotiating the parameters nearest to c.
func Open(name string, s Stream, c Config, opts ...Option) (*PCM, error) {
	o := options{
		log:          slog.New(slog.DiscardHandler),
		fileRealtime: true,
		backoffMin:   100 * time.Millisecond,
		backoffMax:   5 * time.Second,
	}
	for _, f := range opts {
		f(&o)
	}
	if o.clock == nil {
		o.clock = &clock.Real{} // one per PCM: its Sleep reuses one timer
	}
	if s != Playback && s != Capture {
		return nil, fmt.Errorf("open pcm %s: unknown %v", name, s)
	}
	c, err := c.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open pcm %s: %w", name, err)
	}
	dn, err := parseName(name)
	if err != nil {
		return nil, err
	}
	p := &PCM{name: name, dn: dn, stream: s, cfg: c, opts: o, stop: make(chan struct{})}
	b, err := p.openBackend()
	if err != nil {
		return nil, fmt.Errorf("open pcm %s %v: %w", name, s, err)
	}
	p.b, p.par = b, b.params()
	return p, nil
}

func (p *PCM) openBackend() (backend, error) {
	if p.dn.kind == "file" {
		return openFile(p.dn.path, p.stream, p.cfg, &p.opts, p.stop)
	}
	return openHW(p.dn, p.stream, p.cfg, &p.opts, &p.xruns)
}

// Name is the name the PCM was opened with.
func (p *PCM) Name() string { return p.name }

// Params is what the device granted.
func (p *PCM) Params() Params { return p.par }

// Xruns counts overruns (capture) or underruns (playback) recovered so far.
func (p *PCM) Xruns() uint64 { return p.xruns.Load() }

func (p *PCM) backend() (backend, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	return p.b, nil
}

// ReadFrames fills buf with whole interleaved frames in the device format (Params) and
// returns how many it read, blocking until they are all there or the PCM is closed; pass
// one period's worth for the lowest latency. Overruns are recovered and counted. A file:
// device returns fewer frames at its end, then io.EOF.
func (p *PCM) ReadFrames(buf []byte) (int, error) {
	return p.transfer(buf, Capture)
}

// WriteFrames writes the whole interleaved frames in buf, blocking while the device buffer
// is full, and returns how many were written. Underruns are recovered and counted.
func (p *PCM) WriteFrames(buf []byte) (int, error) {
	return p.transfer(buf, Playback)
}

func (p *PCM) transfer(buf []byte, s Stream) (int, error) {
	if p.stream != s {
		return 0, fmt.Errorf("pcm %s: %v transfer on a %v stream", p.name, s, p.stream)
	}
	frames := len(buf) / p.par.FrameBytes()
	if frames == 0 {
		return 0, nil
	}
	buf = buf[:frames*p.par.FrameBytes()]
	return p.onDevice(s.String(), func(b backend) (int, error) {
		if s == Capture {
			return b.read(buf, frames)
		}
		return b.write(buf, frames)
	})
}

// onDevice runs op (named what, for errors) on the device. If the device is gone, its
// file is closed at once, as the kernel holds the card (and whoever unplugs it) until
// every file of it is closed; with WithReopen, op runs again once the device is back.
func (p *PCM) onDevice(what string, op func(backend) (int, error)) (int, error) {
	for {
		b, err := p.backend()
		if err != nil {
			return 0, err
		}
		var n int
		if b == nil {
			err = syscall.ENODEV // a previous reopen was cut short
		} else {
			n, err = op(b)
		}
		if err == nil || !errors.Is(err, syscall.ENODEV) {
			if err != nil && !errors.Is(err, io.EOF) {
				err = fmt.Errorf("pcm %s %s: %w", p.name, what, err)
			}
			return n, err
		}
		if b != nil {
			p.drop(b, err)
		}
		if !p.opts.reopen {
			return n, fmt.Errorf("pcm %s %s: %w", p.name, what, err)
		}
		if err := p.reopen(); err != nil {
			return 0, err
		}
	}
}

// Gone reports whether the device has disappeared: its file is closed, and with
// WithReopen it is being waited for.
func (p *PCM) Gone() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b == nil && !p.closed
}

// drop closes b, the vanished device, unless Close or a reopen got there first.
func (p *PCM) drop(b backend, cause error) {
	p.mu.Lock()
	mine := p.b == b
	if mine {
		p.b = nil
	}
	p.mu.Unlock()
	if !mine {
		return
	}
	b.close()
	msg := "audio device gone"
	if p.opts.reopen {
		msg = "audio device gone, reopening"
	}
	p.opts.log.Warn(msg, "device", p.name, "stream", p.stream.String(), "err", cause)
}

// reopen opens the vanished device again with backoff until it returns, its parameters
// change, or Close is called.
func (p *PCM) reopen() error {
	wait := p.opts.backoffMin
	for attempt := 1; ; attempt++ {
		if !p.opts.clock.Sleep(wait, p.stop) {
			return ErrClosed
		}
		b, err := p.openBackend()
		if err == nil {
			if got := b.params(); got != p.par {
				b.close()
				return fmt.Errorf("pcm %s: device returned with %v, was %v", p.name, got, p.par)
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.closed {
				b.close()
				return ErrClosed
			}
			p.b = b
			p.opts.log.Info("audio device back", "device", p.name, "stream", p.stream.String(), "attempts", attempt)
			return nil
		}
		if attempt == 1 || attempt%10 == 0 {
			p.opts.log.Warn("audio device still gone", "device", p.name, "attempts", attempt, "err", err)
		}
		wait = min(2*wait, p.opts.backoffMax)
	}
}

// Delay is the number of frames between the application and the converter: for playback,
// written but not yet heard; for capture, captured but not yet read.
func (p *PCM) Delay() (int, error) {
	b, err := p.backend()
	if err != nil || b == nil {
		return 0, errOr(err)
	}
	return b.delay()
}

// FillsSilence reports whether the playback stream plays silence by itself when it runs
// dry, instead of stopping with an underrun: then a writer with nothing to play need not
// write anything, and calls CatchUp before it writes again. Sound cards fill silence when
// the kernel accepts ALSA's free-running mode (any kernel since 2.6 does); file: devices
// always do.
func (p *PCM) FillsSilence() bool {
	b, err := p.backend()
	return err == nil && b != nil && b.fillsSilence()
}

// CatchUp is for a stream that FillsSilence, before it writes after running dry: if the
// device has played past what was written (silence, by then), it skips the write position
// ahead to what plays now, so that the next frames written are heard next rather than
// after a lap of the buffer. It returns the delay after that, at least 0. As it is what
// an idle writer calls, it finds a vanished device as a transfer does, and with
// WithReopen waits for it to return.
func (p *PCM) CatchUp() (int, error) {
	return p.onDevice("catch-up", func(b backend) (int, error) { return b.catchUp() })
}

// Status is a snapshot of the stream.
type Status struct {
	State string // "PREPARED", "RUNNING", "XRUN", ...
	Avail int    // frames that can be read or written without blocking
	Delay int
}

// Status reports the stream's state.
func (p *PCM) Status() (Status, error) {
	b, err := p.backend()
	if err != nil || b == nil {
		return Status{}, errOr(err)
	}
	return b.status()
}

// Drop stops the stream at once, discarding queued frames, and prepares it for more.
// A WriteFrames blocked in another goroutine goes on with the rest of its buffer, so
// callers that barge in should write period-sized buffers.
func (p *PCM) Drop() error {
	b, err := p.backend()
	if err != nil || b == nil {
		return errOr(err)
	}
	return b.drop()
}

// Drain waits until queued playback frames have been played, then prepares the stream.
func (p *PCM) Drain() error {
	b, err := p.backend()
	if err != nil || b == nil {
		return errOr(err)
	}
	return b.drain()
}

// Pause pauses (on) or resumes the stream, if the device can pause.
func (p *PCM) Pause(on bool) error {
	b, err := p.backend()
	if err != nil || b == nil {
		return errOr(err)
	}
	return b.pause(on)
}

func errOr(err error) error {
	if err != nil {
		return err
	}
	return syscall.ENODEV
}

// Close closes the device, unblocking a ReadFrames or WriteFrames in progress.
func (p *PCM) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	close(p.stop)
	if p.b == nil {
		return nil
	}
	err := p.b.close()
	p.b = nil
	if err != nil {
		return fmt.Errorf("close pcm %s: %w", p.name, err)
	}
	return nil
}
