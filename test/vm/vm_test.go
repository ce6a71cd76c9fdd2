package vm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// skipStatus is the exit status with which a scenario says it cannot run here.
const skipStatus = 77

// result is what one scenario left in its results directory.
type result struct {
	name    string
	status  int    // exit status; -1 when the scenario left no status
	log     string // its output
	seconds string // its run time in the guest, as written by the guest
}

// bootInfo is what the guest init wrote about the boot as a whole.
type bootInfo struct {
	initUptime string // seconds from kernel start to /init
	doneUptime string // seconds from kernel start to the end of the last scenario
	complete   bool   // init got through every scenario
	startup    string // the systemd guest: systemd-analyze's line on the boot's time
}

// systemdScenario is the one scenario of the systemd guest (systemd/check, run by a unit in
// a Debian root booted with systemd as PID 1); it is reported under the amd64 guest.
const systemdScenario = "systemd"

// guestBoot is one boot of a guest built by build.sh and the scenarios it reports.
type guestBoot struct {
	guest string   // build.sh and boot.sh name: amd64, arm64 or systemd
	names []string // the scenarios whose results it leaves
}

// boots lists the boots behind TestVM/ARCH: the initramfs guest with the scenarios of
// scenarios/, then for amd64 the systemd guest, each when VOICED_VM_ONLY leaves it
// anything to run. The systemd guest is amd64: one full systemd boot per run is enough.
func boots(arch string, names []string) []guestBoot {
	var out []guestBoot
	if n := only(names); len(n) > 0 {
		out = append(out, guestBoot{guest: arch, names: n})
	}
	if arch == "amd64" {
		if n := only([]string{systemdScenario}); len(n) > 0 {
			out = append(out, guestBoot{guest: systemdScenario, names: n})
		}
	}
	return out
}

// scenarioNames lists the scenarios in dir: files NN-name.sh, in run order, as names.
func scenarioNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list scenarios in %s: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".sh") || n[0] < '0' || n[0] > '9' {
			continue
		}
		files = append(files, n)
	}
	sort.Strings(files)
	names := make([]string, 0, len(files))
	for _, f := range files {
		_, name, ok := strings.Cut(strings.TrimSuffix(f, ".sh"), "-")
		if !ok || name == "" {
			return nil, fmt.Errorf("scenario file %s: want NN-name.sh", filepath.Join(dir, f))
		}
		names = append(names, name)
	}
	return names, nil
}

// readResult reads the results directory dir/name the guest wrote for one scenario.
func readResult(dir, name string) (result, error) {
	r := result{name: name, status: -1}
	d := filepath.Join(dir, name)
	log, err := os.ReadFile(filepath.Join(d, "log"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return r, fmt.Errorf("read log of scenario %s: %w", name, err)
	}
	r.log = string(log)
	if b, err := os.ReadFile(filepath.Join(d, "seconds")); err == nil {
		r.seconds = strings.TrimSpace(string(b))
	}
	b, err := os.ReadFile(filepath.Join(d, "rc"))
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("read status of scenario %s: %w", name, err)
	}
	s, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return r, fmt.Errorf("status of scenario %s: %q is not a number", name, strings.TrimSpace(string(b)))
	}
	r.status = s
	return r, nil
}

