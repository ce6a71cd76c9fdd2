package wakeword

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/voiced-project/voiced/internal/wakeword/tflite"
)

//go:embed models/*.tflite models/*.json
var builtinFS embed.FS

// BuiltinNames lists the embedded models.
func BuiltinNames() []string {
	return []string{"alexa", "hey_jarvis", "hey_mycroft", "okay_nabu"}
}

// Model is a microWakeWord model with the settings of its JSON manifest.
type Model struct {
	// Name identifies the model: the built-in name, or the file name without extension.
	Name string
	// WakeWord is the phrase, as the manifest spells it ("Okay Nabu").
	WakeWord string
	// Cutoff is the probability (0..1) the sliding mean must exceed.
	Cutoff float64
	// Window is the number of recent probabilities averaged.
	Window int
	// File is the .tflite file it was read from; "" for a built-in model.
	File string

	tflite []byte
}

// manifest is the part of a microWakeWord v2 JSON manifest voiced reads.
type manifest struct {
	Type     string `json:"type"`
	WakeWord string `json:"wake_word"`
	Model    string `json:"model"`
	Version  int    `json:"version"`
	Micro    struct {
		ProbabilityCutoff *float64 `json:"probability_cutoff"`
		SlidingWindowSize *int     `json:"sliding_window_size"`
		FeatureStepSize   *int     `json:"feature_step_size"`
	} `json:"micro"`
}

// Builtin returns an embedded model by name.
func Builtin(name string) (*Model, error) {
	if !slices.Contains(BuiltinNames(), name) {
		return nil, fmt.Errorf("wakeword: no built-in model %q (have %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	tf, err := builtinFS.ReadFile("models/" + name + ".tflite")
	if err != nil {
		return nil, fmt.Errorf("wakeword: built-in %s: %w", name, err)
	}
	js, err := builtinFS.ReadFile("models/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("wakeword: built-in %s: %w", name, err)
	}
	return ParseModel(name, tf, js)
}

// LoadModel reads a custom model: path names the .tflite or the .json file, and the
// other is expected beside it with the same base name. Given a .json, the file its
// "model" field names in the same directory is preferred when it exists.
func LoadModel(path string) (*Model, error) {
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	jsPath, tfPath := base+".json", base+".tflite"
	js, err := os.ReadFile(jsPath)
	if err != nil {
		return nil, fmt.Errorf("wakeword: manifest of %s: %w", path, err)
	}
	if ext == ".json" {
		var m manifest
		if err := json.Unmarshal(js, &m); err == nil && m.Model != "" && filepath.Base(m.Model) == m.Model {
			if p := filepath.Join(filepath.Dir(path), m.Model); fileExists(p) {
				tfPath = p
			}
		}
	}
	tf, err := os.ReadFile(tfPath)
	if err != nil {
		return nil, fmt.Errorf("wakeword: model of %s: %w", path, err)
	}
	m, err := ParseModel(filepath.Base(base), tf, js)
	if err != nil {
		return nil, err
	}
	m.File = tfPath
	return m, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// ParseModel checks a model and its manifest. The model is loaded once here so that a bad
// file is reported when it is configured, not when audio flows.
func ParseModel(name string, tfliteData, manifestJSON []byte) (*Model, error) {
	var m manifest
	if err := json.Unmarshal(manifestJSON, &m); err != nil {
		return nil, fmt.Errorf("wakeword: %s manifest: %w", name, err)
	}
	if m.Type != "micro" {
		return nil, fmt.Errorf("wakeword: %s manifest: type %q, want \"micro\"", name, m.Type)
	}
	if m.Version != 2 {
		return nil, fmt.Errorf("wakeword: %s manifest: version %d, want 2", name, m.Version)
	}
	mc := m.Micro
	if mc.ProbabilityCutoff == nil || *mc.ProbabilityCutoff <= 0 || *mc.ProbabilityCutoff >= 1 {
		return nil, fmt.Errorf("wakeword: %s manifest: micro.probability_cutoff missing or not in (0,1)", name)
	}
	if mc.SlidingWindowSize == nil || *mc.SlidingWindowSize < 1 || *mc.SlidingWindowSize > 100 {
		return nil, fmt.Errorf("wakeword: %s manifest: micro.sliding_window_size missing or not in 1..100", name)
	}
	if mc.FeatureStepSize != nil && *mc.FeatureStepSize != 10 {
		return nil, fmt.Errorf("wakeword: %s manifest: micro.feature_step_size %d, want 10", name, *mc.FeatureStepSize)
	}
	model := &Model{Name: name, WakeWord: m.WakeWord, Cutoff: *mc.ProbabilityCutoff, Window: *mc.SlidingWindowSize, tflite: tfliteData}
	if _, err := model.interpreter(); err != nil {
		return nil, fmt.Errorf("wakeword: %s: %w", name, err)
	}
	return model, nil
}

// interpreter builds a fresh interpreter and checks the input and output the detector
// needs: int8 [1, stride, 40] in, uint8 [1, 1] out.
func (m *Model) interpreter() (*tflite.Interpreter, error) {
	it, err := tflite.New(m.tflite)
	if err != nil {
		return nil, err
	}
	in, out := it.Input(), it.Output()
	if in.Type != tflite.Int8 || len(in.Shape) != 3 || in.Shape[0] != 1 || in.Shape[1] < 1 || in.Shape[2] != Features {
		return nil, fmt.Errorf("input %s %v, want int8 [1 stride %d]", in.Type, in.Shape, Features)
	}
	if out.Type != tflite.Uint8 || len(out.Data) != 1 {
		return nil, fmt.Errorf("output %s %v, want one uint8", out.Type, out.Shape)
	}
	return it, nil
}

// WithCutoff returns a copy of m with another probability cutoff.
func (m *Model) WithCutoff(c float64) (*Model, error) {
	if c <= 0 || c >= 1 {
		return nil, fmt.Errorf("wakeword: %s: cutoff %g not in (0,1)", m.Name, c)
	}
	cp := *m
	cp.Cutoff = c
	return &cp, nil
}

// ErrNoModels is returned by NewDetector without any model.
var ErrNoModels = errors.New("wakeword: no models")
