package wakeword

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestBuiltinFilesPinned(t *testing.T) {
	want := map[string]string{
		"LICENSE":            "c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4",
		"alexa.json":         "1d999798b35b1fe2606465b75ab840be51c1811d2909d5e620cefb6e96f8abd0",
		"alexa.tflite":       "9011a8155b04de858c48038529235cbc0e42e9fca05a55bf588cb80a653a723b",
		"hey_jarvis.json":    "b153867d818675d8abcc9dace474afe7f83551ae0d5a9b1d71a98681320185af",
		"hey_jarvis.tflite":  "21a7976add39ee24ec96c63d96b7aaa18e24d1d9824b963e451da8feb4b78b77",
		"hey_mycroft.json":   "57b2b06fe5fdbbe834a242fabc7af31e4194a550fc382b2c88636a6d62d0d57e",
		"hey_mycroft.tflite": "c2a9b6ed51182db72e014781d5a4ece1929dc232a40b5b4be384f0295f0e1571",
		"okay_nabu.json":     "6dd65604f70fe5ea9d1af73a7bf239529d1fbabc363807f45d2b22ce464ddbed",
		"okay_nabu.tflite":   "0689abe1912a95a3318a0d8cb2e67bad0cbcfe3e24dd6e050c75debddfb6f891",
	}
	files, err := os.ReadDir("models")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("models/ holds %d files, want %d", len(files), len(want))
	}
	for name, sum := range want {
		b, err := os.ReadFile(filepath.Join("models", name))
		if err != nil {
			t.Error(err)
			continue
		}
		h := sha256.Sum256(b)
		if got := hex.EncodeToString(h[:]); got != sum {
			t.Errorf("sha256(models/%s) = %s, want %s", name, got, sum)
		}
	}
}

func TestBuiltinModels(t *testing.T) {
	cases := map[string]struct {
		phrase string
		cutoff float64
	}{
		"okay_nabu": {"Okay Nabu", 0.97}, "hey_jarvis": {"Hey Jarvis", 0.97},
		"hey_mycroft": {"Hey Mycroft", 0.95}, "alexa": {"Alexa", 0.9},
	}
	for _, name := range BuiltinNames() {
		m, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		c := cases[name]
		if m.WakeWord != c.phrase || m.Cutoff != c.cutoff || m.Window != 5 || m.Name != name {
			t.Errorf("Builtin(%s) = %+v, want phrase %q cutoff %g window 5", name, m, c.phrase, c.cutoff)
		}
	}
	if _, err := Builtin("hey_siri"); err == nil {
		t.Error("Builtin(hey_siri) succeeded, want an error")
	}
}

