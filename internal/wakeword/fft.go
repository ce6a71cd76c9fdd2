package wakeword

import (
	"math"
	"math/bits"
)

// The FFT reproduces the arithmetic of KISS FFT built with FIXED_POINT=16, as the
// microfrontend uses it: a 256-point complex FFT of radix-4 stages (each input scaled by
// 1/4 with rounding before its butterfly) over the even/odd-packed real input, then the
// real-FFT split with its own halvings. Products are Q15 with round-half-up; sums wrap
// in int16 as the C code's stores to int16 do.

type complex16 struct{ r, i int16 }

const (
	cfftSize = fftSize / 2
	q15Max   = 32767
)

type fftState struct {
	tw    [cfftSize]complex16     // e^{-2πik/256}
	super [cfftSize / 2]complex16 // e^{-iπ((k+1)/256+1/2)}
	tmp   [cfftSize]complex16
	perm  [cfftSize]uint8 // tmp[i] starts as input perm[i]: KISS FFT's decimation order
}

func q15(x float64) int16 { return int16(math.Floor(0.5 + q15Max*x)) }

func (s *fftState) init() {
	for i := range s.tw {
		ph := -2 * math.Pi * float64(i) / cfftSize
		s.tw[i] = complex16{q15(math.Cos(ph)), q15(math.Sin(ph))}
	}
	for i := range s.super {
		ph := -math.Pi * (float64(i+1)/cfftSize + 0.5)
		s.super[i] = complex16{q15(math.Cos(ph)), q15(math.Sin(ph))}
	}
	s.decimate(s.perm[:], 0, 1, cfftSize/4)
}

// decimate records where kf_work's recursion puts each input: sub-transform k of a stage
// takes every 4th element starting at k, down to single elements.
func (s *fftState) decimate(out []uint8, in, fstride, m int) {
	for k := range 4 {
		if m == 1 {
			out[k] = uint8(in + k*fstride)
		} else {
			s.decimate(out[k*m:], in+k*fstride, fstride*4, m/4)
		}
	}
}

// sround is KISS FFT's Q15 rounding of a 32-bit product sum.
func sround(x int32) int16 { return int16((x + 1<<14) >> 15) }

func cmul(a, b complex16) complex16 {
	return complex16{
		sround(int32(a.r)*int32(b.r) - int32(a.i)*int32(b.i)),
		sround(int32(a.r)*int32(b.i) + int32(a.i)*int32(b.r)),
	}
}

// fixdiv is C_FIXDIV: multiply by SAMP_MAX/div in Q15.
func fixdiv(c complex16, div int32) complex16 {
	k := q15Max / div
	return complex16{sround(int32(c.r) * k), sround(int32(c.i) * k)}
}

func cadd(a, b complex16) complex16 { return complex16{a.r + b.r, a.i + b.i} }
func csub(a, b complex16) complex16 { return complex16{a.r - b.r, a.i - b.i} }

// work is kf_work for 256 = 4·4·4·4, iteratively: the inputs in decimation order, then
// the radix-4 butterflies of each stage over its independent blocks (the recursion runs
// the same butterflies on the same values, only in another order).
func (s *fftState) work(in *[cfftSize]complex16) {
	for i, p := range s.perm {
		s.tmp[i] = in[p]
	}
	for m, fstride := 1, cfftSize/4; m < cfftSize; m, fstride = m*4, fstride/4 {
		for b := 0; b < cfftSize; b += 4 * m {
			s.bfly4(s.tmp[b:b+4*m], fstride, m)
		}
	}
}

func (s *fftState) bfly4(f []complex16, fstride, m int) {
	f0, f1, f2, f3 := f[:m], f[m:2*m], f[2*m:3*m], f[3*m:4*m]
	var t1, t2, t3 int
	for k := range f0 {
		a0 := fixdiv(f0[k], 4)
		a1 := fixdiv(f1[k], 4)
		a2 := fixdiv(f2[k], 4)
		a3 := fixdiv(f3[k], 4)
		s0 := cmul(a1, s.tw[t1&(cfftSize-1)])
		s1 := cmul(a2, s.tw[t2&(cfftSize-1)])
		s2 := cmul(a3, s.tw[t3&(cfftSize-1)])
		s5 := csub(a0, s1)
		a0 = cadd(a0, s1)
		s3 := cadd(s0, s2)
		s4 := csub(s0, s2)
		f2[k] = csub(a0, s3)
		f0[k] = cadd(a0, s3)
		f1[k] = complex16{s5.r + s4.i, s5.i - s4.r}
		f3[k] = complex16{s5.r - s4.i, s5.i + s4.r}
		t1 += fstride
		t2 += 2 * fstride
		t3 += 3 * fstride
	}
}

// real is kiss_fftr: the 512-point real FFT of in, bins 0..256 into out.
func (s *fftState) real(in *[fftSize]int16, out *[spectrumSize]complex16) {
	var packed [cfftSize]complex16
	for k := range packed {
		packed[k] = complex16{in[2*k], in[2*k+1]}
	}
	s.work(&packed)
	const n = cfftSize
	tdc := fixdiv(s.tmp[0], 2)
	out[0] = complex16{tdc.r + tdc.i, 0}
	out[n] = complex16{tdc.r - tdc.i, 0}
	for k := 1; k <= n/2; k++ {
		fpk := fixdiv(s.tmp[k], 2)
		fpnk := fixdiv(complex16{s.tmp[n-k].r, -s.tmp[n-k].i}, 2)
		f1k := cadd(fpk, fpnk)
		f2k := csub(fpk, fpnk)
		tw := cmul(f2k, s.super[k-1])
		out[k] = complex16{int16((int32(f1k.r) + int32(tw.r)) >> 1), int16((int32(f1k.i) + int32(tw.i)) >> 1)}
		out[n-k] = complex16{int16((int32(f1k.r) - int32(tw.r)) >> 1), int16((int32(tw.i) - int32(f1k.i)) >> 1)}
	}
}

// sqrt32 and sqrt64 are the microfrontend's integer square roots, rounded to nearest.
func sqrt32(num uint32) uint16 {
	if num == 0 {
		return 0
	}
	var res uint32
	maxBit := (32 - msb32(num)) | 1
	bit := uint32(1) << (31 - maxBit)
	for it := (31-maxBit)/2 + 1; it > 0; it-- {
		if num >= res+bit {
			num -= res + bit
			res = res>>1 + bit
		} else {
			res >>= 1
		}
		bit >>= 2
	}
	if num > res && res != 0xffff {
		res++
	}
	return uint16(res)
}

func sqrt64(num uint64) uint32 {
	if num>>32 == 0 {
		return uint32(sqrt32(uint32(num)))
	}
	var res uint64
	maxBit := bits.LeadingZeros64(num) | 1
	bit := uint64(1) << (63 - maxBit)
	for it := (63-maxBit)/2 + 1; it > 0; it-- {
		if num >= res+bit {
			num -= res + bit
			res = res>>1 + bit
		} else {
			res >>= 1
		}
		bit >>= 2
	}
	if num > res && res != 0xffffffff {
		res++
	}
	return uint32(res)
}
