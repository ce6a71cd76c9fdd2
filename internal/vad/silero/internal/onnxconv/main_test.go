package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestReproducesWeights converts the shared model and compares the result with
// the committed blob, so that the blob is what go generate makes.
func TestReproducesWeights(t *testing.T) {
	shared := os.Getenv("VOICED_SHARED")
	if shared == "" {
		shared = filepath.Join("..", "..", "..", "..", "..", "..", "shared")
	}
	model := filepath.Join(shared, "models", "silero-vad", "silero_vad_16k_op15.onnx")
	if _, err := os.Stat(model); err != nil {
		t.Skipf("model not reachable at %s (%v): conversion not checked", model, err)
	}
	out := filepath.Join(t.TempDir(), "weights.bin")
	if err := run(model, out, false); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "weights.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("converted %s: %d bytes differing from weights.bin (%d bytes); run go generate", model, len(got), len(want))
	}
}

func TestRejectsTruncatedModel(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "bad.onnx")
	// Field 7 (graph), length-delimited, claiming 100 bytes but holding 2.
	if err := os.WriteFile(in, []byte{7<<3 | 2, 100, 1, 2}, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(in, filepath.Join(dir, "w.bin"), false); err == nil {
		t.Error("run(truncated model) succeeded, want an error")
	}
}
