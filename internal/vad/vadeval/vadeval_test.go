package vadeval

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiced-project/voiced/internal/vad"
	"github.com/voiced-project/voiced/internal/vad/vadtest"
)

func TestTruthFrames(t *testing.T) {
	tests := []struct {
		name string
		segs []Segment
		n    int
		want string // one character per frame
	}{
		{"none", nil, 4, "...."},
		{"floor of both ends", []Segment{{15, 42}}, 6, ".xxx.."},
		{"exact grid", []Segment{{0, 20}}, 3, "xx."},
		{"end before next frame", []Segment{{30, 39}}, 5, "....."},
		{"two segments", []Segment{{0, 10}, {30, 50}}, 6, "x..xx."},
		{"beyond the file", []Segment{{40, 500}}, 6, "....xx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := frameString(TruthFrames(tt.segs, tt.n)); got != tt.want {
				t.Errorf("TruthFrames(%v, %d) = %q, want %q", tt.segs, tt.n, got, tt.want)
			}
		})
	}
}

func TestHeldDecisions(t *testing.T) {
	tests := []struct {
		name      string
		out       string
		lookahead int
		want      string
	}{
		{"causal: one frame late", "xx..x", 0, ".xx.."},
		{"one frame lookahead", "xx..x", 1, "xx..x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := frameString(HeldDecisions(parseFrames(tt.out), tt.lookahead)); got != tt.want {
				t.Errorf("HeldDecisions(%q, %d) = %q, want %q", tt.out, tt.lookahead, got, tt.want)
			}
		})
	}
}

func TestScoreFrames(t *testing.T) {
	// truth    x x x . . . x .
	// decision . x x x . x x .
	// TP: frames 1,2,6 = 3; FN: frame 0 = 1; FP: frames 3,5 = 2; TN: frames 4,7 = 2.
	c, err := ScoreFrames(parseFrames("xxx...x."), parseFrames(".xxx.xx."))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{TP: 3, FP: 2, FN: 1, TN: 2}); c != want {
		t.Fatalf("ScoreFrames = %+v, want %+v", c, want)
	}
	// P = 3/5, R = 3/4, F1 = 2PR/(P+R) = 0.9/1.35 = 2/3, FA = 2/4.
	for _, m := range []struct {
		name      string
		got, want float64
	}{
		{"Precision", c.Precision(), 0.6},
		{"Recall", c.Recall(), 0.75},
		{"F1", c.F1(), 2.0 / 3},
		{"FalseAlarm", c.FalseAlarm(), 0.5},
	} {
		if math.Abs(m.got-m.want) > 1e-12 {
			t.Errorf("%s = %v, want %v", m.name, m.got, m.want)
		}
	}
	if got := c.Add(Counts{TP: 1, TN: 10}); got != (Counts{TP: 4, FP: 2, FN: 1, TN: 12}) || got.Frames() != 19 {
		t.Errorf("Add = %+v (frames %d), want {4 2 1 12} (19)", got, got.Frames())
	}
	if _, err := ScoreFrames(parseFrames("x."), parseFrames("x")); err == nil {
		t.Error("ScoreFrames with different lengths: no error")
	}
	var zero Counts
	if zero.F1() != 0 || zero.FalseAlarm() != 0 || zero.Precision() != 0 {
		t.Errorf("empty counts: F1 %v FA %v P %v, want 0", zero.F1(), zero.FalseAlarm(), zero.Precision())
	}
}

func TestReadVADLabels(t *testing.T) {
	in := "file\tstart_ms\tend_ms\na.wav\t10\t200\nb.wav\t0\t50\n\na.wav\t300\t310\n"
	got, err := ReadLabels(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got["a.wav"]) != 2 || got["a.wav"][1] != (Segment{300, 310}) || got["b.wav"][0] != (Segment{0, 50}) {
		t.Errorf("ReadVADLabels = %v", got)
	}
	for _, bad := range []string{
		"file\tstart_ms\tend_ms\na.wav\t10\n",
		"a.wav\tx\t20\n",
		"a.wav\t30\t20\n",
		"a.wav\t-5\t20\n",
	} {
		if _, err := ReadLabels(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadVADLabels(%q): no error", bad)
		}
	}
}

