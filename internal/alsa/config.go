package alsa

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config is what the caller wants. Zero fields take the defaults noted.
type Config struct {
	Rate     int    // frames per second; default 48000
	Channels int    // default 1
	PeriodMs int    // time between wakeups; default 20
	BufferMs int    // device buffer; default 4 periods, at least 2 periods
	Format   Format // preferred sample format; default S16LE, then S32LE, S24LE, S24_3LE
}

// Params is what the device granted.
type Params struct {
	Format       Format
	Channels     int
	Rate         int
	PeriodFrames int
	BufferFrames int
}

// FrameBytes is the size of one interleaved frame.
func (p Params) FrameBytes() int { return p.Channels * p.Format.BytesPerSample() }

func (p Params) String() string {
	return fmt.Sprintf("%s %d ch %d Hz, period %d frames, buffer %d frames", p.Format, p.Channels, p.Rate, p.PeriodFrames, p.BufferFrames)
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Rate == 0 {
		c.Rate = 48000
	}
	if c.Channels == 0 {
		c.Channels = 1
	}
	if c.PeriodMs == 0 {
		c.PeriodMs = 20
	}
	if c.BufferMs == 0 {
		c.BufferMs = 4 * c.PeriodMs
	}
	switch {
	case c.Rate < 1000 || c.Rate > 768000:
		return c, fmt.Errorf("alsa: rate %d Hz out of range 1000..768000", c.Rate)
	case c.Channels < 1 || c.Channels > 32:
		return c, fmt.Errorf("alsa: %d channels out of range 1..32", c.Channels)
	case c.PeriodMs < 1 || c.PeriodMs > 1000:
		return c, fmt.Errorf("alsa: period %d ms out of range 1..1000", c.PeriodMs)
	case c.BufferMs < 2*c.PeriodMs || c.BufferMs > 10000:
		return c, fmt.Errorf("alsa: buffer %d ms out of range %d..10000 (at least 2 periods)", c.BufferMs, 2*c.PeriodMs)
	case c.Format < FormatUnset || c.Format > S32LE:
		return c, fmt.Errorf("alsa: unknown %v", c.Format)
	}
	return c, nil
}

// Clock is the time source for file: pacing and reopen backoff (clock.Real,
// clocktest.Clock).
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or until stop is closed, in which case it returns false.
	Sleep(d time.Duration, stop <-chan struct{}) bool
}

type options struct {
	log          *slog.Logger
	clock        Clock
	fileRealtime bool
	reopen       bool
	backoffMin   time.Duration
	backoffMax   time.Duration
	sys          *system // nil: the real /dev and /proc
}

// Option changes how Open works.
type Option func(*options)

// WithLogger sets where recoveries (xruns, reopens) are logged. Default: discarded.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithClock replaces the wall clock used for file: pacing and reopen backoff.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithFileRealtime sets whether a file: capture device delivers frames at the file's rate
// (true, the default, like a microphone) or as fast as they are read (false, for tests).
// A file: playback device paces writes the same way.
func WithFileRealtime(on bool) Option { return func(o *options) { o.fileRealtime = on } }

// WithReopen makes ReadFrames and WriteFrames survive a device that disappears (an
// unplugged USB device, its card disconnected; see the package doc): the PCM is closed and
// opened again with exponential backoff
// from min to max until the device returns with the same parameters, or Close is called.
func WithReopen(min, max time.Duration) Option {
	return func(o *options) { o.reopen, o.backoffMin, o.backoffMax = true, min, max }
}

// ErrClosed is returned by operations on a closed PCM.
var ErrClosed = errors.New("alsa: closed")
