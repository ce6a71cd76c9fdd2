package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMisbehavingServers runs voiced against servers that misbehave on purpose
// (issue 20) and checks what each costs it in attempts, log lines and memory.
func TestMisbehavingServers(t *testing.T) {
	t.Parallel()
	voiced, sim := binaries(t)
	daemon := func(t *testing.T, simArgs ...string) *daemonProc {
		t.Helper()
		addr := startSim(t, sim, append([]string{"--speed", "0"}, simArgs...)...)
		dir := t.TempDir()
		mic, _ := question(t, 0.2, 0.2)
		return startDaemon(t, voiced, nil, "--config", "../../examples/demo.yaml", "--set", "mode=push_to_talk",
			"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
			"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+filepath.Join(dir, "r.wav"),
			"--set", "http.listen=127.0.0.1:0", "--timeout", "60s")
	}
	until := func(t *testing.T, what string, limit time.Duration, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(limit); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("%s: not within %v", what, limit)
			}
		}
	}

	t.Run("closes at once", func(t *testing.T) {
		// session.created, then the connection drops: 13 attempts a second before.
		d := daemon(t, "--fail-after", "1")
		const watch = 20 * time.Second
		time.Sleep(watch)
		n := metricValue(t, d.http, "voiced_reconnects_total")
		t.Logf("%v reconnects in %v", n, watch)
		// Backoff from 100 ms doubling to 10 s, shortest jitter: 10 attempts in 20 s.
		if n > 12 {
			t.Errorf("%v reconnects in %v, want at most 12", n, watch)
		}
	})

	t.Run("malformed flood", func(t *testing.T) {
		d := daemon(t, "--malformed", "10000")
		until(t, "10,000 bad events counted", 30*time.Second, func() bool {
			c, _ := status(t, d.http)["counters"].(map[string]any)
			n, _ := c["bad_events"].(float64)
			return n >= 10000
		})
		lines := strings.Count(d.stderr.String(), "\n")
		t.Logf("10,000 malformed messages: %d lines in voiced's whole log", lines)
		if lines > 100 {
			t.Errorf("voiced logged %d lines, want at most 100", lines)
		}
	})

	t.Run("HTTP 500", func(t *testing.T) {
		d := daemon(t, "--refuse", "500")
		var last string
		until(t, "last_error names HTTP 500", 15*time.Second, func() bool {
			last, _ = status(t, d.http)["last_error"].(string)
			return strings.Contains(last, "HTTP 500")
		})
		t.Logf("last_error: %s", last)
	})

	t.Run("16 MB delta", func(t *testing.T) {
		d := daemon(t, "--big-delta", "16000000")
		var last string
		until(t, "the delta refused", 20*time.Second, func() bool {
			last, _ = status(t, d.http)["last_error"].(string)
			return strings.Contains(last, "limit")
		})
		time.Sleep(time.Second) // a reconnect or two: each gets the delta again
		peak, rss := procKiB(t, d.cmd.Process.Pid, "VmHWM"), procKiB(t, d.cmd.Process.Pid, "VmRSS")
		t.Logf("last_error: %s; peak RSS %d KiB, RSS %d KiB", last, peak, rss)
		if peak >= 20<<10 {
			t.Errorf("peak RSS %d KiB after a 16 MB delta, want under 20 MiB", peak)
		}
	})
}

// procKiB reads a "Name: N kB" line of /proc/pid/status.
func procKiB(t *testing.T, pid int, name string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", name, pid)
	return 0
}
