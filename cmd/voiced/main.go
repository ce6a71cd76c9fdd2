// Command voiced is the voice-assistant daemon and its user commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand. Each lives in its own cmd_*.go file and registers itself.
type command struct {
	name  string
	usage string // one line: arguments and what it does
	run   func(ctx context.Context, env *cmdEnv, args []string) error
}

// cmdEnv is what every subcommand gets: streams and a logger.
type cmdEnv struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	level          *slog.LevelVar // log.level from the config; VOICED_DEBUG forces debug
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// errUsage marks a command-line mistake: exit status 2, no stack of wrapped context.
var errUsage = errors.New("usage")

func main() {
	os.Exit(mainRun(os.Args[1:], os.Stdout, os.Stderr))
}

func mainRun(args []string, stdout, stderr io.Writer) int {
	name := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" || name == "-h" || name == "--help" {
		printUsage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "voiced: unknown command %q\n\n", name)
		printUsage(stderr)
		return 2
	}
	level := new(slog.LevelVar)
	env := &cmdEnv{stdout: stdout, stderr: stderr, log: newLogger(stderr, level), level: level}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, env, args)
	switch {
	case err == nil, errors.Is(err, context.Canceled), errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "voiced %s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "voiced %s: %v\n", name, err)
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: voiced [command] [flags]   (the default command is run)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].usage)
	}
	fmt.Fprintln(w, "Run 'voiced COMMAND -h' for a command's flags.")
}

// newLogger logs to stderr. Under systemd (JOURNAL_STREAM set) the journal adds its own
// timestamps, so ours are dropped.
func newLogger(w io.Writer, level *slog.LevelVar) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if os.Getenv("VOICED_DEBUG") != "" {
		opts.Level = slog.LevelDebug
	}
	if os.Getenv("JOURNAL_STREAM") != "" {
		opts.ReplaceAttr = func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
