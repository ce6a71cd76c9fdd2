package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// The packages with the audio path's benchmarks.
var microPackages = []string{"./internal/dsp", "./internal/vad", "./internal/vad/silero", "./internal/engine", "./internal/pipeline", "./internal/realtime", "./internal/wakeword", "./internal/aec"}

// hotStep is a benchmark that stands for one step of the audio path in the table.
type hotStep struct {
	Bench string // benchmark name as printed, without -GOMAXPROCS
	Pkg   string // package directory
	Label string
	// Count marks the steps whose instructions are counted (valgrind on amd64, an
	// instruction trace under qemu-user for arm64 and arm): they are slow to count.
	Count bool
	// ArmRuns, for the few counted under qemu-user too (slower still), is how many
	// iterations the second of the two counted runs adds: enough for some 4 million
	// instructions, so that what the runtime does differently from run to run (some
	// 10^5 instructions) stays a few percent of the difference.
	ArmRuns int
}

var hotSteps = []hotStep{
	{"BenchmarkCapturePeriod", "./internal/pipeline", "capture period: 20 ms of 48 kHz stereo to 24 kHz mono, VAD (silero and classic), ring", true, 20},
	{"BenchmarkCaptureQuietPeriod", "./internal/pipeline", "capture period in a quiet room waiting for speech: 20 ms of 48 kHz stereo, silero asleep behind its gate", true, 20},
	{"BenchmarkCaptureIdlePeriod", "./internal/pipeline", "capture period between push-to-talk turns (dormant): 20 ms of 48 kHz stereo, pre-roll kept", true, 100},
	{"BenchmarkDecodeMono/S16_LE/2ch/channel-1", "./internal/dsp", "capture conversion S16 stereo->mono, 20 ms at 48 kHz", false, 0},
	{"BenchmarkResample/16000-24000", "./internal/dsp", "resample 16000->24000, 20 ms", true, 0},
	{"BenchmarkResample/48000-24000", "./internal/dsp", "resample 48000->24000, 20 ms", false, 0},
	{"BenchmarkResample/24000-48000", "./internal/dsp", "resample 24000->48000, 20 ms", false, 0},
	{"BenchmarkResample/24000-44100", "./internal/dsp", "resample 24000->44100, 20 ms", false, 0},
	{"BenchmarkResample/44100-24000", "./internal/dsp", "resample 44100->24000, 20 ms", false, 0},
	{"BenchmarkResample/24000-16000", "./internal/dsp", "resample 24000->16000, 20 ms", false, 0},
	{"BenchmarkVADProcess/24kHz", "./internal/vad", "VAD, one frame at 24 kHz", true, 0},
	{"BenchmarkNeuralProcess", "./internal/vad", "VAD silero, one 10 ms frame at 24 kHz: to 16 kHz, classic detector, network (a 32 ms step every 3.2 frames)", true, 10},
	{"BenchmarkProcess", "./internal/vad/silero", "Silero network, one 32 ms step at 16 kHz", true, 5},
	{"BenchmarkVADProcessSilence", "./internal/vad", "VAD, one frame of digital silence at 24 kHz (a muted microphone)", false, 0},
	{"BenchmarkRing", "./internal/dsp", "ring write+read", true, 0},
	{"BenchmarkUplinkChunk", "./internal/pipeline", "uplink chunk (ring -> append)", false, 0},
	{"BenchmarkAppendEncode/20ms", "./internal/realtime", "append encoding, 20 ms", true, 0},
	{"BenchmarkAppendEncodeJSON/20ms", "./internal/realtime", "append encoding, 20 ms, encoding/json way", true, 0},
	{"BenchmarkDeltaDecode/50ms", "./internal/realtime", "delta decoding, 50 ms", true, 0},
	{"BenchmarkDeltaDecodeJSON/50ms", "./internal/realtime", "delta decoding, 50 ms, encoding/json way", true, 0},
	{"BenchmarkEncodeFrames/S16_LE/2ch", "./internal/dsp", "playback conversion mono->S16 stereo, 20 ms at 48 kHz", false, 0},
	{"BenchmarkPlaybackPeriod/48000", "./internal/pipeline", "playback period: 20 ms of 24 kHz mono to 48 kHz stereo", true, 16},
	{"BenchmarkDetectorStep/okay_nabu", "./internal/wakeword", "wake word okay_nabu: one 10 ms step, front end and model", true, 20},
	{"BenchmarkProcess24kHz", "./internal/aec", "echo canceller: 20 ms at 24 kHz in 10 ms frames, 128 ms tail, far end playing", true, 5},
	{"BenchmarkProcessQuiet", "./internal/aec", "echo canceller with nothing played (passes through): 20 ms at 16 kHz", true, 50},
	{"BenchmarkDetectorStep/all4", "./internal/wakeword", "wake words, all four built-ins on one front end: one 10 ms step", true, 10},
}

