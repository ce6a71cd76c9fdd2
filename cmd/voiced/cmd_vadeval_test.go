package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/voiced-project/voiced/internal/vad/vadeval"
)

// writeTestWAV writes 16 kHz mono PCM16: noise, with a 220 Hz buzz from 1 s to 2 s.
func writeTestWAV(t *testing.T, path string, secs int) {
	t.Helper()
	n := 16000 * secs
	var data bytes.Buffer
	seed := uint32(1)
	for i := 0; i < n; i++ {
		seed = seed*1664525 + 1013904223
		x := float64(int32(seed)>>20) / 8 // about ±256
		if ts := float64(i) / 16000; ts >= 1 && ts < 2 {
			for h := 1; h <= 15; h++ {
				x += 3000 / float64(h) * math.Sin(2*math.Pi*220*float64(h)*ts)
			}
		}
		binary.Write(&data, binary.LittleEndian, int16(max(-32768, min(32767, x))))
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data.Len()))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(16000), uint32(32000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data.Len()))
	b.Write(data.Bytes())
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVADEvalCommand(t *testing.T) {
	dir := t.TempDir()
	writeTestWAV(t, filepath.Join(dir, "tts_clean.wav"), 3)
	writeTestWAV(t, filepath.Join(dir, "real_clean.wav"), 3)
	writeTestWAV(t, filepath.Join(dir, "echo_x.wav"), 3)
	labels := "file\tstart_ms\tend_ms\ntts_clean.wav\t1000\t2000\nreal_clean.wav\t1000\t2000\necho_x.wav\t1000\t2000\n"
	if err := os.WriteFile(filepath.Join(dir, "labels.tsv"), []byte(labels), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, engine := range []string{"classic", "silero"} {
		t.Run(engine, func(t *testing.T) { checkVADEval(t, dir, engine) })
	}
}

func checkVADEval(t *testing.T, dir, engine string) {
	var out, errOut bytes.Buffer
	if code := mainRun([]string{"vad-eval", "-config", filepath.Join(dir, "none.yaml"), "-engine", engine, dir}, &out, &errOut); code != 1 {
		t.Fatalf("vad-eval with a missing -config: exit %d, want 1", code)
	}
	out.Reset()
	if code := mainRun([]string{"vad-eval", "-engine", engine, dir}, &out, &errOut); code != 0 {
		t.Fatalf("vad-eval exit %d, stderr %q", code, errOut.String())
	}
	head := map[string]string{"classic": "VAD sensitivity 1, hangover 20 ms, no lookahead", "silero": "VAD silero v6.2, on 0.50 off 0.35, no hangover, asleep while the classic detector (sensitivity 1) hears nothing; lookahead 32 ms"}[engine]
	if !strings.HasPrefix(out.String(), head) {
		t.Errorf("output starts %q, want %q", strings.SplitN(out.String(), "\n", 2)[0], head)
	}
	if got := strings.Contains(out.String(), "\nwithout lookahead"); got != (engine == "silero") {
		t.Errorf("line without lookahead printed: %v, want %v", got, engine == "silero")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !regexp.MustCompile(`^pooled F1 [01]\.\d{3} false-alarm [01]\.\d{3} frames 600$`).MatchString(last) {
		t.Errorf("last line %q, want pooled F1 0.xxx false-alarm 0.xxx frames 600 (two files of 300 frames, echo left out)", last)
	}
	for _, want := range []string{"tts_clean.wav", "real_clean.wav", "\nclean ", "echo_x.wav: echo-only frames flagged"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestVADEvalCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no directory", []string{"vad-eval"}, 2},
		{"two directories", []string{"vad-eval", "a", "b"}, 2},
		{"bad flag", []string{"vad-eval", "-nope", "a"}, 2},
		{"bad sensitivity", []string{"vad-eval", "-sensitivity", "9", t.TempDir()}, 2},
		{"bad engine", []string{"vad-eval", "-engine", "webrtc", t.TempDir()}, 2},
		{"no labels", []string{"vad-eval", t.TempDir()}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := mainRun(tt.args, &out, &errOut); code != tt.code {
				t.Errorf("mainRun(%q) = %d, want %d (stderr %q)", tt.args, code, tt.code, errOut.String())
			}
			if errOut.Len() == 0 {
				t.Errorf("mainRun(%q) said nothing on stderr", tt.args)
			}
		})
	}
}

func TestWriteVADReport(t *testing.T) {
	rep := &vadeval.Report{
		Files: []vadeval.FileResult{
			{File: "real_pink5.wav", Counts: vadeval.Counts{TP: 8, FP: 1, FN: 2, TN: 9}},
			{File: "tts_pink5.wav", Counts: vadeval.Counts{TP: 2, FP: 1, FN: 0, TN: 7}},
			{File: "echo_bargein.wav", Echo: true, EchoOnly: 40, EchoFlagged: 0.9, EchoGuardMeasured: true, EchoGuardFlagged: 0.05, EchoGuardRecall: 0.2},
		},
		Pooled: vadeval.Counts{TP: 10, FP: 2, FN: 2, TN: 16},
	}
	var b bytes.Buffer
	writeVADReport(&b, rep)
	out := b.String()
	// pink5 pooled over both files: TP 10 FP 2 FN 2 TN 16: P = R = F1 = 10/12, FA = 2/18.
	for _, want := range []string{
		"pink5                     0.833  0.833  0.833  0.111       30\n",
		"echo_bargein.wav: echo-only frames flagged 0.900 of 40; with the echo guard on while the device speaks 0.050 (user speech recall 0.200) (not pooled)\n",
		"\npooled F1 0.833 false-alarm 0.111 frames 30\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasSuffix(out, "pooled F1 0.833 false-alarm 0.111 frames 30\n") {
		t.Errorf("report does not end with the pooled line:\n%s", out)
	}
}
