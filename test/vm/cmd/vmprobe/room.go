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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/aec/echosim"
	"github.com/voiced-project/voiced/internal/alsa"
	"github.com/voiced-project/voiced/internal/echoroom"
	"github.com/voiced-project/voiced/internal/wav"
)

// runRoom plays the room between voiced's speaker and its microphone on the loopback
// card: each period it reads what voiced played (the speaker's other side), hands it to
// an echoroom (a delay, reverberation and a loudspeaker driven into soft clipping) and
// plays what the room's microphone heard into the microphone's other side. A user
// speaks when told: a line "WAV" (at the file's own level) or "WAV DB" (DB above the
// echo's active level so far) written to the --cue file, which the room then removes;
// "MS say WAV GAIN_DB" goes to --log, MS being when the speech's first sample reaches
// voiced. What voiced played is kept in --record (a WAV with .times, as capture writes).
func runRoom(ctx context.Context, args []string) error {
	fs := newFlags("room")
	spkDev := fs.String("speaker", "hw:Loopback,1,1", "capture side of voiced's speaker")
	micDev := fs.String("mic", "hw:Loopback,0,0", "playback side of voiced's microphone")
	spkRate := fs.Int("speaker-rate", 24000, "voiced's playback rate")
	micRate := fs.Int("mic-rate", 16000, "voiced's capture rate")
	cue := fs.String("cue", "cue", "file that tells the user to speak")
	logPath := fs.String("log", "say.log", "when the user spoke")
	record := fs.String("record", "reply.wav", "what voiced played")
	secs := fs.Float64("seconds", 120, "how long to run (SIGTERM stops it sooner)")
	delay := fs.Float64("delay-ms", 30, "the echo's direct path after the cards' own buffering")
	rt60 := fs.Float64("rt60-ms", 100, "reverberation time")
	clip := fs.Float64("clip-db", 3, "loudspeaker drive into its soft clip, dB (0: linear)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	room, err := echoroom.New(echoroom.Config{
		Room:        echosim.Room{DelayMs: *delay, RT60Ms: *rt60, DRRdB: 3, GaindB: -3, ClipDB: *clip, Seed: 27},
		SpeakerRate: *spkRate, MicRate: *micRate,
	})
	if err != nil {
		return err
	}
	spk, err := alsa.Open(*spkDev, alsa.Capture, alsa.Config{Rate: *spkRate, Channels: 1, Format: alsa.S16LE, PeriodMs: 20, BufferMs: 400})
	if err != nil {
		return err
	}
	defer spk.Close()
	mic, err := alsa.Open(*micDev, alsa.Playback, alsa.Config{Rate: *micRate, Channels: 1, Format: alsa.S16LE, PeriodMs: 20, BufferMs: 300})
	if err != nil {
		return err
	}
	defer mic.Close()
	ctx, cancel := withSeconds(ctx, *secs)
	defer cancel()
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		// Closing the PCMs unblocks a transfer when time is up.
		select {
		case <-ctx.Done():
			spk.Close()
			mic.Close()
		case <-stopped:
		}
	}()
	sp, mp := spk.Params(), mic.Params()
	if sp.Rate != *spkRate || mp.Rate != *micRate || sp.Channels != 1 || mp.Channels != 1 {
		return fmt.Errorf("the loopback gave %v and %v, want %d and %d Hz mono", sp, mp, *spkRate, *micRate)
	}
	rf, err := os.Create(*record)
	if err != nil {
		return err
	}
	rw, err := wav.NewWriter(rf, wav.Header{Channels: 1, Rate: sp.Rate, Bits: 16, Container: 2})
	if err != nil {
		rf.Close()
		return err
	}
	tf, err := os.Create(*record + ".times")
	if err != nil {
		rf.Close()
		return err
	}
	tw := bufio.NewWriter(tf)

	spkN, micN := sp.Rate/50, mp.Rate/50
	// The speaker's side is read on its own goroutine: a room paced by its reads
	// stood still after the first reply (the read did not return while voiced's
	// speaker was quiet), and the microphone must go on hearing the room meanwhile. The microphone's
	// side sets the pace: each period takes what the speaker played since (silence if
	// nothing) and writes what the room heard.
	q := &spkQueue{max: 5 * spkN}
	readDone := make(chan error, 1)
	go func() { readDone <- q.fill(ctx, spk, tw, rw) }()
	out := make([]int16, micN)
	outB := make([]byte, micN*2)
	in := make([]int16, spkN)
	// Periods of silence ahead, so that the microphone's side does not run dry while
	// a starved guest makes a period.
	for range 5 {
		if _, err := mic.WriteFrames(outB); err != nil {
			return fmt.Errorf("prime %s: %w", *micDev, err)
		}
	}
	var loopErr error
	for ctx.Err() == nil {
		if err := roomCue(room, *cue, *logPath, mic, mp.Rate); err != nil {
			loopErr = err
			break
		}
		room.Step(in[:q.take(in)], out)
		for i, v := range out {
			binary.LittleEndian.PutUint16(outB[2*i:], uint16(v))
		}
		if _, err := mic.WriteFrames(outB); err != nil {
			if ctx.Err() == nil {
				loopErr = fmt.Errorf("write %s: %w", *micDev, err)
			}
			break
		}
	}
	cancel()
	spk.Close()
	if err := <-readDone; err != nil && loopErr == nil {
		loopErr = fmt.Errorf("read %s: %w", *spkDev, err)
	}
	total := q.total
	fmt.Fprintf(os.Stderr, "room: %d frames (%.1f s) played by voiced; echo %.1f dBFS; xruns %d speaker side, %d microphone side\n",
		total, float64(total)/float64(sp.Rate), room.EchoDBFS(), spk.Xruns(), mic.Xruns())
	return errors.Join(loopErr, rw.Close(), rf.Close(), tw.Flush(), tf.Close())
}