// The zero-allocation families: every case of these must report 0 allocs/op.
var zeroAllocFamilies = []string{
	"BenchmarkCapturePeriod", "BenchmarkCaptureQuietPeriod", "BenchmarkCaptureIdlePeriod", "BenchmarkDecodeMono", "BenchmarkEncodeFrames", "BenchmarkApplyGain",
	"BenchmarkResample", "BenchmarkVADProcess", "BenchmarkNeuralProcess", "BenchmarkRing", "BenchmarkPreRoll",
	"BenchmarkUplinkChunk", "BenchmarkPlaybackPeriod", "BenchmarkAppendEncode/", "BenchmarkDeltaDecode/",
	"BenchmarkDetectorStep", "BenchmarkFrontendStep", "BenchmarkProcess",
}

// runGoBench runs the packages' benchmarks on this machine.
func runGoBench(ctx context.Context, benchtime string, log io.Writer) ([]benchResult, error) {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, "-count", "1"}, microPackages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return parseBench(&out)
}

// testBinary builds a package's test binary for an architecture.
func testBinary(ctx context.Context, dir, pkg, goarch string) (string, error) {
	out := filepath.Join(dir, goarch+"-"+filepath.Base(pkg)+".test")
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOARM=6")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s tests for %s: %w\n%s", pkg, goarch, err, b)
	}
	return out, nil
}

// benchPattern is the -test.bench pattern that selects exactly one benchmark.
func benchPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// benchArgs runs one benchmark n times after its first call.
func benchArgs(name string, n int) []string {
	return []string{"-test.run", "^$", "-test.bench", benchPattern(name), "-test.benchtime", strconv.Itoa(n) + "x", "-test.benchmem"}
}

// countDiffRuns is how many more iterations the second of two counted runs makes; the
// difference of the two counts is the benchmark's loop alone. Both runs ask for more
// than one iteration, so that the testing package calls the benchmark function the same
// number of times in each (b.N benchmarks: once with N=1, then with N).
const countDiffRuns = 200

// quietRuntime keeps the Go runtime's background work small while instructions are
// counted: no preemption signals (which also upset callgrind), no GC, one P.
var quietRuntime = []string{"GODEBUG=asyncpreemptoff=1", "GOMAXPROCS=1", "GOGC=off"}

