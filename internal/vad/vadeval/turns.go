package vadeval

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/vad"
)

// This file measures end of turn: sentences said in two parts with a pause inside, as
// listed in DIR/turns.tsv, run through the detector and the Endpointer at the capture
// rate, as the daemon runs them.

// Turn is one sentence of a turns file: part A, a pause, part B, in milliseconds.
type Turn struct {
	File                       string
	AStart, AEnd, BStart, BEnd int
}

// ReadTurns reads "file a_start a_end b_start b_end" lines.
func ReadTurns(r io.Reader) ([]Turn, error) {
	var out []Turn
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 5 {
			return nil, fmt.Errorf("read turns: line %d: want 5 fields (file a_start a_end b_start b_end), got %d", line, len(f))
		}
		var v [4]int
		for i := range v {
			n, err := strconv.Atoi(f[i+1])
			if err != nil {
				return nil, fmt.Errorf("read turns: line %d: %w", line, err)
			}
			v[i] = n
		}
		if v[0] < 0 || v[1] < v[0] || v[2] < v[1] || v[3] < v[2] {
			return nil, fmt.Errorf("read turns: line %d: times not in order", line)
		}
		out = append(out, Turn{f[0], v[0], v[1], v[2], v[3]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read turns: %w", err)
	}
	return out, nil
}

// TurnReport is the end of turn with one silence setting.
type TurnReport struct {
	SilenceMs int
	Turns     int
	Missed    int   // no turn start before the sentence was over
	Cut       int   // ended before part B was over: the pause was taken for the end
	Latency   []int // end of speech to end of turn, ms, for the turns neither missed nor cut; sorted
}

// Percentile is the q-quantile (0..1) of the latencies, nearest rank; 0 without any.
func (r TurnReport) Percentile(q float64) int {
	if len(r.Latency) == 0 {
		return 0
	}
	i := int(q*float64(len(r.Latency))+0.5) - 1
	return r.Latency[min(max(i, 0), len(r.Latency)-1)]
}

// CutShare is the share of turns cut early.
func (r TurnReport) CutShare() float64 { return ratio(r.Cut, r.Turns) }

// TurnRate is the rate the turns are run at: the capture loop's.
const TurnRate = 24000

// EndOfTurn runs every file of dir/turns.tsv through the detector o describes and an
// Endpointer with minSpeechMs and each of silences, at TurnRate, and reports per silence.
func EndOfTurn(dir string, o Options, minSpeechMs int, silences []int) ([]TurnReport, error) {
	f, err := os.Open(filepath.Join(dir, "turns.tsv"))
	if err != nil {
		return nil, fmt.Errorf("end of turn: %w", err)
	}
	turns, err := ReadTurns(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("end of turn %s: %w", dir, err)
	}
	byFile := map[string][]Turn{}
	for _, t := range turns {
		byFile[t.File] = append(byFile[t.File], t)
	}
	names := make([]string, 0, len(byFile))
	for n := range byFile {
		names = append(names, n)
	}
	sort.Strings(names)
	reps := make([]TurnReport, len(silences))
	for i, s := range silences {
		reps[i].SilenceMs = s
	}
	for _, name := range names {
		out, err := runAtCaptureRate(filepath.Join(dir, name), o)
		if err != nil {
			return nil, fmt.Errorf("end of turn %s: %w", name, err)
		}
		for i := range reps {
			if err := scoreTurns(&reps[i], out, byFile[name], minSpeechMs); err != nil {
				return nil, err
			}
		}
	}
	for i := range reps {
		slices.Sort(reps[i].Latency)
	}
	return reps, nil
}

// runAtCaptureRate resamples a file to TurnRate and returns the detector's frame outputs.
func runAtCaptureRate(path string, o Options) ([]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	samples, rate, err := ReadWAVMono16(bufio.NewReader(f))
	f.Close()
	if err != nil {
		return nil, err
	}
	r, err := dsp.NewResampler(rate, TurnRate)
	if err != nil {
		return nil, err
	}
	up := make([]int16, r.MaxOutput(len(samples)))
	_, n := r.Process(samples, up)
	return o.run(TurnRate, up[:n], nil, nil, false)
}

// scoreTurns pushes one file's decisions through an Endpointer and scores its turns.
func scoreTurns(rep *TurnReport, out []bool, turns []Turn, minSpeechMs int) error {
	ep, err := vad.NewEndpointer(vad.EndpointerConfig{FrameMs: vad.FrameMs, MinSpeechMs: minSpeechMs, SilenceMs: rep.SilenceMs})
	if err != nil {
		return err
	}
	// Edges, as the frame end times in ms at which they happened.
	var starts, ends []int
	for k, s := range out {
		switch ep.Push(s) {
		case vad.EndpointStart:
			starts = append(starts, (k+1)*vad.FrameMs)
		case vad.EndpointEnd:
			ends = append(ends, (k+1)*vad.FrameMs)
		}
	}
	for i, t := range turns {
		rep.Turns++
		next := len(out) * vad.FrameMs
		if i+1 < len(turns) {
			next = turns[i+1].AStart
		}
		start := -1
		for _, s := range starts {
			if s >= t.AStart && s <= t.BEnd {
				start = s
				break
			}
		}
		if start < 0 {
			rep.Missed++
			continue
		}
		cut, end := false, -1
		for _, e := range ends {
			switch {
			case e > start && e < t.BEnd:
				cut = true
			case e >= t.BEnd && e < next && end < 0:
				end = e
			}
		}
		switch {
		case cut:
			rep.Cut++
		case end >= 0:
			rep.Latency = append(rep.Latency, end-t.BEnd)
		default:
			rep.Missed++ // never ended before the next sentence
		}
	}
	return nil
}
