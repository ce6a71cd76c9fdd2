package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/voiced-project/voiced/internal/alsa"
	"github.com/voiced-project/voiced/internal/daemon"
	"github.com/voiced-project/voiced/internal/dsp"
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
	src, err := alsa.FormatFromWAV(h)
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

	conv, err := newPlayConverter(src, h.Channels, h.Rate, par)
	if err != nil {
		return err
	}
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

// playConverter turns file frames into device frames when the device did not grant the
// file's format, channel count or rate, with the daemon's own conversion and band-limited
// resampler: the file is mixed to mono and played on every channel (a file the device
// takes as it is plays unchanged, stereo included).
type playConverter struct {
	same     bool
	src, dst dsp.Format
	mono     []int16
	res      *dsp.Resampler
	out      []int16
	raw      []byte
}

func newPlayConverter(src alsa.Format, ch, rate int, dst alsa.Params) (*playConverter, error) {
	c := &playConverter{same: src == dst.Format && ch == dst.Channels && rate == dst.Rate}
	if c.same {
		return c, nil
	}
	var err error
	if c.src, err = daemon.PipelineFormat(src, ch, rate); err != nil {
		return nil, err
	}
	if c.dst, err = daemon.PipelineFormat(dst.Format, dst.Channels, dst.Rate); err != nil {
		return nil, err
	}
	c.res, err = dsp.NewResampler(rate, dst.Rate)
	return c, err
}

func (c *playConverter) convert(in []byte) []byte {
	if c.same {
		return in
	}
	frames := len(in) / c.src.FrameBytes()
	c.mono = slices.Grow(c.mono[:0], frames)[:frames]
	n := dsp.DecodeMono(c.mono, in, c.src, dsp.MixChannels)
	c.out = slices.Grow(c.out[:0], c.res.MaxOutput(n))[:c.res.MaxOutput(n)]
	_, made := c.res.Process(c.mono[:n], c.out)
	c.raw = slices.Grow(c.raw[:0], made*c.dst.FrameBytes())[:made*c.dst.FrameBytes()]
	m := dsp.EncodeFrames(c.raw, c.out[:made], c.dst)
	return c.raw[:m*c.dst.FrameBytes()]
}