// valgrindInstructions counts amd64 instructions per iteration with callgrind, collecting
// only inside the benchmark function (the b.Run closure for a sub-benchmark), so that
// the runtime's background work stays out. Go's asynchronous preemption signals upset
// callgrind, and a goroutine that moves between threads would confuse its call stacks:
// see quietRuntime.
//
// Code that allocates switches stacks inside the runtime, which now and then makes
// callgrind lose the function's exit and count short: the benchmarks of the
// encoding/json way are counted twice and the higher count kept, and a pair of counts
// out of order is taken again.
func valgrindInstructions(ctx context.Context, bin, name string) (float64, error) {
	repeat := 1
	if strings.Contains(name, "JSON") {
		repeat = 2
	}
	var err error
	for range 3 {
		var v float64
		if v, err = valgrindOnce(ctx, bin, name, repeat); err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return 0, err
}

func valgrindOnce(ctx context.Context, bin, name string, repeat int) (float64, error) {
	fn, _, sub := strings.Cut(name, "/")
	toggle := "*." + fn
	if sub {
		toggle += ".func?"
	}
	var counts [2]float64
	for i, n := range []int{2, 2 + countDiffRuns} {
		for range repeat {
			args := append([]string{"--tool=callgrind", "--collect-atstart=no", "--toggle-collect=" + toggle, "--callgrind-out-file=/dev/null", bin}, benchArgs(name, n)...)
			cmd := exec.CommandContext(ctx, "valgrind", args...)
			cmd.Env = append(os.Environ(), quietRuntime...)
			b, err := cmd.CombinedOutput()
			if err != nil {
				return 0, fmt.Errorf("valgrind %s: %w\n%s", name, err, tail(b))
			}
			m := regexp.MustCompile(`Collected\s*:\s*(\d+)`).FindSubmatch(b)
			if m == nil {
				return 0, fmt.Errorf("valgrind %s: no instruction count in its output\n%s", name, tail(b))
			}
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			counts[i] = max(counts[i], v)
		}
	}
	if counts[1] <= counts[0] {
		return 0, fmt.Errorf("valgrind %s: %v instructions for %d iterations, %v for %d: the function toggle %s missed the loop", name, counts[0], 2, counts[1], 2+countDiffRuns, toggle)
	}
	return (counts[1] - counts[0]) / countDiffRuns, nil
}

// qemuInstructions counts guest instructions per iteration under qemu-user, from its log
// of the translation blocks each thread (qemu's CPU) enters (see qemuCount). Only the
// thread that ran the benchmark counts, and in it not the runtime's scheduling: the
// runtime works by the wall clock (sysmon on its own thread, preemption in the
// benchmark's), and emulated code is slow, so that work adds instructions that scale
// with how long a run takes and with the machine's load. The first qemuWarmRuns
// iterations, which may do first-time work, are in both runs.
func qemuInstructions(ctx context.Context, qemu qemuUser, bin, name string, runs int) (float64, error) {
	base, err := qemuCount(ctx, qemu, bin, name, qemuWarmRuns)
	if err != nil {
		return 0, err
	}
	more, err := qemuCount(ctx, qemu, bin, name, qemuWarmRuns+runs)
	if err != nil {
		return 0, err
	}
	if more <= base {
		return 0, fmt.Errorf("%s %s: %v instructions for %d iterations, %v for %d", qemu.bin, name, base, qemuWarmRuns, more, qemuWarmRuns+runs)
	}
	return (more - base) / float64(runs), nil
}

// qemuWarmRuns is the iterations of the first counted run under qemu.
const qemuWarmRuns = 4

// qemuUser is a qemu-user binary and the CPU it emulates (empty: qemu's default).
type qemuUser struct{ bin, cpu string }

// cpuArgs are the arguments that run bin on the CPU.
func (q qemuUser) cpuArgs(bin string) []string {
	if q.cpu == "" {
		return []string{bin}
	}
	return []string{"-cpu", q.cpu, bin}
}

// qemuCount is the number of guest instructions, outside the runtime's own work, that
// the busiest thread of one run of the benchmark with n iterations executes, start-up
// included: with GOMAXPROCS=1 and nothing in the loop that blocks, that thread is the
// one running the benchmark.
//
// qemu logs each translation block when it translates it (in_asm: its instructions) and,
// with chaining off, every time a thread enters it (exec); the count is the sum of the
// blocks' lengths over the entries. Blocks of one instruction each (-singlestep) would
// give the count line by line, but make qemu log and look up a symbol per instruction:
// ten times slower, minutes per count.
func qemuCount(ctx context.Context, qemu qemuUser, bin, name string, n int) (float64, error) {
	args := append([]string{"-d", "nochain,exec,in_asm", "-D", "/dev/stdout"}, qemu.cpuArgs(bin)...)
	args = append(args, benchArgs(name, n)...)
	cmd := exec.CommandContext(ctx, qemu.bin, args...)
	cmd.Env = append(os.Environ(), quietRuntime...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("%s: %w", qemu.bin, err)
	}
	most, err := busiestThread(out)
	if err != nil {
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
		return 0, fmt.Errorf("%s %s: %w", qemu.bin, name, err)
	}
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("%s %s: %w", qemu.bin, name, err)
	}
	if most == 0 {
		return 0, fmt.Errorf("%s %s: no instruction trace in its output", qemu.bin, name)
	}
	return most, nil
}