// wavBytes builds a WAV file; extra chunks go before the data chunk.
func wavBytes(format, channels, rate, bits int, samples []int16, extra bool) []byte {
	var data bytes.Buffer
	binary.Write(&data, binary.LittleEndian, samples)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(0)) // readers must not trust it
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(format), uint16(channels),
		uint32(rate), uint32(rate * channels * bits / 8), uint16(channels * bits / 8), uint16(bits)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	if extra {
		b.WriteString("LIST")
		binary.Write(&b, binary.LittleEndian, uint32(3))
		b.WriteString("abc\x00") // odd size plus its pad byte
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data.Len()))
	b.Write(data.Bytes())
	return b.Bytes()
}

func TestReadWAVMono16(t *testing.T) {
	want := []int16{0, 1, -1, 32767, -32768}
	s, rate, err := ReadWAVMono16(bytes.NewReader(wavBytes(1, 1, 16000, 16, want, true)))
	if err != nil {
		t.Fatal(err)
	}
	if rate != 16000 || len(s) != len(want) {
		t.Fatalf("ReadWAVMono16 = %d samples at %d Hz, want %d at 16000", len(s), rate, len(want))
	}
	for i := range want {
		if s[i] != want[i] {
			t.Errorf("sample %d = %d, want %d", i, s[i], want[i])
		}
	}
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"stereo", wavBytes(1, 2, 16000, 16, want, false)},
		{"8 bits", wavBytes(1, 1, 16000, 8, want, false)},
		{"float", wavBytes(3, 1, 16000, 16, want, false)},
		{"not riff", []byte("RIFX0000WAVE")},
		{"truncated", wavBytes(1, 1, 16000, 16, want, false)[:30]},
	} {
		if _, _, err := ReadWAVMono16(bytes.NewReader(tt.b)); err == nil {
			t.Errorf("ReadWAVMono16(%s): no error", tt.name)
		}
	}
}

func TestEvaluateVAD(t *testing.T) {
	dir := t.TempDir()
	const rate = 16000
	// 3 s: noise, a 1 s voiced sound, noise. Labels say speech from 1000 to 2000 ms.
	s := vadtest.SynthVoice(rate, 3, 1, 2, 100, 3000, 1)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a_clean.wav", wavBytes(1, 1, rate, 16, s, false))
	write("echo_x.wav", wavBytes(1, 1, rate, 16, s, false))
	write("labels.tsv", []byte("file\tstart_ms\tend_ms\na_clean.wav\t1000\t2000\necho_x.wav\t1000\t2000\n"))
	rep, err := Evaluate(dir, vad.Config{Sensitivity: vad.DefaultSensitivity})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 2 || rep.Files[0].File != "a_clean.wav" || !rep.Files[1].Echo {
		t.Fatalf("files = %+v", rep.Files)
	}
	if got := rep.Pooled; got != rep.Files[0].Counts || got.Frames() != 300 {
		t.Errorf("pooled = %+v, want the non-echo file's %+v over 300 frames", got, rep.Files[0].Counts)
	}
	if c := rep.Pooled; c.Recall() < 0.9 || c.FalseAlarm() > 0.05 {
		t.Errorf("clear voice at 30 dB SNR: recall %.3f false alarms %.3f, want >= 0.9 and <= 0.05", c.Recall(), c.FalseAlarm())
	}
	// Without reference segments every unlabeled frame of an echo file counts as echo-only.
	if e := rep.Files[1]; e.EchoOnly != 200 || e.EchoGuardMeasured {
		t.Errorf("echo file: %d echo-only frames (guard measured %v), want 200 (false)", e.EchoOnly, e.EchoGuardMeasured)
	}

	write("echo_ref_segments.tsv", []byte("far\t0\t500\n"))
	rep, err = Evaluate(dir, vad.Config{Sensitivity: vad.DefaultSensitivity})
	if err != nil {
		t.Fatal(err)
	}
	if e := rep.Files[1]; e.EchoOnly != 50 || !e.EchoGuardMeasured {
		t.Errorf("echo file with reference: %d echo-only frames (guard measured %v), want 50 (true)", e.EchoOnly, e.EchoGuardMeasured)
	}

	if _, err := Evaluate(t.TempDir(), vad.Config{}); err == nil {
		t.Error("EvaluateVAD without labels.tsv: no error")
	}
	write("labels.tsv", []byte("file\tstart_ms\tend_ms\nmissing.wav\t0\t10\n"))
	if _, err := Evaluate(dir, vad.Config{}); err == nil || !strings.Contains(err.Error(), "missing.wav") {
		t.Errorf("EvaluateVAD with a missing file: error %v, want one naming missing.wav", err)
	}
}

