package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/voiced-project/voiced/internal/wakeword"
)

func init() {
	register(command{name: "wake-eval", usage: "[--words LIST] DIR: score wake-word detection on the WAV files listed in DIR/wake.tsv", run: runWakeEval})
}

func runWakeEval(_ context.Context, env *cmdEnv, args []string) error {
	fs := flag.NewFlagSet("wake-eval", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	words := fs.String("words", "", "comma-separated models: built-in names ("+strings.Join(wakeword.BuiltinNames(), ", ")+
		") or .tflite paths with their .json beside them, each optionally NAME:CUTOFF; default: the words in wake.tsv")
	verbose := fs.Bool("v", false, "list each file's detections and peak probabilities before the tables")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: voiced wake-eval [--words LIST] [-v] DIR")
		fmt.Fprintln(env.stderr, "Scores wake words on DIR/wake.tsv: file word start_ms end_ms (tab-separated; a file without any: file - - -).")
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
	models, err := parseWakeWords(*words)
	if err != nil {
		return fmt.Errorf("%w: --words: %v", errUsage, err)
	}
	opt := wakeword.EvalOptions{Models: models}
	if *verbose {
		opt.Log = env.stdout
	}
	rep, err := wakeword.Eval(fs.Arg(0), opt)
	if err != nil {
		return err
	}
	return rep.Write(env.stdout)
}

// parseWakeWords turns "okay_nabu,alexa:0.8,/path/word.tflite" into models.
func parseWakeWords(list string) ([]*wakeword.Model, error) {
	var models []*wakeword.Model
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, cutoff := item, 0.0
		if i := strings.LastIndexByte(item, ':'); i > 0 {
			c, err := strconv.ParseFloat(item[i+1:], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: cutoff %q is not a number", item, item[i+1:])
			}
			name, cutoff = item[:i], c
		}
		var m *wakeword.Model
		var err error
		if strings.HasSuffix(name, ".tflite") || strings.HasSuffix(name, ".json") {
			m, err = wakeword.LoadModel(name)
		} else {
			m, err = wakeword.Builtin(name)
		}
		if err != nil {
			return nil, err
		}
		if cutoff != 0 {
			if m, err = m.WithCutoff(cutoff); err != nil {
				return nil, err
			}
		}
		models = append(models, m)
	}
	return models, nil
}