// busiestThread reads qemu's in_asm and exec log and returns, of the thread that
// executed the most instructions, those of functions that are not the runtime's own
// work (see fnKind).
//
// The in_asm log of a block ("IN: pkg.function", then a line "0x<pc>:  <code>  <insn>"
// per instruction) comes right before the first entry into it, in the thread that
// translated it; an entry is "Trace <cpu>: <host address> [<cs base>/<pc>/<flags>/<cflags>]
// pkg.function". A block's length is learnt by its host address at its first entry:
// qemu may translate a second, shorter block at the same pc (one instruction, to run an
// atomic step alone), and another thread may enter the older block meanwhile.
func busiestThread(r io.Reader) (float64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	type count struct {
		all, step float64
		inRuntime bool // the last function that was not a helper was the runtime's
	}
	perThread := map[string]*count{}
	pending := map[uint64]int{} // pc -> length of a block translated but not yet entered
	known := map[uint64]int{}   // pc -> length of the latest block entered there
	blocks := map[string]int{}  // host address -> length
	var inBlock bool
	var blockPC uint64
	var blockLen int
	trace := []byte("Trace ")
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case bytes.HasPrefix(line, []byte("IN:")):
			inBlock, blockLen = true, 0
		case inBlock && bytes.HasPrefix(line, []byte("0x")):
			if blockLen == 0 {
				end := bytes.IndexByte(line, ':')
				if end < 0 {
					return 0, fmt.Errorf("in_asm line %q: no address", line)
				}
				pc, perr := strconv.ParseUint(string(line[2:end]), 16, 64)
				if perr != nil {
					return 0, fmt.Errorf("in_asm line %q: %v", line, perr)
				}
				blockPC = pc
			}
			blockLen++
		case inBlock:
			if blockLen > 0 {
				pending[blockPC] = blockLen
			}
			inBlock = false
		}
		if rest, ok := bytes.CutPrefix(line, trace); ok {
			cpu, host, pc, fn, perr := parseTrace(rest)
			if perr != nil {
				return 0, fmt.Errorf("exec line %q: %v", line, perr)
			}
			n, ok := blocks[host]
			if !ok {
				if n, ok = pending[pc]; ok {
					delete(pending, pc)
				} else if n, ok = known[pc]; !ok {
					return 0, fmt.Errorf("exec line %q: a block never translated", bytes.TrimSpace(line))
				}
				blocks[host] = n
				known[pc] = n
			}
			c := perThread[cpu]
			if c == nil {
				c = &count{inRuntime: true} // a thread starts in the runtime
				perThread[cpu] = c
			}
			c.all += float64(n)
			switch fnKind(fn) {
			case fnStep:
				c.inRuntime = false
			case fnRuntime:
				c.inRuntime = true
			}
			if !c.inRuntime {
				c.step += float64(n)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			return 0, err
		}
	}
	var most count
	for _, c := range perThread {
		if c.all > most.all {
			most = *c
		}
	}
	return most.step, nil
}

