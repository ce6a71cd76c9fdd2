package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/dsp/dsptest"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/race"
)

// playbackFakeSpeaker is a playback device that records what it is given.
// Its delay is whatever the test sets.
type playbackFakeSpeaker struct {
	f        dsp.Format
	pause    time.Duration // per write, to let other goroutines interleave
	delay    atomic.Int64
	drops    atomic.Int64
	writeErr error
	delayErr error

	mu     sync.Mutex // guards following fields
	out    []byte     // written bytes, while they fit in its capacity
	frames int        // frames written in all
	log    []playbackEvent
}

// playbackEvent is one device call, for tests of ordering.
type playbackEvent struct {
	drop  bool
	first int16 // first sample of a write
}

func newPlaybackFakeSpeaker(f dsp.Format, keepFrames int) *playbackFakeSpeaker {
	return &playbackFakeSpeaker{f: f, out: make([]byte, 0, keepFrames*f.FrameBytes())}
}

func (s *playbackFakeSpeaker) WriteFrames(buf []byte) (int, error) {
	if s.writeErr != nil {
		return 0, s.writeErr
	}
	if s.pause > 0 {
		time.Sleep(s.pause)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(buf) / s.f.FrameBytes()
	s.frames += n
	if len(s.out)+len(buf) <= cap(s.out) {
		s.out = append(s.out, buf...)
	}
	if cap(s.log) > len(s.log) {
		var first [1]int16
		dsp.DecodeMono(first[:], buf, s.f, 0)
		s.log = append(s.log, playbackEvent{first: first[0]})
	}
	return n, nil
}

func (s *playbackFakeSpeaker) Delay() (int, error) {
	if s.delayErr != nil {
		return 0, s.delayErr
	}
	return int(s.delay.Load()), nil
}

func (s *playbackFakeSpeaker) Drop() error {
	s.drops.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cap(s.log) > len(s.log) {
		s.log = append(s.log, playbackEvent{drop: true})
	}
	return nil
}

// playbackFillingSpeaker is a playbackFakeSpeaker that plays silence by itself when it
// runs dry; CatchUp answers its delay, and counts.
type playbackFillingSpeaker struct {
	*playbackFakeSpeaker
	fills    atomic.Bool
	catchUps atomic.Int64
	catchErr error
}

func (s *playbackFillingSpeaker) FillsSilence() bool { return s.fills.Load() }

func (s *playbackFillingSpeaker) CatchUp() (int, error) {
	s.catchUps.Add(1)
	if s.catchErr != nil {
		return 0, s.catchErr
	}
	return int(s.delay.Load()), nil
}

func (s *playbackFakeSpeaker) writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frames
}

// played decodes everything written, from channel ch.
func (s *playbackFakeSpeaker) played(ch int) []int16 {
	s.mu.Lock()
	defer s.mu.Unlock()
	pcm := make([]int16, len(s.out)/s.f.FrameBytes())
	dsp.DecodeMono(pcm, s.out, s.f, ch)
	return pcm
}

func playbackFixedClock() time.Time { return time.Unix(1_000_000, 0) }

func newPlaybackRig(t testing.TB, f dsp.Format, period int, mod func(*PlaybackConfig)) (*Playback, *playbackFakeSpeaker) {
	t.Helper()
	spk := newPlaybackFakeSpeaker(f, 1<<18)
	c := PlaybackConfig{Device: f, PeriodFrames: period, Now: playbackFixedClock}
	if mod != nil {
		mod(&c)
	}
	p, err := NewPlayback(spk, c)
	if err != nil {
		t.Fatal(err)
	}
	return p, spk
}

