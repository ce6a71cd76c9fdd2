package tflite

import (
	"fmt"
)

// TensorType is the element type of a tensor, numbered as in the TFLite schema.
type TensorType uint8

// The tensor types these models use.
const (
	Float32  TensorType = 0
	Int32    TensorType = 2
	Uint8    TensorType = 3
	Int64    TensorType = 4
	Bool     TensorType = 6
	Int16    TensorType = 7
	Int8     TensorType = 9
	Resource TensorType = 13
)

func (t TensorType) size() int {
	switch t {
	case Float32, Int32:
		return 4
	case Int64:
		return 8
	case Int16:
		return 2
	case Uint8, Int8, Bool:
		return 1
	}
	return 0
}

func (t TensorType) String() string {
	switch t {
	case Float32:
		return "float32"
	case Int32:
		return "int32"
	case Uint8:
		return "uint8"
	case Int64:
		return "int64"
	case Bool:
		return "bool"
	case Int16:
		return "int16"
	case Int8:
		return "int8"
	case Resource:
		return "resource"
	}
	return fmt.Sprintf("type%d", uint8(t))
}

// Builtin operator codes from the TFLite schema (BuiltinOperator).
const (
	opAdd            = 0
	opAveragePool2D  = 1
	opConcatenation  = 2
	opConv2D         = 3
	opDepthwiseConv  = 4
	opFullyConnected = 9
	opLogistic       = 14
	opMaxPool2D      = 17
	opMul            = 18
	opReshape        = 22
	opPad            = 34
	opMean           = 40
	opStridedSlice   = 45
	opPack           = 83
	opSplitV         = 102
	opQuantize       = 114
	opCallOnce       = 129
	opVarHandle      = 142
	opReadVariable   = 143
	opAssignVariable = 144
)

var opNames = map[int32]string{
	opAdd: "ADD", opAveragePool2D: "AVERAGE_POOL_2D", opConcatenation: "CONCATENATION",
	opConv2D: "CONV_2D", opDepthwiseConv: "DEPTHWISE_CONV_2D", opFullyConnected: "FULLY_CONNECTED",
	opLogistic: "LOGISTIC", opMaxPool2D: "MAX_POOL_2D", opMul: "MUL", opReshape: "RESHAPE",
	opPad: "PAD", opMean: "MEAN", opStridedSlice: "STRIDED_SLICE", opPack: "PACK", opSplitV: "SPLIT_V",
	opQuantize: "QUANTIZE", opCallOnce: "CALL_ONCE", opVarHandle: "VAR_HANDLE",
	opReadVariable: "READ_VARIABLE", opAssignVariable: "ASSIGN_VARIABLE",
}

func opName(code int32) string {
	if n, ok := opNames[code]; ok {
		return n
	}
	return fmt.Sprintf("builtin %d", code)
}

// Limits that keep a corrupt or hostile file from allocating without bound; the wake
// word models are far below them (their largest tensor has 15,360 elements).
const (
	maxTensorElems = 1 << 22
	maxModelElems  = 1 << 24
)

// tensorDef is a tensor as the file describes it.
type tensorDef struct {
	name     string
	typ      TensorType
	shape    []int
	data     []byte // constant contents, nil for activations and variables
	scale    []float32
	zero     []int64
	qdim     int
	variable bool
}

// opDef is an operator as the file describes it.
type opDef struct {
	code    int32
	inputs  []int32
	outputs []int32
	opts    table
	hasOpts bool
}

type subgraphDef struct {
	name    string
	tensors []tensorDef
	inputs  []int32
	outputs []int32
	ops     []opDef
}

type modelDef struct {
	version   uint32
	subgraphs []subgraphDef
}

// parseModel reads the parts of a .tflite flatbuffer that inference needs.
func parseModel(b []byte) (*modelDef, error) {
	if len(b) < 8 || string(b[4:8]) != "TFL3" {
		return nil, fmt.Errorf("tflite: not a TFLite model (no TFL3 identifier)")
	}
	fb := &fbuf{b: b}
	root, err := fb.root()
	if err != nil {
		return nil, fmt.Errorf("tflite: model root: %w", err)
	}
	m := &modelDef{}
	if m.version, err = root.u32(0, 0); err != nil {
		return nil, err
	}
	if m.version != 3 {
		return nil, fmt.Errorf("tflite: schema version %d, want 3", m.version)
	}
	codesT, err := root.tables(1)
	if err != nil {
		return nil, fmt.Errorf("tflite: operator codes: %w", err)
	}
	codes := make([]int32, len(codesT))
	for i, c := range codesT {
		dep, err := c.u8(0, 0)
		if err != nil {
			return nil, err
		}
		bc, err := c.i32(3, 0)
		if err != nil {
			return nil, err
		}
		// Old files only set the deprecated byte; new ones set both (the byte saturates at 127).
		codes[i] = max(bc, int32(int8(dep)))
	}
	bufsT, err := root.tables(4)
	if err != nil {
		return nil, fmt.Errorf("tflite: buffers: %w", err)
	}
	bufs := make([][]byte, len(bufsT))
	for i, bt := range bufsT {
		if bufs[i], err = bt.bytes(0); err != nil {
			return nil, fmt.Errorf("tflite: buffer %d: %w", i, err)
		}
		if off, _ := bt.u32(1, 0); off != 0 {
			return nil, fmt.Errorf("tflite: buffer %d stored outside the flatbuffer: unsupported", i)
		}
	}
	sgsT, err := root.tables(2)
	if err != nil {
		return nil, fmt.Errorf("tflite: subgraphs: %w", err)
	}
	if len(sgsT) == 0 {
		return nil, fmt.Errorf("tflite: model has no subgraph")
	}
	for si, st := range sgsT {
		sg, err := parseSubgraph(st, codes, bufs)
		if err != nil {
			return nil, fmt.Errorf("tflite: subgraph %d: %w", si, err)
		}
		m.subgraphs = append(m.subgraphs, sg)
	}
	return m, nil
}

