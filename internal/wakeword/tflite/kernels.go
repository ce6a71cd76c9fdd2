package tflite

import (
	"errors"
	"fmt"
	"math"
)

// channelQuant holds the per-output-channel requantisation of a convolution.
type channelQuant struct {
	mult   []int32
	shift  []int
	lo, hi int32
	outZP  int32
	inOff  int32 // minus the input zero point
}

func newChannelQuant(in, filter, out *tensor, channels int, act uint8) (*channelQuant, error) {
	fs := filter.def.scale
	if len(fs) != 1 && len(fs) != channels {
		return nil, fmt.Errorf("%d filter scales for %d channels", len(fs), channels)
	}
	for _, z := range filter.def.zero {
		if z != 0 {
			return nil, fmt.Errorf("filter zero point %d, want 0 (symmetric)", z)
		}
	}
	if in.scale() <= 0 || out.scale() <= 0 {
		return nil, errors.New("input or output not quantised")
	}
	q := &channelQuant{mult: make([]int32, channels), shift: make([]int, channels), outZP: out.zero(), inOff: -in.zero()}
	for c := range channels {
		s := fs[0]
		if len(fs) == channels {
			s = fs[c]
		}
		q.mult[c], q.shift[c] = quantizeMultiplier(float64(in.scale()) * float64(s) / float64(out.scale()))
	}
	var ok bool
	if q.lo, q.hi, ok = activationRange(act, out.def.typ, out.scale(), out.zero()); !ok {
		return nil, fmt.Errorf("fused activation %d unsupported", act)
	}
	return q, nil
}

func (q *channelQuant) output(acc int32, c int) byte {
	v := mulQ(acc, q.mult[c], q.shift[c]) + q.outZP
	v = min(max(v, q.lo), q.hi)
	return byte(v)
}

const (
	padSame  = 0
	padValid = 1
)

// outSize and padding follow TFLite's ComputeOutSize and ComputePaddingHeightWidth.
func outSize(pad uint8, in, filter, stride, dil int) int {
	eff := (filter-1)*dil + 1
	if pad == padSame {
		return (in + stride - 1) / stride
	}
	return (in + stride - eff) / stride
}

func padBefore(in, filter, stride, dil, out int) int {
	eff := (filter-1)*dil + 1
	p := ((out-1)*stride + eff - in) / 2
	return max(p, 0)
}

