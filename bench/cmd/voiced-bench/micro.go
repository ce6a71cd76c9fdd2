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
var microPackages = []string{"./internal/pipeline", "./internal/realtime"}

// hotStep is a benchmark that stands for one step of the audio path in the table.
type hotStep struct {
	Bench string // benchmark name as printed, without -GOMAXPROCS
	Pkg   string // package directory
	Label string
	// Count marks the steps whose instructions are counted (valgrind on amd64, an
	// instruction trace under qemu-user for arm64 and arm): they are slow to count.
	Count bool
	// ArmCount marks the few counted under qemu-user too, slower still.
	ArmCount bool
}

var hotSteps = []hotStep{
	{"BenchmarkCapturePeriod", "./internal/pipeline", "capture period: 20 ms of 48 kHz stereo to 24 kHz mono, VAD, ring", true, true},
	{"BenchmarkCaptureIdlePeriod", "./internal/pipeline", "capture period between push-to-talk turns (dormant): 20 ms of 48 kHz stereo, pre-roll kept", true, true},
	{"BenchmarkDecodeMono/S16_LE/2ch/channel-1", "./internal/pipeline", "capture conversion S16 stereo->mono, 20 ms at 48 kHz", false, false},
	{"BenchmarkResample/16000-24000", "./internal/pipeline", "resample 16000->24000, 20 ms", true, false},
	{"BenchmarkResample/48000-24000", "./internal/pipeline", "resample 48000->24000, 20 ms", false, false},
	{"BenchmarkResample/24000-48000", "./internal/pipeline", "resample 24000->48000, 20 ms", false, false},
	{"BenchmarkResample/24000-44100", "./internal/pipeline", "resample 24000->44100, 20 ms", false, false},
	{"BenchmarkResample/44100-24000", "./internal/pipeline", "resample 44100->24000, 20 ms", false, false},
	{"BenchmarkResample/24000-16000", "./internal/pipeline", "resample 24000->16000, 20 ms", false, false},
	{"BenchmarkVADProcess/24kHz", "./internal/pipeline", "VAD, one frame at 24 kHz", true, false},
	{"BenchmarkVADProcessSilence", "./internal/pipeline", "VAD, one frame of digital silence at 24 kHz (a muted microphone)", false, false},
	{"BenchmarkRing", "./internal/pipeline", "ring write+read", true, false},
	{"BenchmarkUplinkChunk", "./internal/pipeline", "uplink chunk (ring -> append)", false, false},
	{"BenchmarkAppendEncode/20ms", "./internal/realtime", "append encoding, 20 ms", true, false},
	{"BenchmarkAppendEncodeJSON/20ms", "./internal/realtime", "append encoding, 20 ms, encoding/json way", true, false},
	{"BenchmarkDeltaDecode/50ms", "./internal/realtime", "delta decoding, 50 ms", true, false},
	{"BenchmarkDeltaDecodeJSON/50ms", "./internal/realtime", "delta decoding, 50 ms, encoding/json way", true, false},
	{"BenchmarkEncodeFrames/S16_LE/2ch", "./internal/pipeline", "playback conversion mono->S16 stereo, 20 ms at 48 kHz", false, false},
	{"BenchmarkPlaybackPeriod/48000", "./internal/pipeline", "playback period: 20 ms of 24 kHz mono to 48 kHz stereo", true, true},
}

// The zero-allocation families: every case of these must report 0 allocs/op.
var zeroAllocFamilies = []string{
	"BenchmarkCapturePeriod", "BenchmarkCaptureIdlePeriod", "BenchmarkDecodeMono", "BenchmarkEncodeFrames", "BenchmarkApplyGain",
	"BenchmarkResample", "BenchmarkVADProcess", "BenchmarkRing", "BenchmarkPreRoll",
	"BenchmarkUplinkChunk", "BenchmarkPlaybackPeriod", "BenchmarkAppendEncode/", "BenchmarkDeltaDecode/",
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

// qemuDiffRuns is the same under qemu's instruction trace, where each run costs tens of
// seconds of starting the test binary, however few iterations it makes.
const qemuDiffRuns = 10

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

// qemuInstructions counts guest instructions per iteration under qemu-user: with one
// instruction per translation block and chaining off, qemu logs a line per executed
// instruction. Background runtime work (timers, GC) leaks into the difference, so the
// figure is approximate, to a few percent.
func qemuInstructions(ctx context.Context, qemu, bin, name string) (float64, error) {
	var counts [2]float64
	for i, n := range []int{2, 2 + qemuDiffRuns} {
		args := append([]string{"-singlestep", "-d", "nochain,exec", "-D", "/dev/stdout", bin}, benchArgs(name, n)...)
		cmd := exec.CommandContext(ctx, qemu, args...)
		cmd.Env = append(os.Environ(), quietRuntime...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return 0, err
		}
		if err := cmd.Start(); err != nil {
			return 0, fmt.Errorf("%s: %w", qemu, err)
		}
		br := bufio.NewReaderSize(out, 1<<20)
		var lines float64
		for {
			line, err := br.ReadSlice('\n')
			if bytes.HasPrefix(line, []byte("Trace ")) {
				lines++
			}
			if err == io.EOF {
				break
			}
			if err != nil && err != bufio.ErrBufferFull {
				return 0, err
			}
		}
		if err := cmd.Wait(); err != nil {
			return 0, fmt.Errorf("%s %s: %w", qemu, name, err)
		}
		counts[i] = lines
	}
	if counts[1] <= counts[0] {
		return 0, fmt.Errorf("%s %s: %v instructions for 2 iterations, %v for %d", qemu, name, counts[0], counts[1], 2+qemuDiffRuns)
	}
	return (counts[1] - counts[0]) / qemuDiffRuns, nil
}

// qemuBench runs benchmarks under qemu-user (without tracing) and parses them.
func qemuBench(ctx context.Context, qemu, bin string, names []string) ([]benchResult, error) {
	var all []benchResult
	for _, name := range names {
		cmd := exec.CommandContext(ctx, qemu, append([]string{bin}, benchArgs(name, 300)...)...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			return all, fmt.Errorf("%s %s: %w\n%s", qemu, name, err, tail(b))
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
