package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sync"

	"github.com/voiced-project/voiced/internal/alsa"
	"github.com/voiced-project/voiced/internal/wav"
)

func init() {
	register(command{name: "record", usage: "--device D --seconds N [--rate R] [--channels C] OUT.wav: record from a microphone", run: runRecord})
}

func runRecord(ctx context.Context, env *cmdEnv, args []string) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	device := fs.String("device", "default", "capture device: hw:CARD=Name,DEV=N, hw:N,M, plughw:..., default or file:PATH.wav")
	seconds := fs.Float64("seconds", 5, "how long to record")
	rate := fs.Int("rate", 16000, "wanted rate in Hz; the nearest the device offers is used")
	channels := fs.Int("channels", 1, "wanted channel count")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: record wants one output file, OUT.wav", errUsage)
	}
	if *seconds <= 0 || *seconds > 3600 {
		return fmt.Errorf("%w: --seconds %v out of range (0, 3600]", errUsage, *seconds)
	}
	out := fs.Arg(0)

	pcm, err := alsa.Open(*device, alsa.Capture, alsa.Config{Rate: *rate, Channels: *channels}, alsa.WithLogger(env.log))
	if err != nil {
		return err
	}
	// Closing the PCM is what unblocks a read on Ctrl-C.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			pcm.Close()
		case <-stop:
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		pcm.Close()
	}()

	par := pcm.Params()
	if par.Rate != *rate || par.Channels != *channels {
		fmt.Fprintf(env.stderr, "note: the device gave %d Hz %d ch (asked %d Hz %d ch); recording what it gives\n", par.Rate, par.Channels, *rate, *channels)
	}
	fmt.Fprintf(env.stderr, "recording %s (%v) to %s for %v s\n", *device, par, out, *seconds)

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w, err := wav.NewWriter(f, wav.Header{Channels: par.Channels, Rate: par.Rate, Bits: par.Format.Bits(), Container: par.Format.BytesPerSample()})
	if err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", out, err)
	}
	want := int(*seconds * float64(par.Rate))
	buf := make([]byte, par.PeriodFrames*par.FrameBytes())
	samples := make([]int16, par.PeriodFrames*par.Channels)
	var peak int
	var sumSq float64
	got := 0
	var readErr error
	for got < want {
		n, err := pcm.ReadFrames(buf[:min(par.PeriodFrames, want-got)*par.FrameBytes()])
		if n > 0 {
			if _, err := w.Write(buf[:n*par.FrameBytes()]); err != nil {
				readErr = fmt.Errorf("write %s: %w", out, err)
				break
			}
			k := par.Format.ToInt16(samples, buf[:n*par.FrameBytes()])
			for _, v := range samples[:k] {
				a := int(v)
				peak = max(peak, a, -a)
				sumSq += float64(a) * float64(a)
			}
			got += n
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				readErr = err
			}
			break
		}
	}
	if err := errors.Join(w.Close(), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	rms := 0.0
	if got > 0 {
		rms = math.Sqrt(sumSq / float64(got*par.Channels))
	}
	fmt.Fprintf(env.stdout, "recorded %d frames (%.2f s) to %s; peak %s, rms %s; xruns %d\n",
		got, float64(got)/float64(par.Rate), out, dbfs(float64(peak)), dbfs(rms), pcm.Xruns())
	if peak == 0 && got > 0 {
		fmt.Fprintln(env.stdout, "warning: the recording is digital silence: check the mixer (capture switch, gain) and the device")
	}
	return readErr
}

// dbfs formats a 16-bit level relative to full scale.
func dbfs(level float64) string {
	if level <= 0 {
		return "-inf dBFS"
	}
	return fmt.Sprintf("%.1f dBFS", 20*math.Log10(level/32768))
}