func TestPlaybackPassthrough(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	p, spk := newPlaybackRig(t, f, 480, nil)
	audio := dsptest.Ramp(1, 1200)
	if n := p.Write(audio); n != len(audio) {
		t.Fatalf("Write = %d, want %d", n, len(audio))
	}
	ctx := context.Background()
	for range 3 {
		if err := p.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Two whole periods and the rest as it is: an underrun is not padded.
	if got := spk.played(0); !slices.Equal(got, audio) {
		t.Errorf("device got %d samples %v..., want the 1200 written", len(got), got[:min(5, len(got))])
	}
	// Idle with an empty queue: a period of silence keeps the device going.
	if err := p.step(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Handed != 1200 || st.Silence != 480 || st.Written != 1200 {
		t.Errorf("Stats = %+v, want 1200 handed, 480 silence, 1200 written", st)
	}
	// Idle with enough queued: wait instead of writing.
	spk.delay.Store(960)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.step(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("idle step(cancelled) = %v, want context.Canceled", err)
	}
	if err := p.step(ctx); err != nil { // the timer ends the wait
		t.Fatal(err)
	}
	if st := p.Stats(); st.Silence != 480 {
		t.Errorf("idle with a full queue wrote silence: %+v", st)
	}
}

// TestPlaybackResample plays a 24 kHz tone on 48 kHz and 44.1 kHz devices
// in several formats and checks it comes out at the same level.
func TestPlaybackResample(t *testing.T) {
	for _, f := range []dsp.Format{{Encoding: dsp.S32LE, Channels: 2, Rate: 48000}, {Encoding: dsp.S24_3LE, Channels: 2, Rate: 44100}, {Encoding: dsp.S16LE, Channels: 1, Rate: 16000}} {
		t.Run(fmt.Sprintf("%v/%d", f.Encoding, f.Rate), func(t *testing.T) {
			p, spk := newPlaybackRig(t, f, f.Rate/50, nil)
			tone := make([]int16, 24000/5) // 200 ms of 1 kHz
			for i := range tone {
				tone[i] = int16(math.Round(10000 * math.Sin(2*math.Pi*1000*float64(i)/24000)))
			}
			p.Write(tone)
			for p.ring.Len() > 0 {
				if err := p.step(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			out := spk.played(f.Channels - 1)
			want := len(tone) * f.Rate / 24000
			if d := int(p.Stats().Handed) - want; d > 1 || d < -f.Rate/50 {
				t.Errorf("device got %d frames of audio, want %d (less up to one period held in the filter)", p.Stats().Handed, want)
			}
			// 100 ms from the middle: a whole number of 1 kHz cycles.
			seg := out[len(out)/4 : len(out)/4+f.Rate/10]
			amp := dsptest.BinAmp(seg, 100)
			if db := 20 * math.Log10(amp/10000); math.Abs(db) > 0.1 {
				t.Errorf("1 kHz tone at %.4f dB after playback, want within 0.1 dB", db)
			}
		})
	}
}

func TestPlaybackHeardAndStop(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 24000}
	p, spk := newPlaybackRig(t, f, 480, nil)
	ctx := context.Background()
	spk.delay.Store(480)
	p.Begin()
	p.Write(slices.Repeat([]int16{1000}, 4800)) // 200 ms
	for range 5 {
		if err := p.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// 2400 frames handed, 480 still queued in the device: 80 ms heard.
	if h := p.Heard(); h != 80 {
		t.Errorf("Heard = %d ms, want 80", h)
	}
	p.Stop()
	if n := p.Write(make([]int16, 100)); n != 0 {
		t.Errorf("Write after Stop queued %d samples, want 0", n)
	}
	if err := p.step(ctx); err != nil {
		t.Fatal(err)
	}
	if d := spk.drops.Load(); d != 1 {
		t.Errorf("device dropped %d times after Stop, want 1", d)
	}
	st := p.Stats()
	if st.Discarded != 2400+100 || st.Handed != 2400 {
		t.Errorf("Stats = %+v, want 2500 discarded and 2400 handed", st)
	}
	if got := spk.played(0); slices.ContainsFunc(got[2400:], func(s int16) bool { return s != 0 }) {
		t.Errorf("device got reply audio after the Stop; want silence only")
	}
	if h := p.Heard(); h != 80 {
		t.Errorf("Heard after Stop = %d ms, want the 80 ms as of Stop", h)
	}
	p.Stop()
	if h := p.Heard(); h != 80 {
		t.Errorf("Heard after a second Stop = %d ms, want 80 still", h)
	}

	// A new reply counts from zero.
	p.Begin()
	if h := p.Heard(); h != 0 {
		t.Errorf("Heard after Begin = %d ms, want 0", h)
	}
	p.Write(make([]int16, 1440))
	spk.delay.Store(0)
	for range 3 {
		if err := p.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if h := p.Heard(); h != 60 {
		t.Errorf("Heard of the second reply = %d ms, want 60", h)
	}
}

// TestPlaybackHeardAgesDelay checks that the device delay read after a
// write is aged by the clock, up to one period.
func TestPlaybackHeardAgesDelay(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	var now atomic.Int64
	now.Store(playbackFixedClock().UnixNano())
	p, spk := newPlaybackRig(t, f, 480, func(c *PlaybackConfig) {
		c.Now = func() time.Time { return time.Unix(0, now.Load()) }
	})
	spk.delay.Store(2400)
	p.Write(make([]int16, 4800))
	for range 10 {
		if err := p.step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		after time.Duration
		want  int
	}{{0, 100}, {10 * time.Millisecond, 110}, {20 * time.Millisecond, 120}, {time.Second, 120}} {
		now.Store(playbackFixedClock().UnixNano() + int64(tc.after))
		if h := p.Heard(); h != tc.want {
			t.Errorf("Heard %v after the delay was read = %d ms, want %d", tc.after, h, tc.want)
		}
	}
}

func TestPlaybackStopKeepsNewReply(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	p, spk := newPlaybackRig(t, f, 480, nil)
	old := slices.Repeat([]int16{1000}, 960)
	p.Write(old)
	p.Stop()
	// The new reply starts before the playback loop has seen the Stop.
	p.Begin()
	next := slices.Repeat([]int16{2000}, 480)
	p.Write(next)
	if err := p.step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := spk.played(0); !slices.Equal(got, next) {
		t.Errorf("after Stop+Begin the device got %d samples starting %v, want only the new reply", len(got), got[:min(3, len(got))])
	}
}

func TestPlaybackVolume(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	p, spk := newPlaybackRig(t, f, 4, nil)
	p.SetVolume(0.5)
	if v := p.Volume(); v != 0.5 {
		t.Errorf("Volume = %v, want 0.5", v)
	}
	p.Write([]int16{1000, -1000, 32767, -32768})
	if err := p.step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := spk.played(0), []int16{500, -500, 16384, -16384}; !slices.Equal(got, want) {
		t.Errorf("at volume 0.5 the device got %v, want %v", got, want)
	}
}

func TestPlaybackEarcons(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 48000}
	const period = 480
	tests := []struct {
		name    string
		enabled bool
		audio   int16   // constant reply audio level, 0 for none
		volume  float64 // earcon volume; 0 leaves the default (1)
	}{
		{"alone", true, 0, 0},
		{"off", false, 0, 0},
		{"mixed with a reply", true, 1000, 0},
		{"at half volume", true, 0, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, spk := newPlaybackRig(t, f, period, func(c *PlaybackConfig) {
				c.InputRate = 48000
				c.Earcons = tc.enabled
			})
			spk.delay.Store(0)
			ec := engine.Earcon(engine.CueListenStart, 48000)
			if tc.volume != 0 {
				p.SetEarconVolume(tc.volume)
				ec = slices.Clone(ec)
				dsp.ApplyGain(ec, dsp.GainFromLinear(tc.volume))
			}
			if tc.audio != 0 {
				p.Write(slices.Repeat([]int16{tc.audio}, len(ec)+period))
			}
			p.PlayEarcon(engine.CueListenStart)
			for range (len(ec) + period - 1) / period {
				if err := p.step(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			got := spk.played(0)
			if len(got) < len(ec) {
				t.Fatalf("device got %d frames, want at least the earcon's %d", len(got), len(ec))
			}
			for i, e := range ec {
				want := tc.audio
				if tc.enabled {
					want += e
				}
				if got[i] != want {
					t.Fatalf("frame %d = %d, want %d", i, got[i], want)
				}
			}
		})
	}
}

func TestPlaybackDeviceErrors(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	errWrite := errors.New("test: device gone")
	p, spk := newPlaybackRig(t, f, 480, nil)
	spk.delayErr = errors.New("test: no delay")
	// A device that cannot say its delay counts as empty: silence is written.
	if err := p.step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Silence != 480 {
		t.Errorf("Stats = %+v, want one period of silence", st)
	}
	spk.writeErr = errWrite
	p.Write(make([]int16, 10))
	if err := p.Run(context.Background()); !errors.Is(err, errWrite) {
		t.Errorf("Run = %v, want it to wrap the device error", err)
	}
}

func TestNewPlaybackErrors(t *testing.T) {
	spk := newPlaybackFakeSpeaker(dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}, 0)
	good := PlaybackConfig{Device: dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}, PeriodFrames: 960}
	tests := []struct {
		name string
		mod  func(c *PlaybackConfig)
	}{
		{"bad encoding", func(c *PlaybackConfig) { c.Device.Encoding = 17 }},
		{"bad rate", func(c *PlaybackConfig) { c.Device.Rate = 12345 }},
		{"zero period", func(c *PlaybackConfig) { c.PeriodFrames = 0 }},
		{"bad input rate", func(c *PlaybackConfig) { c.InputRate = 11025 }},
		{"tiny buffer", func(c *PlaybackConfig) { c.BufferMs = 10 }},
		{"negative idle", func(c *PlaybackConfig) { c.IdlePeriods = -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			if _, err := NewPlayback(spk, c); err == nil {
				t.Error("NewPlayback = nil error, want error")
			}
		})
	}
	if _, err := NewPlayback(nil, good); err == nil {
		t.Error("NewPlayback(nil device) = nil error, want error")
	}
	p, err := NewPlayback(spk, good)
	if err != nil {
		t.Fatalf("NewPlayback(good) = %v", err)
	}
	if p.ring.Cap() < DefaultPlaybackBufferMs*24 {
		t.Errorf("ring holds %d samples, want at least %d ms at 24 kHz", p.ring.Cap(), DefaultPlaybackBufferMs)
	}
}

// TestPlaybackConcurrentStop runs the loop, a writer and a Stop from three
// goroutines (run it with -race). After the device has been dropped, not
// one frame of the stopped reply may reach it.
func TestPlaybackConcurrentStop(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	p, spk := newPlaybackRig(t, f, 240, func(c *PlaybackConfig) { c.Now = nil })
	spk.pause = 200 * time.Microsecond
	spk.log = make([]playbackEvent, 0, 1<<16)
	spk.delay.Store(480) // = the idle target: idle waits instead of writing
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(ctx) }()

	var wg sync.WaitGroup
	started := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		old := slices.Repeat([]int16{1000}, 240)
		p.Begin()
		for i := range 200 {
			p.Write(old)
			if i == 20 {
				close(started)
			}
		}
	}()
	<-started
	for spk.drops.Load() == 0 && p.Stats().Handed == 0 {
		time.Sleep(time.Millisecond)
	}
	p.Stop()
	heard := p.Heard()
	wg.Wait()
	p.Begin()
	p.Write(slices.Repeat([]int16{2000}, 2400))
	newPlayed := func() bool {
		spk.mu.Lock()
		defer spk.mu.Unlock()
		return slices.ContainsFunc(spk.log, func(e playbackEvent) bool { return e.first == 2000 })
	}
	for !newPlayed() || p.ring.Len() > 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-runErr; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	spk.mu.Lock()
	defer spk.mu.Unlock()
	dropped := false
	for i, e := range spk.log {
		switch {
		case e.drop:
			dropped = true
		case dropped && e.first == 1000:
			t.Fatalf("event %d: the stopped reply reached the device after the drop", i)
		}
	}
	if !dropped {
		t.Error("the device was never dropped")
	}
	if heard < 0 || heard > 200*10 {
		t.Errorf("Stop = %d ms, want between 0 and the 2000 ms written", heard)
	}
}

// A device that fills silence gets nothing written while there is nothing to play, and
// IdlePeriods of silence ahead of audio that comes after it ran dry.
func TestPlaybackFillingDevice(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	spk := &playbackFillingSpeaker{playbackFakeSpeaker: newPlaybackFakeSpeaker(f, 1<<16)}
	spk.fills.Store(true)
	p, err := NewPlayback(spk, PlaybackConfig{Device: f, PeriodFrames: 480, Now: playbackFixedClock})
	if err != nil {
		t.Fatal(err)
	}
	idle, cancel := context.WithCancel(context.Background())
	cancel() // an idle step then returns at once instead of sleeping
	ctx := context.Background()

	for range 5 {
		if err := p.step(idle); !errors.Is(err, context.Canceled) {
			t.Fatalf("idle step = %v, want context.Canceled from the wait", err)
		}
	}
	if n := spk.writes(); n != 0 || !p.Idle() {
		t.Fatalf("idle with a device that fills silence: %d frames written, Idle %v; want none, true", n, p.Idle())
	}
	if c := spk.catchUps.Load(); c != 5 {
		t.Errorf("%d catch-ups in 5 idle steps, want 5 (the delay for Heard, and keeping up)", c)
	}

	audio := dsptest.Ramp(1, 1200)
	p.Write(audio)
	if err := p.step(ctx); err != nil { // device empty: two periods of silence, then audio
		t.Fatal(err)
	}
	for range 2 { // audio follows audio: no silence between the periods, though the delay reads 0
		if err := p.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	spk.delay.Store(1440)
	want := slices.Concat(make([]int16, 960), audio)
	if got := spk.played(0); !slices.Equal(got, want) {
		t.Errorf("device got %d samples, want %d: 960 of silence, then the 1200 written", len(got), len(want))
	}
	if p.Idle() {
		t.Error("Idle while audio is queued in the device")
	}
	// The audio plays out: nothing more is written, and the loop goes idle.
	spk.delay.Store(0)
	if err := p.step(idle); !errors.Is(err, context.Canceled) {
		t.Fatalf("idle step = %v, want context.Canceled", err)
	}
	if !p.Idle() || spk.writes() != len(want) {
		t.Errorf("after the audio played: Idle %v, %d frames written; want true, %d", p.Idle(), spk.writes(), len(want))
	}
	if st := p.Stats(); st.Silence != 960 || st.Handed != 1200 {
		t.Errorf("Stats = %+v, want 960 silence, 1200 handed", st)
	}

	// Half a period still queued: silence tops it up to two periods before the audio.
	spk.delay.Store(240)
	p.Write(audio[:480])
	if err := p.step(ctx); err != nil {
		t.Fatal(err)
	}
	if got := spk.played(0)[len(want):]; !slices.Equal(got, slices.Concat(make([]int16, 720), audio[:480])) {
		t.Errorf("after a short queue the device got %d samples, want 720 of silence and 480 of audio", len(got))
	}

	// A device that stops filling (reopened on a kernel that refuses) gets silence again.
	spk.fills.Store(false)
	spk.delay.Store(0)
	before := spk.writes()
	if err := p.step(ctx); err != nil {
		t.Fatal(err)
	}
	if got := spk.writes() - before; got != 480 {
		t.Errorf("idle with a device that does not fill silence: %d frames written, want a period (480)", got)
	}

	// A failing catch-up is the loop's error, naming it.
	spk.fills.Store(true)
	spk.catchErr = errors.New("forward: EIO")
	if err := p.step(ctx); err == nil || !strings.Contains(err.Error(), "catch up with playback device: forward: EIO") {
		t.Errorf("step with CatchUp failing = %v", err)
	}
}

// TestPlaybackAllocs follows reply audio from Write through the ring, the
// resampler, volume, earcon mixing and conversion to the device write.
func TestPlaybackAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	for _, f := range []dsp.Format{{Encoding: dsp.S16LE, Channels: 2, Rate: 48000}, {Encoding: dsp.S24_3LE, Channels: 2, Rate: 44100}, {Encoding: dsp.S32LE, Channels: 1, Rate: 24000}} {
		t.Run(fmt.Sprintf("%v/%d", f.Encoding, f.Rate), func(t *testing.T) {
			p, spk := newPlaybackRig(t, f, f.Rate/50, func(c *PlaybackConfig) { c.Earcons = true })
			spk.out = spk.out[:0:0] // count only
			filling := &playbackFillingSpeaker{playbackFakeSpeaker: newPlaybackFakeSpeaker(f, 0)}
			filling.fills.Store(true)
			pf, err := NewPlayback(filling, PlaybackConfig{Device: f, PeriodFrames: f.Rate / 50, Earcons: true, Now: playbackFixedClock})
			if err != nil {
				t.Fatal(err)
			}
			idle, cancel := context.WithCancel(context.Background())
			cancel()
			// Idle, then a reply after the device ran dry: catch-up and lead of silence.
			if a := testing.AllocsPerRun(100, func() { pf.step(idle) }); a != 0 {
				t.Errorf("idle step on a device that fills silence allocates %v times, want 0", a)
			}
			blk := make([]int16, 480)
			if a := testing.AllocsPerRun(100, func() {
				pf.Write(blk)
				if err := pf.step(context.Background()); err != nil {
					t.Fatal(err)
				}
				pf.step(idle)
			}); a != 0 {
				t.Errorf("reply period on a device that fills silence allocates %v times, want 0", a)
			}
			if pf.Stats().Silence == 0 || pf.Stats().Handed == 0 {
				t.Errorf("filling device got no lead or no audio: %+v", pf.Stats())
			}
			block := make([]int16, 480)
			for i := range block {
				block[i] = int16(i * 50)
			}
			ctx := context.Background()
			p.SetVolume(0.8)
			for range 10 {
				p.Write(block)
				if err := p.step(ctx); err != nil {
					t.Fatal(err)
				}
			}
			i := 0
			a := testing.AllocsPerRun(200, func() {
				if i++; i%50 == 0 {
					p.PlayEarcon(engine.CueListenEnd)
				}
				p.Write(block)
				if err := p.step(ctx); err != nil {
					t.Fatal(err)
				}
			})
			if a != 0 {
				t.Errorf("Write to device write allocates %v times per period, want 0", a)
			}
			if p.Stats().Handed == 0 {
				t.Error("no audio reached the device")
			}
		})
	}
}

// BenchmarkPlaybackPeriod is one 20 ms period of 24 kHz reply audio to a
// stereo S16 device at 48 kHz and 44.1 kHz.
func BenchmarkPlaybackPeriod(b *testing.B) {
	for _, rate := range []int{48000, 44100, 24000} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			f := dsp.Format{Encoding: dsp.S16LE, Channels: 2, Rate: rate}
			p, spk := newPlaybackRig(b, f, rate/50, nil)
			spk.out = spk.out[:0:0]
			block := make([]int16, 480)
			ctx := context.Background()
			b.SetBytes(int64(2 * len(block)))
			b.ReportAllocs()
			for b.Loop() {
				p.Write(block)
				if err := p.step(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20, "ns/audio-ms")
		})
	}
}

