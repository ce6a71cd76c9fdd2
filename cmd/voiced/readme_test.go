package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMECurlSendsJSON keeps README's curl examples runnable as printed: the endpoint
// answers 415 to a body that is not application/json, and curl -d alone sends a form type.
func TestREADMECurlSendsJSON(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ") // join continued lines
	n := 0
	for line := range strings.Lines(text) {
		if !strings.Contains(line, "curl ") || !strings.Contains(line, " -d ") {
			continue
		}
		n++
		if !strings.Contains(line, "-H 'Content-Type: application/json'") {
			t.Errorf("README: %s sends a body without -H 'Content-Type: application/json'", strings.TrimSpace(line))
		}
	}
	if n == 0 {
		t.Errorf("README has no curl example with a body; this test checks nothing")
	}
}
