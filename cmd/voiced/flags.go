package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/voiced-project/voiced/internal/config"
)

// setFlags collects repeated --set PATH=VALUE overrides.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

// configFlags are the flags every command that reads the config shares.
type configFlags struct {
	path string
	sets setFlags
}

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.path, "config", config.DefaultPath, "configuration `file`")
	fs.Var(&c.sets, "set", "override one field, `PATH=VALUE` (e.g. audio.capture.device=file:q.wav); repeatable")
}

// load reads the config. A missing file at the default path means defaults plus --set,
// so a first run works before anything is configured; a missing file named with
// --config is an error.
func (c *configFlags) load(explicit bool) (config.Config, error) {
	cfg, err := config.Load(c.path, c.sets)
	if err != nil && !explicit && errors.Is(err, fs.ErrNotExist) {
		cfg = config.Default()
		for _, s := range c.sets {
			if err := cfg.Set(s); err != nil {
				return config.Config{}, err
			}
		}
		return cfg, cfg.Validate()
	}
	return cfg, err
}

// flagGiven reports whether name was set on the command line.
func flagGiven(fset *flag.FlagSet, name string) bool {
	given := false
	fset.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// parseFlags parses args; on a mistake it returns errUsage so the exit status is 2.
func parseFlags(fset *flag.FlagSet, args []string) error {
	fset.SetOutput(os.Stderr)
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
