package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"
)

// subcommand runs with the arguments after its name.
type subcommand func(ctx context.Context, args []string) error

var commands = map[string]subcommand{
	"led":       runLED,
	"events":    runEvents,
	"wait":      runWait,
	"get":       runGet,
	"pull":      runPull,
	"capture":   runCapture,
	"play":      runPlay,
	"correlate": runCorrelate,
	"silence":   runSilence,
	"ledcheck":  runLEDCheck,
	"agree":     runAgree,
	"delay":     runDelay,
	"room":      runRoom,
}

// errCheck marks a check that ran and failed (exit 1), as opposed to a usage or
// setup error (exit 2).
var errCheck = errors.New("check failed")

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: vmprobe COMMAND [flags]; commands: %v\n", names)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := commands[os.Args[1]](ctx, os.Args[2:])
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmprobe %s: %v\n", os.Args[1], err)
		if errors.Is(err, errCheck) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

// nowMs is the guest's wall clock in Unix milliseconds, the time base of every log.
func nowMs() int64 { return time.Now().UnixMilli() }

// newFlags is a FlagSet that returns its errors.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

// withSeconds bounds ctx by secs when secs > 0.
func withSeconds(ctx context.Context, secs float64) (context.Context, context.CancelFunc) {
	if secs <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, time.Duration(secs*float64(time.Second)))
}
