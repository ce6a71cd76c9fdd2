package tflite

import (
	"errors"
	"fmt"
	"math"
)

func (it *Interpreter) build(si int, op *opDef) (func(), error) {
	sg := it.sgs[si]
	in := func(i int) *tensor {
		if i >= len(op.inputs) || op.inputs[i] < 0 {
			return nil
		}
		return sg.tensors[op.inputs[i]]
	}
	out := func(i int) *tensor {
		if i >= len(op.outputs) || op.outputs[i] < 0 {
			return nil
		}
		return sg.tensors[op.outputs[i]]
	}
	nin, nout := len(op.inputs), len(op.outputs)
	need := func(i, o int) error {
		if nin < i || nout != o {
			return fmt.Errorf("%d inputs and %d outputs, want %d and %d", nin, nout, i, o)
		}
		for k := range i {
			if in(k) == nil {
				return fmt.Errorf("input %d missing", k)
			}
		}
		return nil
	}
	switch op.code {
	case opCallOnce:
		idx, err := op.opts.i32(0, 0)
		if err != nil || !op.hasOpts {
			return nil, fmt.Errorf("options: %v", err)
		}
		if idx <= 0 || int(idx) >= len(it.sgs) || int(idx) == si {
			return nil, fmt.Errorf("init subgraph %d of %d", idx, len(it.sgs))
		}
		return func() {
			if it.initDone[idx] {
				return
			}
			it.initDone[idx] = true
			for _, s := range it.sgs[idx].steps {
				s()
			}
		}, nil
	case opVarHandle:
		if err := need(0, 1); err != nil {
			return nil, err
		}
		container, err1 := op.opts.str(0)
		name, err2 := op.opts.str(1)
		if err := errors.Join(err1, err2); err != nil || !op.hasOpts {
			return nil, fmt.Errorf("options: %v", err)
		}
		key := container + "/" + name
		id, ok := it.varIDs[key]
		if !ok {
			id = len(it.vars)
			it.varIDs[key] = id
			it.vars = append(it.vars, nil)
		}
		out(0).varID = id
		return nil, nil
	case opReadVariable, opAssignVariable:
		var res, val *tensor
		if op.code == opReadVariable {
			if err := need(1, 1); err != nil {
				return nil, err
			}
			res, val = in(0), out(0)
		} else {
			if err := need(2, 0); err != nil {
				return nil, err
			}
			res, val = in(0), in(1)
		}
		if res.varID < 0 {
			return nil, errors.New("resource not produced by a VAR_HANDLE before it")
		}
		if val.b == nil {
			return nil, fmt.Errorf("variable of type %s unsupported", val.def.typ)
		}
		v := &it.vars[res.varID]
		if *v == nil {
			*v = make([]byte, len(val.b))
		} else if len(*v) != len(val.b) {
			return nil, fmt.Errorf("variable of %d bytes used as %d", len(*v), len(val.b))
		}
		buf, data := *v, val.b
		if op.code == opReadVariable {
			return func() { copy(data, buf) }, nil
		}
		return func() { copy(buf, data) }, nil
	case opReshape:
		if err := need(1, 1); err != nil {
			return nil, err
		}
		src, dst := in(0), out(0)
		if src.b == nil || dst.b == nil || len(src.b) != len(dst.b) {
			return nil, fmt.Errorf("reshape %v %s to %v %s", src.def.shape, src.def.typ, dst.def.shape, dst.def.typ)
		}
		return func() { copy(dst.b, src.b) }, nil
	case opConcatenation:
		return it.buildConcat(op, sg)
	case opStridedSlice:
		if err := need(4, 1); err != nil {
			return nil, err
		}
		return buildStridedSlice(op, in(0), in(1), in(2), in(3), out(0))
	case opSplitV:
		if err := need(3, nout); err != nil {
			return nil, err
		}
		outs := make([]*tensor, nout)
		for k := range outs {
			outs[k] = out(k)
		}
		return buildSplitV(in(0), in(1), in(2), outs)
	case opConv2D:
		if err := need(2, 1); err != nil {
			return nil, err
		}
		return buildConv(op, in(0), in(1), in(2), out(0), false)
	case opDepthwiseConv:
		if err := need(2, 1); err != nil {
			return nil, err
		}
		return buildConv(op, in(0), in(1), in(2), out(0), true)
	case opFullyConnected:
		if err := need(2, 1); err != nil {
			return nil, err
		}
		return buildFullyConnected(op, in(0), in(1), in(2), out(0))
	case opLogistic:
		if err := need(1, 1); err != nil {
			return nil, err
		}
		return buildLogistic(in(0), out(0))
	case opQuantize:
		if err := need(1, 1); err != nil {
			return nil, err
		}
		return buildRequantize(in(0), out(0))
	}
	return nil, errors.New("operator not supported")
}

