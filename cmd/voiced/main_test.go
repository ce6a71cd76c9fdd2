package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := mainRun(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckExample(t *testing.T) {
	code, out, errOut := runMain(t, "check", "--config", "../../examples/voiced.yaml")
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("check examples/voiced.yaml = %d, stdout %q, stderr %q; want 0 and ok", code, out, errOut)
	}
}

func TestCheckNamesEveryMistake(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	doc := "realtime:\n  voise: alloy\naudio:\n  capture:\n    period_ms: 0\ngpio:\n  button:\n    debounce_ms: fast\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runMain(t, "check", "--config", path)
	if code != 1 {
		t.Errorf("check bad config exit = %d, want 1", code)
	}
	for _, field := range []string{"realtime.voise", "audio.capture.period_ms", "gpio.button.debounce_ms"} {
		if !strings.Contains(errOut, field) {
			t.Errorf("stderr does not name %s:\n%s", field, errOut)
		}
	}
}

func TestCheckSetOverride(t *testing.T) {
	code, _, errOut := runMain(t, "check", "--config", "../../examples/voiced.yaml", "--set", "audio.capture.period_ms=500")
	if code != 1 || !strings.Contains(errOut, "audio.capture.period_ms: 500 is out of range 5..100") {
		t.Errorf("check --set period 500 = %d, stderr %q", code, errOut)
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, errOut := runMain(t, "frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command = %d, %q", code, errOut)
	}
}

func TestUsageFlagMistake(t *testing.T) {
	code, _, _ := runMain(t, "check", "--no-such-flag")
	if code != 2 {
		t.Errorf("check --no-such-flag = %d, want 2", code)
	}
}
