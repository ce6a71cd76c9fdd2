package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
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
	pcm, err := alsa.Open(*device, alsa.Capture, alsa.Config{Rate: *rate, Channels: 1, Format: alsa.S16LE, PeriodMs: 50, BufferMs: 2000})
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
	button := fs.String("hold", "", "gpio-sim chip directory: hold the button (pull line --line down) from just before the file plays until its speech has been heard, plus --tail")
	line := fs.Int("line", 17, "the button's line, with --hold")
	tail := fs.Duration("tail", 300*time.Millisecond, "with --hold: release this long after the speech ends")
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
	pcm, err := alsa.Open(*device, alsa.Playback, alsa.Config{Rate: rate, Channels: 1, Format: alsa.S16LE, PeriodMs: 50, BufferMs: 2000})
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
	pull := func(v string) error {
		if *button == "" {
			return nil
		}
		logf(v)
		return os.WriteFile(filepath.Join(*button, fmt.Sprintf("sim_gpio%d", *line), "pull"), []byte(v), 0)
	}
	// The release comes when the end of the speech has been played, not when the file
	// has been written: the device buffer runs ahead of what is heard.
	releaseAt := speechEnd(samples, rate) + int(tail.Seconds()*float64(rate))
	released := *button == ""
	written := 0
	maybeRelease := func() error {
		if released {
			return nil
		}
		d, err := pcm.Delay()
		if err != nil {
			return nil // not started yet: nothing heard
		}
		if written-d >= releaseAt {
			released = true
			return pull("pull-up")
		}
		return nil
	}
	buf := make([]byte, 0, par.PeriodFrames*2)
	if err := pull("pull-down"); err != nil {
		return err
	}
	logf("start")
	for i := 0; i < len(samples); i += par.PeriodFrames {
		buf = buf[:0]
		for _, s := range samples[i:min(i+par.PeriodFrames, len(samples))] {
			buf = binary.LittleEndian.AppendUint16(buf, uint16(s))
		}
		if _, err := pcm.WriteFrames(buf); err != nil {
			return err
		}
		written += len(buf) / 2
		if err := maybeRelease(); err != nil {
			return err
		}
	}
	for !released && ctx.Err() == nil {
		if err := maybeRelease(); err != nil {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := pcm.Drain(); err != nil {
		return err
	}
	logf("end")
	fmt.Fprintf(os.Stderr, "played %s (%.2f s) on %s; xruns %d\n", fs.Arg(0), float64(len(samples))/float64(rate), *device, pcm.Xruns())
	return nil
}

// speechEnd is the sample just after the last 10 ms block louder than quiet.
func speechEnd(pcm []int16, rate int) int {
	env := envelope(pcm, rate)
	for i := len(env) - 1; i >= 0; i-- {
		if env[i] >= quiet {
			return (i + 1) * (rate / 100)
		}
	}
	return 0
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

// runCorrelate checks that the speaker played the parrot reply: the loudness envelope
// of what came out against that of what the server echoed (the turn's audio as voiced
// sent it, from voiced-sim's --record) or of a WAV. Only blocks with sound count, so the
// silence an emulated guest inserts (underruns) or drops (overruns) does not; the
// reference is cut in 0.4 s pieces, and half of them must be found, in order (a piece
// of another utterance is found by chance in about one try of ten).
func runCorrelate(ctx context.Context, args []string) error {
	fs := newFlags("correlate")
	got := fs.String("got", "reply.wav", "what came out")
	want := fs.String("want", "", "what was said, as a WAV")
	record := fs.String("record", "", "what was said, as voiced-sim's --record: the appends of the last committed turn")
	minC := fs.Float64("min", 0.8, "lowest correlation of a piece that counts as found")
	minFound := fs.Float64("found", 0.5, "share of pieces that must be found, in order")
	refSound := fs.Float64("ref-sound", 1, "seconds of sound the reference must have (the microphone heard speech)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	g, gr, err := readWAV(*got)
	if err != nil {
		return err
	}
	var w []int16
	wr := 24000
	switch {
	case *record != "":
		w, err = committedAudio(*record)
	case *want != "":
		w, wr, err = readWAV(*want)
	default:
		err = fmt.Errorf("correlate wants --want or --record")
	}
	if err != nil {
		return err
	}
	gs := dropQuiet(envelope(g, gr), quiet)
	ws := dropQuiet(envelope(w, wr), quiet)
	fmt.Printf("%s: %.2f s, %.2f s of it with sound; the reference: %.2f s of sound\n", *got, float64(len(g))/float64(gr), float64(len(gs))/100, float64(len(ws))/100)
	if len(ws) < piece || float64(len(ws)) < *refSound*100 {
		return fmt.Errorf("%w: the reference has %.2f s of sound, want %.2f s at least", errCheck, float64(len(ws))/100, max(*refSound, float64(piece)/100))
	}
	found, total, detail := pieces(gs, ws, *minC)
	fmt.Printf("pieces of the reference found in order (correlation@offset):%s\n", detail)
	fmt.Printf("%d of %d pieces found (pass: %.0f%%)\n", found, total, *minFound*100)
	if float64(found) < *minFound*float64(total) {
		return fmt.Errorf("%w: %d of %d pieces of the reference found in what came out: it is not the parrot reply", errCheck, found, total)
	}
	return nil
}

// piece is the length of a compared piece of envelope, in 10 ms blocks: long enough
// not to match by chance, short enough that most pieces fall between two glitches.
const piece = 40

// pieces cuts ref into pieces and looks for each in got after the previous one found,
// counting those whose best correlation reaches minC.
func pieces(got, ref []float64, minC float64) (found, total int, detail string) {
	var b strings.Builder
	from := 0
	for i := 0; i+piece <= len(ref); i += piece {
		total++
		if from+piece > len(got) {
			fmt.Fprintf(&b, " -")
			continue
		}
		c, lag := correlation(got[from:], ref[i:i+piece])
		fmt.Fprintf(&b, " %.2f@%d", c, from+lag)
		if c >= minC {
			found++
			from += lag + piece
		}
	}
	return found, total, b.String()
}

// committedAudio is the audio voiced sent in its last committed turn, from voiced-sim's
// record: the input_audio_buffer.append events between the last two commits (or a clear).
func committedAudio(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cur, last []int16
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Type  string `json:"type"`
			Audio string `json:"audio"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		switch ev.Type {
		case "input_audio_buffer.append":
			b, err := base64.StdEncoding.DecodeString(ev.Audio)
			if err != nil {
				return nil, fmt.Errorf("%s: append: %w", path, err)
			}
			for i := 0; i+1 < len(b); i += 2 {
				cur = append(cur, int16(binary.LittleEndian.Uint16(b[i:])))
			}
		case "input_audio_buffer.clear":
			cur = cur[:0]
		case "input_audio_buffer.commit":
			last, cur = cur, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(last) == 0 {
		return nil, fmt.Errorf("%w: %s has no committed turn with audio", errCheck, path)
	}
	return last, nil
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
	lead := fs.Duration("lead", 300*time.Millisecond, "there must have been sound within this long before the event")
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
		if bl.ms >= at-lead.Milliseconds() && bl.ms < at+300 {
			fmt.Fprintf(&b, " %+d:%.0f", bl.ms-at, bl.level)
		}
	}
	fmt.Printf("levels (ms from the event: rms):%s\n", b.String())
	from, sound, ok := quietAfter(blocks, at, lead.Milliseconds(), hold.Milliseconds())
	if !sound {
		return fmt.Errorf("%w: no sound in the %v before the event: nothing was playing to silence", errCheck, *lead)
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
