package alsa

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/wav"
)

// fileDev is a file: device. Capture reads a WAV file, playback writes one. In real-time
// mode it keeps the pace of a sound card: frames leave (capture) or are consumed
// (playback) at the rate, measured from the first transfer.
type fileDev struct {
	stream   Stream
	par      Params
	realtime bool
	clock    Clock
	stop     <-chan struct{}

	// io is held (a token in it) by whoever uses f, r or w: the transferring goroutine, or
	// close. It is a channel so that close can give up waiting for a transfer blocked on
	// a FIFO nobody feeds or drains, and close the file under it to unblock it.
	io  chan struct{}
	f   *os.File
	r   *wav.Reader
	w   *wav.Writer
	eof bool
	// zeros is silence to write from (playback), a period or more of it.
	zeros []byte

	mu     sync.Mutex // guards following fields; never held while sleeping or in I/O
	start  time.Time  // time of the first transfer; zero before
	frames int64      // frames transferred since start

	want        int64 // frames of the transfer in progress; only the transferring goroutine uses it
	readTarget  func(int64) int64
	writeTarget func(int64) int64
}

// FormatFromWAV is the sample format of a WAV file's data.
func FormatFromWAV(h wav.Header) (Format, error) {
	switch {
	case h.Bits == 16 && h.Container == 2:
		return S16LE, nil
	case h.Bits == 24 && h.Container == 3:
		return S24_3LE, nil
	case h.Bits == 24 && h.Container == 4:
		return S24LE, nil
	case h.Bits == 32 && h.Container == 4:
		return S32LE, nil
	}
	return FormatUnset, fmt.Errorf("%d-bit samples in %d bytes are not supported (want 16, 24 or 32 bits)", h.Bits, h.Container)
}

func openFile(path string, s Stream, c Config, o *options, stop <-chan struct{}) (*fileDev, error) {
	d := &fileDev{stream: s, realtime: o.fileRealtime, clock: o.clock, stop: stop, io: make(chan struct{}, 1)}
	// Made once here, so that pacing does not allocate a closure per period.
	d.readTarget = func(frames int64) int64 { return frames + d.want }
	d.writeTarget = func(frames int64) int64 { return frames + d.want - int64(d.par.BufferFrames) }
	if s == Capture {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		r, err := wav.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		h := r.Header()
		format, err := FormatFromWAV(h)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		d.f, d.r = f, r
		d.par = Params{Format: format, Channels: h.Channels, Rate: h.Rate}
	} else {
		format := c.Format
		if format == FormatUnset {
			format = S16LE
		}
		f, err := os.Create(path)
		if err != nil {
			return nil, err
		}
		w, err := wav.NewWriter(f, wav.Header{Channels: c.Channels, Rate: c.Rate, Bits: format.Bits(), Container: format.BytesPerSample()})
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		d.f, d.w = f, w
		d.par = Params{Format: format, Channels: c.Channels, Rate: c.Rate}
	}
	d.par.PeriodFrames = max(1, d.par.Rate*c.PeriodMs/1000)
	d.par.BufferFrames = max(2*d.par.PeriodFrames, d.par.Rate*c.BufferMs/1000)
	if s == Playback {
		d.zeros = make([]byte, max(d.par.PeriodFrames, 1024)*d.par.FrameBytes())
	}
	return d, nil
}

func (d *fileDev) params() Params { return d.par }

// elapsedLocked is the number of frames the imaginary sound card has clocked since start.
func (d *fileDev) elapsedLocked() int64 {
	if d.start.IsZero() {
		return 0
	}
	return int64(d.clock.Now().Sub(d.start)) * int64(d.par.Rate) / int64(time.Second)
}

// waitUntil sleeps until the card has clocked target(frames transferred) frames.
func (d *fileDev) waitUntil(target func(frames int64) int64) error {
	for {
		d.mu.Lock()
		ahead := target(d.frames) - d.elapsedLocked()
		d.mu.Unlock()
		if ahead <= 0 {
			return nil
		}
		if !d.clock.Sleep(time.Duration(ahead)*time.Second/time.Duration(d.par.Rate), d.stop) {
			return ErrClosed
		}
	}
}

func (d *fileDev) read(buf []byte, frames int) (int, error) {
	d.mu.Lock()
	if d.start.IsZero() {
		d.start = d.clock.Now()
	}
	d.mu.Unlock()
	if d.realtime {
		d.want = int64(frames)
		if err := d.waitUntil(d.readTarget); err != nil {
			return 0, err
		}
	}
	if !d.acquire() {
		return 0, ErrClosed
	}
	defer d.release()
	if d.eof {
		return 0, io.EOF
	}
	fb := d.par.FrameBytes()
	n, err := io.ReadFull(d.r, buf[:frames*fb])
	got := n / fb
	d.mu.Lock()
	d.frames += int64(got)
	d.mu.Unlock()
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		d.eof = true
		if got == 0 {
			return 0, io.EOF
		}
		return got, nil
	case err != nil:
		if d.closing() {
			return got, ErrClosed
		}
		return got, err
	}
	return got, nil
}

