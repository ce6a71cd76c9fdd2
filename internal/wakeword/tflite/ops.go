package tflite

import (
	"errors"
	"fmt"
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