func TestPlaybackWriteItem(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	p, _ := newPlaybackRig(t, f, 480, nil)
	ctx := context.Background()
	long := "item_" + string(slices.Repeat([]byte{'x'}, 80))
	steps := []struct {
		item      string
		n         int
		stop      bool
		wantQueue int
	}{
		{item: "item_a", n: 480, wantQueue: 480},
		{item: "item_a", n: 480, wantQueue: 480}, // same item: counted on
		{stop: true},
		{item: "item_a", n: 480, wantQueue: 0}, // the rest of the stopped item
		{item: "item_b", n: 480, wantQueue: 480},
		{item: long, n: 240, wantQueue: 240},
		{stop: true},
		{item: long + "y", n: 240, wantQueue: 240}, // same 64-byte prefix, new length
	}
	for i, s := range steps {
		if s.stop {
			p.Stop()
			if err := p.step(ctx); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got := p.WriteItem(s.item, make([]int16, s.n)); got != s.wantQueue {
			t.Errorf("step %d: WriteItem(%.10s) queued %d, want %d", i, s.item, got, s.wantQueue)
		}
	}
	if st := p.Stats(); st.Written != 480+480+480+240+240 || st.Handed != 0 {
		t.Errorf("Stats = %+v, want 1920 written and nothing handed", st)
	}
}

func TestPlaybackHeardCappedAndIdle(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	p, spk := newPlaybackRig(t, f, 480, nil)
	ctx := context.Background()
	step := func() {
		t.Helper()
		if err := p.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !p.Idle() {
		t.Error("a new playback is not idle")
	}
	spk.delay.Store(0)
	p.WriteItem("item_1", make([]int16, 960))
	if p.Idle() {
		t.Error("idle with audio queued")
	}
	step()
	// A new item while the old one still plays: what the device plays
	// next is item_1's rest, but Heard of item_2 is capped at the 10 ms
	// written of it.
	p.WriteItem("item_2", make([]int16, 240))
	step()
	if h := p.Heard(); h != 10 {
		t.Errorf("Heard = %d, want 10 (capped at what was written)", h)
	}
	step() // item_2's 240 frames
	// Audio still in the device: not idle until only silence is left.
	spk.delay.Store(480)
	step() // nothing queued: one period of silence (480 < idle target 960)
	if p.Idle() {
		t.Error("idle while the device still holds 480 frames of audio")
	}
	step() // the device now holds 480 frames: the silence
	if !p.Idle() {
		t.Error("not idle with only silence left in the device")
	}
	p.WriteItem("item_3", make([]int16, 48))
	p.Stop()
	if p.Idle() {
		t.Error("idle before the loop has acted on Stop")
	}
	step()
	if !p.Idle() {
		t.Error("not idle after Stop was carried out")
	}
}

// TestPlaybackLatencyHooks: OnStarted reports the time from audio written to an empty
// queue to its first frame on the device (once per such arrival, not for audio queued
// behind it), and OnSilenced the time from a Stop that found audio playing to the
// device's queue thrown away (not for a Stop while idle).
func TestPlaybackLatencyHooks(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 24000}
	now := time.Unix(1_000_000, 0)
	var started, silenced []time.Duration
	p, spk := newPlaybackRig(t, f, 480, func(c *PlaybackConfig) {
		c.Now = func() time.Time { return now }
		c.OnStarted = func(d time.Duration) { started = append(started, d) }
		c.OnSilenced = func(d time.Duration) { silenced = append(silenced, d) }
	})
	ctx := context.Background()
	spk.delay.Store(0)
	p.Stop() // idle: nothing to silence
	if err := p.step(ctx); err != nil {
		t.Fatal(err)
	}
	p.Begin()
	p.Write(make([]int16, 480))
	now = now.Add(3 * time.Millisecond)
	p.Write(make([]int16, 960)) // queued behind the first: no new arrival
	if err := p.step(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(started, []time.Duration{3 * time.Millisecond}) {
		t.Errorf("OnStarted calls %v after the first write, want [3ms]", started)
	}
	for range 2 {
		now = now.Add(20 * time.Millisecond)
		if err := p.step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(started) != 1 {
		t.Errorf("OnStarted called again for audio that was queued: %v", started)
	}
	// The stream ran dry; the next delta is a new arrival.
	p.Write(make([]int16, 960))
	now = now.Add(1 * time.Millisecond)
	if err := p.step(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(started, []time.Duration{3 * time.Millisecond, time.Millisecond}) {
		t.Errorf("OnStarted calls %v, want [3ms 1ms]", started)
	}
	if len(silenced) != 0 {
		t.Errorf("OnSilenced called %v for a Stop while idle", silenced)
	}
	// Barge-in while audio plays.
	p.Stop()
	now = now.Add(2 * time.Millisecond)
	if err := p.step(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(silenced, []time.Duration{2 * time.Millisecond}) {
		t.Errorf("OnSilenced calls %v, want [2ms]", silenced)
	}
	if len(started) != 2 {
		t.Errorf("OnStarted called for audio thrown away by Stop: %v", started)
	}
}