func builtins(t testing.TB, names ...string) []*Model {
	t.Helper()
	var ms []*Model
	for _, n := range names {
		m, err := Builtin(n)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// speechClip is "okay nabu, what time is it" (testdata/speech.raw) after 1.5 s of
// silence, so the start-up refractory second has passed, and 1 s of silence after.
func speechClip(t testing.TB) []int16 {
	t.Helper()
	b, err := os.ReadFile("testdata/speech.raw")
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 3*SampleRate/2, 3*SampleRate/2+len(b)/2+SampleRate)
	for i := 0; i+1 < len(b); i += 2 {
		pcm = append(pcm, int16(uint16(b[i])|uint16(b[i+1])<<8))
	}
	return append(pcm, make([]int16, SampleRate)...)
}

func detectAll(d *Detector, pcm []int16, chunk int) []Detection {
	var all []Detection
	for len(pcm) > 0 {
		n := min(chunk, len(pcm))
		all = append(all, d.Process(pcm[:n])...)
		pcm = pcm[n:]
	}
	return all
}

func TestDetectorHearsOkayNabu(t *testing.T) {
	d, err := NewDetector(Config{Models: builtins(t, BuiltinNames()...)})
	if err != nil {
		t.Fatal(err)
	}
	pcm := speechClip(t)
	dets := detectAll(d, pcm, StepSamples)
	if len(dets) != 1 || dets[0].Word != "okay_nabu" || dets[0].Index != 3 {
		t.Fatalf("detections %+v, want okay_nabu once", dets)
	}
	// The phrase starts at 1.5 s; "okay nabu" is over by about 1.0 s into the clip.
	if at := float64(dets[0].Sample) / SampleRate; at < 1.6 || at > 2.8 {
		t.Errorf("detected at %.2f s, want within the spoken words", at)
	}
	if dets[0].Score <= 0.97 || dets[0].Score > 1 {
		t.Errorf("score %g, want above the 0.97 cutoff", dets[0].Score)
	}

	// Chunking must not matter.
	for _, chunk := range []int{1, 77, 160, 1000} {
		d.Reset()
		got := detectAll(d, pcm, chunk)
		if !slices.Equal(got, dets) {
			t.Errorf("chunks of %d: %+v, want %+v", chunk, got, dets)
		}
	}
}

func TestDetectorCutoffOverride(t *testing.T) {
	m := builtins(t, "okay_nabu")[0]
	loose, err := m.WithCutoff(0.5)
	if err != nil {
		t.Fatal(err)
	}
	if m.Cutoff != 0.97 || loose.Cutoff != 0.5 {
		t.Fatalf("cutoffs %g and %g, want the original kept at 0.97 and the copy at 0.5", m.Cutoff, loose.Cutoff)
	}
	first := func(m *Model) Detection {
		d, err := NewDetector(Config{Models: []*Model{m}})
		if err != nil {
			t.Fatal(err)
		}
		if q := d.words[0].rule.cutoffQ; q != int(m.Cutoff*255) {
			t.Errorf("cutoff %g on the 0..255 scale is %d, want %d", m.Cutoff, q, int(m.Cutoff*255))
		}
		dets := detectAll(d, speechClip(t), StepSamples)
		if len(dets) != 1 {
			t.Fatalf("cutoff %g: detections %+v, want one", m.Cutoff, dets)
		}
		return dets[0]
	}
	strict, lax := first(m), first(loose)
	// The sliding mean rises through 0.5 before it passes 0.97.
	if lax.Sample >= strict.Sample {
		t.Errorf("detected at sample %d with cutoff 0.5, %d with 0.97: want earlier", lax.Sample, strict.Sample)
	}
	for _, c := range []float64{0, 1, -0.5, 2} {
		if _, err := m.WithCutoff(c); err == nil {
			t.Errorf("WithCutoff(%g) succeeded, want an error", c)
		}
	}
}

func TestRule(t *testing.T) {
	const refractory = 4
	r := rule{probs: make([]uint8, 3), cutoffQ: 200}
	r.reset(refractory)
	type ev struct {
		push   int // -1: no new probability this step
		detect bool
	}
	seq := []ev{
		// start-up: four steps under the cutoff before anything counts
		{250, false}, {250, false}, {250, false}, // over the cutoff: the count-down waits
		{0, false}, {0, false}, {0, false}, {0, false}, // four steps under it: count-down done
		{255, false}, {255, false}, // mean (0+255+255)/3 = 170 ≤ 200
		{255, true},               // mean 255 > 200: detected, ring cleared
		{255, false}, {-1, false}, // refractory: newest ≥ cutoff holds the count-down
		{0, false}, {-1, false}, {-1, false}, {-1, false}, // four quiet steps
		{255, false}, {255, false}, {255, true},
	}
	for i, e := range seq {
		if e.push >= 0 {
			r.push(uint8(e.push))
		}
		_, got := r.step(refractory)
		if got != e.detect {
			t.Fatalf("step %d (push %d): detected %v, want %v", i, e.push, got, e.detect)
		}
	}
}

func TestDetectorAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	d, err := NewDetector(Config{Models: builtins(t, BuiltinNames()...)})
	if err != nil {
		t.Fatal(err)
	}
	pcm := speechClip(t)
	i := 0
	n := testing.AllocsPerRun(500, func() {
		if i+StepSamples > len(pcm) {
			i = 0
		}
		d.Process(pcm[i : i+StepSamples])
		i += StepSamples
	})
	if n != 0 {
		t.Errorf("Process allocates %v times per 10 ms step, want 0", n)
	}
}

func TestNewDetectorErrors(t *testing.T) {
	if _, err := NewDetector(Config{}); err != ErrNoModels {
		t.Errorf("no models: %v, want ErrNoModels", err)
	}
	if _, err := NewDetector(Config{Models: builtins(t, "alexa"), Refractory: -time.Second}); err == nil {
		t.Error("negative refractory accepted")
	}
	if _, err := NewDetector(Config{Models: []*Model{nil}}); err == nil {
		t.Error("nil model accepted")
	}
	if _, err := NewDetector(Config{Models: []*Model{{Name: "x", Cutoff: 0.5, Window: 5}}}); err == nil {
		t.Error("model without a network accepted")
	}
	bad := *builtins(t, "alexa")[0]
	bad.Window = 0
	if _, err := NewDetector(Config{Models: []*Model{&bad}}); err == nil {
		t.Error("window 0 accepted")
	}
	bad.Window, bad.Cutoff = 5, 1.5
	if _, err := NewDetector(Config{Models: []*Model{&bad}}); err == nil {
		t.Error("cutoff 1.5 accepted")
	}
}