func parseFrames(s string) []bool {
	b := make([]bool, len(s))
	for i, c := range s {
		b[i] = c == 'x'
	}
	return b
}

func frameString(b []bool) string {
	var s strings.Builder
	for _, x := range b {
		if x {
			s.WriteByte('x')
		} else {
			s.WriteByte('.')
		}
	}
	return s.String()
}

// TestEvaluateWithReference: an echo file with its reference beside it gets the
// canceller's line; the echo is the reference, 60 ms late and 10 dB down.
func TestEvaluateWithReference(t *testing.T) {
	dir := t.TempDir()
	const rate = 16000
	ref := vadtest.SynthVoice(rate, 6, 0, 6, 1500, 8000, 4) // broadband under the voice, as speech has
	mic := vadtest.SynthVoice(rate, 6, 0, 0, 30, 0, 5)
	for i := range ref {
		if j := i + rate*60/1000; j < len(mic) {
			mic[j] += ref[i] / 3
		}
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("echo_x.wav", wavBytes(1, 1, rate, 16, mic, false))
	write("echo_ref.wav", wavBytes(1, 1, rate, 16, ref, false))
	write("echo_ref_segments.tsv", []byte("far\t0\t6000\n"))
	write("labels.tsv", []byte("file\tstart_ms\tend_ms\necho_x.wav\t5990\t6000\n"))
	rep, err := Evaluate(dir, vad.Config{Sensitivity: vad.DefaultSensitivity})
	if err != nil {
		t.Fatal(err)
	}
	e := rep.Files[0]
	if !e.AECMeasured || e.ERLE < 15 || e.AECFlagged > 0.05 {
		t.Errorf("canceller on a linear echo: measured %v, ERLE %.1f dB, flagged %.3f; want true, >= 15 dB, <= 0.05", e.AECMeasured, e.ERLE, e.AECFlagged)
	}

	write("echo_ref.wav", wavBytes(1, 1, 24000, 16, ref, false))
	if _, err := Evaluate(dir, vad.Config{}); err == nil || !strings.Contains(err.Error(), "echo_ref.wav") {
		t.Errorf("reference at another rate: error %v, want one naming echo_ref.wav", err)
	}
}

func TestStepHeld(t *testing.T) {
	// 16 kHz: steps of 512 samples complete in frames 3 (512), 6 (1024), 9 (1536), 12 (2048).
	out := make([]bool, 14)
	for k := range out {
		out[k] = k >= 6 && k < 12 // the second and third steps' decisions are speech
	}
	got := StepHeld(out, 160, 16000)
	for i, g := range got {
		step := (i*160 + 80) / 512
		want := step == 1 || step == 2
		if g != want {
			t.Errorf("StepHeld frame %d (step %d) = %v, want %v", i, step, g, want)
		}
	}
}
