package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyModel puts the built-in okay_nabu model into dir under name (.tflite and .json).
func copyModel(t *testing.T, dir, name string) string {
	t.Helper()
	for _, ext := range []string{".tflite", ".json"} {
		b, err := os.ReadFile(filepath.Join("..", "wakeword", "models", "okay_nabu"+ext))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+ext), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, name+".tflite")
}

func TestWakeWords(t *testing.T) {
	dir := t.TempDir()
	good := copyModel(t, dir, "kitchen")
	broken := filepath.Join(dir, "broken.tflite")
	os.WriteFile(broken, []byte("not a model"), 0o600)
	os.WriteFile(filepath.Join(dir, "broken.json"), []byte(`{"type":"micro","version":2,"micro":{"probability_cutoff":0.9,"sliding_window_size":5}}`), 0o600)
	for _, tc := range []struct {
		name, doc string
		field     string // "" means valid
		msg       string // in the error
	}{
		{"default", "{}", "", ""},
		{"bare names", "wake: {mode: word, words: [okay_nabu, hey_jarvis]}", "", ""},
		{"with cutoff", "wake: {mode: both, words: [{word: alexa, cutoff: 0.8}]}", "", ""},
		{"model file", "wake: {mode: word, words: [" + good + "]}", "", ""},
		{"unknown mode", "wake: {mode: always}", "wake.mode", "vad, word, both"},
		{"unknown word", "wake: {mode: word, words: [okay_nabo]}", "wake.words[0].word", "alexa, hey_jarvis, hey_mycroft, okay_nabu"},
		{"empty list", "wake: {mode: word, words: []}", "wake.words", "at least one"},
		{"bad cutoff", "wake: {words: [{word: alexa, cutoff: 1.5}]}", "wake.words[0].cutoff", "out of range"},
		{"twice", "wake: {words: [alexa, alexa]}", "wake.words[1].word", "twice"},
		{"bad extension", "wake: {words: [/tmp/x.onnx]}", "wake.words[0].word", ".tflite or .json"},
		{"missing file", "wake: {words: [" + filepath.Join(dir, "absent.tflite") + "]}", "wake.words[0].word", "absent.json"},
		{"broken file", "wake: {words: [" + broken + "]}", "wake.words[0].word", "broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.doc))
			if err == nil {
				err = c.ValidateAt("")
			}
			if tc.field == "" {
				if err != nil {
					t.Fatalf("%s: %v, want valid", tc.doc, err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) || len(es) != 1 || es[0].Path != tc.field || !strings.Contains(es[0].Msg, tc.msg) {
				t.Fatalf("%s: %v, want one error at %s saying %q", tc.doc, err, tc.field, tc.msg)
			}
		})
	}
}

func TestLoadWakeModels(t *testing.T) {
	c, err := Parse([]byte("wake: {mode: word, words: [hey_jarvis, {word: okay_nabu, cutoff: 0.75}]}"))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.Wake.LoadWakeModels()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "hey_jarvis" || ms[1].Name != "okay_nabu" || ms[1].Cutoff != 0.75 {
		t.Fatalf("LoadWakeModels = %+v, want hey_jarvis and okay_nabu at cutoff 0.75", ms)
	}
}

// TestRemoteWakeModel: over HTTP a model file is a file like any other.
func TestRemoteWakeModel(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	inside := copyModel(t, dir, "inside")
	outside := copyModel(t, other, "outside")
	cur := Default()
	cur.Paths.AudioDirs = []string{dir}
	withWord := func(c Config, w string) Config {
		c = c.Clone()
		c.Wake.Words = append(c.Wake.Words, WakeWord{Word: w})
		return c
	}
	if err := CheckRemote(cur, withWord(cur, "hey_jarvis")); err != nil {
		t.Errorf("built-in word over HTTP: %v, want accepted", err)
	}
	if err := CheckRemote(cur, withWord(cur, inside)); err == nil || !strings.Contains(err.Error(), "http_changes") {
		t.Errorf("model file with http_changes off: %v, want refused", err)
	}
	cur.Paths.HTTPChanges = true
	if err := CheckRemote(cur, withWord(cur, inside)); err != nil {
		t.Errorf("model file under audio_dirs: %v, want accepted", err)
	}
	if err := CheckRemote(cur, withWord(cur, outside)); err == nil || !strings.Contains(err.Error(), "not under") {
		t.Errorf("model file outside audio_dirs: %v, want refused", err)
	}
	if err := CheckRemote(cur, withWord(cur, "rel/x.tflite")); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("relative model file: %v, want refused", err)
	}
	// A file the config file already names passes as it is.
	cur.Paths.HTTPChanges = false
	cur = withWord(cur, outside)
	if err := CheckRemote(cur, cur.Clone()); err != nil {
		t.Errorf("unchanged model file: %v, want accepted", err)
	}
}

func TestSetWakeWords(t *testing.T) {
	c := Default()
	if err := c.Set("wake.words=[hey_mycroft, {word: alexa, cutoff: 0.9}]"); err != nil {
		t.Fatal(err)
	}
	if len(c.Wake.Words) != 2 || c.Wake.Words[0].Word != "hey_mycroft" || c.Wake.Words[1].Cutoff != 0.9 {
		t.Fatalf("--set wake.words: %+v", c.Wake.Words)
	}
}