// readBoot reads what the guest init wrote about the boot into dir/_boot.
func readBoot(dir string) bootInfo {
	read := func(f string) string {
		b, _ := os.ReadFile(filepath.Join(dir, "_boot", f))
		return strings.TrimSpace(string(b))
	}
	startup, _, _ := strings.Cut(read("systemd-analyze"), "\n")
	return bootInfo{initUptime: read("init_uptime"), doneUptime: read("done_uptime"), complete: read("complete") == "done", startup: startup}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// verdict turns one scenario's result into the subtest's outcome.
func verdict(t *testing.T, r result, console string) {
	t.Helper()
	switch r.status {
	case -1:
		t.Fatalf("scenario %s left no exit status: the guest did not run it to the end (crash, hang or boot timeout)\nits log so far:\n%s\nconsole (last lines):\n%s",
			r.name, r.log, tail(console, 40))
	case 0:
		t.Logf("passed in %s s in the guest; log:\n%s", r.seconds, r.log)
	case skipStatus:
		t.Skipf("skipped in the guest; log:\n%s", r.log)
	default:
		t.Errorf("scenario %s failed with exit status %d after %s s; log:\n%s", r.name, r.status, r.seconds, r.log)
	}
}

// guestArchs is VOICED_VM_ARCH (comma-separated) or both guest architectures.
func guestArchs() []string {
	if v := os.Getenv("VOICED_VM_ARCH"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"amd64", "arm64"}
}

// only filters names by VOICED_VM_ONLY (comma-separated), which boot.sh also gives the guest.
func only(names []string) []string {
	v := os.Getenv("VOICED_VM_ONLY")
	if v == "" {
		return names
	}
	want := map[string]bool{}
	for _, n := range strings.Split(v, ",") {
		want[n] = true
	}
	var out []string
	for _, n := range names {
		if want[n] {
			out = append(out, n)
		}
	}
	return out
}

// run runs a harness script and returns its combined output.
func run(name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// buildMu keeps guest builds one at a time: they share the download cache.
var buildMu sync.Mutex

func TestVM(t *testing.T) {
	if os.Getenv("VOICED_VM") != "1" {
		t.Skip("system tests in QEMU are off: run `make test-vm`, or VOICED_VM=1 go test ./test/vm")
	}
	names, err := scenarioNames("scenarios")
	if err != nil {
		t.Fatal(err)
	}
	// One guest at a time by default: two emulated guests on two host cores starve each
	// other, and the audio scenarios run in real time (an xrun is a failure there).
	parallel := os.Getenv("VOICED_VM_PARALLEL") == "1"
	for _, arch := range guestArchs() {
		t.Run(arch, func(t *testing.T) {
			if parallel {
				t.Parallel()
			}
			for _, b := range boots(arch, names) {
				bootAndReport(t, b)
			}
		})
	}
}

// bootAndReport builds the guest unless run.sh did, boots it, and reports each of its
// scenarios as a subtest of t.
func bootAndReport(t *testing.T, b guestBoot) {
	t.Helper()
	if os.Getenv("VOICED_VM_BUILT") != "1" {
		buildMu.Lock()
		out, err := run("./build.sh", b.guest)
		buildMu.Unlock()
		if err != nil {
			t.Fatalf("build.sh %s: %v\n%s", b.guest, err, out)
		}
	}
	cache := os.Getenv("VOICED_VM_CACHE")
	if cache == "" {
		cache = ".cache"
	}
	dir := filepath.Join(cache, "runs", b.guest)
	out, bootErr := run("./boot.sh", b.guest, dir)
	console, _ := os.ReadFile(filepath.Join(dir, "console.log"))
	qemu, _ := os.ReadFile(filepath.Join(dir, "qemu_seconds"))
	results := filepath.Join(dir, "results")
	boot := readBoot(results)
	t.Logf("%s guest: /init at %s s of kernel uptime, scenarios done at %s s, QEMU ran %s s wall (results in %s)",
		b.guest, boot.initUptime, boot.doneUptime, strings.TrimSpace(string(qemu)), results)
	if boot.startup != "" {
		t.Logf("%s guest: %s", b.guest, boot.startup)
	}
	var exitErr *exec.ExitError
	if errors.As(bootErr, &exitErr) && exitErr.ExitCode() == 124 {
		t.Errorf("the %s guest ran out of time (VOICED_VM_TIMEOUT, default 480 s)\n%s\nconsole (last lines):\n%s", b.guest, out, tail(string(console), 40))
	} else if bootErr != nil {
		t.Errorf("boot.sh %s: %v\n%s\nconsole (last lines):\n%s", b.guest, bootErr, out, tail(string(console), 40))
	} else if !boot.complete {
		t.Errorf("the %s guest did not get through all scenarios; console (last lines):\n%s", b.guest, tail(string(console), 40))
	}
	for _, name := range b.names {
		t.Run(name, func(t *testing.T) {
			r, err := readResult(results, name)
			if err != nil {
				t.Fatal(err)
			}
			verdict(t, r, string(console))
		})
	}
}
