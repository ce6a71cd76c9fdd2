package tflite

import (
	"bytes"
	"math"
	"os"
	"slices"
	"testing"
)

func run(t *testing.T, model []byte, in []byte) []byte {
	t.Helper()
	it, err := New(model)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	copy(it.Input().Data, in)
	it.Invoke()
	return append([]byte(nil), it.Output().Data...)
}

func q8(scale float32, zp int64) ([]float32, []int64) { return []float32{scale}, []int64{zp} }

func TestQuantizeMultiplier(t *testing.T) {
	cases := []struct {
		real  float64
		mult  int32
		shift int
	}{
		{0.5, 1 << 30, 0},
		{1, 1 << 30, 1},
		{0.75, 1610612736, 0}, // 0.75·2^31
		{0.125, 1 << 30, -2},
		{0.3, 1288490189, -1}, // 0.6·2^31 = 1288490188.8, rounded up
		{0, 0, 0},
	}
	for _, c := range cases {
		m, s := quantizeMultiplier(c.real)
		if m != c.mult || s != c.shift {
			t.Errorf("quantizeMultiplier(%g) = %d, %d, want %d, %d", c.real, m, s, c.mult, c.shift)
		}
	}
}

func TestMultiplyByQuantizedMultiplier(t *testing.T) {
	half, _ := quantizeMultiplier(0.5)
	eighth, eshift := quantizeMultiplier(0.125)
	cases := []struct {
		name  string
		x, qm int32
		shift int
		want  int32
	}{
		// srdhm(5, 2^30) = (5·2^30 + 2^30) / 2^31 = 3: +2.5 rounds away from zero.
		{"half of 5", 5, half, 0, 3},
		// gemmlowp's nudge for a negative product is 1-2^30: (-5·2^30 + 1 - 2^30)/2^31
		// truncates to -2, so -2.5 goes toward zero in the doubling multiply.
		{"half of -5", -5, half, 0, -2},
		// -12/8 = -1.5: srdhm(-12, 2^30) = -6 (the -6.0 exactly... -6.4999 truncated),
		// then the rounding shift by 2 of -6 is -1.5 rounded away from zero: -2.
		{"eighth of -12", -12, eighth, eshift, -2},
		{"eighth of 12", 12, eighth, eshift, 2},
		// 4/8 = 0.5 rounds up to 1.
		{"eighth of 4", 4, eighth, eshift, 1},
		// a left shift: 1.0 is 2^30 with shift 1.
		{"one", 1234, 1 << 30, 1, 1234},
	}
	for _, c := range cases {
		if got := mulQ(c.x, c.qm, c.shift); got != c.want {
			t.Errorf("%s: mulQ(%d, %d, %d) = %d, want %d", c.name, c.x, c.qm, c.shift, got, c.want)
		}
	}
	if got := srdhm(math.MinInt32, math.MinInt32); got != math.MaxInt32 {
		t.Errorf("srdhm(min, min) = %d, want saturation to %d", got, math.MaxInt32)
	}
	if got := rdbpot(-5, 1); got != -3 {
		t.Errorf("rdbpot(-5, 1) = %d, want -3", got)
	}
}

func conv2DOpts(pad uint8, act uint8) fbTable {
	return fbTable{0: fbU8(pad), 1: fbI32(1), 2: fbI32(1), 3: fbU8(act)}
}

