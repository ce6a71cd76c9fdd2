package pipeline

import (
	"math"
	"testing"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/race"
)

// TestLevelReadings checks the meter against levels known in closed form: a sine of
// amplitude A reads 20·log10(A/32768) − 3.01 dB, a full-scale square wave 0 dB,
// silence the floor; LevelRate readings a second, none while inactive.
func TestLevelReadings(t *testing.T) {
	const rate = 16000
	sine := func(amp float64) []int16 {
		s := make([]int16, rate)
		for i := range s {
			s[i] = int16(amp * math.Sin(2*math.Pi*500*float64(i)/rate))
		}
		return s
	}
	square := make([]int16, rate)
	for i := range square {
		square[i] = 32767
		if i%32 < 16 {
			square[i] = -32768
		}
	}
	for _, tc := range []struct {
		name string
		s    []int16
		want float64
	}{
		{"sine 16000", sine(16000), 20*math.Log10(16000.0/32768) - 3.0103},
		{"sine 1000", sine(1000), 20*math.Log10(1000.0/32768) - 3.0103},
		{"square full scale", square, 0},
		{"silence", make([]int16, rate), levelFloor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l Level
			l.add(tc.s, rate)
			if _, seq := l.Read(); seq != 0 {
				t.Fatalf("inactive meter made %d readings, want 0", seq)
			}
			l.SetActive(true)
			for i := 0; i < len(tc.s); i += 320 { // 20 ms periods
				l.add(tc.s[i:i+320], rate)
			}
			got, seq := l.Read()
			if seq != LevelRate {
				t.Errorf("a second of audio made %d readings, want %d", seq, LevelRate)
			}
			if math.Abs(got-tc.want) > 0.05 {
				t.Errorf("level = %.2f dBFS, want %.2f", got, tc.want)
			}
		})
	}
}

// TestLevelInCapture checks that the capture loop feeds the meter after the gain, in
// the dormant state too (between push-to-talk turns the page still shows the level).
func TestLevelInCapture(t *testing.T) {
	f := dsp.Format{Encoding: dsp.S16LE, Channels: 1, Rate: 16000}
	r := newCaptureRig(t, f, 320, captureSilenceThenTone(f.Rate, 0, 1000), 0)
	var l Level
	l.SetActive(true)
	r.c.level = &l
	r.c.SetDetecting(false) // dormant: the gate closed, no detector
	for range 25 {
		if err := r.c.step(); err != nil {
			t.Fatal(err)
		}
	}
	got, seq := l.Read()
	if want := 20*math.Log10(16000.0/32768) - 3.0103; seq < 3 || math.Abs(got-want) > 0.1 {
		t.Errorf("after 0.5 s of a 16000 sine: level %.2f dBFS after %d readings, want %.2f after at least 3", got, seq, want)
	}
}

// TestLevelAllocs: the meter costs the capture loop no allocation.
func TestLevelAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	var l Level
	l.SetActive(true)
	s := make([]int16, 320)
	for i := range s {
		s[i] = int16(i * 50)
	}
	if n := testing.AllocsPerRun(200, func() { l.add(s, 16000) }); n != 0 {
		t.Errorf("Level.add allocates %v times per period, want 0", n)
	}
}

// BenchmarkLevel is the meter's cost per 20 ms period at 16 kHz.
func BenchmarkLevel(b *testing.B) {
	var l Level
	l.SetActive(true)
	s := make([]int16, 320)
	b.ReportAllocs()
	b.SetBytes(int64(2 * len(s)))
	for b.Loop() {
		l.add(s, 16000)
	}
}
