// Command onnxconv reads Silero VAD's ONNX file and writes the 16 kHz
// branch's weights as the little-endian float32 blob that package silero
// embeds.
//
// Usage, from the package directory (go generate runs it):
//
//	go run ./internal/onnxconv -in ../../../../shared/models/silero-vad/silero_vad_16k_op15.onnx -out weights.bin
//	go run ./internal/onnxconv -in MODEL -dump    # print the graph's nodes
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
)

func main() {
	in := flag.String("in", "", "the ONNX model")
	out := flag.String("out", "", "write the weight blob here")
	dump := flag.Bool("dump", false, "print the graph's nodes and initializers")
	flag.Parse()
	if err := run(*in, *out, *dump); err != nil {
		fmt.Fprintln(os.Stderr, "onnxconv:", err)
		os.Exit(1)
	}
}

func run(in, out string, dump bool) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	g, err := readModel(b)
	if err != nil {
		return fmt.Errorf("read %s: %w", in, err)
	}
	if dump {
		dumpGraph(g, "")
		return nil
	}
	if out == "" {
		return errors.New("give -out or -dump")
	}
	if err := checkSTFT(g.inits["model.stft.forward_basis_buffer"]); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	var blob []byte
	for _, w := range layout {
		t := g.inits[w.name]
		if t == nil {
			return fmt.Errorf("%s: no initializer %s", in, w.name)
		}
		if t.dtype != 1 || !slices.Equal(t.dims, w.dims) {
			return fmt.Errorf("%s: initializer %s is type %d %v, want float32 %v", in, w.name, t.dtype, t.dims, w.dims)
		}
		for _, v := range t.f32 {
			blob = binary.LittleEndian.AppendUint32(blob, math.Float32bits(v))
		}
	}
	return os.WriteFile(out, blob, 0o644)
}

// layout lists the tensors of the blob in order, as package silero reads them:
// each float32 little-endian, row-major, in the ONNX file's own shapes. The
// stateless graph around them (reflection padding, magnitude, LSTM gate order)
// is written out in package silero. The STFT basis is not among them: package
// silero computes it with an FFT, and checkSTFT makes sure that is the same.
var layout = []struct {
	name string
	dims []int64
}{
	{"model.encoder.0.reparam_conv.weight", []int64{128, 129, 3}},
	{"model.encoder.0.reparam_conv.bias", []int64{128}},
	{"model.encoder.1.reparam_conv.weight", []int64{64, 128, 3}},
	{"model.encoder.1.reparam_conv.bias", []int64{64}},
	{"model.encoder.2.reparam_conv.weight", []int64{64, 64, 3}},
	{"model.encoder.2.reparam_conv.bias", []int64{64}},
	{"model.encoder.3.reparam_conv.weight", []int64{128, 64, 3}},
	{"model.encoder.3.reparam_conv.bias", []int64{128}},
	{"model.decoder.rnn.weight_ih", []int64{512, 128}},
	{"model.decoder.rnn.weight_hh", []int64{512, 128}},
	{"model.decoder.rnn.bias_ih", []int64{512}},
	{"model.decoder.rnn.bias_hh", []int64{512}},
	{"model.decoder.decoder.2.weight", []int64{1, 128, 1}},
	{"model.decoder.decoder.2.bias", []int64{1}},
}

func dumpGraph(g *graph, indent string) {
	fmt.Printf("%sgraph %q inputs %v outputs %v\n", indent, g.name, g.inputs, g.outs)
	var names []string
	for k := range g.inits {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t := g.inits[k]
		fmt.Printf("%s  init %s dims %v type %d n=%d\n", indent, k, t.dims, t.dtype, len(t.f32)+len(t.i64))
	}
	for _, n := range g.nodes {
		var attrs []string
		for _, a := range n.attrOrdered {
			switch {
			case n.ints[a] != nil:
				attrs = append(attrs, fmt.Sprintf("%s=%v", a, n.ints[a]))
			case n.floats[a] != nil:
				attrs = append(attrs, fmt.Sprintf("%s=%v", a, n.floats[a]))
			case n.tensors[a] != nil:
				t := n.tensors[a]
				v := fmt.Sprint(t.i64)
				if len(t.f32) > 0 {
					v = fmt.Sprint(t.f32[:min(len(t.f32), 8)])
				}
				attrs = append(attrs, fmt.Sprintf("%s=tensor%v:%s", a, t.dims, v))
			case n.graphs[a] != nil:
				attrs = append(attrs, a+"=graph")
			default:
				attrs = append(attrs, fmt.Sprintf("%s=%q", a, n.strs[a]))
			}
		}
		fmt.Printf("%s%s %s(%s) -> %s  %s\n", indent, n.op, n.name, strings.Join(n.inputs, ", "), strings.Join(n.outputs, ", "), strings.Join(attrs, " "))
		for _, a := range n.attrOrdered {
			if sg := n.graphs[a]; sg != nil {
				fmt.Printf("%s  [%s]\n", indent, a)
				dumpGraph(sg, indent+"    ")
			}
		}
	}
}

// checkSTFT makes sure the STFT basis [258, 1, 256] is a periodic Hann window
// times cos(2πkn/256) for rows k < 129 and times -sin(2πkn/256) for row 129+k,
// to float32 rounding: what package silero's FFT computes.
func checkSTFT(t *tensor) error {
	if t == nil || !slices.Equal(t.dims, []int64{258, 1, 256}) || len(t.f32) != 258*256 {
		return errors.New("no STFT basis of shape [258 1 256]")
	}
	worst := 0.0
	for k := range 129 {
		for n := range 256 {
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(n)/256)
			s, c := math.Sincos(2 * math.Pi * float64(k*n%256) / 256)
			worst = max(worst, math.Abs(float64(t.f32[k*256+n])-w*c), math.Abs(float64(t.f32[(129+k)*256+n])+w*s))
		}
	}
	if worst > 1e-6 {
		return fmt.Errorf("the STFT basis is not a Hann-windowed DFT (off by up to %.3g)", worst)
	}
	return nil
}