func is8(t *tensor) bool { return t.def.typ == Int8 || t.def.typ == Uint8 }

func sameQuant(a, b *tensor) bool { return a.scale() == b.scale() && a.zero() == b.zero() }

func (it *Interpreter) buildConcat(op *opDef, sg *subgraph) (func(), error) {
	if len(op.outputs) != 1 || len(op.inputs) < 1 {
		return nil, fmt.Errorf("%d inputs and %d outputs", len(op.inputs), len(op.outputs))
	}
	axis, err := op.opts.i32(0, 0)
	if err != nil {
		return nil, err
	}
	act, err := op.opts.u8(1, 0)
	if err != nil {
		return nil, err
	}
	if act != actNone {
		return nil, fmt.Errorf("fused activation %d unsupported", act)
	}
	dst := sg.tensors[op.outputs[0]]
	rank := len(dst.def.shape)
	if axis < 0 {
		axis += int32(rank)
	}
	if axis < 0 || int(axis) >= rank || !is8(dst) {
		return nil, fmt.Errorf("axis %d of rank %d, type %s", axis, rank, dst.def.typ)
	}
	outer := numElems(dst.def.shape[:axis])
	inner := numElems(dst.def.shape[axis+1:])
	var srcs []*tensor
	total := 0
	for _, i := range op.inputs {
		s := sg.tensors[i]
		if !is8(s) || len(s.def.shape) != rank || !sameQuant(s, dst) || s.def.typ != dst.def.typ {
			return nil, fmt.Errorf("input %v %s does not match output %v %s in shape or quantisation", s.def.shape, s.def.typ, dst.def.shape, dst.def.typ)
		}
		for d := range rank {
			if d != int(axis) && s.def.shape[d] != dst.def.shape[d] {
				return nil, fmt.Errorf("input shape %v, output %v", s.def.shape, dst.def.shape)
			}
		}
		total += s.def.shape[axis]
		srcs = append(srcs, s)
	}
	if total != dst.def.shape[axis] {
		return nil, fmt.Errorf("inputs sum to %d along axis %d, output has %d", total, axis, dst.def.shape[axis])
	}
	return func() {
		o := 0
		for k := range outer {
			for _, s := range srcs {
				n := s.def.shape[axis] * inner
				copy(dst.b[o:o+n], s.b[k*n:(k+1)*n])
				o += n
			}
		}
	}, nil
}

