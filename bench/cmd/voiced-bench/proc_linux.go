package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every Linux ABI
// voiced runs on (arm, arm64, amd64).
const clockTicks = 100

// cpuTime is the user+system CPU time a process has used so far, to the nanosecond: the
// scheduler's own count, read through the process's CPU clock (clock_getcpuclockid). The
// times in /proc/PID/stat are sampled at the timer tick, too coarse for a short window
// and skewed for a process that wakes briefly many times a second; they are the fallback.
func cpuTime(pid int) (time.Duration, error) {
	var ts unix.Timespec
	// MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) of include/linux/posix-timers.h.
	if err := unix.ClockGettime(int32(^pid<<3|2), &ts); err == nil {
		return time.Duration(ts.Nano()), nil
	}
	return statCPUTime(pid)
}

// statCPUTime is utime+stime of /proc/PID/stat.
func statCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("read /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// After ")" come state (field 3) ... utime (14) and stime (15).
	if len(f) < 13 {
		return 0, fmt.Errorf("read /proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("read /proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// memory is what a process holds resident, in bytes, from /proc/PID/status: the
// high-water mark (VmHWM) and, at the time of the call, the private pages (RssAnon: heap, stacks) apart from
// the file-backed ones (RssFile: mostly the binary's own pages, which the kernel can drop
// and read again, so they grow with the code a long run has touched).
func memory(pid int) (memoryUse, error) {
	var m memoryUse
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	fields := map[string]*int64{"VmHWM:": &m.Peak, "RssAnon:": &m.Anon, "RssFile:": &m.File}
	found := 0
	for line := range strings.Lines(string(b)) {
		for name, dst := range fields {
			v, ok := strings.CutPrefix(line, name)
			if !ok {
				continue
			}
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return m, fmt.Errorf("read /proc/%d/status: %s %q", pid, name, strings.TrimSpace(v))
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return m, fmt.Errorf("read /proc/%d/status: %s %w", pid, name, err)
			}
			*dst = kb << 10
			found++
		}
	}
	if found != len(fields) {
		return m, fmt.Errorf("read /proc/%d/status: VmHWM, RssAnon or RssFile missing", pid)
	}
	return m, nil
}

func mkfifo(path string) error { return unix.Mkfifo(path, 0o600) }

// setPipeSize sets the capacity of the pipe behind fd.
func setPipeSize(fd uintptr, n int) error {
	_, err := unix.FcntlInt(fd, unix.F_SETPIPE_SZ, n)
	return err
}

// openNonblockRead opens a FIFO for reading without waiting for a writer; reads on it
// never block.
func openNonblockRead(path string) (int, error) {
	return unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
}

// readNonblock reads what is there; 0 when nothing is (or no writer has the FIFO open).
func readNonblock(fd int, buf []byte) (int, error) {
	n, err := unix.Read(fd, buf)
	if err == unix.EAGAIN || err == unix.EINTR {
		return 0, nil
	}
	if n < 0 {
		n = 0
	}
	return n, err
}

func closeFD(fd int) error { return unix.Close(fd) }
