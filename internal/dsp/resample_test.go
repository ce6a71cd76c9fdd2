package dsp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/voiced-project/voiced/internal/dsp/dsptest"
	"github.com/voiced-project/voiced/internal/race"
)

// resampleTone feeds a dithered int16 tone of freqHz and amplitude amp
// through a fresh resampler in blocks of odd sizes and returns n output
// samples after the filter has settled.
func resampleTone(t testing.TB, inRate, outRate int, freqHz, amp float64, n int) []int16 {
	t.Helper()
	r, err := NewResampler(inRate, outRate)
	if err != nil {
		t.Fatal(err)
	}
	skip := r.Taps()*outRate/inRate + 8
	total := skip + n
	out := make([]int16, 0, total)
	block := make([]int16, 333)
	obuf := make([]int16, 257)
	seed := uint32(12345)
	rnd := func() float64 { // xorshift, uniform in [0, 1)
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return float64(seed) / (1 << 32)
	}
	pos := 0
	w := 2 * math.Pi * freqHz / float64(inRate)
	for len(out) < total {
		for i := range block {
			v := amp*math.Sin(w*float64(pos)+0.3) + rnd() - rnd() // TPDF dither
			block[i] = int16(math.Round(v))
			pos++
		}
		in := block
		for len(in) > 0 || len(out) < total {
			c, p := r.Process(in, obuf)
			out = append(out, obuf[:p]...)
			in = in[c:]
			if c == 0 && p == 0 {
				break
			}
		}
	}
	return out[skip:total]
}

// resampleFold maps a frequency in bins onto [0, n/2].
func resampleFold(b, n int) int {
	b %= n
	if b < 0 {
		b += n
	}
	if b > n/2 {
		b = n - b
	}
	return b
}

func TestResamplerQuality(t *testing.T) {
	const minAttenDB = 90.0
	const maxRippleDB = 0.1
	for _, in := range resampleRates {
		for _, out := range resampleRates {
			if in == out {
				continue
			}
			t.Run(fmt.Sprintf("%d-%d", in, out), func(t *testing.T) {
				t.Parallel()
				g := resampleGCD(in, out)
				up, down := out/g, in/g
				// A whole number of polyphase periods: every component of
				// the output then falls exactly on a DFT bin.
				n := up * ((2048 + up - 1) / up)
				df := float64(out) / float64(n)
				finBins := n * down / up // the input rate, in output bins
				nyqLow := float64(min(in, out)) / 2
				type tone struct {
					bin  int
					amp  float64
					pass bool // its own bin must be flat; otherwise only spurs count
				}
				var tones []tone
				for _, frac := range []float64{0.02, 0.5, resamplePassFrac} {
					tones = append(tones, tone{int(frac * nyqLow / df), 20000, true})
				}
				if in > out {
					// Stopband: everything above the output Nyquist must vanish.
					for _, f := range []float64{nyqLow + df, 1.05 * nyqLow, (nyqLow + float64(in)/2) / 2, 0.98 * float64(in) / 2} {
						tones = append(tones, tone{int(math.Ceil(f / df)), 30000, false})
					}
				} else {
					// Transition band: only its images are checked.
					for _, frac := range []float64{0.95, 0.99} {
						tones = append(tones, tone{int(frac * nyqLow / df), 30000, false})
					}
				}
				minAtten, maxRipple := math.Inf(1), 0.0
				defer func() {
					t.Logf("worst passband deviation %.4f dB, worst spur %.1f dB down", maxRipple, minAtten)
				}()
				for _, tn := range tones {
					y := resampleTone(t, in, out, float64(tn.bin)*df, tn.amp, n)
					main := -1
					if 2*tn.bin < n {
						main = tn.bin
					}
					if tn.pass {
						got := dsptest.BinAmp(y, tn.bin)
						db := 20 * math.Log10(got/tn.amp)
						maxRipple = math.Max(maxRipple, math.Abs(db))
						if math.Abs(db) > maxRippleDB {
							t.Errorf("tone %.1f Hz: gain %.4f dB, want within ±%.1f dB", float64(tn.bin)*df, db, maxRippleDB)
						}
					}
					// Every image and alias the rate change can create.
					seen := map[int]bool{}
					worst, worstBin := -1.0, 0
					for j := -up - 1; j <= up+1; j++ {
						for _, b := range []int{j*finBins + tn.bin, j*finBins - tn.bin} {
							b = resampleFold(b, n)
							if b == main || seen[b] {
								continue
							}
							seen[b] = true
							if a := dsptest.BinAmp(y, b); a > worst {
								worst, worstBin = a, b
							}
						}
					}
					if worst < 0 {
						continue
					}
					atten := -20 * math.Log10(math.Max(worst, 1e-9)/tn.amp)
					minAtten = math.Min(minAtten, atten)
					if atten < minAttenDB {
						t.Errorf("tone %.1f Hz: spur at %.1f Hz only %.1f dB down, want >= %.0f dB",
							float64(tn.bin)*df, float64(worstBin)*df, atten, minAttenDB)
					}
				}
			})
		}
	}
}

