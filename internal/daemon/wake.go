package daemon

import (
	"fmt"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/wakeword"
)

// Wake-word timing on the capture clock.
const (
	// wakeKeepMs is how much audio the capture loop holds for an opening after a wake
	// word: the word itself (send_word) and the time the engine takes to open the gate.
	wakeKeepMs = 3000
	// wakeWordMs is how far before a detection the word is taken to start when it is
	// sent too (wake.send_word): the models judge about this much audio.
	wakeWordMs = 1500
)

// buildWake builds the wake-word listener when wake.mode asks for one: the capture
// loop's frame callback and how much audio the loop must hold for it (nil and 0
// without). A detection makes the next opening start after the word (or at it, with
// wake.send_word) and goes to the engine.
func (rt *runtime) buildWake(c config.Config) (func([]int16, uint64), int, error) {
	if !c.Wake.WordWakes() {
		return nil, 0, nil
	}
	models, err := c.Wake.LoadWakeModels()
	if err != nil {
		return nil, 0, err
	}
	det, err := wakeword.NewDetector(wakeword.Config{Models: models})
	if err != nil {
		return nil, 0, fmt.Errorf("wake words: %w", err)
	}
	back := uint64(0)
	if c.Wake.SendWord {
		back = wakeWordMs * pipeline.CaptureRate / 1000
	}
	wl, err := pipeline.NewWakeListener(det, func(w pipeline.Wake) {
		from := max(w.End, back+1) - back // never 0, which OpenFrom reads as none
		rt.capture.OpenFrom(from)
		rt.engine.HandleWakeWord(engine.WakeWord{Word: w.Word, Score: w.Score})
	})
	if err != nil {
		return nil, 0, err
	}
	names := make([]string, len(models))
	rt.wakeWords = make([]wakeWordStatus, len(models))
	for i, m := range models {
		names[i] = fmt.Sprintf("%s (cutoff %.2f)", m.Name, m.Cutoff)
		rt.wakeWords[i] = wakeWordStatus{Word: m.Name, Phrase: m.WakeWord, Model: m.File, Threshold: m.Cutoff}
		if m.File == "" {
			rt.wakeWords[i].Model = "built in"
		}
	}
	rt.log.Info("listening for wake words", "words", names, "mode", c.Wake.Mode, "send_word", c.Wake.SendWord)
	return wl.Listen, wakeKeepMs, nil
}

// wakeStatus is /v1/status's "wake": what wakes the device, the words listened for,
// and what was heard.
type wakeStatus struct {
	Mode       string           `json:"mode"`           // wake.mode: vad, word or both
	Words      []wakeWordStatus `json:"words"`          // loaded and listened for; none with wake.mode vad
	Detections uint64           `json:"detections"`     // words heard (while not muted) since voiced started
	Last       *wakeDetection   `json:"last,omitempty"` // the latest of them
}

// wakeWordStatus is one word listened for.
type wakeWordStatus struct {
	Word      string  `json:"word"`      // the name a detection reports, e.g. okay_nabu
	Phrase    string  `json:"phrase"`    // as its model spells it, e.g. Okay Nabu
	Model     string  `json:"model"`     // the .tflite file, or "built in"
	Threshold float64 `json:"threshold"` // the probability cutoff in force
}

// wakeDetection is a word heard.
type wakeDetection struct {
	Word  string    `json:"word"`
	Time  time.Time `json:"time"`
	Score float64   `json:"score"`
}

// wakeStats counts the wake words heard, across runtimes.
type wakeStats struct {
	mu    sync.Mutex // guards following fields
	count uint64
	last  *wakeDetection
}

// heard records a detection (an engine event, off the audio path).
func (w *wakeStats) heard(ev engine.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count++
	w.last = &wakeDetection{Word: ev.Word, Time: ev.Time, Score: ev.Score}
}

// status is the wake part of /v1/status: mode from the config in force, the words of
// the runtime (nil while none runs).
func (w *wakeStats) status(mode string, rt *runtime) wakeStatus {
	st := wakeStatus{Mode: mode, Words: []wakeWordStatus{}}
	if rt != nil && rt.wakeWords != nil {
		st.Words = rt.wakeWords
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	st.Detections = w.count
	if w.last != nil {
		l := *w.last
		st.Last = &l
	}
	return st
}
