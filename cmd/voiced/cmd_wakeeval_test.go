package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writeSpeechWAV writes the "okay nabu, what time is it" fixture of internal/wakeword
// after 1.5 s of silence, as a 16 kHz mono WAV.
func writeSpeechWAV(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile("../../internal/wakeword/testdata/speech.raw")
	if err != nil {
		t.Fatal(err)
	}
	data := append(make([]byte, 2*24000), raw...)
	data = append(data, make([]byte, 2*16000)...)
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(16000), uint32(32000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWakeEvalCommand(t *testing.T) {
	dir := t.TempDir()
	writeSpeechWAV(t, filepath.Join(dir, "okay.wav"))
	tsv := "okay.wav\tokay_nabu\t1500\t2500\n"
	if err := os.WriteFile(filepath.Join(dir, "wake.tsv"), []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := mainRun([]string{"wake-eval", "--words", "okay_nabu,alexa:0.8", dir}, &out, &errOut); code != 0 {
		t.Fatalf("wake-eval exit %d, stderr %q", code, errOut.String())
	}
	text := out.String()
	if !regexp.MustCompile(`(?m)^okay_nabu +1 +1 +0\.000 +0 `).MatchString(text) || !regexp.MustCompile(`(?m)^alexa +0 +0 `).MatchString(text) {
		t.Errorf("table:\n%s", text)
	}
	if !strings.HasSuffix(text, "false-reject 0.000 false-accepts-per-hour 0.00 hours 0.00\n") {
		t.Errorf("last line of %q", text)
	}
}

func TestWakeEvalUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"no directory", []string{"wake-eval"}, 2},
		{"unknown word", []string{"wake-eval", "--words", "hey_siri", t.TempDir()}, 2},
		{"bad cutoff", []string{"wake-eval", "--words", "alexa:x", t.TempDir()}, 2},
		{"cutoff out of range", []string{"wake-eval", "--words", "alexa:1.5", t.TempDir()}, 2},
		{"no wake.tsv", []string{"wake-eval", t.TempDir()}, 1},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		if code := mainRun(c.args, &out, &errOut); code != c.code {
			t.Errorf("%s: exit %d, want %d (stderr %q)", c.name, code, c.code, errOut.String())
		}
	}
}
