package alsa

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// findHolder looks for who has a PCM open: first the owner_pid line the kernel prints in
// /proc/asound/cardC/pcmDx/subS/status, then the open files under /proc/PID/fd.
func findHolder(procRoot string, card, dev int, s Stream, path string) (int, string) {
	c := "p"
	if s == Capture {
		c = "c"
	}
	subs, _ := filepath.Glob(filepath.Join(procRoot, "asound", fmt.Sprintf("card%d", card), fmt.Sprintf("pcm%d%s", dev, c), "sub*", "status"))
	for _, st := range subs {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && strings.TrimSpace(k) == "owner_pid" {
				if pid, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && pid > 0 {
					pid = processOf(procRoot, pid)
					return pid, comm(procRoot, pid)
				}
			}
		}
	}
	fds, _ := filepath.Glob(filepath.Join(procRoot, "[0-9]*", "fd", "*"))
	for _, fd := range fds {
		if target, err := os.Readlink(fd); err == nil && target == path {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(fd))))
			return pid, comm(procRoot, pid)
		}
	}
	return 0, ""
}

// processOf maps a thread id to its process id: the kernel records the opening thread.
func processOf(procRoot string, tid int) int {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(tid), "status"))
	if err != nil {
		return tid
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			if pid, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && pid > 0 {
				return pid
			}
		}
	}
	return tid
}

func comm(procRoot string, pid int) string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// explainOpen turns an open error into one a user can act on.
func explainOpen(sys *system, err error, name string, card, dev int, s Stream, path string) error {
	switch {
	case errors.Is(err, syscall.EBUSY):
		pid, cmd := findHolder(sys.procRoot, card, dev, s, path)
		return &BusyError{Device: fmt.Sprintf("%s (%s)", name, path), PID: pid, Command: cmd}
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("no %v device %d on card %d (%s does not exist; `voiced devices` lists what there is): %w", s, dev, card, path, err)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("no permission to open %s (is the user in group audio?): %w", path, err)
	}
	return fmt.Errorf("open %s: %w", path, err)
}
