package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/voiced-project/voiced/internal/vad"
	"github.com/voiced-project/voiced/internal/vad/vadeval"
)

func init() {
	register(command{name: "vad-eval", usage: "DIR: score the VAD on the WAV files listed in DIR/labels.tsv", run: runVADEval})
}

func runVADEval(_ context.Context, env *cmdEnv, args []string) error {
	fs := flag.NewFlagSet("vad-eval", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	sens := fs.Int("sensitivity", vad.DefaultSensitivity, "VAD sensitivity 0..3 (the classic detector's; default vad.sensitivity)")
	engine := fs.String("engine", "", "detector to score: silero or classic (default vad.engine)")
	gate := fs.Bool("gate", false, "silero: the classic detector lets the network sleep (default vad.gate)")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: voiced vad-eval [-engine silero|classic] [-sensitivity N] [-gate] [-config FILE] DIR")
		fmt.Fprintln(env.stderr, "Scores the VAD (frame decisions, hangover included) on DIR/labels.tsv: file start_ms end_ms.")
		fmt.Fprintln(env.stderr, "The classic detector is scored with no lookahead; silero with one 32 ms step, as each step's")
		fmt.Fprintln(env.stderr, "decision covers its own audio (the pooled score without lookahead is printed too).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("%w: want one directory, got %d arguments", errUsage, fs.NArg())
	}
	cfg, err := cf.load(flagGiven(fs, "config"))
	if err != nil {
		return err
	}
	if !flagGiven(fs, "sensitivity") {
		*sens = cfg.VAD.Sensitivity
	}
	if !flagGiven(fs, "engine") {
		*engine = cfg.VAD.Engine
	}
	if !flagGiven(fs, "gate") {
		*gate = cfg.VAD.Gate
	}
	if *sens < 0 || *sens > 3 {
		return fmt.Errorf("%w: -sensitivity %d: want 0..3", errUsage, *sens)
	}
	if *engine != vad.EngineSilero && *engine != vad.EngineClassic {
		return fmt.Errorf("%w: -engine %q: want silero or classic", errUsage, *engine)
	}
	o := vadeval.Options{Engine: *engine, Classic: vad.Config{Sensitivity: *sens}, Gate: *gate}
	rep, err := vadeval.EvaluateWith(fs.Arg(0), o)
	if err != nil {
		return err
	}
	if *engine == vad.EngineClassic {
		fmt.Fprintf(env.stdout, "VAD sensitivity %d, hangover %d ms, no lookahead: frame i is scored with the decision held at its centre, made at the end of frame i-1\n\n",
			*sens, vad.DefaultHangoverMs)
	} else {
		gated := "always awake"
		if *gate {
			gated = fmt.Sprintf("asleep while the classic detector (sensitivity %d) hears nothing", *sens)
		}
		fmt.Fprintf(env.stdout, "VAD silero v6.2, on %.2f off %.2f, no hangover, %s; lookahead %d ms: each 32 ms step's decision covers its own audio (frame i is scored with the decision made when the step holding its centre is complete)\n\n",
			vad.NeuralOn, vad.NeuralOff, gated, rep.LookaheadMs)
	}
	writeVADReport(env.stdout, rep)
	if _, err := os.Stat(filepath.Join(fs.Arg(0), "turns.tsv")); err != nil {
		return nil
	}
	silences := []int{cfg.VAD.SilenceMs}
	for ms := 200; ms <= 800; ms += 50 {
		if ms != cfg.VAD.SilenceMs {
			silences = append(silences, ms)
		}
	}
	sort.Ints(silences)
	turns, err := vadeval.EndOfTurn(fs.Arg(0), o, cfg.VAD.MinSpeechMs, silences)
	if err != nil {
		return err
	}
	writeTurnReport(env.stdout, turns, cfg.VAD.SilenceMs)
	return nil
}

// writeTurnReport prints end of turn per silence setting, the configured one marked.
func writeTurnReport(w io.Writer, reps []vadeval.TurnReport, configured int) {
	fmt.Fprintf(w, "\nend of turn (turns.tsv, at %d Hz): end of speech to end of turn, and turns cut in a pause inside the sentence\n", vadeval.TurnRate)
	fmt.Fprintf(w, "%-12s %7s %7s %9s %6s %6s\n", "silence_ms", "p50_ms", "p95_ms", "cut", "missed", "turns")
	for _, r := range reps {
		mark := ""
		if r.SilenceMs == configured {
			mark = " (vad.silence_ms)"
		}
		fmt.Fprintf(w, "%-12d %7d %7d %8.1f%% %6d %6d%s\n", r.SilenceMs, r.Percentile(0.5), r.Percentile(0.95), 100*r.CutShare(), r.Missed, r.Turns, mark)
	}
}

// writeVADReport prints one row per file, one per condition (the file name without its
// source prefix, pooled over sources), the echo files, and last the pooled line.
func writeVADReport(w io.Writer, rep *vadeval.Report) {
	row := func(name string, c vadeval.Counts) {
		fmt.Fprintf(w, "%-24s %6.3f %6.3f %6.3f %6.3f %8d\n", name, c.Precision(), c.Recall(), c.F1(), c.FalseAlarm(), c.Frames())
	}
	fmt.Fprintf(w, "%-24s %6s %6s %6s %6s %8s\n", "file", "P", "R", "F1", "FA", "frames")
	conds := map[string]vadeval.Counts{}
	for _, f := range rep.Files {
		if f.Echo {
			continue
		}
		row(f.File, f.Counts)
		conds[condition(f.File)] = conds[condition(f.File)].Add(f.Counts)
	}
	if len(conds) > 0 {
		names := make([]string, 0, len(conds))
		for n := range conds {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "\n%-24s %6s %6s %6s %6s %8s\n", "condition", "P", "R", "F1", "FA", "frames")
		for _, n := range names {
			row(n, conds[n])
		}
	}
	for _, f := range rep.Files {
		if !f.Echo {
			continue
		}
		fmt.Fprintf(w, "\n%s: echo-only frames flagged %.3f of %d", f.File, f.EchoFlagged, f.EchoOnly)
		if f.EchoGuardMeasured {
			fmt.Fprintf(w, "; with the echo guard on while the device speaks %.3f (user speech recall %.3f)", f.EchoGuardFlagged, f.EchoGuardRecall)
		}
		fmt.Fprintln(w, " (not pooled)")
		if f.AECMeasured {
			fmt.Fprintf(w, "%s: aec echo-only-flagged %.3f user-recall %.3f erle %.1f dB\n", f.File, f.AECFlagged, f.AECRecall, f.ERLE)
		}
	}
	p := rep.Pooled
	if rep.LookaheadMs != 0 {
		q := rep.PooledNoLookahead
		fmt.Fprintf(w, "\nwithout lookahead (frame i scored with the decision made at the end of frame i-1): pooled P %.3f R %.3f F1 %.3f false-alarm %.3f", q.Precision(), q.Recall(), q.F1(), q.FalseAlarm())
	}
	fmt.Fprintf(w, "\npooled F1 %.3f false-alarm %.3f frames %d\n", p.F1(), p.FalseAlarm(), p.Frames())
}

// condition is a file's name without its speech-source prefix and extension:
// tts_pink5.wav → pink5.
func condition(file string) string {
	s := strings.TrimSuffix(file, ".wav")
	if _, rest, ok := strings.Cut(s, "_"); ok {
		return rest
	}
	return s
}
