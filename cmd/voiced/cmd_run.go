package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/daemon"
)

// daemonGCPercent is the daemon's GOGC unless the environment sets one.
const daemonGCPercent = 50

func init() {
	register(command{name: "run", usage: "run the daemon (the default command)", run: runDaemon})
}

func runDaemon(ctx context.Context, env *cmdEnv, args []string) error {
	fset := flag.NewFlagSet("run", flag.ContinueOnError)
	var cf configFlags
	cf.register(fset)
	turns := fset.Int("turns", 0, "exit 0 after this many replies have been played (0: run until stopped)")
	timeout := fset.Duration("timeout", 0, "exit 1 if still running after this long (0: no limit)")
	fast := fset.Bool("fast-files", false, "file: devices run as fast as they are read instead of in real time")
	events := fset.Bool("print-events", false, "print each state change and transcript on stdout")
	cpuprofile := fset.String("cpuprofile", "", "write a CPU profile (go tool pprof) to this file until voiced stops")
	allocprofile := fset.String("allocprofile", "", "record every heap allocation and write the profile (go tool pprof -sample_index=alloc_objects) to this file when voiced stops; slow")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	explicit := flagGiven(fset, "config")
	cfg, err := cf.load(explicit)
	var es config.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			env.log.Error("invalid config", "file", cf.path, "field", e.Path, "problem", e.Msg)
		}
		return fmt.Errorf("%s has %d mistake(s); `voiced check --config %s` lists them", cf.path, len(es), cf.path)
	}
	if err != nil {
		return err
	}
	path := cf.path
	if !explicit && !fileExists(path) {
		env.log.Warn("no config file; running on the defaults", "file", path)
		path = ""
	}
	if os.Getenv("GOGC") == "" {
		// The audio path allocates nothing, so the heap grows only with events and
		// reconnects: collecting at half the live heap instead of all of it means a few
		// more collections of a ~3 MiB heap, about a millisecond of CPU each. It keeps a
		// long-running daemon about 2 MB smaller (in a reconnect soak: 17.3 MB resident
		// instead of 19.3).
		debug.SetGCPercent(daemonGCPercent)
	}
	o := daemon.Options{Config: cfg, ConfigPath: path, Sets: cf.sets, Turns: *turns, FastFiles: *fast, Log: env.log, LogLevel: env.level}
	if *events {
		o.EventLog = env.stdout
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile %s: %w", *cpuprofile, err)
		}
		defer pprof.StopCPUProfile()
	}
	if *allocprofile != "" {
		f, err := os.Create(*allocprofile)
		if err != nil {
			return fmt.Errorf("--allocprofile: %w", err)
		}
		defer f.Close()
		runtime.MemProfileRate = 1
		defer func() {
			runtime.GC() // the profile is as of the last collection
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				env.log.Error("allocation profile not written", "file", *allocprofile, "err", err)
			}
		}()
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, *timeout, fmt.Errorf("--timeout %v reached", *timeout))
		defer cancel()
	}
	err = daemon.New(o).Run(ctx)
	if cause := context.Cause(ctx); *timeout > 0 && cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}