func TestResamplerPassthrough(t *testing.T) {
	r, err := NewResampler(24000, 24000)
	if err != nil {
		t.Fatal(err)
	}
	in := []int16{1, -2, 3, 32767, -32768}
	out := make([]int16, 8)
	c, p := r.Process(in, out)
	if c != len(in) || p != len(in) {
		t.Fatalf("Process = %d, %d, want %d, %d", c, p, len(in), len(in))
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("out[%d] = %d, want %d", i, out[i], in[i])
		}
	}
}

func TestResamplerErrors(t *testing.T) {
	for _, tc := range []struct{ in, out int }{{0, 24000}, {24000, 11025}, {-1, -1}, {96000, 48000}} {
		if _, err := NewResampler(tc.in, tc.out); err == nil {
			t.Errorf("NewResampler(%d, %d) = nil error, want error", tc.in, tc.out)
		}
	}
}

// TestResamplerInputFor checks that InputFor asks for exactly the input a
// given output needs: one sample less is not enough.
func TestResamplerInputFor(t *testing.T) {
	for _, tc := range []struct{ in, out, block int }{
		{24000, 48000, 480}, {24000, 44100, 441}, {48000, 24000, 240}, {16000, 24000, 240}, {22050, 8000, 80},
	} {
		t.Run(fmt.Sprintf("%d-%d", tc.in, tc.out), func(t *testing.T) {
			r, err := NewResampler(tc.in, tc.out)
			if err != nil {
				t.Fatal(err)
			}
			src := make([]int16, 100000)
			out := make([]int16, tc.block)
			pos := 0
			for range 20 {
				need := r.InputFor(tc.block)
				if need > 0 {
					c, p := r.Process(src[pos:pos+need-1], out)
					pos += c
					if p >= tc.block {
						t.Fatalf("produced %d with %d of %d needed inputs", p, need-1, need)
					}
					// The outputs produced so far count; ask again.
					need = r.InputFor(tc.block - p)
					c, p2 := r.Process(src[pos:pos+need], out[p:])
					pos += c
					if p+p2 != tc.block || c != need {
						t.Fatalf("Process(need=%d) = %d, %d, want %d, %d", need, c, p+p2, need, tc.block)
					}
				} else {
					if _, p := r.Process(nil, out); p != tc.block {
						t.Fatalf("Process(nil) produced %d, want %d", p, tc.block)
					}
				}
			}
		})
	}
}

func TestResamplerAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	r, err := NewResampler(48000, 24000)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]int16, 960)
	out := make([]int16, 481)
	if a := testing.AllocsPerRun(100, func() { r.Process(in, out) }); a != 0 {
		t.Errorf("Process allocates %v times per block, want 0", a)
	}
}

func BenchmarkResample(b *testing.B) {
	for _, tc := range []struct{ in, out int }{
		{48000, 24000}, {16000, 24000}, {24000, 48000}, {24000, 44100}, {44100, 24000}, {24000, 16000},
	} {
		b.Run(fmt.Sprintf("%d-%d", tc.in, tc.out), func(b *testing.B) {
			r, err := NewResampler(tc.in, tc.out)
			if err != nil {
				b.Fatal(err)
			}
			// 20 ms blocks, as a capture or playback period.
			in := make([]int16, tc.in/50)
			for i := range in {
				in[i] = int16(1000 * math.Sin(float64(i)/7))
			}
			out := make([]int16, r.MaxOutput(len(in)))
			b.SetBytes(int64(2 * len(in)))
			b.ReportAllocs()
			produced := 0
			for b.Loop() {
				rest := in
				for len(rest) > 0 {
					c, p := r.Process(rest, out)
					rest = rest[c:]
					produced += p
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(produced), "ns/outsample")
		})
	}
}

// TestResampleDotKernel: the vector kernel agrees with the portable loop for every
// length around the block size, with sums that cancel and sums that do not.
func TestResampleDotKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 200; n++ {
		c := make([]float32, n)
		w := make([]float32, n)
		var mag float64
		for i := range c {
			c[i] = float32(rng.NormFloat64() / 16)
			w[i] = float32(rng.NormFloat64() * 20000)
			mag += math.Abs(float64(c[i]) * float64(w[i]))
		}
		got, want := resampleDot(c, w), resampleDotGo(c, w)
		var exact float64
		for i := range c {
			exact += float64(c[i]) * float64(w[i])
		}
		// Both are float32 sums in a different order: each within a few ulps of
		// the sum of magnitudes from the exact value.
		tol := 1e-5 * mag
		if math.Abs(float64(got)-exact) > tol || math.Abs(float64(want)-exact) > tol {
			t.Fatalf("n=%d: kernel %v, portable %v, exact %v (tolerance %v)", n, got, want, exact, tol)
		}
	}
	ones := make([]float32, 48)
	for i := range ones {
		ones[i] = 1
	}
	if got := resampleDot(ones, ones); got != 48 {
		t.Errorf("dot of 48 ones = %v, want 48", got)
	}
}
