package tflite

import (
	"encoding/binary"
	"fmt"
)

// Tensor describes a model input or output and shares its memory with the interpreter.
type Tensor struct {
	Type      TensorType
	Shape     []int
	Scale     float32
	ZeroPoint int32
	// Data holds the tensor's bytes (int8 values as their two's-complement bytes). Writing
	// to an input's Data is how a caller feeds the model.
	Data []byte
}

type tensor struct {
	def   *tensorDef
	b     []byte  // 1-byte element types
	i32   []int32 // int32 constants (bias, slice indices)
	varID int     // resource tensors: the variable they name, -1 until a VAR_HANDLE sets it
}

func (t *tensor) scale() float32 {
	if len(t.def.scale) == 0 {
		return 0
	}
	return t.def.scale[0]
}

func (t *tensor) zero() int32 {
	if len(t.def.zero) == 0 {
		return 0
	}
	return int32(t.def.zero[0])
}

type subgraph struct {
	tensors []*tensor
	steps   []func()
}

// Interpreter runs one model. It is not safe for concurrent use.
type Interpreter struct {
	m        *modelDef
	sgs      []*subgraph
	vars     [][]byte
	varIDs   map[string]int
	initDone []bool // per subgraph index, for CALL_ONCE
	in, out  *tensor
}

// New loads a .tflite model and allocates every tensor it needs; b must stay unchanged
// while the interpreter lives (constant tensors point into it). The model must have one
// input and one output, both 1-byte types.
func New(b []byte) (*Interpreter, error) {
	m, err := parseModel(b)
	if err != nil {
		return nil, err
	}
	it := &Interpreter{m: m, varIDs: map[string]int{}, initDone: make([]bool, len(m.subgraphs))}
	for si := range m.subgraphs {
		sg := &m.subgraphs[si]
		rs := &subgraph{}
		for ti := range sg.tensors {
			td := &sg.tensors[ti]
			t := &tensor{def: td, varID: -1}
			switch td.typ {
			case Int8, Uint8, Bool:
				if td.data != nil {
					t.b = td.data
				} else {
					t.b = make([]byte, numElems(td.shape))
				}
			case Int32:
				if td.data != nil {
					t.i32 = make([]int32, len(td.data)/4)
					for k := range t.i32 {
						t.i32[k] = int32(binary.LittleEndian.Uint32(td.data[4*k:]))
					}
				} else {
					t.i32 = make([]int32, numElems(td.shape))
				}
			case Resource:
			default:
				// Float and other tensors are allowed only if no supported op touches them;
				// the op builders reject them.
			}
			rs.tensors = append(rs.tensors, t)
		}
		it.sgs = append(it.sgs, rs)
	}
	// Subgraphs are built in order; VAR_HANDLE names are resolved by name across them.
	for si := range m.subgraphs {
		for oi := range m.subgraphs[si].ops {
			op := &m.subgraphs[si].ops[oi]
			step, err := it.build(si, op)
			if err != nil {
				return nil, fmt.Errorf("tflite: subgraph %d operator %d (%s): %w", si, oi, opName(op.code), err)
			}
			if step != nil {
				it.sgs[si].steps = append(it.sgs[si].steps, step)
			}
		}
	}
	main := &m.subgraphs[0]
	if len(main.inputs) != 1 || len(main.outputs) != 1 {
		return nil, fmt.Errorf("tflite: model has %d inputs and %d outputs, want 1 and 1", len(main.inputs), len(main.outputs))
	}
	it.in = it.sgs[0].tensors[main.inputs[0]]
	it.out = it.sgs[0].tensors[main.outputs[0]]
	if it.in.b == nil || it.out.b == nil {
		return nil, fmt.Errorf("tflite: input %s and output %s must be 8-bit", it.in.def.typ, it.out.def.typ)
	}
	return it, nil
}

func (t *tensor) public() Tensor {
	return Tensor{Type: t.def.typ, Shape: t.def.shape, Scale: t.scale(), ZeroPoint: t.zero(), Data: t.b}
}

// Input returns the model's input tensor.
func (it *Interpreter) Input() Tensor { return it.in.public() }

// Output returns the model's output tensor, valid after Invoke.
func (it *Interpreter) Output() Tensor { return it.out.public() }

// Invoke runs the main subgraph once.
func (it *Interpreter) Invoke() {
	for _, s := range it.sgs[0].steps {
		s()
	}
}

// Reset forgets the streaming state: the next Invoke runs the initialisation again.
func (it *Interpreter) Reset() {
	for i := range it.initDone {
		it.initDone[i] = false
	}
	for _, v := range it.vars {
		clear(v)
	}
}

// Ops lists the operators of every subgraph, for diagnostics.
func (it *Interpreter) Ops() []string {
	var out []string
	for _, sg := range it.m.subgraphs {
		for _, op := range sg.ops {
			out = append(out, opName(op.code))
		}
	}
	return out
}