// TestConv2D: input 1x1x2x2 (scale 0.5, zero point -1), two 1x1 filters with per-channel
// scales 0.25 and 0.5, bias, output scale 1 zero point 3.
//
//	pixel 0: x = (1, 3) → real (1, 2); pixel 1: x = (-1, 5) → real (0, 3)
//	channel 0: w (2, -1)·0.25, bias -12 (-1.5):   p0 acc 2·2-1·4-12 = -12 → -1.5 → -2 → 1
//	                                              p1 acc 0-6-12 = -18 → -2.25 → -2 → 1
//	channel 1: w (1, 1)·0.5, bias -2 (-0.5):      p0 acc 2+4-2 = 4 → 1 → 4
//	                                              p1 acc 0+6-2 = 4 → 1 → 4
//
// With a fused RELU the output is clamped below at the zero point, 3.
func TestConv2D(t *testing.T) {
	build := func(act uint8) []byte {
		is, iz := q8(0.5, -1)
		os, oz := q8(1, 3)
		return buildModel(tGraph{
			tensors: []tTensor{
				{shape: []int32{1, 1, 2, 2}, typ: Int8, scale: is, zero: iz},
				{shape: []int32{2, 1, 1, 2}, typ: Int8, data: int8s(2, -1, 1, 1), scale: []float32{0.25, 0.5}, zero: []int64{0, 0}, qdim: 0},
				{shape: []int32{2}, typ: Int32, data: int32s(-12, -2), scale: []float32{0.125, 0.25}, zero: []int64{0, 0}},
				{shape: []int32{1, 1, 2, 2}, typ: Int8, scale: os, zero: oz},
			},
			in: []int32{0}, out: []int32{3},
			ops: []tOp{{code: opConv2D, in: []int32{0, 1, 2}, out: []int32{3}, opts: conv2DOpts(padValid, act), optType: 1}},
		})
	}
	in := int8s(1, 3, -1, 5)
	if got, want := run(t, build(actNone), in), int8s(1, 4, 1, 4); !bytes.Equal(got, want) {
		t.Errorf("conv = %v, want %v", got, want)
	}
	if got, want := run(t, build(actRelu), in), int8s(3, 4, 3, 4); !bytes.Equal(got, want) {
		t.Errorf("conv+relu = %v, want %v", got, want)
	}
}

// TestDepthwiseConvSame: a 3x1 depthwise filter over a 3x1x2 input, SAME padding (one
// row of zeros above and below), all scales 1 so the output is the plain correlation:
//
//	c0 = (1,2,3) with (1,0,-1): (0·1 + -1·2, 1·1 + 0 - 3, 2 + 0) = (-2, -2, 2)
//	c1 = (-1,0,4) with (2,1,0): (1·-1 + 0, 2·-1 + 0 + 0, 0 + 4) = (-1, -2, 4)
func TestDepthwiseConvSame(t *testing.T) {
	one, z := q8(1, 0)
	m := buildModel(tGraph{
		tensors: []tTensor{
			{shape: []int32{1, 3, 1, 2}, typ: Int8, scale: one, zero: z},
			{shape: []int32{1, 3, 1, 2}, typ: Int8, data: int8s(1, 2, 0, 1, -1, 0), scale: []float32{1, 1}, zero: []int64{0, 0}, qdim: 3},
			{shape: []int32{1, 3, 1, 2}, typ: Int8, scale: one, zero: z},
		},
		in: []int32{0}, out: []int32{2},
		ops: []tOp{{code: opDepthwiseConv, in: []int32{0, 1, -1}, out: []int32{2}, optType: 2,
			opts: fbTable{0: fbU8(padSame), 1: fbI32(1), 2: fbI32(1), 3: fbI32(1), 4: fbU8(actNone)}}},
	})
	got := run(t, m, int8s(1, -1, 2, 0, 3, 4))
	if want := int8s(-2, -1, -2, -2, 2, 4); !bytes.Equal(got, want) {
		t.Errorf("depthwise = %v, want %v", got, want)
	}
}

// TestFullyConnected: x = (10, -20, 30)·0.1, W = ((1,2,3), (-1,0,1))·0.2, bias (5, -5)·0.02,
// output scale 0.5 zero point -10; effective scale 0.04:
//
//	unit 0: 10-40+90+5 = 65 → 2.6 → 3 → -7;  unit 1: -10+0+30-5 = 15 → 0.6 → 1 → -9
func TestFullyConnected(t *testing.T) {
	is, iz := q8(0.1, 0)
	ws, wz := q8(0.2, 0)
	os, oz := q8(0.5, -10)
	m := buildModel(tGraph{
		tensors: []tTensor{
			{shape: []int32{1, 3}, typ: Int8, scale: is, zero: iz},
			{shape: []int32{2, 3}, typ: Int8, data: int8s(1, 2, 3, -1, 0, 1), scale: ws, zero: wz},
			{shape: []int32{2}, typ: Int32, data: int32s(5, -5)},
			{shape: []int32{1, 2}, typ: Int8, scale: os, zero: oz},
		},
		in: []int32{0}, out: []int32{3},
		ops: []tOp{{code: opFullyConnected, in: []int32{0, 1, 2}, out: []int32{3}}},
	})
	if got, want := run(t, m, int8s(10, -20, 30)), int8s(-7, -9); !bytes.Equal(got, want) {
		t.Errorf("fully connected = %v, want %v", got, want)
	}
}

