package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/voiced-project/voiced/internal/alsa"
	"github.com/voiced-project/voiced/internal/wav"
)

// runPull writes a simulated pull (pull-up or pull-down) to a gpio-sim input line and
// appends "MS VALUE" to the log, the time taken just before the write.
func runPull(ctx context.Context, args []string) error {
	fs := newFlags("pull")
	sysfs := fs.String("sysfs", "", "gpio-sim chip directory (VOICED_HW_GPIO_SYSFS)")
	line := fs.Int("line", 17, "line offset")
	value := fs.String("value", "pull-down", "pull-up or pull-down")
	logPath := fs.String("log", "", "append the time of the change here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := filepath.Join(*sysfs, fmt.Sprintf("sim_gpio%d", *line), "pull")
	t := nowMs()
	if err := os.WriteFile(path, []byte(*value), 0); err != nil {
		return err
	}
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		fmt.Fprintf(f, "%d %s\n", t, *value)
		return f.Close()
	}
	return nil
}

// runCapture records a capture device to a WAV and, beside it (OUT.times), the wall-clock
// time of the first frame of each read: "MS FRAME_INDEX FRAMES". Overruns drop audio, so
// sample positions alone do not tell the time; these lines do.
func runCapture(ctx context.Context, args []string) error {
	fs := newFlags("capture")
	device := fs.String("device", "hw:Loopback,1,1", "capture device")
	rate := fs.Int("rate", 24000, "rate in Hz")
	secs := fs.Float64("seconds", 10, "how long to record (SIGTERM stops it sooner)")
	out := fs.String("out", "reply.wav", "output WAV")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pcm, err := alsa.Open(*device, alsa.Capture, alsa.Config{Rate: *rate, Channels: 1, Format: alsa.S16LE, BufferMs: 2000})
	if err != nil {
		return err
	}
	ctx, cancel := withSeconds(ctx, *secs)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		// Closing the PCM unblocks a read when time is up.
		select {
		case <-ctx.Done():
			pcm.Close()
		case <-stopped:
		}
	}()
	defer func() { close(stopped); pcm.Close() }()
	par := pcm.Params()
	if par.Rate != *rate || par.Channels != 1 {
		return fmt.Errorf("%s gave %v, want %d Hz mono", *device, par, *rate)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w, err := wav.NewWriter(f, wav.Header{Channels: 1, Rate: par.Rate, Bits: 16, Container: 2})
	if err != nil {
		f.Close()
		return err
	}
	tf, err := os.Create(*out + ".times")
	if err != nil {
		f.Close()
		return err
	}
	tw := bufio.NewWriter(tf)
	buf := make([]byte, par.PeriodFrames*par.FrameBytes())
	total := 0
	var readErr error
	for ctx.Err() == nil {
		n, err := pcm.ReadFrames(buf)
		now := time.Now()
		if n > 0 {
			// The frames just read, and Delay more behind them, were all captured by now:
			// the first of them was captured (n + delay) / rate ago.
			d, derr := pcm.Delay()
			if derr != nil {
				d = 0
			}
			first := now.Add(-time.Duration(float64(n+d) / float64(par.Rate) * float64(time.Second)))
			fmt.Fprintf(tw, "%d %d %d\n", first.UnixMilli(), total, n)
			if _, err := w.Write(buf[:n*par.FrameBytes()]); err != nil {
				readErr = err
				break
			}
			total += n
		}
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
	}
	fmt.Fprintf(os.Stderr, "captured %d frames (%.2f s) from %s; xruns %d\n", total, float64(total)/float64(par.Rate), *device, pcm.Xruns())
	return errors.Join(readErr, w.Close(), f.Close(), tw.Flush(), tf.Close())
}

// runPlay plays a 16-bit mono or stereo WAV on a playback device, logging "MS start" and
// "MS end" so a scenario knows when the question was spoken.
func runPlay(ctx context.Context, args []string) error {
	fs := newFlags("play")
	device := fs.String("device", "hw:Loopback,0,0", "playback device")
	logPath := fs.String("log", "", "append start and end times here")
	lead := fs.Duration("lead", 0, "silence played before the file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("play wants one WAV file")
	}
	pcmIn, rate, err := readWAV(fs.Arg(0))
	if err != nil {
		return err
	}
	pcm, err := alsa.Open(*device, alsa.Playback, alsa.Config{Rate: rate, Channels: 1, Format: alsa.S16LE, BufferMs: 2000})
	if err != nil {
		return err
	}
	defer pcm.Close()
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			pcm.Close()
		case <-stopped:
		}
	}()
	logf := func(what string) {
		if *logPath == "" {
			return
		}
		if f, err := os.OpenFile(*logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, "%d %s\n", nowMs(), what)
			f.Close()
		}
	}
	samples := append(make([]int16, int(lead.Seconds()*float64(rate))), pcmIn...)
	// A little silence after the speech lets the last period out before the drain.
	samples = append(samples, make([]int16, rate/5)...)
	par := pcm.Params()
	buf := make([]byte, 0, par.PeriodFrames*2)
	logf("start")
	for i := 0; i < len(samples); i += par.PeriodFrames {
		buf = buf[:0]
		for _, s := range samples[i:min(i+par.PeriodFrames, len(samples))] {
			buf = binary.LittleEndian.AppendUint16(buf, uint16(s))
		}
		if _, err := pcm.WriteFrames(buf); err != nil {
			return err
		}
	}
	if err := pcm.Drain(); err != nil {
		return err
	}
	logf("end")
	fmt.Fprintf(os.Stderr, "played %s (%.2f s) on %s; xruns %d\n", fs.Arg(0), float64(len(samples))/float64(rate), *device, pcm.Xruns())
	return nil
}

