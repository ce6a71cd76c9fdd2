// Command voiced-bench is `make bench`: it measures voiced's audio path and prints one
// table of figures against the budgets of the design, also written as JSON.
//
//	voiced-bench [--minutes 10] [--speedup 30] [--bin bin] [--reference PATH] [--work build/bench]
//	             [--out build/bench.json] [--skip scenario,micro,valgrind,qemu,size,turns]
//	             [--clients voiced,reference,reference-dsp]
//
// # What it measures
//
// The scenario: the real `voiced run` with a FIFO as its microphone (a WAV stream the
// benchmark writes) and a WAV file as its speaker, against voiced-sim at --speed 0
// (replies as fast as possible), holds a conversation of many turns in push-to-talk and
// in continuous mode. The same conversation goes through the reference client (see
// bench/reference) in the same run. Per client and mode: CPU time (user+system from
// /proc) per minute of microphone audio, heap objects per 20 ms frame in steady state
// (from /metrics: the per-turn counts fitted to a line, whose slope is the cost of one
// more frame and whose intercept is the turn's fixed cost), peak RSS (VmHWM),
// goroutines at the start and end. Latencies measured from the outside: a period
// written to the microphone -> its input_audio_buffer.append at the server (timed in
// lockstep for the first periods of each push-to-talk turn), and ptt_stop sent -> the
// commit at the server. Latency histograms the daemon exports on /metrics are read too.
//
// The micro-benchmarks: the Go benchmarks of internal/dsp, vad, engine, pipeline and
// realtime (ns/op, allocs/op), instructions per operation with valgrind on amd64 (the hardware
// counters of `perf stat` are used instead when the machine has them), and the
// per-period steps under qemu-user for linux/arm64 and linux/arm (ARMv6), as the
// Raspberry Pi's proxy: ns/op there, and an instruction count from qemu's log of the
// translation blocks it runs.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/voiced-project/voiced/internal/wav"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "voiced-bench:", err)
		os.Exit(1)
	}
}