// spkQueue holds what voiced played until the room takes it.
type spkQueue struct {
	max   int        // samples kept at most: an older backlog is dropped
	mu    sync.Mutex // guards following fields
	buf   []int16
	total int // samples read
}

// fill reads the speaker's side until ctx is done, keeping it in rw (with .times
// lines in tw, as capture writes them) and in the queue.
func (q *spkQueue) fill(ctx context.Context, spk *alsa.PCM, tw io.Writer, rw io.Writer) error {
	par := spk.Params()
	b := make([]byte, par.PeriodFrames*2)
	for ctx.Err() == nil {
		n, err := spk.ReadFrames(b)
		now := time.Now()
		if n > 0 {
			d, derr := spk.Delay()
			if derr != nil {
				d = 0
			}
			first := now.Add(-time.Duration(float64(n+d) / float64(par.Rate) * float64(time.Second)))
			q.mu.Lock()
			fmt.Fprintf(tw, "%d %d %d\n", first.UnixMilli(), q.total, n)
			q.total += n
			for i := range n {
				q.buf = append(q.buf, int16(binary.LittleEndian.Uint16(b[2*i:])))
			}
			if over := len(q.buf) - q.max; over > 0 {
				q.buf = q.buf[:copy(q.buf, q.buf[over:])]
			}
			q.mu.Unlock()
			if _, err := rw.Write(b[:n*2]); err != nil {
				return err
			}
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
	return nil
}

// take moves up to len(dst) samples out of the queue and says how many.
func (q *spkQueue) take(dst []int16) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := copy(dst, q.buf)
	q.buf = q.buf[:copy(q.buf, q.buf[n:])]
	return n
}

// roomCue starts the user's speech if the cue file says so.
func roomCue(room *echoroom.Room, cue, logPath string, mic *alsa.PCM, rate int) error {
	b, err := os.ReadFile(cue)
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return nil // no cue, or not all of it written yet
	}
	if err := os.Remove(cue); err != nil {
		return err
	}
	f := strings.Fields(string(b))
	pcm, r, err := readWAV(f[0])
	if err != nil {
		return fmt.Errorf("cue: %w", err)
	}
	if r != rate {
		return fmt.Errorf("cue: %s at %d Hz, want %d", f[0], r, rate)
	}
	gainDB := 0.0
	if len(f) > 1 {
		db, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return fmt.Errorf("cue: level %q: %w", f[1], err)
		}
		g, err := room.SayOver(pcm, db)
		if err != nil {
			return err
		}
		gainDB = dB(g)
	} else {
		room.Say(pcm)
	}
	// What is written now is heard after what the device still holds.
	d, err := mic.Delay()
	if err != nil || d < 0 {
		d = 0 // not started, or run dry: heard at once
	}
	at := time.Now().Add(time.Duration(d) * time.Second / time.Duration(rate))
	lf, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(lf, "%d say %s %.1f\n", at.UnixMilli(), f[0], gainDB)
	return lf.Close()
}

func dB(gain float64) float64 { return 20 * math.Log10(gain) }