// acquire takes the I/O token, or reports false once the device is closed.
func (d *fileDev) acquire() bool {
	select {
	case <-d.stop:
		return false
	default:
	}
	select {
	case d.io <- struct{}{}:
		return true
	case <-d.stop:
		return false
	}
}

func (d *fileDev) release() { <-d.io }

func (d *fileDev) closing() bool {
	select {
	case <-d.stop:
		return true
	default:
		return false
	}
}

func (d *fileDev) write(buf []byte, frames int) (int, error) {
	if d.realtime {
		// Block while the imaginary buffer is full.
		d.want = int64(frames)
		if err := d.waitUntil(d.writeTarget); err != nil {
			return 0, err
		}
	}
	d.mu.Lock()
	if d.start.IsZero() {
		d.start = d.clock.Now()
	}
	var gap int64
	if d.realtime {
		// The card ran dry and, like a sound card that fills silence, played silence:
		// the file gets it, so that it keeps the time line of what was heard.
		gap = max(0, d.elapsedLocked()-d.frames)
	}
	d.mu.Unlock()
	if !d.acquire() {
		return 0, ErrClosed
	}
	fb := d.par.FrameBytes()
	var n int
	err := d.writeSilence(gap)
	if err == nil {
		n, err = d.w.Write(buf[:frames*fb])
	}
	d.release()
	d.mu.Lock()
	d.frames += gap + int64(n/fb)
	d.mu.Unlock()
	if err != nil && d.closing() {
		err = ErrClosed
	}
	return n / fb, err
}

// writeSilence writes frames of silence; the caller holds the I/O token.
func (d *fileDev) writeSilence(frames int64) error {
	fb := int64(d.par.FrameBytes())
	for frames > 0 {
		k := min(frames, int64(len(d.zeros))/fb)
		if _, err := d.w.Write(d.zeros[:k*fb]); err != nil {
			return err
		}
		frames -= k
	}
	return nil
}

// fillsSilence: a file speaker's imaginary card plays silence when it runs dry (write
// puts it in the file), so the daemon need not write any.
func (d *fileDev) fillsSilence() bool { return d.stream == Playback }

// catchUp has nothing to skip: write fills the silence the card played in the meantime.
func (d *fileDev) catchUp() (int, error) { return d.delay() }

func (d *fileDev) delay() (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.delayLocked(), nil
}

func (d *fileDev) delayLocked() int {
	if !d.realtime || d.stream == Capture {
		return 0
	}
	return int(max(0, d.frames-d.elapsedLocked()))
}

func (d *fileDev) status() (Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delay := d.delayLocked()
	st := Status{State: "RUNNING", Delay: delay}
	if d.start.IsZero() {
		st.State = "PREPARED"
	}
	if d.stream == Playback {
		st.Avail = d.par.BufferFrames - delay
	} else if d.realtime {
		st.Avail = int(max(0, d.elapsedLocked()-d.frames))
	}
	return st, nil
}

func (d *fileDev) drop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.stream == Playback && d.realtime && !d.start.IsZero():
		// What was written stays in the file; the queue is considered gone, and the card
		// keeps its clock, so that the silence until the next write is in the file too.
		d.frames = min(d.frames, d.elapsedLocked())
	case d.stream == Playback:
		d.start, d.frames = time.Time{}, 0
	}
	return nil
}

func (d *fileDev) drain() error {
	if d.stream == Playback && d.realtime {
		if err := d.waitUntil(func(frames int64) int64 { return frames }); err != nil {
			return err
		}
	}
	return d.drop()
}

func (d *fileDev) pause(bool) error { return nil }

// closeGrace is how long close waits for a transfer in progress before it closes the file
// under it: long enough for any disk, short enough for a prompt shutdown.
const closeGrace = 200 * time.Millisecond

// close is called after stop is closed. A transfer blocked on a FIFO (a microphone
// nobody writes, a speaker nobody reads) would hold the file forever: after a grace
// period the file is closed under it, which unblocks it, and a playback file's header
// is then left as it was.
func (d *fileDev) close() error {
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case d.io <- struct{}{}:
	case <-t.C:
		err := d.f.Close()
		d.io <- struct{}{}
		return err
	}
	defer d.release()
	var errs []error
	if d.w != nil {
		errs = append(errs, d.w.Close())
	}
	errs = append(errs, d.f.Close())
	return errors.Join(errs...)
}
