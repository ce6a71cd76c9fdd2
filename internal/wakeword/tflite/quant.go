package tflite

import (
	"math"
)

// The fixed-point helpers below follow tensorflow/lite/kernels/internal/common.h (the
// double-rounding variant, TFLITE_SINGLE_ROUNDING unset, which TensorFlow Lite Micro
// builds by default) and gemmlowp's fixedpoint.h.

// quantizeMultiplier splits a positive real multiplier into a Q31 significand and a
// power-of-two exponent, as TFLite's QuantizeMultiplier does: frexp, then the
// significand rounded half away from zero.
func quantizeMultiplier(real float64) (int32, int) {
	if real == 0 {
		return 0, 0
	}
	q, shift := math.Frexp(real)
	qf := int64(math.Round(q * (1 << 31)))
	if qf == 1<<31 {
		qf /= 2
		shift++
	}
	if shift < -31 {
		shift = 0
		qf = 0
	}
	if shift > 30 {
		shift = 30
		qf = 1<<31 - 1
	}
	return int32(qf), shift
}

// srdhm is gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits of 2ab,
// rounded half away from zero.
func srdhm(a, b int32) int32 {
	if a == b && a == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	return int32((ab + nudge) / (1 << 31)) // Go division truncates toward zero, as C's does
}

// rdbpot is gemmlowp's RoundingDivideByPOT: x / 2^exp rounded half away from zero.
func rdbpot(x int32, exp int) int32 {
	mask := int32(int64(1)<<exp - 1)
	rem := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> exp
	if rem > threshold {
		r++
	}
	return r
}

// mulQ is TFLite's MultiplyByQuantizedMultiplier.
func mulQ(x, qm int32, shift int) int32 {
	left, right := 0, 0
	if shift > 0 {
		left = shift
	} else {
		right = -shift
	}
	return rdbpot(srdhm(x*(1<<left), qm), right)
}

// Activation functions as numbered in the schema (ActivationFunctionType).
const (
	actNone  = 0
	actRelu  = 1
	actRelu1 = 2
	actRelu6 = 3
)

// activationRange is CalculateActivationRangeQuantized for an int8 or uint8 output.
func activationRange(act uint8, typ TensorType, scale float32, zp int32) (lo, hi int32, ok bool) {
	lo, hi = -128, 127
	if typ == Uint8 {
		lo, hi = 0, 255
	}
	q := func(v float32) int32 { return zp + int32(math.Round(float64(v/scale))) }
	switch act {
	case actNone:
	case actRelu:
		lo = max(lo, q(0))
	case actRelu6:
		lo = max(lo, q(0))
		hi = min(hi, q(6))
	case actRelu1:
		lo = max(lo, q(-1))
		hi = min(hi, q(1))
	default:
		return 0, 0, false
	}
	return lo, hi, true
}

// logisticQ4 is gemmlowp's logistic for a Q4.27 input, giving a Q0.31 result.
func logisticQ4(a int32) int32 {
	if a == 0 {
		return 1 << 30
	}
	abs := a
	if a < 0 {
		abs = -a
	}
	pos := oneOverOnePlusX(expOnNegativeQ4(-abs))
	if a > 0 {
		return pos
	}
	return math.MaxInt32 - pos
}

// expOnNegativeQ4 is gemmlowp's exp_on_negative_values for 4 integer bits.
func expOnNegativeQ4(a int32) int32 {
	const intBits = 4
	const fracBits = 31 - intBits
	const quarter = int32(1) << (fracBits - 2)
	amq := (a & (quarter - 1)) - quarter
	// Rescale<0> of a Q4 value: saturating multiply by 2^4.
	result := expQuarter(satShiftLeft(amq, intBits))
	rem := amq - a
	barrel := [...]struct {
		exp int
		mul int32
	}{{-2, 1672461947}, {-1, 1302514674}, {0, 790015084}, {1, 290630308}, {2, 39332535}, {3, 720401}, {4, 242}}
	for _, b := range barrel {
		if intBits > b.exp && rem&(1<<(fracBits+b.exp)) != 0 {
			result = srdhm(result, b.mul)
		}
	}
	if a == 0 {
		return math.MaxInt32
	}
	return result
}

// expQuarter is exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31).
func expQuarter(a int32) int32 {
	const constantTerm = 1895147668
	const oneThird = 715827883
	x := a + 1<<28
	x2 := srdhm(x, x)
	x3 := srdhm(x2, x)
	x4 := srdhm(x2, x2)
	x4q := rdbpot(x4, 2)
	poly := rdbpot(srdhm(x4q+x3, oneThird)+x2, 1)
	return constantTerm + srdhm(constantTerm, x+poly)
}

// oneOverOnePlusX is one_over_one_plus_x_for_x_in_0_1: 1/(1+a) for a Q0.31 a in [0,1),
// by three Newton-Raphson steps in Q2.29.
func oneOverOnePlusX(a int32) int32 {
	half := roundingHalfSum(a, math.MaxInt32)
	const c48over17 = 1515870810
	const cNeg32over17 = -1010580540
	const oneQ2 = int32(1) << 29
	x := c48over17 + srdhm(half, cNeg32over17)
	for range 3 {
		hx := srdhm(half, x)
		omh := oneQ2 - hx
		x += satShiftLeft(srdhm(x, omh), 2)
	}
	// x ≈ 2/(1+a) in Q2.29; the same raw value read as Q1.30 is 1/(1+a), rescaled to Q0.31.
	return satShiftLeft(x, 1)
}

func roundingHalfSum(a, b int32) int32 {
	s := int64(a) + int64(b)
	sign := int64(1)
	if s < 0 {
		sign = -1
	}
	return int32((s + sign) / 2)
}

// satShiftLeft is SaturatingRoundingMultiplyByPOT for a positive exponent.
func satShiftLeft(x int32, exp int) int32 {
	threshold := int32(1)<<(31-exp) - 1
	switch {
	case x > threshold:
		return math.MaxInt32
	case x < -threshold:
		return math.MinInt32
	}
	return x << exp
}
