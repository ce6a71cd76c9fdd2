package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/voiced-project/voiced/internal/config"
)

func init() {
	register(command{name: "check", usage: "validate the configuration and say what is missing", run: runCheck})
}

// errInvalidConfig makes check exit 1 after it has printed every mistake itself.
var errInvalidConfig = errors.New("the configuration is not valid")

func runCheck(_ context.Context, env *cmdEnv, args []string) error {
	fset := flag.NewFlagSet("check", flag.ContinueOnError)
	var cf configFlags
	cf.register(fset)
	show := fset.Bool("print", false, "print the resulting configuration (secrets redacted)")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	cfg, err := cf.load(flagGiven(fset, "config"))
	var es config.Errors
	if errors.As(err, &es) {
		fmt.Fprintf(env.stderr, "%s: %d mistake(s):\n", cf.path, len(es))
		for _, e := range es {
			fmt.Fprintf(env.stderr, "  %s\n", e)
		}
		return errInvalidConfig
	}
	if err != nil {
		return err
	}
	secrets, err := cfg.ResolveSecrets(os.Getenv)
	if err != nil {
		fmt.Fprintf(env.stderr, "%s: %v\n", cf.path, err)
		return errInvalidConfig
	}
	if secrets.APIKey == "" {
		fmt.Fprintf(env.stdout, "warning: no API key: set realtime.api_key_file, or VOICED_API_KEY in /etc/default/voiced; voiced will run but cannot connect\n")
	}
	if *show {
		y, err := cfg.Redacted().YAML()
		if err != nil {
			return err
		}
		env.stdout.Write(y)
	}
	fmt.Fprintf(env.stdout, "%s: ok\n", cf.path)
	return nil
}