// readWAV reads a 16-bit PCM WAV, mixing channels to mono.
func readWAV(path string) ([]int16, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	r, err := wav.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	h := r.Header()
	if h.Container != 2 {
		return nil, 0, fmt.Errorf("%s: %d-byte samples, want 16-bit", path, h.Container)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]int16, 0, len(b)/h.FrameBytes())
	for i := 0; i+h.FrameBytes() <= len(b); i += h.FrameBytes() {
		sum := 0
		for c := 0; c < h.Channels; c++ {
			sum += int(int16(binary.LittleEndian.Uint16(b[i+2*c:])))
		}
		out = append(out, int16(sum/h.Channels))
	}
	return out, h.Rate, nil
}

// envelope is the RMS level in 10 ms blocks, whatever the rate.
func envelope(pcm []int16, rate int) []float64 {
	step := rate / 100
	env := make([]float64, 0, len(pcm)/step)
	for i := 0; i+step <= len(pcm); i += step {
		var sum float64
		for _, s := range pcm[i : i+step] {
			sum += float64(s) * float64(s)
		}
		env = append(env, math.Sqrt(sum/float64(step)))
	}
	return env
}

// trimQuiet cuts the quiet blocks at both ends of an envelope.
func trimQuiet(env []float64, level float64) []float64 {
	i, j := 0, len(env)
	for i < j && env[i] < level {
		i++
	}
	for j > i && env[j-1] < level {
		j--
	}
	return env[i:j]
}

// dropQuiet removes every quiet block: silence the emulated guest inserted (underruns,
// overruns) and the speech's own pauses alike, so both envelopes compare as speech only.
func dropQuiet(env []float64, level float64) []float64 {
	out := make([]float64, 0, len(env))
	for _, v := range env {
		if v >= level {
			out = append(out, v)
		}
	}
	return out
}

// correlation slides w over g and returns the best normalised correlation and its lag.
func correlation(g, w []float64) (best float64, lag int) {
	best = -1
	for l := 0; l+len(w) <= len(g); l++ {
		var mg, mw float64
		for i := range w {
			mg += g[l+i]
			mw += w[i]
		}
		mg /= float64(len(w))
		mw /= float64(len(w))
		var sgw, sgg, sww float64
		for i := range w {
			a, b := g[l+i]-mg, w[i]-mw
			sgw += a * b
			sgg += a * a
			sww += b * b
		}
		if sgg > 0 && sww > 0 {
			if c := sgw / math.Sqrt(sgg*sww); c > best {
				best, lag = c, l
			}
		}
	}
	return best, lag
}

// quiet is the level (16-bit RMS) below which a 10 ms block counts as silence: about
// -50 dBFS, far under speech and far over the loopback's digital silence.
const quiet = 100

