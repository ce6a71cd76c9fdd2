package tflite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A flatbuffer is read in place: a table is an offset into the buffer, with a vtable
// (reached by a signed offset stored at the table) giving each field's offset, or 0 when
// the field is absent. Every offset is checked against the buffer before use, so a
// corrupt file gives an error, never a panic. See
// https://flatbuffers.dev/internals/ for the layout.

var errBounds = errors.New("tflite: offset out of bounds")

type fbuf struct {
	b []byte
}

type table struct {
	fb  *fbuf
	pos uint32 // table start
	vt  uint32 // vtable start
	vtn uint16 // vtable length in bytes
}

func (f *fbuf) u32(off uint32) (uint32, error) {
	if uint64(off)+4 > uint64(len(f.b)) {
		return 0, errBounds
	}
	return binary.LittleEndian.Uint32(f.b[off:]), nil
}

func (f *fbuf) u16(off uint32) (uint16, error) {
	if uint64(off)+2 > uint64(len(f.b)) {
		return 0, errBounds
	}
	return binary.LittleEndian.Uint16(f.b[off:]), nil
}

// tableAt opens the table at pos.
func (f *fbuf) tableAt(pos uint32) (table, error) {
	soff, err := f.u32(pos)
	if err != nil {
		return table{}, err
	}
	vt := int64(pos) - int64(int32(soff))
	if vt < 0 || vt > int64(len(f.b)) {
		return table{}, errBounds
	}
	vtn, err := f.u16(uint32(vt))
	if err != nil {
		return table{}, err
	}
	if vtn < 4 || int64(vt)+int64(vtn) > int64(len(f.b)) {
		return table{}, errBounds
	}
	return table{fb: f, pos: pos, vt: uint32(vt), vtn: vtn}, nil
}

// root opens the root table of the buffer.
func (f *fbuf) root() (table, error) {
	off, err := f.u32(0)
	if err != nil {
		return table{}, err
	}
	return f.tableAt(off)
}

// field returns the absolute position of field i, or 0 if absent.
func (t table) field(i int) uint32 {
	slot := 4 + 2*i
	if slot+2 > int(t.vtn) {
		return 0
	}
	o := binary.LittleEndian.Uint16(t.fb.b[t.vt+uint32(slot):])
	if o == 0 {
		return 0
	}
	return t.pos + uint32(o)
}

func (t table) u8(i int, def uint8) (uint8, error) {
	p := t.field(i)
	if p == 0 {
		return def, nil
	}
	if int(p) >= len(t.fb.b) {
		return 0, errBounds
	}
	return t.fb.b[p], nil
}

func (t table) i32(i int, def int32) (int32, error) {
	p := t.field(i)
	if p == 0 {
		return def, nil
	}
	v, err := t.fb.u32(p)
	return int32(v), err
}

func (t table) u32(i int, def uint32) (uint32, error) {
	p := t.field(i)
	if p == 0 {
		return def, nil
	}
	return t.fb.u32(p)
}

// indirect follows the offset stored at field i.
func (t table) indirect(i int) (uint32, bool, error) {
	p := t.field(i)
	if p == 0 {
		return 0, false, nil
	}
	o, err := t.fb.u32(p)
	if err != nil {
		return 0, false, err
	}
	if uint64(p)+uint64(o) >= uint64(len(t.fb.b)) {
		return 0, false, errBounds
	}
	return p + o, true, nil
}

// table returns the sub-table at field i; ok is false when absent.
func (t table) table(i int) (table, bool, error) {
	p, ok, err := t.indirect(i)
	if !ok || err != nil {
		return table{}, ok, err
	}
	st, err := t.fb.tableAt(p)
	return st, true, err
}

// vector returns the start and length of the vector at field i, checked for elem-byte
// elements.
func (t table) vector(i int, elem int) (start uint32, n int, err error) {
	p, ok, err := t.indirect(i)
	if !ok || err != nil {
		return 0, 0, err
	}
	l, err := t.fb.u32(p)
	if err != nil {
		return 0, 0, err
	}
	if uint64(p)+4+uint64(l)*uint64(elem) > uint64(len(t.fb.b)) {
		return 0, 0, errBounds
	}
	return p + 4, int(l), nil
}

func (t table) bytes(i int) ([]byte, error) {
	s, n, err := t.vector(i, 1)
	if err != nil || n == 0 {
		return nil, err
	}
	return t.fb.b[s : s+uint32(n)], nil
}

func (t table) str(i int) (string, error) {
	b, err := t.bytes(i)
	return string(b), err
}

func (t table) ints(i int) ([]int32, error) {
	s, n, err := t.vector(i, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int32, n)
	for k := range out {
		out[k] = int32(binary.LittleEndian.Uint32(t.fb.b[s+uint32(4*k):]))
	}
	return out, nil
}

func (t table) floats(i int) ([]float32, error) {
	s, n, err := t.vector(i, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]float32, n)
	for k := range out {
		out[k] = math.Float32frombits(binary.LittleEndian.Uint32(t.fb.b[s+uint32(4*k):]))
	}
	return out, nil
}

func (t table) longs(i int) ([]int64, error) {
	s, n, err := t.vector(i, 8)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int64, n)
	for k := range out {
		out[k] = int64(binary.LittleEndian.Uint64(t.fb.b[s+uint32(8*k):]))
	}
	return out, nil
}

// tables returns the tables of the vector of tables at field i.
func (t table) tables(i int) ([]table, error) {
	s, n, err := t.vector(i, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]table, n)
	for k := range out {
		p := s + uint32(4*k)
		o, _ := t.fb.u32(p)
		if uint64(p)+uint64(o) >= uint64(len(t.fb.b)) {
			return nil, errBounds
		}
		if out[k], err = t.fb.tableAt(p + o); err != nil {
			return nil, fmt.Errorf("element %d: %w", k, err)
		}
	}
	return out, nil
}
