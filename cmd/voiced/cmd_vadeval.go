package main

import (
	"context"
	"flag"
	"fmt"
	"io"
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
	sens := fs.Int("sensitivity", vad.DefaultSensitivity, "VAD sensitivity 0..3")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: voiced vad-eval [-sensitivity N] DIR")
		fmt.Fprintln(env.stderr, "Scores the VAD (frame decisions, hangover included) on DIR/labels.tsv: file start_ms end_ms.")
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
	if *sens < 0 || *sens > 3 {
		return fmt.Errorf("%w: -sensitivity %d: want 0..3", errUsage, *sens)
	}
	rep, err := vadeval.Evaluate(fs.Arg(0), vad.Config{Sensitivity: *sens})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "VAD sensitivity %d, hangover %d ms, no lookahead: frame i is scored with the decision held at its centre, made at the end of frame i-1\n\n",
		*sens, vad.DefaultHangoverMs)
	writeVADReport(env.stdout, rep)
	return nil
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
