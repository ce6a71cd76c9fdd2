package tflite

import (
	"encoding/binary"
	"math"
)

// A small flatbuffer writer for tests: it lays tables out front to back, each child after
// its parent, so every uoffset points forward as the format requires.

type fbNode interface{ write(w *fbWriter) uint32 }

type fbWriter struct{ b []byte }

func (w *fbWriter) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *fbWriter) patch(at, target uint32) {
	binary.LittleEndian.PutUint32(w.b[at:], target-at)
}

// fbTable maps field index to a scalar ([]byte, little-endian) or a child node.
type fbTable map[int]any

func (t fbTable) write(w *fbWriter) uint32 {
	n := 0
	for i := range t {
		n = max(n, i+1)
	}
	w.align(4)
	vt := uint32(len(w.b))
	vtLen := 4 + 2*n
	w.b = append(w.b, make([]byte, vtLen)...)
	w.align(4)
	tpos := uint32(len(w.b))
	w.b = append(w.b, 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(w.b[tpos:], tpos-vt)
	type pend struct {
		at   uint32
		node fbNode
	}
	var pends []pend
	for i := range n {
		v, ok := t[i]
		if !ok {
			continue
		}
		off := uint32(len(w.b)) - tpos
		binary.LittleEndian.PutUint16(w.b[vt+4+2*uint32(i):], uint16(off))
		switch v := v.(type) {
		case []byte:
			w.b = append(w.b, v...)
			w.align(4)
		case fbNode:
			pends = append(pends, pend{uint32(len(w.b)), v})
			w.b = append(w.b, 0, 0, 0, 0)
		}
	}
	binary.LittleEndian.PutUint16(w.b[vt:], uint16(vtLen))
	binary.LittleEndian.PutUint16(w.b[vt+2:], uint16(uint32(len(w.b))-tpos))
	for _, p := range pends {
		w.patch(p.at, p.node.write(w))
	}
	return tpos
}

// fbBytes is a vector of raw elements (already encoded), count elements of size each.
type fbBytes struct {
	data  []byte
	count int
}

func (v fbBytes) write(w *fbWriter) uint32 {
	w.align(8)
	w.b = append(w.b, 0, 0, 0, 0) // keep the payload 8-aligned
	pos := uint32(len(w.b))
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(v.count))
	w.b = append(w.b, v.data...)
	return pos
}

type fbVec []fbNode

func (v fbVec) write(w *fbWriter) uint32 {
	w.align(4)
	pos := uint32(len(w.b))
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(len(v)))
	slots := uint32(len(w.b))
	w.b = append(w.b, make([]byte, 4*len(v))...)
	for i, n := range v {
		w.patch(slots+uint32(4*i), n.write(w))
	}
	return pos
}

func fbU8(v uint8) []byte   { return []byte{v} }
func fbI32(v int32) []byte  { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
func fbStr(s string) fbNode { return fbBytes{append([]byte(s), 0), len(s)} }
func fbInts(v ...int32) fbNode {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return fbBytes{b, len(v)}
}
func fbFloats(v ...float32) fbNode {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return fbBytes{b, len(v)}
}
func fbLongs(v ...int64) fbNode {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return fbBytes{b, len(v)}
}

func finish(root fbNode) []byte {
	w := &fbWriter{b: make([]byte, 8)}
	copy(w.b[4:], "TFL3")
	pos := root.write(w) // before indexing w.b: writing grows it
	binary.LittleEndian.PutUint32(w.b[0:], pos)
	return w.b
}

// Test model description.

type tTensor struct {
	shape    []int32
	typ      TensorType
	data     []byte // constant contents
	scale    []float32
	zero     []int64
	qdim     int32
	variable bool
}

type tOp struct {
	code    int32
	in, out []int32
	opts    fbTable
	optType uint8
}

type tGraph struct {
	tensors []tTensor
	in, out []int32
	ops     []tOp
}

func int8s(v ...int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

func int32s(v ...int32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// buildModel encodes graphs (the first is the main one) as a .tflite flatbuffer.
func buildModel(graphs ...tGraph) []byte {
	codes := map[int32]int32{}
	var codeNodes fbVec
	buffers := fbVec{fbTable{}} // buffer 0 is the empty one
	var sgs fbVec
	for _, g := range graphs {
		var tensors fbVec
		for _, t := range g.tensors {
			tt := fbTable{0: fbInts(t.shape...), 1: fbU8(uint8(t.typ)), 3: fbStr("t")}
			if t.data != nil {
				tt[2] = binary.LittleEndian.AppendUint32(nil, uint32(len(buffers)))
				buffers = append(buffers, fbTable{0: fbBytes{t.data, len(t.data)}})
			} else {
				tt[2] = binary.LittleEndian.AppendUint32(nil, 0)
			}
			if t.scale != nil {
				q := fbTable{2: fbFloats(t.scale...), 3: fbLongs(t.zero...)}
				if t.qdim != 0 {
					q[6] = fbI32(t.qdim)
				}
				tt[4] = q
			}
			if t.variable {
				tt[5] = fbU8(1)
			}
			tensors = append(tensors, tt)
		}
		var ops fbVec
		for _, o := range g.ops {
			ci, ok := codes[o.code]
			if !ok {
				ci = int32(len(codeNodes))
				codes[o.code] = ci
				dep := o.code
				if dep > 127 {
					dep = 127
				}
				codeNodes = append(codeNodes, fbTable{0: fbU8(uint8(dep)), 2: fbI32(1), 3: fbI32(o.code)})
			}
			ot := fbTable{0: binary.LittleEndian.AppendUint32(nil, uint32(ci)), 1: fbInts(o.in...), 2: fbInts(o.out...)}
			if o.opts != nil {
				ot[3] = fbU8(o.optType)
				ot[4] = o.opts
			}
			ops = append(ops, ot)
		}
		sgs = append(sgs, fbTable{0: tensors, 1: fbInts(g.in...), 2: fbInts(g.out...), 3: ops, 4: fbStr("g")})
	}
	return finish(fbTable{0: binary.LittleEndian.AppendUint32(nil, 3), 1: codeNodes, 2: sgs, 4: buffers})
}
