package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/voiced-project/voiced/internal/wakeword"
)

// WordWakes reports whether the wake word wakes the device (wake.mode word or both).
func (w Wake) WordWakes() bool { return w.Mode == "word" || w.Mode == "both" }

// isModelPath reports whether a wake word names a model file rather than a built-in
// model: it has a directory or a .tflite or .json extension.
func isModelPath(word string) bool {
	return strings.ContainsRune(word, filepath.Separator) || strings.ContainsRune(word, '/') ||
		strings.HasSuffix(word, ".tflite") || strings.HasSuffix(word, ".json")
}

// wake checks the wake section without reading any file.
func (v *validator) wake(w *Wake) {
	if w.WordWakes() && len(w.Words) == 0 {
		v.add("wake.words", "is empty but wake.mode is %s: name at least one word (e.g. [okay_nabu])", w.Mode)
	}
	seen := map[string]bool{}
	for i, ww := range w.Words {
		p := fmt.Sprintf("wake.words[%d]", i)
		switch {
		case ww.Word == "":
			v.add(p+".word", "must be set: a built-in word (%s) or a model file", strings.Join(wakeword.BuiltinNames(), ", "))
		case isModelPath(ww.Word):
			if ext := filepath.Ext(ww.Word); ext != ".tflite" && ext != ".json" {
				v.add(p+".word", "%q: a model file must end in .tflite or .json (the other beside it)", ww.Word)
			}
		case !slices.Contains(wakeword.BuiltinNames(), ww.Word):
			v.add(p+".word", "%q is not a built-in word (%s) nor a model file (.tflite or .json)", ww.Word, strings.Join(wakeword.BuiltinNames(), ", "))
		}
		if name := wordName(ww.Word); ww.Word != "" && seen[name] {
			v.add(p+".word", "%q is listed twice (a detection names the word by %q)", ww.Word, name)
		} else {
			seen[name] = true
		}
		if ww.Cutoff != 0 && (ww.Cutoff <= 0 || ww.Cutoff >= 1) {
			v.add(p+".cutoff", "%g is out of range: above 0 and below 1 (0 keeps the model's)", ww.Cutoff)
		}
	}
}

// wordName is the name a detection reports: the built-in name or the file's base name.
func wordName(word string) string {
	if !isModelPath(word) {
		return word
	}
	return strings.TrimSuffix(filepath.Base(word), filepath.Ext(word))
}

// LoadWakeModels loads the configured wake words' models, with their cutoffs. A bad
// file is named with what is wrong with it.
func (w Wake) LoadWakeModels() ([]*wakeword.Model, error) {
	models := make([]*wakeword.Model, 0, len(w.Words))
	var errs Errors
	for i, ww := range w.Words {
		m, err := loadWord(ww)
		if err != nil {
			errs = append(errs, &FieldError{Path: fmt.Sprintf("wake.words[%d]", i), Msg: err.Error()})
			continue
		}
		models = append(models, m)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return models, nil
}

func loadWord(ww WakeWord) (*wakeword.Model, error) {
	var m *wakeword.Model
	var err error
	if isModelPath(ww.Word) {
		m, err = wakeword.LoadModel(ww.Word)
	} else {
		m, err = wakeword.Builtin(ww.Word)
	}
	if err != nil {
		return nil, err
	}
	if ww.Cutoff != 0 {
		return m.WithCutoff(ww.Cutoff)
	}
	return m, nil
}

// checkWordFiles loads every model file named as a wake word (built-in words need no
// check beyond Validate's), so that a missing or broken file is refused with the
// config that names it rather than when the device is rebuilt.
func (c *Config) checkWordFiles() Errors {
	var errs Errors
	for i, ww := range c.Wake.Words {
		if !isModelPath(ww.Word) {
			continue
		}
		if _, err := wakeword.LoadModel(ww.Word); err != nil {
			errs = append(errs, &FieldError{Path: fmt.Sprintf("wake.words[%d].word", i), Msg: err.Error()})
		}
	}
	return errs
}

// checkRemoteWords applies the paths rules to wake-word model files: a change over
// HTTP may name a file not already configured only when paths.http_changes is true,
// and then only an absolute path under paths.audio_dirs (the data voiced reads).
func checkRemoteWords(cur, next Config) Errors {
	var errs Errors
	for i, ww := range next.Wake.Words {
		if !isModelPath(ww.Word) || slices.ContainsFunc(cur.Wake.Words, func(o WakeWord) bool { return o.Word == ww.Word }) {
			continue
		}
		p := fmt.Sprintf("wake.words[%d].word", i)
		switch {
		case !cur.Paths.HTTPChanges:
			errs = append(errs, &FieldError{Path: p, Msg: fmt.Sprintf("%q: files can only be changed in the config file (paths.http_changes is false)", ww.Word)})
		case !filepath.IsAbs(ww.Word):
			errs = append(errs, &FieldError{Path: p, Msg: fmt.Sprintf("%q is not an absolute path", ww.Word)})
		case !underAny(ww.Word, cur.Paths.AudioDirs):
			errs = append(errs, &FieldError{Path: p, Msg: fmt.Sprintf("%q is not under %s (paths.audio_dirs)", ww.Word, strings.Join(cur.Paths.AudioDirs, ", "))})
		}
	}
	return errs
}