// TestLogistic checks the int8 logistic (input scale 0.1) at hand-computed points and,
// over all 256 inputs, against the float sigmoid to within one step:
//
//	0 → 0.5·256 - 128 = 0;  20 → σ(2)·256 = 225.48 → 97;  -20 → 30.52 → 31 → -97
//	radius: 0.1·2^27 = 0.8·2^24, so |x| ≥ floor(15·2^27/2^24) = 120 saturates.
func TestLogistic(t *testing.T) {
	is, iz := q8(0.1, 0)
	os, oz := q8(1.0/256, -128)
	m := buildModel(tGraph{
		tensors: []tTensor{
			{shape: []int32{256}, typ: Int8, scale: is, zero: iz},
			{shape: []int32{256}, typ: Int8, scale: os, zero: oz},
		},
		in: []int32{0}, out: []int32{1},
		ops: []tOp{{code: opLogistic, in: []int32{0}, out: []int32{1}}},
	})
	in := make([]byte, 256)
	for i := range in {
		in[i] = byte(i)
	}
	out := run(t, m, in)
	at := func(x int8) int8 { return int8(out[byte(x)]) }
	for _, c := range []struct{ x, want int8 }{{0, 0}, {20, 97}, {-20, -97}, {120, 127}, {127, 127}, {-120, -128}, {-128, -128}} {
		if got := at(c.x); got != c.want {
			t.Errorf("logistic(%d) = %d, want %d", c.x, got, c.want)
		}
	}
	for x := -128; x < 128; x++ {
		ref := math.Round(256/(1+math.Exp(-0.1*float64(x)))) - 128
		ref = math.Min(math.Max(ref, -128), 127)
		if d := float64(at(int8(x))) - ref; d > 1 || d < -1 {
			t.Errorf("logistic(%d) = %d, float reference %g", x, at(int8(x)), ref)
		}
	}
}

// TestQuantize: int8 to uint8, same scale (a shift of 128), and a rescale ×2 with
// clamping: 3·0.5/0.25 + 10 = 16; -10 → -20 + 10 = -10 → 0; 120 → 250.
func TestQuantize(t *testing.T) {
	build := func(is float32, iz int64, os float32, oz int64) []byte {
		return buildModel(tGraph{
			tensors: []tTensor{
				{shape: []int32{3}, typ: Int8, scale: []float32{is}, zero: []int64{iz}},
				{shape: []int32{3}, typ: Uint8, scale: []float32{os}, zero: []int64{oz}},
			},
			in: []int32{0}, out: []int32{1},
			ops: []tOp{{code: opQuantize, in: []int32{0}, out: []int32{1}}},
		})
	}
	if got, want := run(t, build(1.0/256, -128, 1.0/256, 0), int8s(-128, 0, 127)), []byte{0, 128, 255}; !bytes.Equal(got, want) {
		t.Errorf("same scale = %v, want %v", got, want)
	}
	if got, want := run(t, build(0.5, 0, 0.25, 10), int8s(3, -10, 120)), []byte{16, 0, 250}; !bytes.Equal(got, want) {
		t.Errorf("rescale = %v, want %v", got, want)
	}
}

