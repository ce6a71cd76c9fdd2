package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/voiced-project/voiced/internal/alsa"
	"github.com/voiced-project/voiced/internal/wav"
)

func init() {
	register(command{name: "play", usage: "--device D IN.wav: play a WAV file on a speaker", run: runPlay})
}

func runPlay(ctx context.Context, env *cmdEnv, args []string) error {
	fs := flag.NewFlagSet("play", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	device := fs.String("device", "default", "playback device: hw:CARD=Name,DEV=N, hw:N,M, plughw:..., default or file:PATH.wav")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: play wants one input file, IN.wav", errUsage)
	}
	in := fs.Arg(0)
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := wav.NewReader(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	h := r.Header()
	src, err := wavFormat(h)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}

	pcm, err := alsa.Open(*device, alsa.Playback, alsa.Config{Rate: h.Rate, Channels: h.Channels, Format: src}, alsa.WithLogger(env.log))
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			pcm.Close() // unblocks a write
		case <-stop:
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		pcm.Close()
	}()
	par := pcm.Params()
	fmt.Fprintf(env.stderr, "playing %s (%s %d ch %d Hz) on %s (%v)\n", in, src, h.Channels, h.Rate, *device, par)

	conv := newPlayConverter(src, h.Channels, h.Rate, par)
	inBuf := make([]byte, par.PeriodFrames*h.FrameBytes())
	played := 0
	for {
		n, rerr := io.ReadFull(r, inBuf)
		if frames := n / h.FrameBytes(); frames > 0 {
			out := conv.convert(inBuf[:frames*h.FrameBytes()])
			w, err := pcm.WriteFrames(out)
			played += w
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("read %s: %w", in, rerr)
		}
	}
	if err := pcm.Drain(); err != nil && ctx.Err() == nil {
		return err
	}
	fmt.Fprintf(env.stdout, "played %d frames (%.2f s); xruns %d\n", played, float64(played)/float64(par.Rate), pcm.Xruns())
	return ctx.Err()
}

func wavFormat(h wav.Header) (alsa.Format, error) {
	switch {
	case h.Bits == 16 && h.Container == 2:
		return alsa.S16LE, nil
	case h.Bits == 24 && h.Container == 3:
		return alsa.S24_3LE, nil
	case h.Bits == 24 && h.Container == 4:
		return alsa.S24LE, nil
	case h.Bits == 32 && h.Container == 4:
		return alsa.S32LE, nil
	}
	return alsa.FormatUnset, fmt.Errorf("%d-bit samples in %d bytes are not supported (want 16, 24 or 32 bits)", h.Bits, h.Container)
}

// playConverter turns file frames into device frames when the device did not grant the
// file's format, channel count or rate: 16-bit intermediate, channels duplicated or
// averaged, rate by linear interpolation (good enough to check a speaker).
type playConverter struct {
	src       alsa.Format
	srcCh     int
	srcRate   int
	dst       alsa.Params
	same      bool
	samples   []int16 // decoded file samples
	mapped    []int16 // at the device channel count
	resampled []int16
	out       []byte
	pos       float64 // resampler position in input frames, relative to the block start
	prev      []int16 // last input frame of the previous block
	havePrev  bool
}

func newPlayConverter(src alsa.Format, ch, rate int, dst alsa.Params) *playConverter {
	return &playConverter{
		src: src, srcCh: ch, srcRate: rate, dst: dst,
		same: src == dst.Format && ch == dst.Channels && rate == dst.Rate,
		prev: make([]int16, dst.Channels),
	}
}

func (c *playConverter) convert(in []byte) []byte {
	if c.same {
		return in
	}
	frames := len(in) / (c.src.BytesPerSample() * c.srcCh)
	c.samples = grow(c.samples, frames*c.srcCh)
	c.src.ToInt16(c.samples, in)
	c.mapped = grow(c.mapped, frames*c.dst.Channels)
	for f := range frames {
		s := c.samples[f*c.srcCh : (f+1)*c.srcCh]
		d := c.mapped[f*c.dst.Channels : (f+1)*c.dst.Channels]
		switch {
		case c.srcCh == c.dst.Channels:
			copy(d, s)
		case c.srcCh == 1:
			for i := range d {
				d[i] = s[0]
			}
		case c.dst.Channels == 1:
			sum := 0
			for _, v := range s {
				sum += int(v)
			}
			d[0] = int16(sum / len(s))
		default:
			for i := range d {
				d[i] = s[min(i, len(s)-1)]
			}
		}
	}
	frameData := c.mapped
	if c.srcRate != c.dst.Rate {
		frameData = c.resample(frames)
	}
	outFrames := len(frameData) / c.dst.Channels
	c.out = growBytes(c.out, outFrames*c.dst.FrameBytes())
	c.dst.Format.FromInt16(c.out, frameData)
	return c.out
}

// resample interpolates c.mapped (frames frames) to the device rate, carrying the last
// frame and the fractional position across blocks.
func (c *playConverter) resample(frames int) []int16 {
	ch := c.dst.Channels
	step := float64(c.srcRate) / float64(c.dst.Rate)
	c.resampled = c.resampled[:0]
	at := func(i int, k int) float64 {
		if i < 0 {
			return float64(c.prev[k])
		}
		return float64(c.mapped[i*ch+k])
	}
	start := -1.0
	if !c.havePrev {
		start = 0
	}
	if c.pos < start {
		c.pos = start
	}
	for ; c.pos <= float64(frames-1); c.pos += step {
		i := int(c.pos+1) - 1 // floor, also for -1 <= pos < 0
		frac := c.pos - float64(i)
		for k := range ch {
			a, b := at(i, k), at(min(i+1, frames-1), k)
			c.resampled = append(c.resampled, int16(a+(b-a)*frac))
		}
	}
	c.pos -= float64(frames)
	copy(c.prev, c.mapped[(frames-1)*ch:frames*ch])
	c.havePrev = true
	return c.resampled
}

func grow(s []int16, n int) []int16 {
	if cap(s) < n {
		return make([]int16, n)
	}
	return s[:n]
}

func growBytes(s []byte, n int) []byte {
	if cap(s) < n {
		return make([]byte, n)
	}
	return s[:n]
}
