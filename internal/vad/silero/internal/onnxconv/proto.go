package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The few ONNX messages the converter needs, read straight from the protobuf
// wire format (field numbers from onnx/onnx.proto). Unknown fields are skipped.

type graph struct {
	name   string
	nodes  []node
	inits  map[string]*tensor
	inputs []string
	outs   []string
}

type node struct {
	name, op    string
	inputs      []string
	outputs     []string
	ints        map[string][]int64
	floats      map[string][]float32
	strs        map[string]string
	tensors     map[string]*tensor
	graphs      map[string]*graph
	attrOrdered []string
}

type tensor struct {
	name  string
	dims  []int64
	dtype int32 // 1 float32, 7 int64, 9 bool, 6 int32
	f32   []float32
	i64   []int64
}

// field is one protobuf field: its number and either a varint/fixed value or
// the bytes of a length-delimited value.
type field struct {
	num  int
	wire int
	v    uint64
	b    []byte
}

var errTrunc = errors.New("onnx: truncated protobuf")

func uvarint(b []byte) (uint64, int, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, 0, errTrunc
	}
	return v, n, nil
}

// fields splits a message into its fields, in order.
func fields(b []byte) ([]field, error) {
	var out []field
	for len(b) > 0 {
		key, n, err := uvarint(b)
		if err != nil {
			return nil, err
		}
		b = b[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			f.v, n, err = uvarint(b)
			if err != nil {
				return nil, err
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return nil, errTrunc
			}
			f.v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n, err := uvarint(b)
			if err != nil {
				return nil, err
			}
			b = b[n:]
			if uint64(len(b)) < l {
				return nil, errTrunc
			}
			f.b, b = b[:l], b[l:]
		case 5:
			if len(b) < 4 {
				return nil, errTrunc
			}
			f.v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return nil, fmt.Errorf("onnx: wire type %d of field %d not supported", f.wire, f.num)
		}
		out = append(out, f)
	}
	return out, nil
}

// ints64 reads a repeated int64 field, packed or not.
func ints64(f field, dst []int64) ([]int64, error) {
	if f.wire == 0 {
		return append(dst, int64(f.v)), nil
	}
	b := f.b
	for len(b) > 0 {
		v, n, err := uvarint(b)
		if err != nil {
			return nil, err
		}
		dst, b = append(dst, int64(v)), b[n:]
	}
	return dst, nil
}

// floats32 reads a repeated float field, packed or not.
func floats32(f field, dst []float32) []float32 {
	if f.wire == 5 {
		return append(dst, math.Float32frombits(uint32(f.v)))
	}
	for b := f.b; len(b) >= 4; b = b[4:] {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b)))
	}
	return dst
}

// readModel returns the main graph of a ModelProto.
func readModel(b []byte) (*graph, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.num == 7 && f.wire == 2 {
			return readGraph(f.b)
		}
	}
	return nil, errors.New("onnx: model has no graph")
}

func readGraph(b []byte) (*graph, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	g := &graph{inits: map[string]*tensor{}}
	for _, f := range fs {
		switch f.num {
		case 1:
			n, err := readNode(f.b)
			if err != nil {
				return nil, err
			}
			g.nodes = append(g.nodes, *n)
		case 2:
			g.name = string(f.b)
		case 5:
			t, err := readTensor(f.b)
			if err != nil {
				return nil, err
			}
			g.inits[t.name] = t
		case 11, 12:
			vs, err := fields(f.b)
			if err != nil {
				return nil, err
			}
			for _, v := range vs {
				if v.num == 1 {
					if f.num == 11 {
						g.inputs = append(g.inputs, string(v.b))
					} else {
						g.outs = append(g.outs, string(v.b))
					}
				}
			}
		}
	}
	return g, nil
}

func readNode(b []byte) (*node, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	n := &node{ints: map[string][]int64{}, floats: map[string][]float32{}, strs: map[string]string{},
		tensors: map[string]*tensor{}, graphs: map[string]*graph{}}
	for _, f := range fs {
		switch f.num {
		case 1:
			n.inputs = append(n.inputs, string(f.b))
		case 2:
			n.outputs = append(n.outputs, string(f.b))
		case 3:
			n.name = string(f.b)
		case 4:
			n.op = string(f.b)
		case 5:
			if err := n.readAttr(f.b); err != nil {
				return nil, fmt.Errorf("node %s: %w", n.name, err)
			}
		}
	}
	return n, nil
}

func (n *node) readAttr(b []byte) error {
	fs, err := fields(b)
	if err != nil {
		return err
	}
	var name string
	for _, f := range fs {
		if f.num == 1 {
			name = string(f.b)
		}
	}
	n.attrOrdered = append(n.attrOrdered, name)
	for _, f := range fs {
		switch f.num {
		case 2:
			n.floats[name] = floats32(f, n.floats[name])
		case 3, 8:
			if n.ints[name], err = ints64(f, n.ints[name]); err != nil {
				return err
			}
		case 4:
			n.strs[name] = string(f.b)
		case 5:
			if n.tensors[name], err = readTensor(f.b); err != nil {
				return err
			}
		case 6:
			if n.graphs[name], err = readGraph(f.b); err != nil {
				return err
			}
		case 7:
			n.floats[name] = floats32(f, n.floats[name])
		}
	}
	return nil
}

func readTensor(b []byte) (*tensor, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	t := &tensor{}
	var raw []byte
	for _, f := range fs {
		switch f.num {
		case 1:
			if t.dims, err = ints64(f, t.dims); err != nil {
				return nil, err
			}
		case 2:
			t.dtype = int32(f.v)
		case 4:
			t.f32 = floats32(f, t.f32)
		case 7:
			if t.i64, err = ints64(f, t.i64); err != nil {
				return nil, err
			}
		case 8:
			t.name = string(f.b)
		case 9:
			raw = f.b
		}
	}
	if raw != nil {
		switch t.dtype {
		case 1:
			for ; len(raw) >= 4; raw = raw[4:] {
				t.f32 = append(t.f32, math.Float32frombits(binary.LittleEndian.Uint32(raw)))
			}
		case 7:
			for ; len(raw) >= 8; raw = raw[8:] {
				t.i64 = append(t.i64, int64(binary.LittleEndian.Uint64(raw)))
			}
		case 9:
			for _, c := range raw {
				t.i64 = append(t.i64, int64(c))
			}
		case 6:
			for ; len(raw) >= 4; raw = raw[4:] {
				t.i64 = append(t.i64, int64(int32(binary.LittleEndian.Uint32(raw))))
			}
		default:
			return nil, fmt.Errorf("onnx: tensor %s: data type %d not supported", t.name, t.dtype)
		}
	}
	return t, nil
}