func TestLoadModel(t *testing.T) {
	dir := t.TempDir()
	tf, err := os.ReadFile("models/alexa.tflite")
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("models/alexa.json")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tfPath := write("my_word.tflite", tf)
	write("my_word.json", js)
	for _, p := range []string{tfPath, filepath.Join(dir, "my_word.json")} {
		m, err := LoadModel(p)
		if err != nil {
			t.Fatalf("LoadModel(%s): %v", p, err)
		}
		if m.Name != "my_word" || m.Cutoff != 0.9 || m.File != tfPath {
			t.Errorf("LoadModel(%s) = %s cutoff %g file %s, want my_word cutoff 0.9 file %s", p, m.Name, m.Cutoff, m.File, tfPath)
		}
	}
	if m, err := Builtin("alexa"); err != nil {
		t.Fatal(err)
	} else if m.File != "" {
		t.Errorf("Builtin(alexa) has file %q, want none", m.File)
	}
	// A manifest whose "model" names another file in its directory.
	write("named.json", []byte(`{"type":"micro","wake_word":"x","model":"my_word.tflite","version":2,"micro":{"probability_cutoff":0.5,"sliding_window_size":3,"feature_step_size":10}}`))
	if m, err := LoadModel(filepath.Join(dir, "named.json")); err != nil || m.Window != 3 {
		t.Errorf("LoadModel(named.json) = %v, %v", m, err)
	}

	bad := []struct{ name, manifest string }{
		{"not json", `{`},
		{"wrong type", `{"type":"nn","version":2,"micro":{"probability_cutoff":0.5,"sliding_window_size":5}}`},
		{"version 1", `{"type":"micro","version":1,"micro":{"probability_cutoff":0.5,"sliding_window_size":5}}`},
		{"no cutoff", `{"type":"micro","version":2,"micro":{"sliding_window_size":5}}`},
		{"cutoff 1", `{"type":"micro","version":2,"micro":{"probability_cutoff":1,"sliding_window_size":5}}`},
		{"no window", `{"type":"micro","version":2,"micro":{"probability_cutoff":0.5}}`},
		{"20 ms steps", `{"type":"micro","version":2,"micro":{"probability_cutoff":0.5,"sliding_window_size":5,"feature_step_size":20}}`},
	}
	for _, b := range bad {
		if _, err := ParseModel("x", tf, []byte(b.manifest)); err == nil {
			t.Errorf("%s: ParseModel succeeded, want an error", b.name)
		}
	}
	if _, err := ParseModel("x", tf[:1000], js); err == nil {
		t.Error("truncated model accepted")
	}
	if _, err := LoadModel(filepath.Join(dir, "missing.tflite")); err == nil {
		t.Error("missing model accepted")
	}
}

func BenchmarkDetectorStep(b *testing.B) {
	for _, names := range [][]string{{"okay_nabu"}, {"hey_jarvis"}, {"hey_mycroft"}, {"alexa"}, BuiltinNames()} {
		name := names[0]
		if len(names) > 1 {
			name = "all4"
		}
		b.Run(name, func(b *testing.B) {
			d, err := NewDetector(Config{Models: builtins(b, names...)})
			if err != nil {
				b.Fatal(err)
			}
			// Synthesised input keeps the benchmark free of files (make bench runs it from
			// the repository root); the work per step does not depend on the signal.
			pcm := synthSignal(2 * SampleRate)
			b.ReportAllocs()
			b.SetBytes(2 * StepSamples)
			i := 0
			c0 := cpuTime()
			for b.Loop() {
				if i+StepSamples > len(pcm) {
					i = 0
				}
				d.Process(pcm[i : i+StepSamples])
				i += StepSamples
			}
			if c := cpuTime() - c0; c > 0 {
				b.ReportMetric(float64(c)/1e3/float64(b.N), "cpu-µs/step")
			}
		})
	}
}

func BenchmarkFrontendStep(b *testing.B) {
	fe := NewFrontend()
	pcm := synthSignal(SampleRate)
	var out [Features]uint16
	b.ReportAllocs()
	i := 0
	c0 := cpuTime()
	for b.Loop() {
		if i+StepSamples > len(pcm) {
			i = 0
		}
		fe.Step(pcm[i:i+StepSamples], &out)
		i += StepSamples
	}
	if c := cpuTime() - c0; c > 0 {
		b.ReportMetric(float64(c)/1e3/float64(b.N), "cpu-µs/step")
	}
}
