package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	vconfig "github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/vad"
	"github.com/voiced-project/voiced/internal/vad/vadeval"
)

// endOfTurn measures, with the default detector and vad.silence_ms, how long after the
// end of speech a turn is committed and how many turns are cut in a pause inside the
// sentence, on the turns of test/vad/make-devset.sh (made once into <work>/vad-devset;
// it needs sox, espeak-ng, flite and xmp, and apt-get download for two game packages).
func endOfTurn(ctx context.Context, c config, t *table, log io.Writer) error {
	dir := filepath.Join(c.work, "vad-devset")
	if _, err := os.Stat(filepath.Join(dir, "turns.tsv")); err != nil {
		cmd := exec.CommandContext(ctx, "bash", "test/vad/make-devset.sh", dir)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("make the VAD development set (test/vad/make-devset.sh %s): %w", dir, err)
		}
	}
	d := vconfig.Default()
	o := vadeval.Options{Engine: d.VAD.Engine, Gate: d.VAD.Gate, Classic: vad.Config{Sensitivity: d.VAD.Sensitivity}}
	reps, err := vadeval.EndOfTurn(dir, o, d.VAD.MinSpeechMs, []int{d.VAD.SilenceMs})
	if err != nil {
		return err
	}
	r := reps[0]
	fig := fmt.Sprintf("end of turn (%s, vad.silence_ms %d, %d turns with 300-700 ms pauses inside)", d.VAD.Engine, r.SilenceMs, r.Turns)
	p50, p95, cut := float64(r.Percentile(0.5)), float64(r.Percentile(0.95)), 100*r.CutShare()
	t.add(row{Figure: fig + ": end of speech to commit, p50", Value: ptr(p50), Unit: "ms", Budget: ptr("<= 400 ms"), OK: ptr(p50 <= 400)})
	t.add(row{Figure: fig + ": end of speech to commit, p95", Value: ptr(p95), Unit: "ms"})
	t.add(row{Figure: fig + ": turns cut in a pause", Value: ptr(cut), Unit: "%", Budget: ptr("<= 2 %"), OK: ptr(cut <= 2)})
	return nil
}