// buildConv builds CONV_2D and DEPTHWISE_CONV_2D for int8 NHWC tensors, per
// reference_integer_ops::ConvPerChannel and DepthwiseConvPerChannel.
func buildConv(op *opDef, in, filter, bias, out *tensor, depthwise bool) (func(), error) {
	o := op.opts
	pad, e1 := o.u8(0, 0)
	sw, e2 := o.i32(1, 0)
	sh, e3 := o.i32(2, 0)
	var mult int32 = 1
	var act uint8
	var dw, dh int32
	var e4, e5, e6, e7 error
	if depthwise {
		mult, e4 = o.i32(3, 0)
		act, e5 = o.u8(4, 0)
		dw, e6 = o.i32(5, 1)
		dh, e7 = o.i32(6, 1)
	} else {
		act, e5 = o.u8(3, 0)
		dw, e6 = o.i32(4, 1)
		dh, e7 = o.i32(5, 1)
	}
	if err := errors.Join(e1, e2, e3, e4, e5, e6, e7); err != nil || !op.hasOpts {
		return nil, fmt.Errorf("options: %v", err)
	}
	if in.def.typ != Int8 || filter.def.typ != Int8 || out.def.typ != Int8 || filter.def.data == nil {
		return nil, fmt.Errorf("types %s/%s/%s, want int8 with constant filter", in.def.typ, filter.def.typ, out.def.typ)
	}
	is, fsh, osh := in.def.shape, filter.def.shape, out.def.shape
	if len(is) != 4 || len(fsh) != 4 || len(osh) != 4 {
		return nil, fmt.Errorf("shapes %v %v %v, want 4-D", is, fsh, osh)
	}
	if sw < 1 || sh < 1 || dw < 1 || dh < 1 || pad > padValid {
		return nil, fmt.Errorf("stride %dx%d dilation %dx%d padding %d", sw, sh, dw, dh, pad)
	}
	batches, inH, inW, inC := is[0], is[1], is[2], is[3]
	fH, fW := fsh[1], fsh[2]
	outC := osh[3]
	if depthwise {
		if fsh[0] != 1 || fsh[3] != outC || mult < 1 || inC*int(mult) != outC {
			return nil, fmt.Errorf("depthwise filter %v, input %v, output %v, multiplier %d", fsh, is, osh, mult)
		}
	} else if fsh[0] != outC || fsh[3] != inC {
		return nil, fmt.Errorf("filter %v for input %v output %v", fsh, is, osh)
	}
	outH := outSize(pad, inH, fH, int(sh), int(dh))
	outW := outSize(pad, inW, fW, int(sw), int(dw))
	if osh[0] != batches || osh[1] != outH || osh[2] != outW {
		return nil, fmt.Errorf("output %v, want %dx%dx%dx%d", osh, batches, outH, outW, outC)
	}
	padH, padW := 0, 0
	if pad == padSame {
		padH = padBefore(inH, fH, int(sh), int(dh), outH)
		padW = padBefore(inW, fW, int(sw), int(dw), outW)
	}
	var b []int32
	if bias != nil {
		if bias.def.typ != Int32 || len(bias.i32) != outC {
			return nil, fmt.Errorf("bias %v %s for %d channels", bias.def.shape, bias.def.typ, outC)
		}
		b = bias.i32
	}
	q, err := newChannelQuant(in, filter, out, outC, act)
	if err != nil {
		return nil, err
	}
	x, f, y := in.b, filter.b, out.b
	strideH, strideW, dilH, dilW, dm := int(sh), int(sw), int(dh), int(dw), int(mult)
	if depthwise {
		// Accumulate all channels of one output pixel together so the inner loop walks
		// the input and filter contiguously.
		acc := make([]int32, outC)
		return func() {
			for n := range batches {
				for oy := range outH {
					for ox := range outW {
						if b != nil {
							copy(acc, b)
						} else {
							clear(acc)
						}
						for fy := range fH {
							iy := oy*strideH - padH + fy*dilH
							if iy < 0 || iy >= inH {
								continue
							}
							for fx := range fW {
								ix := ox*strideW - padW + fx*dilW
								if ix < 0 || ix >= inW {
									continue
								}
								xs := x[((n*inH+iy)*inW+ix)*inC:][:inC]
								fs := f[(fy*fW+fx)*outC:][:outC]
								if dm == 1 {
									fs = fs[:len(xs)]
									for c, xv := range xs {
										acc[c] += int32(int8(fs[c])) * (int32(int8(xv)) + q.inOff)
									}
									continue
								}
								for ic, xv := range xs {
									xi := int32(int8(xv)) + q.inOff
									for m := range dm {
										oc := ic*dm + m
										acc[oc] += int32(int8(fs[oc])) * xi
									}
								}
							}
						}
						ys := y[((n*outH+oy)*outW+ox)*outC:][:outC]
						for oc := range ys {
							ys[oc] = q.output(acc[oc], oc)
						}
					}
				}
			}
		}, nil
	}
	tapSum := filterSums(f, outC*fH*fW, inC) // per output channel and filter tap
	return func() {
		for n := range batches {
			for oy := range outH {
				for ox := range outW {
					for oc := range outC {
						var acc int32
						for fy := range fH {
							iy := oy*strideH - padH + fy*dilH
							if iy < 0 || iy >= inH {
								continue
							}
							for fx := range fW {
								ix := ox*strideW - padW + fx*dilW
								if ix < 0 || ix >= inW {
									continue
								}
								xs := x[((n*inH+iy)*inW+ix)*inC:][:inC]
								tap := (oc*fH+fy)*fW + fx
								acc += dot8(xs, f[tap*inC:][:inC]) + q.inOff*tapSum[tap]
							}
						}
						if b != nil {
							acc += b[oc]
						}
						y[((n*outH+oy)*outW+ox)*outC+oc] = q.output(acc, oc)
					}
				}
			}
		}
	}, nil
}

// dot8 is Σ x[i]·f[i] over int8 vectors of equal length. The reference kernels add the
// input offset inside the sum, Σ f·(x+off); callers add off·Σf, precomputed per output
// channel from the constant filter, which is the same int32 value.
func dot8(x, f []byte) int32 {
	f = f[:len(x)]
	var a0, a1, a2, a3 int32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a0 += int32(int8(x[i])) * int32(int8(f[i]))
		a1 += int32(int8(x[i+1])) * int32(int8(f[i+1]))
		a2 += int32(int8(x[i+2])) * int32(int8(f[i+2]))
		a3 += int32(int8(x[i+3])) * int32(int8(f[i+3]))
	}
	for ; i < len(x); i++ {
		a0 += int32(int8(x[i])) * int32(int8(f[i]))
	}
	return a0 + a1 + a2 + a3
}

// filterSums returns Σ of each row of n-element rows of an int8 filter.
func filterSums(f []byte, rows, n int) []int32 {
	s := make([]int32, rows)
	for r := range rows {
		for _, v := range f[r*n : (r+1)*n] {
			s[r] += int32(int8(v))
		}
	}
	return s
}

