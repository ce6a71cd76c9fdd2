package main

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs the end-to-end tests eight at a time unless -parallel says
// otherwise: each spends most of its time waiting for audio that plays in real
// time and uses little CPU, so side by side the package takes the time of its
// longest test rather than the sum of them all.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", "8")
	}
	os.Exit(m.Run())
}