func TestStridedSlice(t *testing.T) {
	one, z := q8(1, 0)
	build := func(begin, end, strides []int32, beginMask, endMask int32, outRows int32) []byte {
		return buildModel(tGraph{
			tensors: []tTensor{
				{shape: []int32{1, 5, 1, 2}, typ: Int8, scale: one, zero: z},
				{shape: []int32{4}, typ: Int32, data: int32s(begin...)},
				{shape: []int32{4}, typ: Int32, data: int32s(end...)},
				{shape: []int32{4}, typ: Int32, data: int32s(strides...)},
				{shape: []int32{1, outRows, 1, 2}, typ: Int8, scale: one, zero: z},
			},
			in: []int32{0}, out: []int32{4},
			ops: []tOp{{code: opStridedSlice, in: []int32{0, 1, 2, 3}, out: []int32{4}, optType: 32,
				opts: fbTable{0: fbI32(beginMask), 1: fbI32(endMask)}}},
		})
	}
	in := int8s(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	cases := []struct {
		name  string
		model []byte
		want  []byte
	}{
		{"rows 2..5", build([]int32{0, 2, 0, 0}, []int32{1, 5, 1, 2}, []int32{1, 1, 1, 1}, 0, 0, 3), int8s(4, 5, 6, 7, 8, 9)},
		{"last two", build([]int32{0, -2, 0, 0}, []int32{0, 0, 0, 0}, []int32{1, 1, 1, 1}, 0, 15, 2), int8s(6, 7, 8, 9)},
		{"every other", build([]int32{0, 0, 0, 0}, []int32{1, 5, 1, 2}, []int32{1, 2, 1, 1}, 15, 0, 3), int8s(0, 1, 4, 5, 8, 9)},
		{"reversed", build([]int32{0, -1, 0, 0}, []int32{1, -6, 1, 2}, []int32{1, -1, 1, 1}, 0, 2, 5), int8s(8, 9, 6, 7, 4, 5, 2, 3, 0, 1)},
	}
	for _, c := range cases {
		if got := run(t, c.model, in); !bytes.Equal(got, c.want) {
			t.Errorf("%s: slice = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestConcatSplitReshape chains CONCATENATION (axis 1), SPLIT_V (axis 3, sizes 1 and 1)
// and RESHAPE; the graph's output is the second split.
func TestConcatSplitReshape(t *testing.T) {
	one, z := q8(1, 0)
	m := buildModel(tGraph{
		tensors: []tTensor{
			{shape: []int32{1, 2, 1, 2}, typ: Int8, scale: one, zero: z},                      // 0 input
			{shape: []int32{1, 1, 1, 2}, typ: Int8, data: int8s(-5, -6), scale: one, zero: z}, // 1 constant
			{shape: []int32{1, 3, 1, 2}, typ: Int8, scale: one, zero: z},                      // 2 concat
			{shape: []int32{2}, typ: Int32, data: int32s(1, 1)},                               // 3 sizes
			{shape: []int32{}, typ: Int32, data: int32s(3)},                                   // 4 axis
			{shape: []int32{1, 3, 1, 1}, typ: Int8, scale: one, zero: z},                      // 5 split 0
			{shape: []int32{1, 3, 1, 1}, typ: Int8, scale: one, zero: z},                      // 6 split 1
			{shape: []int32{2}, typ: Int32, data: int32s(1, 3)},                               // 7 new shape
			{shape: []int32{1, 3}, typ: Int8, scale: one, zero: z},                            // 8 output
		},
		in: []int32{0}, out: []int32{8},
		ops: []tOp{
			{code: opConcatenation, in: []int32{0, 1}, out: []int32{2}, optType: 10, opts: fbTable{0: fbI32(1)}},
			{code: opSplitV, in: []int32{2, 3, 4}, out: []int32{5, 6}},
			{code: opReshape, in: []int32{6, 7}, out: []int32{8}},
		},
	})
	if got, want := run(t, m, int8s(1, 2, 3, 4)), int8s(2, 4, -6); !bytes.Equal(got, want) {
		t.Errorf("concat/split/reshape = %v, want %v", got, want)
	}
}

// streamModel delays its input by one invocation through a resource variable that an
// initialisation subgraph sets to (7, 8), as microWakeWord's streaming layers do.
func streamModel() []byte {
	one, z := q8(1, 0)
	varOpts := fbTable{0: fbStr(""), 1: fbStr("state")}
	return buildModel(
		tGraph{
			tensors: []tTensor{
				{shape: []int32{1, 2}, typ: Int8, scale: one, zero: z}, // 0 input
				{shape: []int32{}, typ: Resource},                      // 1 handle
				{shape: []int32{1, 2}, typ: Int8, scale: one, zero: z}, // 2 read
			},
			in: []int32{0}, out: []int32{2},
			ops: []tOp{
				{code: opCallOnce, optType: 103, opts: fbTable{0: fbI32(1)}},
				{code: opVarHandle, out: []int32{1}, optType: 111, opts: varOpts},
				{code: opReadVariable, in: []int32{1}, out: []int32{2}},
				{code: opAssignVariable, in: []int32{1, 0}},
			},
		},
		tGraph{
			tensors: []tTensor{
				{shape: []int32{}, typ: Resource},
				{shape: []int32{1, 2}, typ: Int8, data: int8s(7, 8), scale: one, zero: z},
			},
			ops: []tOp{
				{code: opVarHandle, out: []int32{0}, optType: 111, opts: varOpts},
				{code: opAssignVariable, in: []int32{0, 1}},
			},
		},
	)
}

func TestResourceVariables(t *testing.T) {
	it, err := New(streamModel())
	if err != nil {
		t.Fatal(err)
	}
	step := func(a, b int8) []byte {
		copy(it.Input().Data, int8s(a, b))
		it.Invoke()
		return append([]byte(nil), it.Output().Data...)
	}
	for i, c := range []struct {
		in   [2]int8
		want []byte
	}{{[2]int8{1, 2}, int8s(7, 8)}, {[2]int8{3, 4}, int8s(1, 2)}, {[2]int8{5, 6}, int8s(3, 4)}} {
		if got := step(c.in[0], c.in[1]); !bytes.Equal(got, c.want) {
			t.Errorf("invoke %d = %v, want %v", i, got, c.want)
		}
	}
	it.Reset()
	if got, want := step(9, 9), int8s(7, 8); !bytes.Equal(got, want) {
		t.Errorf("after Reset = %v, want the initial %v", got, want)
	}
}

func TestNewRejects(t *testing.T) {
	one, z := q8(1, 0)
	good := streamModel()
	cases := []struct {
		name  string
		model []byte
	}{
		{"empty", nil},
		{"no identifier", bytes.Repeat([]byte{0}, 16)},
		{"truncated", good[:len(good)/2]},
		{"unsupported op", buildModel(tGraph{
			tensors: []tTensor{{shape: []int32{1}, typ: Int8, scale: one, zero: z}, {shape: []int32{1}, typ: Int8, scale: one, zero: z}},
			in:      []int32{0}, out: []int32{1},
			ops: []tOp{{code: 25 /* SOFTMAX */, in: []int32{0}, out: []int32{1}}},
		})},
		{"tensor index out of range", buildModel(tGraph{
			tensors: []tTensor{{shape: []int32{1}, typ: Int8, scale: one, zero: z}},
			in:      []int32{0}, out: []int32{5},
		})},
		{"concat quantisation mismatch", buildModel(tGraph{
			tensors: []tTensor{
				{shape: []int32{1, 1}, typ: Int8, scale: one, zero: z},
				{shape: []int32{1, 1}, typ: Int8, data: int8s(1), scale: []float32{2}, zero: z},
				{shape: []int32{1, 2}, typ: Int8, scale: one, zero: z},
			},
			in: []int32{0}, out: []int32{2},
			ops: []tOp{{code: opConcatenation, in: []int32{0, 1}, out: []int32{2}, optType: 10, opts: fbTable{0: fbI32(1)}}},
		})},
	}
	for _, c := range cases {
		if _, err := New(c.model); err == nil {
			t.Errorf("%s: New succeeded, want an error", c.name)
		}
	}
}

func FuzzNew(f *testing.F) {
	f.Add(streamModel())
	if b, err := os.ReadFile("../models/hey_mycroft.tflite"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := New(b)
		if err != nil {
			return
		}
		// Whatever loads must run without panicking.
		it.Invoke()
	})
}

func TestInvokeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	it, err := New(streamModel())
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, it.Invoke); n != 0 {
		t.Errorf("Invoke allocates %v times, want 0", n)
	}
}

// TestPublishedModels loads the microWakeWord models embedded by the parent package and
// checks what the detector relies on.
func TestPublishedModels(t *testing.T) {
	want := map[string]bool{"CALL_ONCE": true, "VAR_HANDLE": true, "READ_VARIABLE": true, "ASSIGN_VARIABLE": true,
		"RESHAPE": true, "CONCATENATION": true, "STRIDED_SLICE": true, "CONV_2D": true, "DEPTHWISE_CONV_2D": true,
		"FULLY_CONNECTED": true, "LOGISTIC": true, "QUANTIZE": true, "SPLIT_V": true}
	for _, name := range []string{"okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"} {
		b, err := os.ReadFile("../models/" + name + ".tflite")
		if err != nil {
			t.Fatal(err)
		}
		it, err := New(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		in, out := it.Input(), it.Output()
		if in.Type != Int8 || !slices.Equal(in.Shape, []int{1, 3, 40}) || out.Type != Uint8 || !slices.Equal(out.Shape, []int{1, 1}) {
			t.Errorf("%s: input %s %v, output %s %v", name, in.Type, in.Shape, out.Type, out.Shape)
		}
		for _, op := range it.Ops() {
			if !want[op] {
				t.Errorf("%s: unexpected operator %s", name, op)
			}
		}
	}
}