// buildStridedSlice supports the 1- to 5-D slices of StridedSliceOptions without ellipsis
// or new axes, as TensorFlow Lite Micro does.
func buildStridedSlice(op *opDef, src, beginT, endT, strideT, dst *tensor) (func(), error) {
	o := op.opts
	beginMask, err1 := o.i32(0, 0)
	endMask, err2 := o.i32(1, 0)
	ellipsis, err3 := o.i32(2, 0)
	newAxis, err4 := o.i32(3, 0)
	shrink, err5 := o.i32(4, 0)
	offset, err6 := o.u8(5, 0)
	if err := errors.Join(err1, err2, err3, err4, err5, err6); err != nil {
		return nil, err
	}
	if ellipsis != 0 || newAxis != 0 || offset != 0 {
		return nil, errors.New("ellipsis, new-axis and offset masks unsupported")
	}
	shape := src.def.shape
	rank := len(shape)
	if rank > 5 || !is8(src) || !is8(dst) || src.def.typ != dst.def.typ || !sameQuant(src, dst) {
		return nil, fmt.Errorf("input %v %s, output %v %s", shape, src.def.typ, dst.def.shape, dst.def.typ)
	}
	if beginT.def.data == nil || endT.def.data == nil || strideT.def.data == nil {
		return nil, errors.New("begin, end and strides must be constant")
	}
	if len(beginT.i32) != rank || len(endT.i32) != rank || len(strideT.i32) != rank {
		return nil, fmt.Errorf("begin/end/strides of %d/%d/%d for rank %d", len(beginT.i32), len(endT.i32), len(strideT.i32), rank)
	}
	// Pad to 5 dimensions at the front.
	var start, stop, step, dims, stride [5]int
	for d := range 5 {
		start[d], stop[d], step[d], dims[d] = 0, 1, 1, 1
	}
	count := 1
	for k := range rank {
		d := k + 5 - rank
		n := shape[k]
		st := int(strideT.i32[k])
		if st == 0 {
			return nil, errors.New("stride 0")
		}
		b := int(beginT.i32[k])
		if beginMask&(1<<k) != 0 {
			if st > 0 {
				b = 0
			} else {
				b = n - 1
			}
		} else {
			if b < 0 {
				b += n
			}
			if st > 0 {
				b = min(max(b, 0), n)
			} else {
				b = min(max(b, -1), n-1)
			}
		}
		e := int(endT.i32[k])
		switch {
		case shrink&(1<<k) != 0:
			e = b + 1
		case endMask&(1<<k) != 0:
			if st > 0 {
				e = n
			} else {
				e = -1
			}
		default:
			if e < 0 {
				e += n
			}
			if st > 0 {
				e = min(max(e, 0), n)
			} else {
				e = min(max(e, -1), n-1)
			}
		}
		cnt := 0
		if st > 0 && e > b {
			cnt = (e - b + st - 1) / st
		} else if st < 0 && e < b {
			cnt = (b - e - st - 1) / -st
		}
		start[d], step[d], dims[d], stop[d] = b, st, n, cnt
		count *= cnt
	}
	if count != len(dst.b) {
		return nil, fmt.Errorf("slice of %d elements into output %v", count, dst.def.shape)
	}
	stride[4] = 1
	for d := 3; d >= 0; d-- {
		stride[d] = stride[d+1] * dims[d+1]
	}
	return func() {
		o := 0
		for i0 := range stop[0] {
			p0 := (start[0] + i0*step[0]) * stride[0]
			for i1 := range stop[1] {
				p1 := p0 + (start[1]+i1*step[1])*stride[1]
				for i2 := range stop[2] {
					p2 := p1 + (start[2]+i2*step[2])*stride[2]
					for i3 := range stop[3] {
						p3 := p2 + (start[3]+i3*step[3])*stride[3]
						if step[4] == 1 {
							n := stop[4]
							copy(dst.b[o:o+n], src.b[p3+start[4]:p3+start[4]+n])
							o += n
							continue
						}
						for i4 := range stop[4] {
							dst.b[o] = src.b[p3+start[4]+i4*step[4]]
							o++
						}
					}
				}
			}
		}
	}, nil
}

func buildSplitV(src, sizes, axisT *tensor, outs []*tensor) (func(), error) {
	if sizes.def.data == nil || axisT.def.data == nil || len(axisT.i32) != 1 {
		return nil, errors.New("size_splits and axis must be constant")
	}
	rank := len(src.def.shape)
	axis := int(axisT.i32[0])
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank || !is8(src) || len(sizes.i32) != len(outs) {
		return nil, fmt.Errorf("axis %d of rank %d, %d sizes for %d outputs", axis, rank, len(sizes.i32), len(outs))
	}
	total := 0
	for k, o := range outs {
		if o == nil || o.def.typ != src.def.typ || !sameQuant(o, src) || len(o.def.shape) != rank || o.def.shape[axis] != int(sizes.i32[k]) {
			return nil, fmt.Errorf("output %d does not match its split", k)
		}
		total += int(sizes.i32[k])
	}
	if total != src.def.shape[axis] {
		return nil, fmt.Errorf("splits sum to %d, axis has %d", total, src.def.shape[axis])
	}
	outer := numElems(src.def.shape[:axis])
	inner := numElems(src.def.shape[axis+1:])
	return func() {
		p := 0
		for k := range outer {
			for _, o := range outs {
				n := o.def.shape[axis] * inner
				copy(o.b[k*n:(k+1)*n], src.b[p:p+n])
				p += n
			}
		}
	}, nil
}

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
