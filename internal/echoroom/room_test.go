package echoroom

import (
	"math"
	"testing"

	"github.com/voiced-project/voiced/internal/aec/echosim"
)

// run plays speaker (24 kHz) through the room period by period and returns what
// the microphone heard (16 kHz).
func run(r *Room, speaker []int16, periods int) []int16 {
	const in, out = 480, 320
	var mic []int16
	buf := make([]int16, out)
	for p := range periods {
		lo, hi := min(p*in, len(speaker)), min((p+1)*in, len(speaker))
		r.Step(speaker[lo:hi], buf)
		mic = append(mic, buf...)
	}
	return mic
}

// A click played comes back after the room's delay (plus the resampler's few
// samples), at the room's gain, and the rest of the time the microphone hears
// the noise floor only.
func TestEchoDelayAndGain(t *testing.T) {
	r, err := New(Config{Room: echosim.Room{DelayMs: 50, RT60Ms: 100, DRRdB: 10, GaindB: -6, Seed: 1}, SpeakerRate: 24000, MicRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	speaker := make([]int16, 24000)
	speaker[2400] = 16000 // 100 ms in
	mic := run(r, speaker, 50)
	peak, at := 0, 0
	for i, v := range mic {
		if a := int(math.Abs(float64(v))); a > peak {
			peak, at = a, i
		}
	}
	// The resampler's filter delays by half its span.
	ms := float64(at)/16 - float64(r.res.Taps()/2)/24
	if ms < 149.5 || ms > 150.5 {
		t.Errorf("the click came back at %.1f ms after the resampler's delay, want 150 ms (100 ms played + 50 ms delay)", ms)
	}
	// The click is one sample at 24 kHz: at 16 kHz its energy spreads, so only
	// the order of magnitude of the direct path is checked (-6 dB of 16000 is 8000).
	if peak < 2000 || peak > 9000 {
		t.Errorf("the click came back with peak %d, want about 16000 at -6 dB, spread by the resampling", peak)
	}
	var quiet float64
	for _, v := range mic[:2000] {
		quiet += float64(v) * float64(v)
	}
	if db := 10 * math.Log10(quiet/2000/32768/32768); db > -55 || db < -65 {
		t.Errorf("before the click the microphone heard %.1f dBFS, want the -60 dBFS noise floor", db)
	}
}

// SayOver puts the user's voice at the asked level over the echo's.
func TestSayOverLevel(t *testing.T) {
	r, err := New(Config{Room: echosim.Room{DelayMs: 20, RT60Ms: 150, DRRdB: 6, GaindB: -3, Seed: 2}, SpeakerRate: 24000, MicRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.SayOver(make([]int16, 100), 0); err == nil {
		t.Error("SayOver before any echo: no error")
	}
	reply := make([]int16, 24000)
	for i := range reply {
		reply[i] = int16(6000 * math.Sin(2*math.Pi*300*float64(i)/24000))
	}
	run(r, reply, 50)
	echo := r.EchoDBFS()
	voice := make([]int16, 16000)
	for i := range voice {
		voice[i] = int16(3000 * math.Sin(2*math.Pi*700*float64(i)/16000))
	}
	for _, db := range []float64{0, 9, -6} {
		if _, err := r.SayOver(voice, db); err != nil {
			t.Fatal(err)
		}
		if !r.Speaking() {
			t.Fatal("Speaking() = false after SayOver")
		}
		// The speaker is quiet now; the echo's tail has died out after 150 ms.
		mic := run(r, nil, 50)
		if r.Speaking() {
			t.Fatal("Speaking() = true after the voice was heard")
		}
		got := ActiveDBFS(mic[16*200 : 16*900])
		if math.Abs(got-(echo+db)) > 0.5 {
			t.Errorf("SayOver(%g dB): voice at %.2f dBFS over an echo at %.2f dBFS, want %.2f", db, got, echo, echo+db)
		}
	}
}

// A loudspeaker driven into clipping bounds the echo.
func TestClip(t *testing.T) {
	r, err := New(Config{Room: echosim.Room{DelayMs: 10, RT60Ms: 50, DRRdB: 30, ClipDB: 12, Seed: 3}, SpeakerRate: 16000, MicRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	loud := make([]int16, 16000)
	for i := range loud {
		loud[i] = int16(30000 * math.Sin(2*math.Pi*200*float64(i)/16000))
	}
	mic := run16(r, loud)
	peak := 0.0
	for _, v := range mic {
		peak = max(peak, math.Abs(float64(v)))
	}
	// tanh(x·4)/4·1.5 never exceeds 0.375 of full scale (12300); a little reverb on top.
	if peak > 14000 || peak < 9000 {
		t.Errorf("clipped echo peak %.0f, want about 12300", peak)
	}
}

func run16(r *Room, speaker []int16) []int16 {
	var mic []int16
	buf := make([]int16, 320)
	for p := 0; p+320 <= len(speaker); p += 320 {
		r.Step(speaker[p:p+320], buf)
		mic = append(mic, buf...)
	}
	return mic
}

func BenchmarkStep(b *testing.B) {
	r, err := New(Config{Room: echosim.Room{DelayMs: 40, RT60Ms: 250, DRRdB: 3, GaindB: -3, Seed: 4}, SpeakerRate: 24000, MicRate: 16000})
	if err != nil {
		b.Fatal(err)
	}
	played, mic := make([]int16, 480), make([]int16, 320)
	for i := range played {
		played[i] = int16(i * 37)
	}
	for b.Loop() {
		r.Step(played, mic)
	}
}

// The partitioned convolution hears what echosim renders of a whole recording at once.
func TestMatchesEchosim(t *testing.T) {
	room := echosim.Room{DelayMs: 30, RT60Ms: 200, DRRdB: 3, GaindB: -3, Seed: 5}
	r, err := New(Config{Room: room, SpeakerRate: 16000, MicRate: 16000, NoiseDBFS: -200})
	if err != nil {
		t.Fatal(err)
	}
	speaker := make([]int16, 16000)
	ref := make([]float32, len(speaker))
	for i := range speaker {
		speaker[i] = int16(8000 * math.Sin(2*math.Pi*float64(i)*float64(i)/16000/4)) // a chirp
		ref[i] = float32(speaker[i]) / 32768
	}
	got := run16(r, speaker)
	want := room.Echo(ref, 16000)
	worst := 0.0
	for i := range got {
		worst = max(worst, math.Abs(float64(got[i])-float64(want[i])*32768))
	}
	if worst > 1 {
		t.Errorf("the live room differs from echosim's rendering by up to %.2f LSB, want rounding only", worst)
	}
}