func parseSubgraph(st table, codes []int32, bufs [][]byte) (subgraphDef, error) {
	var sg subgraphDef
	var err error
	if sg.name, err = st.str(4); err != nil {
		return sg, err
	}
	tensT, err := st.tables(0)
	if err != nil {
		return sg, fmt.Errorf("tensors: %w", err)
	}
	total := 0
	for ti, tt := range tensT {
		var td tensorDef
		shape, err := tt.ints(0)
		if err != nil {
			return sg, fmt.Errorf("tensor %d shape: %w", ti, err)
		}
		n := 1
		for _, d := range shape {
			if d < 0 {
				return sg, fmt.Errorf("tensor %d: dynamic shape %v unsupported", ti, shape)
			}
			n *= int(d)
			if n > maxTensorElems {
				return sg, fmt.Errorf("tensor %d: shape %v larger than %d elements", ti, shape, maxTensorElems)
			}
			td.shape = append(td.shape, int(d))
		}
		total += n
		if total > maxModelElems {
			return sg, fmt.Errorf("tensors larger than %d elements in all", maxModelElems)
		}
		typ, err := tt.u8(1, 0)
		if err != nil {
			return sg, err
		}
		td.typ = TensorType(typ)
		bi, err := tt.u32(2, 0)
		if err != nil {
			return sg, err
		}
		if int(bi) >= len(bufs) {
			return sg, fmt.Errorf("tensor %d: buffer %d of %d", ti, bi, len(bufs))
		}
		td.data = bufs[bi]
		if td.name, err = tt.str(3); err != nil {
			return sg, err
		}
		if q, ok, err := tt.table(4); err != nil {
			return sg, fmt.Errorf("tensor %d quantization: %w", ti, err)
		} else if ok {
			if td.scale, err = q.floats(2); err != nil {
				return sg, err
			}
			if td.zero, err = q.longs(3); err != nil {
				return sg, err
			}
			qd, err := q.i32(6, 0)
			if err != nil {
				return sg, err
			}
			td.qdim = int(qd)
		}
		v, err := tt.u8(5, 0)
		if err != nil {
			return sg, err
		}
		td.variable = v != 0
		if td.data != nil && td.typ.size() > 0 && len(td.data) != td.typ.size()*numElems(td.shape) {
			return sg, fmt.Errorf("tensor %d (%s): %d bytes of data for shape %v %s", ti, td.name, len(td.data), td.shape, td.typ)
		}
		sg.tensors = append(sg.tensors, td)
	}
	if sg.inputs, err = st.ints(1); err != nil {
		return sg, err
	}
	if sg.outputs, err = st.ints(2); err != nil {
		return sg, err
	}
	opsT, err := st.tables(3)
	if err != nil {
		return sg, fmt.Errorf("operators: %w", err)
	}
	check := func(idx []int32) error {
		for _, i := range idx {
			if i < -1 || int(i) >= len(sg.tensors) {
				return fmt.Errorf("tensor index %d of %d", i, len(sg.tensors))
			}
		}
		return nil
	}
	if err := check(sg.inputs); err != nil {
		return sg, err
	}
	if err := check(sg.outputs); err != nil {
		return sg, err
	}
	for oi, ot := range opsT {
		var od opDef
		ci, err := ot.u32(0, 0)
		if err != nil {
			return sg, err
		}
		if int(ci) >= len(codes) {
			return sg, fmt.Errorf("operator %d: opcode index %d of %d", oi, ci, len(codes))
		}
		od.code = codes[ci]
		if od.inputs, err = ot.ints(1); err != nil {
			return sg, err
		}
		if od.outputs, err = ot.ints(2); err != nil {
			return sg, err
		}
		if err := check(od.inputs); err != nil {
			return sg, fmt.Errorf("operator %d: %w", oi, err)
		}
		if err := check(od.outputs); err != nil {
			return sg, fmt.Errorf("operator %d: %w", oi, err)
		}
		if od.opts, od.hasOpts, err = ot.table(4); err != nil {
			return sg, fmt.Errorf("operator %d options: %w", oi, err)
		}
		sg.ops = append(sg.ops, od)
	}
	return sg, nil
}

func numElems(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
