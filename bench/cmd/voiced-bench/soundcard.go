package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/voiced-project/voiced/internal/wav"
)

// stateTimeout bounds every wait for the client's state.
const stateTimeout = 30 * time.Second

// avClock is the sound card of the conversation: each tick moves the microphone and the
// speaker on by one 20 ms period, as one crystal clocks both directions of a real card,
// Speedup times faster than real time. The microphone hears queued speech, else a quiet
// room; the speaker is read if the client has written it. The FIFOs are made small so
// that neither side can run far ahead of the other.
type avClock struct {
	mic       *os.File
	spk       int // non-blocking read end of the speaker FIFO
	rng       *rand.Rand
	queue     []int16 // speech still to say
	micFrames int64
	spkBytes  int64
	pcm       []int16
	buf, sbuf []byte
	lastRead  []byte        // what the last tick read from the speaker
	interval  time.Duration // wall time per tick when paced; 0 runs free
	next      time.Time     // when the next paced tick is due
}

func newAVClock(micPath, spkPath string, speedup float64) (*avClock, error) {
	// Read-write, so that opening never blocks, whether or not the client has it open.
	mic, err := os.OpenFile(micPath, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	c := &avClock{mic: mic, spk: -1, rng: rand.New(rand.NewPCG(1, 2)), pcm: make([]int16, periodFrames), sbuf: make([]byte, playPeriodB)}
	if speedup > 0 {
		c.interval = time.Duration(float64(20*time.Millisecond) / speedup)
	}
	fail := func(err error) (*avClock, error) {
		c.close()
		return nil, err
	}
	if err := setPipeSize(mic.Fd(), 4096); err != nil {
		return fail(fmt.Errorf("size %s: %w", micPath, err))
	}
	if _, err := wav.NewWriter(mic, wav.Header{Channels: 1, Rate: micRate, Bits: 16, Container: 2}); err != nil {
		return fail(err)
	}
	if c.spk, err = openNonblockRead(spkPath); err != nil {
		return fail(fmt.Errorf("open %s: %w", spkPath, err))
	}
	if err := setPipeSize(uintptr(c.spk), 4096); err != nil {
		return fail(fmt.Errorf("size %s: %w", spkPath, err))
	}
	return c, nil
}

func (c *avClock) close() {
	c.mic.Close()
	if c.spk >= 0 {
		closeFD(c.spk)
	}
}

// say queues speech for the microphone.
func (c *avClock) say(pcm []int16) { c.queue = append(c.queue, pcm...) }

// speaking reports whether queued speech is left.
func (c *avClock) speaking() bool { return len(c.queue) > 0 }

// frames is the periods that went by, microphone and speaker.
func (c *avClock) frames() float64 {
	return float64(c.micFrames)/periodFrames + float64(c.spkBytes)/playPeriodB
}

// tick moves the clock on by one period.
func (c *avClock) tick() error {
	n := copy(c.pcm, c.queue)
	c.queue = c.queue[n:]
	for i := n; i < len(c.pcm); i++ {
		// A quiet room: noise around -60 dBFS, never digital zero.
		c.pcm[i] = int16(c.rng.NormFloat64() * 30)
	}
	c.buf = c.buf[:0]
	for _, v := range c.pcm {
		c.buf = binary.LittleEndian.AppendUint16(c.buf, uint16(v))
	}
	if _, err := c.mic.Write(c.buf); err != nil {
		return fmt.Errorf("write microphone: %w", err)
	}
	c.micFrames += int64(len(c.pcm))
	got, err := readNonblock(c.spk, c.sbuf)
	if err != nil {
		return fmt.Errorf("read speaker: %w", err)
	}
	c.spkBytes += int64(got)
	c.lastRead = c.sbuf[:got]
	return nil
}

// silent reports whether the card played silence in the last tick: what it read, if
// anything, was digital silence, and like a sound card that fills silence it played
// silence for whatever was not there to read.
func (c *avClock) silent() bool {
	for _, b := range c.lastRead {
		if b != 0 {
			return false
		}
	}
	return true
}

// step waits for the next tick's time, then ticks. A clock that fell behind (the client
// was slow to read) starts again from now rather than rushing to catch up.
func (c *avClock) step() error {
	if c.interval > 0 {
		now := time.Now()
		switch {
		case c.next.IsZero() || now.Sub(c.next) > 100*time.Millisecond:
			c.next = now
		case c.next.After(now):
			time.Sleep(c.next.Sub(now))
		}
		c.next = c.next.Add(c.interval)
	}
	return c.tick()
}

// run steps for d of audio.
func (c *avClock) run(d time.Duration) error {
	for range int(d / (20 * time.Millisecond)) {
		if err := c.step(); err != nil {
			return err
		}
	}
	return nil
}

// waitState ticks until the client reports want; it returns every state seen on the way.
func (c *avClock) waitState(states <-chan string, want string) (map[string]bool, error) {
	seen := map[string]bool{}
	deadline := time.Now().Add(stateTimeout)
	for time.Now().Before(deadline) {
		select {
		case st, ok := <-states:
			if !ok {
				return seen, errors.New("event stream ended")
			}
			seen[st] = true
			if st == want {
				return seen, nil
			}
		default:
			if err := c.step(); err != nil {
				return seen, err
			}
		}
	}
	return seen, fmt.Errorf("state %s not reached within %v (seen %v)", want, stateTimeout, seen)
}
