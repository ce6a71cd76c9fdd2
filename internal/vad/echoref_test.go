package vad

import (
	"math"
	"testing"

	"github.com/voiced-project/voiced/internal/vad/vadtest"
)

// echoScene is the microphone and the reference of the echo guard's test: 2 s of
// room noise, 4 s of the device's reply coming back at about 10 dB under what is
// played and 80 ms late, then 3 s of a user speaking over it userDB above the
// echo. It returns per 10 ms frame the microphone and the reference's mean square.
func echoScene(rate int, userDB float64) (mic []int16, ref []float64) {
	const echoGain = 0.3
	hop := rate / 100
	noise := vadtest.SynthVoice(rate, 9, 0, 0, 100, 0, 8)
	reply := vadtest.SynthVoice(rate, 7, 0, 7, 0, 10000, 9)
	user := vadtest.SynthVoice(rate, 3.5, 0, 3.5, 0, 10000*echoGain*math.Pow(10, userDB/20), 11)[rate*37/100:]
	mic = noise
	delay := rate * 80 / 1000
	for i := range reply {
		t := 2*rate + i + delay
		if t < len(mic) {
			mic[t] = sat(float64(mic[t]) + echoGain*float64(reply[i]))
		}
	}
	for i := 0; i < 3*rate && i < len(user); i++ {
		t := 6*rate + i
		mic[t] = sat(float64(mic[t]) + float64(user[i]))
	}
	ref = make([]float64, len(mic)/hop)
	for k := 2 * rate / hop; k < len(ref) && (k-2*rate/hop)*hop+hop <= len(reply); k++ {
		var s float64
		for _, x := range reply[(k-2*rate/hop)*hop:][:hop] {
			s += float64(x) * float64(x)
		}
		ref[k] = s / float64(hop) / (32768 * 32768)
	}
	return mic, ref
}

func sat(x float64) int16 { return int16(max(-32768, min(32767, x))) }

// TestEchoGuardFollowsReference: with the reference's level, the guard keeps the
// echo out and lets a user 9 dB above it through.
func TestEchoGuardFollowsReference(t *testing.T) {
	for _, rate := range []int{16000, 24000} {
		t.Run(rateName(rate), func(t *testing.T) {
			v, err := New(Config{SampleRate: rate, Sensitivity: DefaultSensitivity})
			if err != nil {
				t.Fatal(err)
			}
			mic, ref := echoScene(rate, 9)
			hop := v.FrameSize()
			var echoFlagged, echoFrames, userHeard, userFrames int
			for k := range ref {
				v.SetEchoGuard(k >= 200)
				v.NoteReference(ref[k])
				got := v.Process(mic[k*hop : (k+1)*hop])
				switch {
				case k >= 200 && k < 600:
					echoFrames++
					if got {
						echoFlagged++
					}
				case k >= 600:
					userFrames++
					if got {
						userHeard++
					}
				}
			}

			if f := float64(echoFlagged) / float64(echoFrames); f > 0.05 {
				t.Errorf("echo only: %.3f of frames flagged, want <= 0.05", f)
			}
			if r := float64(userHeard) / float64(userFrames); r < 0.8 {
				t.Errorf("user 9 dB over the echo: recall %.3f, want >= 0.8", r)
			}
		})
	}
}

// TestEchoGuardNoteReferenceAllocs: the playback side's call allocates nothing.
func TestEchoGuardNoteReferenceAllocs(t *testing.T) {
	v, err := New(Config{SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { v.NoteReference(0.01) }); n != 0 {
		t.Errorf("NoteReference allocates %v times, want 0", n)
	}
}

// TestEchoGuardFollowsResidual: fed a canceller's residual estimate
// (NoteResidual) the classic floor is that residual in the frame itself. The
// echo scene stands for a canceller that took nothing out: noted honestly (the
// whole echo) the residual keeps most of the echo out and lets a user 9 dB
// above it through more often than not; noted 20 dB low, the echo is heard.
// (Taken as spread evenly over the bands, the residual is a coarse floor for
// the classic detector; Neural leaves such frames to the network.)
func TestEchoGuardFollowsResidual(t *testing.T) {
	const echoGain = 0.3 // as in echoScene
	mic, ref := echoScene(16000, 9)
	run := func(scale float64) (echo, recall float64) {
		v, err := New(Config{SampleRate: 16000, Sensitivity: DefaultSensitivity})
		if err != nil {
			t.Fatal(err)
		}
		hop := v.FrameSize()
		const delay = 8 // frames: the echo is 80 ms behind the reference
		var echoFlagged, echoFrames, userHeard, userFrames int
		for k := range ref {
			v.SetEchoGuard(k >= 200)
			var r float64
			if k >= delay {
				r = ref[k-delay] * echoGain * echoGain * scale
			}
			v.NoteResidual(r)
			got := v.Process(mic[k*hop : (k+1)*hop])
			switch {
			case k >= 220 && k < 600:
				echoFrames++
				if got {
					echoFlagged++
				}
			case k >= 600:
				userFrames++
				if got {
					userHeard++
				}
			}
		}
		return float64(echoFlagged) / float64(echoFrames), float64(userHeard) / float64(userFrames)
	}
	echo, recall := run(1)
	lowEcho, _ := run(0.01)
	if echo > 0.25 || recall < 0.4 || recall < 2*echo {
		t.Errorf("residual noted honestly: echo-only flagged %.3f, user recall %.3f; want <= 0.25, >= 0.4 and twice the echo's", echo, recall)
	}
	if lowEcho < 2*echo || lowEcho < 0.5 {
		t.Errorf("residual noted 20 dB low: echo-only flagged %.3f, want >= 0.5 and twice the %.3f when honest", lowEcho, echo)
	}
}

// TestEchoGuardNoteResidualAllocs: the capture loop's call allocates nothing.
func TestEchoGuardNoteResidualAllocs(t *testing.T) {
	v, err := New(Config{SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { v.NoteResidual(0.01) }); n != 0 {
		t.Errorf("NoteResidual allocates %v times, want 0", n)
	}
}
