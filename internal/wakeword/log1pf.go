package wakeword

import "math"

// log1pf computes log(1+x) in float32 arithmetic the way fdlibm's float log1p does (the
// implementation in glibc and newlib, whose results the microfrontend's filterbank was
// built with). A correctly rounded log1p differs from it in the last bit for a few
// inputs, which moves two filterbank weights by one; so the front end uses this one.
// Only the branches for x > -0.2929 are needed here (frequencies are never negative).
func log1pf(x float32) float32 {
	const (
		ln2Hi = float32(6.9313812256e-01)
		ln2Lo = float32(9.0580006145e-06)
		lp1   = float32(6.6666668653e-01)
		lp2   = float32(4.0000000596e-01)
		lp3   = float32(2.8571429849e-01)
		lp4   = float32(2.2222198546e-01)
		lp5   = float32(1.8183572590e-01)
		lp6   = float32(1.5313838422e-01)
		lp7   = float32(1.4798198640e-01)
	)
	hx := int32(math.Float32bits(x))
	k := int32(1)
	var f, c float32
	var hu int32
	if hx < 0x3ed413d7 { // x < 0.41422
		ax := hx & 0x7fffffff
		if ax < 0x38000000 { // |x| < 2^-15
			return x - float32(float32(x*x)*0.5)
		}
		k, f, hu = 0, x, 1
	}
	if k != 0 {
		var u float32
		if hx < 0x5a000000 {
			u = 1 + x
			hu = int32(math.Float32bits(u))
			k = (hu >> 23) - 127
			if k > 0 {
				c = 1 - (u - x)
			} else {
				c = x - (u - 1)
			}
			c /= u
		} else {
			u = x
			hu = int32(math.Float32bits(u))
			k = (hu >> 23) - 127
			c = 0
		}
		hu &= 0x007fffff
		if hu < 0x3504f7 {
			u = math.Float32frombits(uint32(hu | 0x3f800000))
		} else {
			k++
			u = math.Float32frombits(uint32(hu | 0x3f000000))
			hu = (0x00800000 - hu) >> 2
		}
		f = u - 1
	}
	hfsq := float32(float32(0.5*f) * f)
	kf := float32(k)
	if hu == 0 {
		if f == 0 {
			if k == 0 {
				return 0
			}
			c += float32(kf * ln2Lo)
			return float32(kf*ln2Hi) + c
		}
		r := float32(hfsq * float32(1-float32(0.66666666666666666*f)))
		if k == 0 {
			return f - r
		}
		return float32(kf*ln2Hi) - ((r - (float32(kf*ln2Lo) + c)) - f)
	}
	s := f / (2 + f)
	z := float32(s * s)
	// Horner's rule, each product rounded before its sum.
	r := float32(z * lp7)
	r = float32(z * (lp6 + r))
	r = float32(z * (lp5 + r))
	r = float32(z * (lp4 + r))
	r = float32(z * (lp3 + r))
	r = float32(z * (lp2 + r))
	r = float32(z * (lp1 + r))
	if k == 0 {
		return f - (hfsq - float32(s*(hfsq+r)))
	}
	return float32(kf*ln2Hi) - ((hfsq - (float32(s*(hfsq+r)) + (float32(kf*ln2Lo) + c))) - f)
}
