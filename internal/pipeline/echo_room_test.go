package pipeline

import (
	"context"
	"math"
	"testing"

	"github.com/voiced-project/voiced/internal/aec"
	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/vad"
	"github.com/voiced-project/voiced/internal/vad/vadtest"
)

// roomSpeaker is a playback device in a room: it queues what it is given and
// plays it as the test's clock advances.
type roomSpeaker struct {
	f     dsp.Format
	queue []int16
	tmp   []int16
}

func (s *roomSpeaker) WriteFrames(buf []byte) (int, error) {
	n := len(buf) / s.f.FrameBytes()
	if cap(s.tmp) < n {
		s.tmp = make([]int16, n)
	}
	dsp.DecodeMono(s.tmp[:n], buf, s.f, 0)
	s.queue = append(s.queue, s.tmp[:n]...)
	return n, nil
}
func (s *roomSpeaker) Delay() (int, error) { return len(s.queue), nil }
func (s *roomSpeaker) Drop() error         { s.queue = s.queue[:0]; return nil }

// play takes n samples off the front of the queue: what the speaker sounds now.
func (s *roomSpeaker) play(dst []int16) {
	k := copy(dst, s.queue)
	clear(dst[k:])
	s.queue = s.queue[:copy(s.queue, s.queue[k:])]
}

// TestEchoRoomWiring runs the playback and capture loops with the canceller
// between them in a simulated room: the speaker (48 kHz) is heard by the
// microphone (24 kHz) 30 ms later through a short reverberant path. Only the
// loops' own timing (the device's delay, the resampler) tells the canceller
// where its reference lands. With the echo guard on while the reply plays, the
// echo is not taken for speech and a user speaking over it at its level is.
func TestEchoRoomWiring(t *testing.T) {
	if testing.Short() {
		t.Skip("12 s of simulated room; skipped with -short")
	}
	const devRate, secs = 48000, 24
	pf := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: devRate}
	cf := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: CaptureRate}
	canc, err := aec.New(aec.Config{SampleRate: CaptureRate, FrameSize: CaptureRate / 100})
	if err != nil {
		t.Fatal(err)
	}
	det, err := vad.New(vad.Config{SampleRate: CaptureRate})
	if err != nil {
		t.Fatal(err)
	}
	spk := &roomSpeaker{f: pf}
	pb, err := NewPlayback(spk, PlaybackConfig{Device: pf, PeriodFrames: devRate / 100, Now: playbackFixedClock, Echo: canc})
	if err != nil {
		t.Fatal(err)
	}
	ring, err := dsp.NewRing(CaptureRate*secs, dsp.RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	var decisions []bool
	cp, err := NewCapture(&captureFakeMic{}, det, ring, CaptureConfig{Device: cf, PeriodFrames: CaptureRate / 100, PreRollMs: -1,
		Echo: canc, OnVoice: func(d vad.Decision) { decisions = append(decisions, d.Speech) }})
	if err != nil {
		t.Fatal(err)
	}

	// Two replies of 10 s, voice over a broadband bed as speech has, 1 s apart; the
	// user speaks over the second from 7 to 10 s into it, at the echo's level. The
	// first is the room's first: the canceller and the guard learn it.
	reply := vadtest.SynthVoice(CaptureRate, 10, 0, 10, 600, 9000, 21)
	user := vadtest.SynthVoice(CaptureRate, 3, 0, 3, 0, 9000*0.35, 22)
	pb.Begin()
	pb.Write(reply)
	pb.Write(make([]int16, CaptureRate))
	pb.Write(reply)
	const second = 11 * CaptureRate
	det.SetEchoGuard(true)
	cp.SetStreaming(true)

	played := make([]int16, devRate/100)
	room := make([]float64, secs*CaptureRate+CaptureRate)
	mic := make([]int16, CaptureRate/100)
	path := [...]float64{0.35, 0, 0, -0.12, 0, 0.05} // direct sound, then two reflections (24 kHz taps, 5 apart)
	const acoustic = CaptureRate * 30 / 1000
	for tick := 0; tick < secs*100; tick++ {
		if err := pb.step(context.Background()); err != nil {
			t.Fatal(err)
		}
		spk.play(played)
		for i := 0; i < len(played)/2; i++ {
			// Every other sample: the reply holds nothing above 12 kHz.
			x := float64(played[2*i])
			at := tick*CaptureRate/100 + i + acoustic
			for k, g := range path {
				if j := at + 5*k; j < len(room) {
					room[j] += g * x
				}
			}
		}
		base := tick * CaptureRate / 100
		for i := range mic {
			v := room[base+i]
			if u := base + i - second - 7*CaptureRate; u >= 0 && u < len(user) {
				v += float64(user[u])
			}
			mic[i] = int16(max(-32768, min(32767, v)))
		}
		cp.process(captureSignal(cf, mic))
	}
	// Decisions are 16 ms late (the canceller's latency); frames well inside each part.
	share := func(from, to int) float64 {
		n := 0
		for _, d := range decisions[from:to] {
			if d {
				n++
			}
		}
		return float64(n) / float64(to-from)
	}
	if f := share(200, 1790); f > 0.05 {
		t.Errorf("echo only, 2-17.9 s: %.3f of frames flagged, want <= 0.05", f)
	}
	if r := share(1810, 2100); r < 0.6 {
		t.Errorf("user over the echo at its level, 18.1-21 s: recall %.3f, want >= 0.6", r)
	}
	st := canc.Stats()
	if !st.DelayFound {
		t.Error("canceller: no delay found")
	}
	// What the uplink got: the echo cancelled by 30 dB and more, the user kept.
	out := drainRing(ring, nil)
	lvl := func(x []int16) float64 {
		var e float64
		for _, v := range x {
			e += float64(v) * float64(v)
		}
		return 10 * math.Log10(e/float64(len(x))+1)
	}
	echoIn, echoOut := lvl(reply)+20*math.Log10(0.35), lvl(out[14*CaptureRate:17*CaptureRate])
	userIn, userOut := lvl(user), lvl(out[19*CaptureRate:20*CaptureRate])
	if echoIn-echoOut < 30 || userIn-userOut > 6 {
		t.Errorf("uplink: echo %.1f dB -> %.1f dB, user %.1f dB -> %.1f dB (with echo); want the echo 30 dB down and the user within 6 dB", echoIn, echoOut, userIn, userOut)
	}
	t.Logf("echo %.1f -> %.1f dB, user %.1f -> %.1f dB, echo flagged %.3f, user recall %.3f", echoIn, echoOut, userIn, userOut, share(200, 1790), share(1810, 2100))
}
