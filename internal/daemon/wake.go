package daemon

import (
	"fmt"

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
	for i, m := range models {
		names[i] = fmt.Sprintf("%s (cutoff %.2f)", m.Name, m.Cutoff)
	}
	rt.log.Info("listening for wake words", "words", names, "mode", c.Wake.Mode, "send_word", c.Wake.SendWord)
	return wl.Listen, wakeKeepMs, nil
}