// runCorrelate compares the loudness envelopes of two WAVs (any rates): it passes when
// the reply holds the question's speech, whatever was inserted around and inside it.
func runCorrelate(ctx context.Context, args []string) error {
	fs := newFlags("correlate")
	got := fs.String("got", "reply.wav", "what came out")
	want := fs.String("want", "/payload/question.wav", "what was said")
	minC := fs.Float64("min", 0.8, "lowest correlation that passes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	g, gr, err := readWAV(*got)
	if err != nil {
		return err
	}
	w, wr, err := readWAV(*want)
	if err != nil {
		return err
	}
	ge, we := envelope(g, gr), envelope(w, wr)
	speech := len(dropQuiet(ge, quiet))
	ws := dropQuiet(trimQuiet(we, quiet), quiet)
	gs := dropQuiet(ge, quiet)
	fmt.Printf("%s: %.2f s, %.2f s of it above -50 dBFS; %s: %.2f s of speech\n", *got, float64(len(g))/float64(gr), float64(speech)/100, *want, float64(len(ws))/100)
	if len(ws) == 0 {
		return fmt.Errorf("%s has no speech", *want)
	}
	if len(gs) < len(ws) {
		return fmt.Errorf("%w: %s has %.2f s of sound, less than the %.2f s of speech in %s", errCheck, *got, float64(len(gs))/100, float64(len(ws))/100, *want)
	}
	c, lag := correlation(gs, ws)
	fmt.Printf("envelope correlation %.3f at %.2f s into the reply's sound (pass: >= %.2f)\n", c, float64(lag)/100, *minC)
	if c < *minC {
		return fmt.Errorf("%w: correlation %.3f < %.2f: the reply is not the question spoken back", errCheck, c, *minC)
	}
	return nil
}

// block is a 10 ms piece of a timed capture: its wall-clock start and its level.
type block struct {
	ms    int64
	level float64
}

// timedBlocks cuts a capture into 10 ms blocks stamped from its .times file.
func timedBlocks(pcm []int16, rate int, times [][3]int64) []block {
	step := rate / 100
	var out []block
	for _, t := range times {
		start, first, n := t[0], int(t[1]), int(t[2])
		for off := 0; off+step <= n && first+off+step <= len(pcm); off += step {
			env := envelope(pcm[first+off:first+off+step], rate)
			out = append(out, block{start + int64(off*1000/rate), env[0]})
		}
	}
	return out
}

func readTimes(path string) ([][3]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][3]int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) != 3 {
			return nil, fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		var t [3]int64
		for i := range t {
			v, err := strconv.ParseInt(fl[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: bad line %q", path, sc.Text())
			}
			t[i] = v
		}
		out = append(out, t)
	}
	return out, sc.Err()
}

// readFirstTime is the time on the first line "MS ..." of a log.
func readFirstTime(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("%s is empty", path)
	}
	return strconv.ParseInt(f[0], 10, 64)
}

// quietAfter finds when the audio went quiet for good after at: the start of the first
// quiet stretch of at least hold that begins at or after the last sound before at. It
// also reports whether there was sound in the lead before at.
func quietAfter(blocks []block, at, lead, hold int64) (silentFrom int64, soundBefore, found bool) {
	for _, b := range blocks {
		if b.ms >= at-lead && b.ms < at && b.level >= quiet {
			soundBefore = true
		}
	}
	var runStart int64 = -1
	for _, b := range blocks {
		if b.ms+10 <= at {
			continue
		}
		if b.level >= quiet {
			runStart = -1
			continue
		}
		if runStart < 0 {
			runStart = max(b.ms, at)
		}
		if b.ms+10-runStart >= hold {
			return runStart, soundBefore, true
		}
	}
	return 0, soundBefore, false
}

// runSilence measures how soon after the event in --at (first line's time) the captured
// audio went quiet and stayed quiet, and fails over --within or when there was no
// sound just before it (nothing to silence).
func runSilence(ctx context.Context, args []string) error {
	fs := newFlags("silence")
	wavPath := fs.String("wav", "reply.wav", "capture from vmprobe capture (with its .times)")
	atPath := fs.String("at", "press.log", "log whose first line's time is the event")
	within := fs.Duration("within", 100*time.Millisecond, "longest time to silence")
	hold := fs.Duration("hold", 800*time.Millisecond, "how long quiet must last to count")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pcm, rate, err := readWAV(*wavPath)
	if err != nil {
		return err
	}
	times, err := readTimes(*wavPath + ".times")
	if err != nil {
		return err
	}
	at, err := readFirstTime(*atPath)
	if err != nil {
		return err
	}
	blocks := timedBlocks(pcm, rate, times)
	if len(blocks) == 0 || blocks[len(blocks)-1].ms < at+hold.Milliseconds() {
		return fmt.Errorf("%w: the capture ends before %v after the event", errCheck, *hold)
	}
	// The level around the event, for the log.
	var b strings.Builder
	for _, bl := range blocks {
		if bl.ms >= at-200 && bl.ms < at+300 {
			fmt.Fprintf(&b, " %+d:%.0f", bl.ms-at, bl.level)
		}
	}
	fmt.Printf("levels (ms from the event: rms):%s\n", b.String())
	from, sound, ok := quietAfter(blocks, at, 300, hold.Milliseconds())
	if !sound {
		return fmt.Errorf("%w: no sound in the 300 ms before the event: nothing was playing to silence", errCheck)
	}
	if !ok {
		return fmt.Errorf("%w: the audio never stayed quiet for %v after the event", errCheck, *hold)
	}
	took := time.Duration(from-at) * time.Millisecond
	fmt.Printf("quiet %v after the event (pass: within %v)\n", took, *within)
	if took > *within {
		return fmt.Errorf("%w: silenced %v after the event, want within %v", errCheck, took, *within)
	}
	return nil
}
