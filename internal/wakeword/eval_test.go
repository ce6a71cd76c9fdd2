package wakeword

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/voiced-project/voiced/internal/wav"
)

func writeWAV(t *testing.T, path string, pcm []int16, rate int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wav.NewWriter(f, wav.Header{Channels: 1, Rate: rate, Bits: 16, Container: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		b[2*i], b[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// evalDir holds the speech clip labelled correctly, the same clip labelled as "alexa"
// (so its okay_nabu detection is a false accept and the alexa occurrence a miss), and
// three seconds of quiet noise.
func evalDir(t *testing.T) string {
	dir := t.TempDir()
	clip := speechClip(t)
	writeWAV(t, filepath.Join(dir, "tts/okay.wav"), clip, SampleRate)
	writeWAV(t, filepath.Join(dir, "tts/wrong.wav"), clip, SampleRate)
	writeWAV(t, filepath.Join(dir, "neg/quiet.wav"), synthSignal(3 * SampleRate)[2*SampleRate:], SampleRate)
	tsv := "# file\tword\tstart_ms\tend_ms\n" +
		"tts/okay.wav\tokay_nabu\t1500\t2500\n" +
		"tts/wrong.wav\talexa\t1500\t2500\n" +
		"neg/quiet.wav\t-\t-\t-\n"
	if err := os.WriteFile(filepath.Join(dir, "wake.tsv"), []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestEval(t *testing.T) {
	dir := evalDir(t)
	rep, err := Eval(dir, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []WordScore{
		{Word: "okay_nabu", Occurrences: 1, Hits: 1, FalseAccepts: 1},
		{Word: "alexa", Occurrences: 1, Hits: 0, FalseAccepts: 0},
	}
	if len(rep.Words) != 2 || rep.Words[0] != want[0] || rep.Words[1] != want[1] {
		t.Errorf("words %+v, want %+v", rep.Words, want)
	}
	if rep.Files != 3 {
		t.Errorf("files %d, want 3", rep.Files)
	}
	secs := float64(2*len(speechClip(t))+SampleRate) / SampleRate
	if got := rep.Hours * 3600; got < secs-0.01 || got > secs+0.01 {
		t.Errorf("hours %g (%g s), want %g s", rep.Hours, got, secs)
	}
	if fr := rep.FalseRejectRate(); fr != 0.5 {
		t.Errorf("false-reject %g, want 0.5", fr)
	}
	if fa := rep.FalseAcceptsPerHour(); fa < 1/rep.Hours-1e-9 || fa > 1/rep.Hours+1e-9 {
		t.Errorf("false accepts per hour %g, want %g", fa, 1/rep.Hours)
	}
	if len(rep.Sources) != 2 || rep.Sources[1].Source != "tts" || rep.Sources[1].FalseAccepts != 1 || rep.Sources[1].Occurrences != 2 {
		t.Errorf("sources %+v", rep.Sources)
	}
	var out bytes.Buffer
	if err := rep.Write(&out); err != nil {
		t.Fatal(err)
	}
	last := strings.TrimSpace(out.String())
	last = last[strings.LastIndexByte(last, '\n')+1:]
	if !regexp.MustCompile(`^false-reject 0\.500 false-accepts-per-hour [0-9]+\.[0-9]{2} hours 0\.00$`).MatchString(last) {
		t.Errorf("last line %q", last)
	}

	// With only alexa listening nothing fires: the okay_nabu clip is no false accept.
	rep, err = Eval(dir, EvalOptions{Models: builtins(t, "alexa")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Words) != 1 || rep.Words[0] != (WordScore{Word: "alexa", Occurrences: 1}) {
		t.Errorf("alexa only: %+v", rep.Words)
	}
}

func TestEvalErrors(t *testing.T) {
	dir := evalDir(t)
	writeWAV(t, filepath.Join(dir, "8k.wav"), make([]int16, 8000), 8000)
	cases := []struct{ name, tsv string }{
		{"three fields", "tts/okay.wav\tokay_nabu\t1500\n"},
		{"bad start", "tts/okay.wav\tokay_nabu\tx\t2500\n"},
		{"end before start", "tts/okay.wav\tokay_nabu\t2500\t1500\n"},
		{"unknown word", "tts/okay.wav\they_siri\t1500\t2500\n"},
		{"negative with times", "neg/quiet.wav\t-\t0\t-\n"},
		{"outside dir", "../x.wav\t-\t-\t-\n"},
		{"missing file", "tts/okay.wav\tokay_nabu\t1500\t2500\nnope.wav\t-\t-\t-\n"},
		{"8 kHz", "tts/okay.wav\tokay_nabu\t1500\t2500\n8k.wav\t-\t-\t-\n"},
		{"empty", "# nothing\n"},
		{"no word, no models", "neg/quiet.wav\t-\t-\t-\n"},
	}
	for _, c := range cases {
		if err := os.WriteFile(filepath.Join(dir, "wake.tsv"), []byte(c.tsv), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Eval(dir, EvalOptions{}); err == nil {
			t.Errorf("%s: Eval succeeded, want an error", c.name)
		}
	}
	if _, err := Eval(t.TempDir(), EvalOptions{}); err == nil {
		t.Error("no wake.tsv: Eval succeeded")
	}
}

func TestEvalMissingFileNamed(t *testing.T) {
	dir := evalDir(t)
	tsv := "tts/okay.wav\tokay_nabu\t1500\t2500\nnope.wav\t-\t-\t-\n"
	if err := os.WriteFile(filepath.Join(dir, "wake.tsv"), []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Eval(dir, EvalOptions{})
	if err == nil || !strings.Contains(err.Error(), "nope.wav") {
		t.Errorf("Eval = %v, want an error naming nope.wav", err)
	}
}

// TestEvalDevsetSample scores the committed sample of the development set: each word is
// heard once, in its own file, and nothing else fires.
func TestEvalDevsetSample(t *testing.T) {
	rep, err := Eval("../../test/wakeword/devset-sample", EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Words) != 4 {
		t.Fatalf("words %+v, want the four built-ins", rep.Words)
	}
	for _, w := range rep.Words {
		if w.Occurrences != 1 || w.Hits != 1 || w.FalseAccepts != 0 {
			t.Errorf("%s: %+v, want one occurrence heard and no false accept", w.Word, w)
		}
	}
}
