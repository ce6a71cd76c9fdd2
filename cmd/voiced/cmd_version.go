package main

import (
	"context"
	"fmt"
	"runtime"

	"github.com/voiced-project/voiced/internal/version"
)

func init() {
	register(command{name: "version", usage: "print the version", run: runVersion})
}

func runVersion(_ context.Context, env *cmdEnv, _ []string) error {
	fmt.Fprintf(env.stdout, "voiced %s %s/%s %s\n", version.Version, runtime.GOOS, runtime.GOARCH, runtime.Version())
	return nil
}