type config struct {
	minutes      float64
	speedup      float64
	bin          string
	reference    string
	work         string
	out          string
	speech       string
	benchtime    string
	skip         map[string]bool
	clients      []string
	profile      bool
	allocProfile bool
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("voiced-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var skip, clients string
	fs.Float64Var(&c.minutes, "minutes", 10, "microphone audio per client and mode, in minutes")
	fs.Float64Var(&c.speedup, "speedup", 30, "the conversation's sound card runs this many times faster than real time (0: as fast as the client reads)")
	fs.StringVar(&c.bin, "bin", "bin", "directory with the voiced and voiced-sim binaries")
	fs.StringVar(&c.reference, "reference", "build/bench/reference", "the reference client binary")
	fs.StringVar(&c.work, "work", "build/bench", "scratch directory")
	fs.StringVar(&c.out, "out", "build/bench.json", "where the table goes as JSON")
	fs.StringVar(&c.speech, "speech", "examples/question.wav", "16 kHz mono speech the turns are cut from")
	fs.StringVar(&c.benchtime, "benchtime", "200ms", "go test -benchtime of the micro-benchmarks")
	fs.BoolVar(&c.profile, "profile", false, "voiced writes a CPU profile of each conversation to <work>/voiced-<mode>/voiced.pprof (it costs a few per cent of CPU)")
	fs.BoolVar(&c.allocProfile, "allocprofile", false, "voiced records every heap allocation to <work>/voiced-<mode>/voiced.allocs.pprof (slow: for finding allocations, not for figures)")
	fs.StringVar(&clients, "clients", "voiced,reference,reference-dsp", "clients of the scenario: voiced, reference, reference-dsp")
	fs.StringVar(&skip, "skip", "", "parts to leave out: scenario, micro, valgrind, qemu, size, turns")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.skip = map[string]bool{}
	for p := range strings.SplitSeq(skip, ",") {
		if p = strings.TrimSpace(p); p != "" {
			switch p {
			case "scenario", "micro", "valgrind", "qemu", "size", "turns":
				c.skip[p] = true
			default:
				return fmt.Errorf("--skip %q: parts are scenario, micro, valgrind, qemu, size, turns", p)
			}
		}
	}
	for k := range strings.SplitSeq(clients, ",") {
		if k != "voiced" && k != "reference" && k != "reference-dsp" {
			return fmt.Errorf("--clients: %q is not voiced, reference or reference-dsp", k)
		}
		c.clients = append(c.clients, k)
	}
	if c.minutes <= 0 {
		return fmt.Errorf("--minutes %v: want a positive number", c.minutes)
	}
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		return err
	}
	start := time.Now()
	var t table
	var failures []string
	fail := func(part string, err error) {
		fmt.Fprintf(stderr, "bench: %s: %v\n", part, err)
		failures = append(failures, part)
		t.add(row{Figure: part, Unit: "failed: " + firstLine(err.Error())})
	}

	// Each part says how long it took, so that a run near the 10-minute budget shows
	// where the time went.
	part := func(name, figure string, f func() error) {
		if c.skip[name] {
			return
		}
		t0 := time.Now()
		if err := f(); err != nil {
			fail(figure, err)
		}
		fmt.Fprintf(stderr, "bench: %s took %.1f s\n", name, time.Since(t0).Seconds())
	}
	part("scenario", "scenario", func() error { return scenarios(ctx, c, &t, stderr) })
	part("micro", "micro-benchmarks", func() error { return micro(ctx, c, &t, stderr) })
	part("size", "binary size", func() error { return binarySize(ctx, c, &t) })
	part("turns", "end of turn", func() error { return endOfTurn(ctx, c, &t, stderr) })
	t.add(row{Figure: "make bench wall time", Value: ptr(time.Since(start).Seconds()), Unit: "s", Budget: ptr("< 600 s"), OK: ptr(time.Since(start) < 10*time.Minute)})

	t.print(stdout)
	if err := t.writeJSON(c.out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwritten to %s\n", c.out)
	if len(failures) > 0 {
		return fmt.Errorf("not measured: %s", strings.Join(failures, ", "))
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// scenarios holds the conversation in both modes with voiced and with the reference.
func scenarios(ctx context.Context, c config, t *table, log io.Writer) error {
	speech, err := readSpeech(c.speech)
	if err != nil {
		return err
	}
	results := map[string]scenarioResult{}
	var errs []error
	for _, mode := range []string{"push_to_talk", "continuous"} {
		for _, kind := range c.clients {
			s := &scenario{
				Kind: kind, Mode: mode,
				Voiced: filepath.Join(c.bin, "voiced"), Sim: filepath.Join(c.bin, "voiced-sim"), Reference: c.reference,
				Dir:   filepath.Join(c.work, kind+"-"+mode),
				Audio: time.Duration(c.minutes * float64(time.Minute)), Speedup: c.speedup,
				Speech: speech, Log: log, Profile: c.profile, AllocProfile: c.allocProfile,
			}
			res, err := s.run(ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", kind, mode, err))
				t.add(row{Figure: fmt.Sprintf("scenario %s, %s", kind, mode), Unit: "failed: " + firstLine(err.Error())})
				continue
			}
			results[kind+"/"+mode] = res
		}
	}
	for _, mode := range []string{"push_to_talk", "continuous"} {
		scenarioRows(t, mode, results["voiced/"+mode], results["reference/"+mode], results["reference-dsp/"+mode])
	}
	return errors.Join(errs...)
}

// cpuPerMinute is CPU milliseconds per minute of microphone audio.
func (r scenarioResult) cpuPerMinute() float64 {
	if r.AudioSeconds == 0 {
		return math.NaN()
	}
	return r.CPU.Seconds() * 1000 / (r.AudioSeconds / 60)
}

// idleCPUPerMinute is CPU milliseconds per minute of the idle window.
func (r scenarioResult) idleCPUPerMinute() float64 {
	if r.IdleSeconds == 0 {
		return math.NaN()
	}
	return r.IdleCPU.Seconds() * 1000 / (r.IdleSeconds / 60)
}

func (r scenarioResult) ok() bool { return r.AudioSeconds > 0 }

func scenarioRows(t *table, mode string, v, ref, refDSP scenarioResult) {
	m := strings.ReplaceAll(mode, "_", "-")
	for _, r := range []scenarioResult{v, ref, refDSP} {
		if !r.ok() {
			continue
		}
		t.add(row{Figure: fmt.Sprintf("%s %s: conversation (turns/replies, audio min, wall s)", m, r.Kind),
			Value: ptr(r.AudioSeconds / 60), Unit: fmt.Sprintf("min (%d/%d turns, %.1f s)", r.Turns, r.Replies, r.Wall.Seconds())})
		t.add(row{Figure: fmt.Sprintf("%s %s: CPU per conversation minute", m, r.Kind), Value: ptr(r.cpuPerMinute()), Unit: "ms/min"})
		t.add(row{Figure: fmt.Sprintf("%s %s: heap objects per frame, all", m, r.Kind), Value: ptr(r.AllocsTotal / r.Frames), Unit: "objects/20 ms"})
		t.add(row{Figure: fmt.Sprintf("%s %s: CPU per idle minute (a quiet room, nothing said)", m, r.Kind), Value: ptr(r.idleCPUPerMinute()), Unit: "ms/min"})
		if r.IdleSeconds > 0 {
			t.add(row{Figure: fmt.Sprintf("%s %s: sent to the server per idle minute (%.1f s of audio)", m, r.Kind, r.IdleSentAudio*60/r.IdleSeconds),
				Value: ptr(float64(r.IdleSentBytes) / 1024 * 60 / r.IdleSeconds), Unit: "KiB/min"})
		}
		if r.Kind != "voiced" {
			// voiced's rows, with their budgets, come below; the others' are for comparison.
			t.add(row{Figure: fmt.Sprintf("%s %s: peak RSS (VmHWM)", m, r.Kind), Value: ptr(float64(r.Memory.Peak) / (1 << 20)), Unit: "MiB"})
			if mode == "push_to_talk" {
				latencyRows(t, fmt.Sprintf("%s %s: mic -> wire, outside", m, r.Kind), r.MicToWire, math.NaN(), "")
			}
		}
	}
	if v.ok() && ref.ok() {
		ratio := v.cpuPerMinute() / ref.cpuPerMinute()
		t.add(row{Figure: m + ": CPU voiced / reference", Value: ptr(ratio), Unit: "ratio", Budget: ptr("<= 0.2"), OK: ptr(ratio <= 0.2)})
		t.add(row{Figure: m + ": CPU voiced / reference, idle", Value: ptr(v.idleCPUPerMinute() / ref.idleCPUPerMinute()), Unit: "ratio"})
		t.add(row{Figure: m + ": heap objects voiced / reference", Value: ptr((v.AllocsTotal / v.Frames) / (ref.AllocsTotal / ref.Frames)), Unit: "ratio"})
	}
	if v.ok() && refDSP.ok() {
		t.add(row{Figure: m + ": CPU voiced / reference-dsp (same resampler)", Value: ptr(v.cpuPerMinute() / refDSP.cpuPerMinute()), Unit: "ratio"})
		t.add(row{Figure: m + ": CPU voiced / reference-dsp, idle", Value: ptr(v.idleCPUPerMinute() / refDSP.idleCPUPerMinute()), Unit: "ratio"})
		t.add(row{Figure: m + ": heap objects voiced / reference-dsp", Value: ptr((v.AllocsTotal / v.Frames) / (refDSP.AllocsTotal / refDSP.Frames)), Unit: "ratio"})
	}
	if !v.ok() {
		return
	}
	if v.IdleFrames > 0 {
		per := v.IdleAllocs / v.IdleFrames
		t.add(row{Figure: fmt.Sprintf("%s voiced: heap objects per frame, idle (%.0f objects / %.0f frames)", m, v.IdleAllocs, v.IdleFrames), Value: ptr(per), Unit: "objects/20 ms", Budget: ptr("0 (< 0.01)"), OK: ptr(per < 0.01)})
	}
	if v.UplinkFrames > 0 {
		per := v.UplinkAllocs / v.UplinkFrames
		t.add(row{Figure: fmt.Sprintf("%s voiced: heap objects per frame while streaming (%.0f objects / %.0f frames)", m, v.UplinkAllocs, v.UplinkFrames), Value: ptr(per), Unit: "objects/20 ms", Budget: ptr("0 (< 0.01)"), OK: ptr(per < 0.01)})
	}
	if v.DownlinkFrames > 0 {
		per := v.DownlinkAllocs / v.DownlinkFrames
		t.add(row{Figure: fmt.Sprintf("%s voiced: heap objects per frame while a reply plays (%.0f objects / %.0f frames)", m, v.DownlinkAllocs, v.DownlinkFrames), Value: ptr(per), Unit: "objects/20 ms", Budget: ptr("0 (< 0.01)"), OK: ptr(per < 0.01)})
	}
	if v.AllocsFitOK {
		// Whole turns include the server's events (transcript deltas grow with the
		// turn), so this slope is not the audio path's: the windows above are.
		t.add(row{Figure: m + " voiced: heap objects per frame of whole turns, events included, fitted", Value: ptr(v.AllocsPerFrame), Unit: "objects/20 ms"})
		t.add(row{Figure: m + " voiced: heap objects per turn, fixed", Value: ptr(v.AllocsPerTurn), Unit: "objects/turn"})
	}
	for _, name := range []string{"voiced_capture_dropped_samples_total", "voiced_audio_dropped_appends_total", "voiced_capture_xruns_total", "voiced_playback_xruns_total"} {
		if x, ok := v.Values[name]; ok {
			t.add(row{Figure: m + " voiced: " + name, Value: ptr(x), Unit: "count"})
		}
	}
	if mode == "push_to_talk" {
		t.add(row{Figure: m + " voiced: speech the server did not get, beyond 100 ms a turn", Value: ptr(float64(v.Shortfall) / wireRate * 1000), Unit: "ms"})
	}
	rss := float64(v.Memory.Peak) / (1 << 20)
	t.add(row{Figure: m + " voiced: peak RSS (VmHWM)", Value: ptr(rss), Unit: "MiB", Budget: ptr("< 20 MiB"), OK: ptr(rss < 20)})
	t.add(row{Figure: m + " voiced: resident at the end, private (RssAnon: heap, stacks)", Value: ptr(float64(v.Memory.Anon) / (1 << 20)), Unit: "MiB"})
	t.add(row{Figure: m + " voiced: resident at the end, file-backed (RssFile: the binary's pages)", Value: ptr(float64(v.Memory.File) / (1 << 20)), Unit: "MiB"})
	growth := v.GoroutinesEnd - v.GoroutinesStart
	t.add(row{Figure: m + fmt.Sprintf(" voiced: goroutine growth (%.0f -> %.0f)", v.GoroutinesStart, v.GoroutinesEnd), Value: ptr(growth), Unit: "goroutines", Budget: ptr("0"), OK: ptr(growth <= 0)})
	if mode == "push_to_talk" {
		latencyRows(t, m+" voiced: mic -> wire, outside", v.MicToWire, 0.021, "<= 21 ms (period + 1 ms)")
		// In audio time: speaker periods of 20 ms, one of which the FIFO itself holds.
		for i := range v.BargeInPeriods {
			v.BargeInPeriods[i] *= 0.020
		}
		latencyRows(t, m+" voiced: interrupt -> speaker silent, outside, audio time incl. 20 ms FIFO", v.BargeInPeriods, math.NaN(), "")
		// From the outside the HTTP request is part of it; the budgeted figure is the
		// daemon's own histogram (release -> commit) below.
		latencyRows(t, m+" voiced: ptt_stop POST -> commit on the wire, outside", v.ReleaseToCommit, math.NaN(), "")
		if ref.ok() {
			latencyRows(t, m+" reference: ptt_stop POST -> commit on the wire, outside", ref.ReleaseToCommit, math.NaN(), "")
		}
	}
	histogramRows(t, m+" voiced", v.Histograms)
}

// The daemon's latency histograms, by what their names say, with their budgets.
var latencyBudgets = []struct {
	match  []string
	figure string
	limit  float64
	budget string
}{
	{[]string{"uplink", "mic", "capture"}, "capture frame -> append on the socket", 0.021, "<= 21 ms (period + 1 ms)"},
	{[]string{"downlink", "delta", "playback_latency", "speaker"}, "delta received -> device write", 0.081, "<= 81 ms (1 ms + 80 ms buffer)"},
	{[]string{"commit"}, "release -> commit on the wire", 0.005, "< 5 ms"},
	{[]string{"barge", "interrupt"}, "barge-in -> playback silent", 0.030, "<= 30 ms"},
}

func histogramRows(t *table, prefix string, hs map[string]*histogram) {
	names := make([]string, 0, len(hs))
	for n := range hs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, lb := range latencyBudgets {
		found := false
		for _, n := range names {
			if !slices.ContainsFunc(lb.match, func(s string) bool { return strings.Contains(n, s) }) || !strings.HasSuffix(n, "_seconds") {
				continue
			}
			found = true
			h := hs[n]
			if h.Count == 0 {
				t.add(row{Figure: fmt.Sprintf("%s: %s (%s)", prefix, lb.figure, n), Unit: "no observations", Budget: ptr(lb.budget)})
				continue
			}
			for _, q := range []float64{0.5, 0.99} {
				v := h.quantile(q)
				t.add(row{Figure: fmt.Sprintf("%s: %s (%s) p%.0f of %.0f", prefix, lb.figure, n, q*100, h.Count), Value: ptr(v * 1000), Unit: "ms", Budget: ptr(lb.budget), OK: ptr(v <= lb.limit)})
			}
		}
		if !found {
			t.add(row{Figure: fmt.Sprintf("%s: %s", prefix, lb.figure), Unit: "not exported on /metrics", Budget: ptr(lb.budget)})
		}
	}
}

func latencyRows(t *table, figure string, samples []float64, limit float64, budget string) {
	if len(samples) == 0 {
		t.add(row{Figure: figure, Unit: "no samples"})
		return
	}
	for _, q := range []float64{0.5, 0.99} {
		v := percentile(samples, q)
		r := row{Figure: fmt.Sprintf("%s p%.0f of %d", figure, q*100, len(samples)), Value: ptr(v * 1000), Unit: "ms"}
		if !math.IsNaN(limit) {
			r.Budget, r.OK = ptr(budget), ptr(v <= limit)
		}
		t.add(r)
	}
}

func readSpeech(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := wav.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	h := r.Header()
	if h.Rate != micRate || h.Channels != 1 || h.Bits != 16 {
		return nil, fmt.Errorf("read %s: %d Hz %d ch %d-bit, want %d Hz mono 16-bit", path, h.Rate, h.Channels, h.Bits, micRate)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
	}
	if len(pcm) < micRate/2 {
		return nil, fmt.Errorf("read %s: %d samples, want at least half a second", path, len(pcm))
	}
	return pcm, nil
}

// micro runs the Go benchmarks natively, counts instructions, and runs the per-period
// steps under qemu-user for arm64 and arm.
func micro(ctx context.Context, c config, t *table, log io.Writer) error {
	t0 := time.Now()
	res, err := runGoBench(ctx, c.benchtime, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "bench: micro: go test -bench took %.1f s\n", time.Since(t0).Seconds())
	byName := map[string]benchResult{}
	for _, r := range res {
		byName[r.Name] = r
	}
	// Zero allocations on every hot-path benchmark.
	worst, worstName, cases := 0.0, "", 0
	for _, r := range res {
		if !slices.ContainsFunc(zeroAllocFamilies, func(f string) bool { return strings.HasPrefix(r.Name, f) }) {
			continue
		}
		cases++
		if a := r.Metrics["allocs/op"]; a > worst || worstName == "" {
			worst, worstName = a, r.Name
		}
	}
	t.add(row{Figure: fmt.Sprintf("micro: allocs/op, worst of %d hot-path benchmarks (%s)", cases, strings.TrimPrefix(worstName, "Benchmark")), Value: ptr(worst), Unit: "allocs/op", Budget: ptr("0"), OK: ptr(worst == 0 && cases > 0)})
	for _, h := range hotSteps {
		r, ok := byName[h.Bench]
		if !ok {
			t.add(row{Figure: "micro amd64: " + h.Label, Unit: "benchmark " + h.Bench + " not found"})
			continue
		}
		t.add(row{Figure: "micro amd64: " + h.Label, Value: ptr(r.Metrics["ns/op"]), Unit: "ns/op"})
	}
	for _, pair := range [][2]string{{"BenchmarkAppendEncodeJSON/20ms", "BenchmarkAppendEncode/20ms"}, {"BenchmarkDeltaDecodeJSON/50ms", "BenchmarkDeltaDecode/50ms"}} {
		slow, fast := byName[pair[0]], byName[pair[1]]
		if slow.N > 0 && fast.N > 0 && fast.Metrics["ns/op"] > 0 {
			t.add(row{Figure: fmt.Sprintf("micro amd64: %s, encoding/json way / voiced's", strings.TrimPrefix(pair[1], "Benchmark")), Value: ptr(slow.Metrics["ns/op"] / fast.Metrics["ns/op"]), Unit: "ratio of ns/op"})
		}
	}

	dir := filepath.Join(c.work, "micro")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var jobs []func() error
	var errs []error
	addErr := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	results := newResultSet()
	if !c.skip["valgrind"] {
		insnJobs, err := instructionJobs(ctx, dir, "amd64", qemuUser{}, results, log)
		addErr(err)
		jobs = append(jobs, insnJobs...)
	}
	if !c.skip["qemu"] {
		// ARMv6 code runs on the Pi Zero W's core, so that the runtime takes the paths it
		// takes there.
		for _, arch := range []struct {
			goarch string
			qemu   qemuUser
		}{{"arm64", qemuUser{bin: "qemu-aarch64-static"}}, {"arm", qemuUser{bin: "qemu-arm-static", cpu: "arm1176"}}} {
			if _, err := exec.LookPath(arch.qemu.bin); err != nil {
				t.add(row{Figure: "micro " + arch.goarch + " (qemu-user)", Unit: arch.qemu.bin + " not installed"})
				continue
			}
			qjobs, err := instructionJobs(ctx, dir, arch.goarch, arch.qemu, results, log)
			addErr(err)
			jobs = append(jobs, qjobs...)
		}
	}
	t0 = time.Now()
	addErr(parallel(2, jobs))
	fmt.Fprintf(log, "bench: micro: instruction counts (valgrind, qemu-user) took %.1f s\n", time.Since(t0).Seconds())
	results.rows(t)
	return errors.Join(errs...)
}

// instructionJobs are the counting jobs for one architecture: valgrind for the host
// (amd64), qemu-user for the others, plus plain ns/op under qemu.
func instructionJobs(ctx context.Context, dir, goarch string, qemu qemuUser, rs *resultSet, log io.Writer) ([]func() error, error) {
	bins := map[string]string{}
	for _, pkg := range microPackages {
		b, err := testBinary(ctx, dir, pkg, goarch)
		if err != nil {
			return nil, err
		}
		bins[pkg] = b
	}
	var jobs []func() error
	if qemu.bin == "" {
		if _, err := exec.LookPath("valgrind"); err != nil {
			rs.note(row{Figure: "micro amd64 instructions", Unit: "valgrind not installed"})
			return nil, nil
		}
		if perfInstructions() {
			rs.note(row{Figure: "micro amd64 instructions", Unit: "perf stat -e instructions is supported here; valgrind counts are shown"})
		} else {
			rs.note(row{Figure: "micro amd64 instructions", Unit: "perf stat -e instructions: not supported on this machine (no PMU); counted with valgrind"})
		}
	} else {
		var names []string
		for _, h := range hotSteps {
			if h.Count {
				names = append(names, h.Bench)
			}
		}
		jobs = append(jobs, func() error {
			byPkg := map[string][]string{}
			for _, h := range hotSteps {
				if slices.Contains(names, h.Bench) {
					byPkg[h.Pkg] = append(byPkg[h.Pkg], h.Bench)
				}
			}
			for pkg, ns := range byPkg {
				res, err := qemuBench(ctx, qemu, bins[pkg], ns)
				if err != nil {
					return err
				}
				for _, r := range res {
					rs.set(goarch+" ns", r.Name, r.Metrics["ns/op"])
				}
			}
			return nil
		})
	}
	for _, h := range hotSteps {
		if !h.Count || (qemu.bin != "" && h.ArmRuns == 0) {
			continue
		}
		jobs = append(jobs, func() error {
			var v float64
			var err error
			if qemu.bin == "" {
				v, err = valgrindInstructions(ctx, bins[h.Pkg], h.Bench)
			} else {
				v, err = qemuInstructions(ctx, qemu, bins[h.Pkg], h.Bench, h.ArmRuns)
			}
			if err != nil {
				// One count that cannot be taken leaves a note, not a failed run.
				fmt.Fprintf(log, "bench: %s instructions/op %s: %v\n", goarch, h.Bench, err)
				rs.note(row{Figure: fmt.Sprintf("micro %s instructions: %s", goarch, h.Label), Unit: "not counted: " + firstLine(err.Error())})
				return nil
			}
			fmt.Fprintf(log, "bench: %s instructions/op %s: %.0f\n", goarch, h.Bench, v)
			rs.set(goarch+" insn", h.Bench, v)
			return nil
		})
	}
	return jobs, nil
}

// perfInstructions reports whether `perf stat -e instructions` counts on this machine.
func perfInstructions() bool {
	out, err := exec.Command("perf", "stat", "-x,", "-e", "instructions", "--", "true").CombinedOutput()
	return err == nil && !strings.Contains(string(out), "not supported") && !strings.Contains(string(out), "<not")
}

// binarySize builds the stripped linux/arm64 daemon and weighs it.
func binarySize(ctx context.Context, c config, t *table) error {
	out := filepath.Join(c.work, "voiced-arm64")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/voiced")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build arm64 voiced: %w\n%s", err, b)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return err
	}
	mb := float64(fi.Size()) / (1 << 20)
	t.add(row{Figure: "stripped linux/arm64 voiced binary", Value: ptr(mb), Unit: "MiB", Budget: ptr("< 12 MiB"), OK: ptr(mb < 12)})
	return nil
}

// writeJSON writes the table as a list of {"figure","value","unit","budget","ok"}.
func (t *table) writeJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(t.rows, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
