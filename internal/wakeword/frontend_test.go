package wakeword

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// synthSignal is a deterministic test input: silence, tones sweeping in level and
// frequency, white noise, a full-scale square wave, so every stage sees both small and
// clipped values.
func synthSignal(n int) []int16 {
	out := make([]int16, n)
	var lcg uint32 = 12345
	phase := 0.0
	for i := range out {
		lcg = lcg*1664525 + 1013904223
		noise := float64(int32(lcg)>>16) / 32768
		sec := float64(i) / SampleRate
		var v float64
		switch {
		case sec < 0.2:
			v = 0
		case sec < 1.0:
			f := 100 + 7000*(sec-0.2)/0.8
			phase += 2 * 3.141592653589793 * f / SampleRate
			amp := 30 + 20000*(sec-0.2)/0.8
			v = amp*sinApprox(phase) + 20*noise
		case sec < 1.4:
			v = 3000 * noise
		case sec < 1.6:
			if (i/40)%2 == 0 {
				v = 32767
			} else {
				v = -32768
			}
		default:
			v = 5 * noise
		}
		out[i] = int16(max(min(v, 32767), -32768))
	}
	return out
}

// sinApprox avoids depending on math.Sin's last bit across platforms: a test input
// must be the same everywhere.
func sinApprox(x float64) float64 {
	const twoPi = 2 * 3.141592653589793
	x -= twoPi * float64(int64(x/twoPi))
	if x > 3.141592653589793 {
		x -= twoPi
	}
	// Bhaskara-style rational approximation, symmetric in x.
	ax := x
	if ax < 0 {
		ax = -ax
	}
	y := 16 * ax * (3.141592653589793 - ax) / (5*3.141592653589793*3.141592653589793 - 4*ax*(3.141592653589793-ax))
	if x < 0 {
		return -y
	}
	return y
}

func readGolden(t *testing.T, path string) [][]uint16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]uint16
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row []uint16
		for _, fld := range strings.Fields(sc.Text()) {
			v, err := strconv.Atoi(fld)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, uint16(v))
		}
		rows = append(rows, row)
	}
	return rows
}

func runFrontend(pcm []int16) [][]uint16 {
	fe := NewFrontend()
	var rows [][]uint16
	var out [Features]uint16
	for i := 0; i+StepSamples <= len(pcm); i += StepSamples {
		if fe.Step(pcm[i:i+StepSamples], &out) {
			rows = append(rows, append([]uint16(nil), out[:]...))
		}
	}
	return rows
}

// TestFrontendGolden compares the front end with the outputs of TensorFlow Lite Micro's
// microfrontend (C, kissfft v130 fixed-point 16) on the same samples, configured as
// ESPHome configures it. testdata/README describes how the vectors were made.
func TestFrontendGolden(t *testing.T) {
	cases := []struct {
		name string
		pcm  func(t *testing.T) []int16
		gold string
	}{
		{"synthetic", func(*testing.T) []int16 { return synthSignal(2 * SampleRate) }, "testdata/frontend_synth.txt"},
		{"speech", func(t *testing.T) []int16 { return readRaw(t, "testdata/speech.raw") }, "testdata/frontend_speech.txt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := readGolden(t, c.gold)
			got := runFrontend(c.pcm(t))
			if len(got) != len(want) {
				t.Fatalf("%d frames, want %d", len(got), len(want))
			}
			bad := 0
			for i := range want {
				for j := range want[i] {
					if got[i][j] != want[i][j] {
						if bad < 5 {
							t.Errorf("frame %d channel %d = %d, want %d", i, j, got[i][j], want[i][j])
						}
						bad++
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d values differ", bad, len(want)*Features)
			}
		})
	}
}

func readRaw(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// TestWriteSynthRaw writes the synthetic input for the reference generator.
func TestWriteSynthRaw(t *testing.T) {
	p := os.Getenv("WAKEWORD_WRITE_SYNTH")
	if p == "" {
		t.Skip("set WAKEWORD_WRITE_SYNTH=path to write the synthetic input as raw PCM")
	}
	pcm := synthSignal(2 * SampleRate)
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Println("wrote", p)
}

func TestInt8Feature(t *testing.T) {
	// (v·256 + 333) / 666 - 128, clamped: the division truncates.
	cases := []struct {
		v    uint16
		want int8
	}{{0, -128}, {1, -128}, {2, -127}, {333, 0}, {330, -1}, {664, 127}, {666, 127}, {65535, 127}}
	for _, c := range cases {
		if got := Int8Feature(c.v); got != c.want {
			t.Errorf("Int8Feature(%d) = %d, want %d", c.v, got, c.want)
		}
	}
}

// TestLog1pf checks the float32 log1p against the float64 one: within one unit in the
// last place everywhere the filterbank evaluates it, and exact at a few points.
func TestLog1pf(t *testing.T) {
	for x := float32(0); x < 12; x += 0.001 {
		got, want := log1pf(x), math.Log1p(float64(x))
		ulp := math.Nextafter32(float32(want), float32(math.Inf(1))) - float32(want)
		if d := math.Abs(float64(got) - want); d > float64(ulp) {
			t.Fatalf("log1pf(%g) = %g, want %g within %g", x, got, want, ulp)
		}
	}
	if got := log1pf(0); got != 0 {
		t.Errorf("log1pf(0) = %g", got)
	}
	if got, want := log1pf(1e-6), float32(1e-6-0.5e-12); got != want {
		t.Errorf("log1pf(1e-6) = %g, want %g", got, want)
	}
}

func TestFrontendReset(t *testing.T) {
	pcm := synthSignal(2 * SampleRate)
	fresh := runFrontend(pcm)
	fe := NewFrontend()
	var out [Features]uint16
	for i := 0; i+StepSamples <= SampleRate; i += StepSamples {
		fe.Step(pcm[i:i+StepSamples], &out)
	}
	fe.Reset()
	var again [][]uint16
	for i := 0; i+StepSamples <= len(pcm); i += StepSamples {
		if fe.Step(pcm[i:i+StepSamples], &out) {
			again = append(again, append([]uint16(nil), out[:]...))
		}
	}
	if len(again) != len(fresh) {
		t.Fatalf("%d frames after Reset, want %d", len(again), len(fresh))
	}
	for i := range fresh {
		if !slices.Equal(again[i], fresh[i]) {
			t.Fatalf("frame %d after Reset = %v, want %v", i, again[i], fresh[i])
		}
	}
}