// buildFullyConnected follows reference_integer_ops::FullyConnected (per-tensor) and its
// per-channel variant.
func buildFullyConnected(op *opDef, in, filter, bias, out *tensor) (func(), error) {
	var act, wf, keep uint8
	var e1, e2, e3 error
	if op.hasOpts {
		act, e1 = op.opts.u8(0, 0)
		wf, e2 = op.opts.u8(1, 0)
		keep, e3 = op.opts.u8(2, 0)
	}
	_ = keep
	if err := errors.Join(e1, e2, e3); err != nil {
		return nil, err
	}
	if wf != 0 {
		return nil, fmt.Errorf("weights format %d unsupported", wf)
	}
	if in.def.typ != Int8 || filter.def.typ != Int8 || out.def.typ != Int8 || filter.def.data == nil {
		return nil, fmt.Errorf("types %s/%s/%s, want int8 with constant weights", in.def.typ, filter.def.typ, out.def.typ)
	}
	fsh := filter.def.shape
	if len(fsh) != 2 {
		return nil, fmt.Errorf("weights shape %v", fsh)
	}
	units, depth := fsh[0], fsh[1]
	if len(in.b)%depth != 0 {
		return nil, fmt.Errorf("input %v not a multiple of depth %d", in.def.shape, depth)
	}
	batches := len(in.b) / depth
	if len(out.b) != batches*units {
		return nil, fmt.Errorf("output %v, want %d values", out.def.shape, batches*units)
	}
	var b []int32
	if bias != nil {
		if bias.def.typ != Int32 || len(bias.i32) != units {
			return nil, fmt.Errorf("bias %v %s for %d units", bias.def.shape, bias.def.typ, units)
		}
		b = bias.i32
	}
	q, err := newChannelQuant(in, filter, out, units, act)
	if err != nil {
		return nil, err
	}
	x, f, y := in.b, filter.b, out.b
	fsum := filterSums(f, units, depth)
	return func() {
		for n := range batches {
			xs := x[n*depth : (n+1)*depth]
			for u := range units {
				acc := dot8(xs, f[u*depth:(u+1)*depth]) + q.inOff*fsum[u]
				if b != nil {
					acc += b[u]
				}
				y[n*units+u] = q.output(acc, u)
			}
		}
	}, nil
}

// buildLogistic follows TensorFlow Lite Micro's int8 LOGISTIC: the input rescaled to
// Q4.27, gemmlowp's fixed-point logistic, the result rounded to 1/256 steps.
func buildLogistic(in, out *tensor) (func(), error) {
	if in.def.typ != Int8 || out.def.typ != Int8 || len(in.b) != len(out.b) {
		return nil, fmt.Errorf("types %s/%s, want int8", in.def.typ, out.def.typ)
	}
	if out.zero() != -128 || out.scale() != 1.0/256 {
		return nil, fmt.Errorf("output scale %g zero point %d, want 1/256 and -128", out.scale(), out.zero())
	}
	const inputIntegerBits = 4
	real := float64(in.scale()) * float64(int64(1)<<(31-inputIntegerBits))
	frac, shift := math.Frexp(real)
	mult := int32(math.Round(frac * (1 << 31)))
	radius := int32(math.Floor(float64((1<<inputIntegerBits)-1) * float64(int64(1)<<(31-inputIntegerBits)) / float64(int64(1)<<shift)))
	zp := in.zero()
	x, y := in.b, out.b
	return func() {
		for i, xv := range x {
			v := int32(int8(xv)) - zp
			switch {
			case v <= -radius:
				y[i] = byte(0x80) // -128
			case v >= radius:
				y[i] = 127
			default:
				r := rdbpot(logisticQ4(mulQ(v, mult, shift)), 31-8) - 128
				y[i] = byte(int8(min(max(r, -128), 127)))
			}
		}
	}, nil
}

// buildRequantize is QUANTIZE between 8-bit types (reference_ops::Requantize).
func buildRequantize(in, out *tensor) (func(), error) {
	if !is8(in) || !is8(out) || len(in.b) != len(out.b) {
		return nil, fmt.Errorf("types %s to %s unsupported", in.def.typ, out.def.typ)
	}
	mult, shift := quantizeMultiplier(float64(in.scale()) / float64(out.scale()))
	same := mult == 1<<30 && shift == 1
	inZP, outZP := in.zero(), out.zero()
	lo, hi := int32(-128), int32(127)
	if out.def.typ == Uint8 {
		lo, hi = 0, 255
	}
	signedIn := in.def.typ == Int8
	x, y := in.b, out.b
	return func() {
		for i, xv := range x {
			v := int32(xv)
			if signedIn {
				v = int32(int8(xv))
			}
			if same {
				v = v + outZP - inZP
			} else {
				v = mulQ(v-inZP, mult, shift) + outZP
			}
			y[i] = byte(min(max(v, lo), hi))
		}
	}, nil
}