// parseTrace splits an exec line after "Trace ": "<cpu>: <host> [<cs>/<pc>/<flags>/<cflags>] <function>".
func parseTrace(rest []byte) (cpu, host string, pc uint64, fn []byte, err error) {
	i := bytes.IndexByte(rest, ':')
	open, shut := bytes.IndexByte(rest, '['), bytes.IndexByte(rest, ']')
	if i <= 0 || open < i || shut < open {
		return "", "", 0, nil, fmt.Errorf("not an exec trace")
	}
	fields := bytes.Split(rest[open+1:shut], []byte("/"))
	if len(fields) != 4 {
		return "", "", 0, nil, fmt.Errorf("want 4 fields in brackets")
	}
	if pc, err = strconv.ParseUint(string(fields[1]), 16, 64); err != nil {
		return "", "", 0, nil, err
	}
	return string(rest[:i]), string(bytes.TrimSpace(rest[i+1 : open])), pc, bytes.TrimSpace(rest[shut+1:]), nil
}

// The kinds of traced function, for what counts toward a step.
const (
	fnStep    = iota // the benchmark's own code: counted
	fnRuntime        // the runtime's own work: left out
	fnHelper         // called by either: counted when the step called it
)

// fnKind sorts a traced function. The runtime's own work is scheduling, stack growth and
// the system calls under them: a goroutine that runs for 10 ms is preempted, and 10 ms
// of emulated time is only thousands of instructions, so this work grows with how slowly
// the machine emulates. Helpers are the leaves both sides call: memory moves and clears,
// the ARM division routines, the atomics (on ARMv6 Go functions around the kernel's
// compare-and-swap and barrier, whose page of code has no symbol); they belong to
// whoever called them, so that a step's own ring atomics count and the scheduler's
// locks, which follow the wall clock, do not.
func fnKind(fn []byte) int {
	if len(fn) == 0 || bytes.HasPrefix(fn, []byte("internal/runtime/atomic.")) || bytes.HasPrefix(fn, []byte("sync/atomic.")) ||
		bytes.Equal(fn, []byte("kernelcas")) || bytes.Equal(fn, []byte("cas")) || bytes.Equal(fn, []byte("memory_barrier")) {
		return fnHelper
	}
	if bytes.HasPrefix(fn, []byte("internal/runtime/syscall")) || bytes.Equal(fn, []byte("gogo")) || bytes.Equal(fn, []byte("setg")) {
		return fnRuntime
	}
	rest, ok := bytes.CutPrefix(fn, []byte("runtime."))
	if !ok {
		return fnStep
	}
	for _, helper := range []string{"mem", "duff", "udiv", "_div", "_mod", "int64", "uint64", "_mul64"} {
		if bytes.HasPrefix(rest, []byte(helper)) {
			return fnHelper
		}
	}
	return fnRuntime
}

// qemuBench runs benchmarks under qemu-user (without tracing) and parses them.
func qemuBench(ctx context.Context, qemu qemuUser, bin string, names []string) ([]benchResult, error) {
	var all []benchResult
	for _, name := range names {
		cmd := exec.CommandContext(ctx, qemu.bin, append(qemu.cpuArgs(bin), benchArgs(name, 300)...)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			return all, fmt.Errorf("%s %s: %w\n%s", qemu.bin, name, err, tail(b))
		}
		res, err := parseBench(bytes.NewReader(b))
		if err != nil {
			return all, err
		}
		all = append(all, res...)
	}
	return all, nil
}

func tail(b []byte) []byte {
	if len(b) > 2000 {
		return b[len(b)-2000:]
	}
	return b
}

// parallel runs fs on two workers (the benchmark machine's cores) and returns the first error.
func parallel(workers int, fs []func() error) error {
	var mu sync.Mutex
	var first error
	next := make(chan func() error)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				if err := f(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, f := range fs {
		next <- f
	}
	close(next)
	wg.Wait()
	return first
}
