package wakeword

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/voiced-project/voiced/internal/wav"
)

// referenceClips are the feature files under testdata/ref: the speech clip, and one
// espeak-ng utterance of each built-in word (testdata/README tells how they were made).
var referenceClips = []string{"speech", "okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"}

// features runs the front end over pcm and returns the int8 model inputs, 40 per step.
func features(pcm []int16) []int8 {
	fe := NewFrontend()
	var out [Features]uint16
	var f []int8
	for i := 0; i+StepSamples <= len(pcm); i += StepSamples {
		if fe.Step(pcm[i:i+StepSamples], &out) {
			for _, v := range out {
				f = append(f, Int8Feature(v))
			}
		}
	}
	return f
}

// TestWriteReferenceFeatures writes the feature files the reference runtime reads.
func TestWriteReferenceFeatures(t *testing.T) {
	src := os.Getenv("WAKEWORD_WRITE_FEATURES") // directory of <word>.wav utterances
	if src == "" {
		t.Skip("set WAKEWORD_WRITE_FEATURES=DIR (holding okay_nabu.wav, ...) to rewrite testdata/ref/*.feat")
	}
	for _, clip := range referenceClips {
		var pcm []int16
		if clip == "speech" {
			pcm = speechClip(t)
		} else {
			f, err := os.Open(filepath.Join(src, clip+".wav"))
			if err != nil {
				t.Fatal(err)
			}
			pcm, _, err = wav.ReadMono16(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		feat := features(pcm)
		b := make([]byte, len(feat))
		for i, v := range feat {
			b[i] = byte(v)
		}
		if err := os.WriteFile(filepath.Join("testdata/ref", clip+".feat"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func abs(x int) int { return max(x, -x) }

func readProbs(t *testing.T, path string) []uint8 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var p []uint8
	for _, f := range strings.Fields(string(b)) {
		v, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		p = append(p, uint8(v))
	}
	return p
}

// TestAgainstTFLite runs every built-in model over the reference feature files and
// compares each probability with TensorFlow Lite's (tfjs-tflite 0.0.1-alpha.10: the
// TFLite runtime built for WASM, with its XNNPACK delegate). XNNPACK requantises
// convolutions its own way, so the int8 logit can differ by one step, which the logistic
// turns into up to 256·σ'(0)·scale ≈ 10 probability steps where the curve is steepest.
// The test requires most values identical, the rest within that bound, and the same
// sliding-window decisions except where both window sums are within 10 of the cutoff.
func TestAgainstTFLite(t *testing.T) {
	compared := 0
	for _, name := range BuiltinNames() {
		m, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, clip := range referenceClips {
			want := readProbs(t, fmt.Sprintf("testdata/ref/%s.%s.txt", clip, name))
			compared++
			b, err := os.ReadFile(filepath.Join("testdata/ref", clip+".feat"))
			if err != nil {
				t.Fatal(err)
			}
			it, err := m.interpreter()
			if err != nil {
				t.Fatal(err)
			}
			in, out := it.Input().Data, it.Output().Data
			var got []uint8
			for off := 0; off+len(in) <= len(b); off += len(in) {
				copy(in, b[off:off+len(in)])
				it.Invoke()
				got = append(got, out[0])
			}
			if len(got) != len(want) {
				t.Fatalf("%s on %s: %d outputs, reference %d", name, clip, len(got), len(want))
			}
			maxd, exact := 0, 0
			for i := range got {
				d := int(got[i]) - int(want[i])
				maxd = max(maxd, d, -d)
				if d == 0 {
					exact++
				}
			}
			t.Logf("%s on %s: %d/%d equal, max difference %d", name, clip, exact, len(got), maxd)
			if maxd > 16 || exact < len(got)*9/10 {
				t.Errorf("%s on %s: %d of %d equal, max difference %d from TFLite", name, clip, exact, len(got), maxd)
			}
			cut := int(m.Cutoff*255) * m.Window
			for i := m.Window - 1; i < len(got); i++ {
				sg, sw := 0, 0
				for k := i - m.Window + 1; k <= i; k++ {
					sg += int(got[k])
					sw += int(want[k])
				}
				// A window that sits on the cutoff may fall either way by a step.
				near := abs(sg-cut) <= 10 && abs(sw-cut) <= 10
				if (sg > cut) != (sw > cut) && !near {
					t.Errorf("%s on %s: invocation %d: window sum %d, TFLite %d, cutoff %d: decisions differ", name, clip, i, sg, sw, cut)
				}
			}
		}
	}
	if compared != len(BuiltinNames())*len(referenceClips) {
		t.Errorf("compared %d clips", compared)
	}
}
