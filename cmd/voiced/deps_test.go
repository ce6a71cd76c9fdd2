package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoRuntimeMethodLookup: text/template (and html/template over it) looks methods
// up by name at run time, so the linker keeps every exported method of every type: it
// made the stripped arm64 daemon 2.2 MB bigger, past its 12 MB budget. The page is
// rendered without it (internal/httpapi/render.go).
func TestNoRuntimeMethodLookup(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "text/template" || p == "html/template" {
			t.Errorf("voiced imports %s", p)
		}
	}
}
