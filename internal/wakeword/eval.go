package wakeword

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
	"time"

	"github.com/voiced-project/voiced/internal/wav"
)

// HitTail is how long after the end of a labelled occurrence a detection still counts
// as hearing it: detections come once the sliding mean has risen, after the word.
const HitTail = 500 * time.Millisecond

// EvalOptions configures Eval.
type EvalOptions struct {
	// Models to run, all at once on each file as a device would. Empty means the
	// built-in models named in wake.tsv.
	Models []*Model
	// Refractory as in Config.
	Refractory time.Duration
	// Log, when set, receives one line per file: its detections (hit or false accept,
	// with their times) and each word's peak probability, for tuning.
	Log io.Writer
}

// WordScore is one word's result.
type WordScore struct {
	Word         string
	Occurrences  int // labelled occurrences of the word
	Hits         int // occurrences detected (within the occurrence or HitTail after it)
	FalseAccepts int // detections of the word anywhere else
}

// FalseRejectRate is the share of occurrences missed.
func (s WordScore) FalseRejectRate() float64 {
	if s.Occurrences == 0 {
		return 0
	}
	return float64(s.Occurrences-s.Hits) / float64(s.Occurrences)
}

// SourceScore is the result for the files of one directory under DIR (a voice or a
// condition, the way a development set is laid out).
type SourceScore struct {
	Source       string
	Occurrences  int
	Hits         int
	FalseAccepts int
	Hours        float64
}

// EvalReport is the result of Eval.
type EvalReport struct {
	Words   []WordScore   // in model order
	Sources []SourceScore // sorted by name
	Files   int
	Hours   float64 // total audio scored
}

// FalseRejectRate pools all words' occurrences.
func (r *EvalReport) FalseRejectRate() float64 {
	occ, hits := 0, 0
	for _, w := range r.Words {
		occ += w.Occurrences
		hits += w.Hits
	}
	if occ == 0 {
		return 0
	}
	return float64(occ-hits) / float64(occ)
}

// FalseAcceptsPerHour counts every false accept of every word against the audio scored:
// what a device listening for all the words at once would do.
func (r *EvalReport) FalseAcceptsPerHour() float64 {
	fa := 0
	for _, w := range r.Words {
		fa += w.FalseAccepts
	}
	if r.Hours == 0 {
		return 0
	}
	return float64(fa) / r.Hours
}

// Write prints the per-word and per-source tables and the summary line
// "false-reject 0.xxx false-accepts-per-hour N.NN hours N.NN".
func (r *EvalReport) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%-16s %6s %6s %8s %8s %8s\n", "word", "occ", "hits", "FR", "FA", "FA/h")
	for _, s := range r.Words {
		perHour := 0.0
		if r.Hours > 0 {
			perHour = float64(s.FalseAccepts) / r.Hours
		}
		fmt.Fprintf(bw, "%-16s %6d %6d %8.3f %8d %8.2f\n", s.Word, s.Occurrences, s.Hits, s.FalseRejectRate(), s.FalseAccepts, perHour)
	}
	if len(r.Sources) > 1 {
		fmt.Fprintf(bw, "\n%-28s %6s %6s %8s %8s %8s\n", "source", "occ", "hits", "FR", "FA", "hours")
		for _, s := range r.Sources {
			fr := 0.0
			if s.Occurrences > 0 {
				fr = float64(s.Occurrences-s.Hits) / float64(s.Occurrences)
			}
			fmt.Fprintf(bw, "%-28s %6d %6d %8.3f %8d %8.2f\n", s.Source, s.Occurrences, s.Hits, fr, s.FalseAccepts, s.Hours)
		}
	}
	fmt.Fprintf(bw, "\nfalse-reject %.3f false-accepts-per-hour %.2f hours %.2f\n", r.FalseRejectRate(), r.FalseAcceptsPerHour(), r.Hours)
	return bw.Flush()
}

type occurrence struct {
	word       string
	start, end int64 // samples; end includes HitTail
	hit        bool
}

type evalFile struct {
	name string
	occ  []occurrence
}

// readLabels parses DIR/wake.tsv: tab-separated `file word start_ms end_ms`, one line per
// occurrence; a file without any is listed as `file - - -`. Blank lines and lines
// starting with # are skipped.
func readLabels(dir string) ([]*evalFile, error) {
	path := filepath.Join(dir, "wake.tsv")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wakeword: %w", err)
	}
	defer f.Close()
	byName := map[string]*evalFile{}
	var files []*evalFile
	sc := bufio.NewScanner(f)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fld := strings.Split(line, "\t")
		if len(fld) != 4 {
			return nil, fmt.Errorf("wakeword: %s:%d: %d tab-separated fields, want file word start_ms end_ms", path, ln, len(fld))
		}
		name := fld[0]
		if name == "" || filepath.IsAbs(name) || strings.HasPrefix(filepath.Clean(name), "..") {
			return nil, fmt.Errorf("wakeword: %s:%d: file %q must be a path inside %s", path, ln, name, dir)
		}
		ef := byName[name]
		if ef == nil {
			ef = &evalFile{name: name}
			byName[name] = ef
			files = append(files, ef)
		}
		if fld[1] == "-" {
			if fld[2] != "-" || fld[3] != "-" {
				return nil, fmt.Errorf("wakeword: %s:%d: a file without a word has - - -", path, ln)
			}
			continue
		}
		start, err1 := strconv.ParseInt(fld[2], 10, 64)
		end, err2 := strconv.ParseInt(fld[3], 10, 64)
		if err1 != nil || err2 != nil || start < 0 || end < start {
			return nil, fmt.Errorf("wakeword: %s:%d: start_ms %q end_ms %q: want 0 <= start <= end", path, ln, fld[2], fld[3])
		}
		ef.occ = append(ef.occ, occurrence{word: fld[1], start: start * SampleRate / 1000,
			end: (end + HitTail.Milliseconds()) * SampleRate / 1000})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("wakeword: %s: %w", path, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("wakeword: %s lists no files", path)
	}
	return files, nil
}

// Eval scores wake-word detection on the 16 kHz mono WAV files listed in dir/wake.tsv.
// Each file is run from a fresh detector state. A detection of a word inside one of
// its labelled occurrences (or up to HitTail after it) is a hit for that occurrence;
// any other detection is a false accept of the detected word.
func Eval(dir string, opt EvalOptions) (*EvalReport, error) {
	files, err := readLabels(dir)
	if err != nil {
		return nil, err
	}
	models := opt.Models
	if len(models) == 0 {
		for _, ef := range files {
			for _, o := range ef.occ {
				if !slices.ContainsFunc(models, func(m *Model) bool { return m.Name == o.word }) {
					m, err := Builtin(o.word)
					if err != nil {
						return nil, fmt.Errorf("wakeword: %s: %w", ef.name, err)
					}
					models = append(models, m)
				}
			}
		}
		if len(models) == 0 {
			return nil, fmt.Errorf("wakeword: %s/wake.tsv names no word and no models were given", dir)
		}
	}
	det, err := NewDetector(Config{Models: models, Refractory: opt.Refractory})
	if err != nil {
		return nil, err
	}
	rep := &EvalReport{Files: len(files)}
	index := map[string]int{}
	for i, m := range models {
		if _, dup := index[m.Name]; dup {
			return nil, fmt.Errorf("wakeword: model %s given twice", m.Name)
		}
		index[m.Name] = i
		rep.Words = append(rep.Words, WordScore{Word: m.Name})
	}
	sources := map[string]*SourceScore{}
	for _, ef := range files {
		pcm, err := readWAV16k(filepath.Join(dir, ef.name))
		if err != nil {
			return nil, err
		}
		src := filepath.ToSlash(filepath.Dir(ef.name))
		ss := sources[src]
		if ss == nil {
			ss = &SourceScore{Source: src}
			sources[src] = ss
		}
		hours := float64(len(pcm)) / SampleRate / 3600
		rep.Hours += hours
		ss.Hours += hours
		for _, o := range ef.occ {
			if i, ok := index[o.word]; ok {
				rep.Words[i].Occurrences++
				ss.Occurrences++
			}
		}
		det.Reset()
		peak := make([]float64, len(models))
		var logLine strings.Builder
		for off := 0; off < len(pcm); off += StepSamples {
			dets := det.Process(pcm[off:min(off+StepSamples, len(pcm))])
			for i := range peak {
				peak[i] = max(peak[i], det.Probability(i))
			}
			for _, d := range dets {
				matched := false
				for k := range ef.occ {
					o := &ef.occ[k]
					if o.word == d.Word && d.Sample > o.start && d.Sample-StepSamples < o.end {
						if !o.hit {
							o.hit = true
							rep.Words[d.Index].Hits++
							ss.Hits++
						}
						matched = true
						break
					}
				}
				if !matched {
					rep.Words[d.Index].FalseAccepts++
					ss.FalseAccepts++
				}
				if opt.Log != nil {
					kind := "hit"
					if !matched {
						kind = "FALSE-ACCEPT"
					}
					fmt.Fprintf(&logLine, " %s %s@%.2fs(%.2f)", kind, d.Word, float64(d.Sample)/SampleRate, d.Score)
				}
			}
		}
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "%s:", ef.name)
			for _, o := range ef.occ {
				if !o.hit {
					fmt.Fprintf(opt.Log, " MISSED %s", o.word)
				}
			}
			fmt.Fprint(opt.Log, logLine.String(), " peak")
			for i, m := range models {
				fmt.Fprintf(opt.Log, " %s=%.2f", m.Name, peak[i])
			}
			fmt.Fprintln(opt.Log)
		}
	}
	for _, s := range sources {
		rep.Sources = append(rep.Sources, *s)
	}
	sort.Slice(rep.Sources, func(i, j int) bool { return rep.Sources[i].Source < rep.Sources[j].Source })
	return rep, nil
}

func readWAV16k(path string) ([]int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wakeword: %w", err)
	}
	defer f.Close()
	pcm, h, err := wav.ReadMono16(f)
	if err != nil {
		return nil, fmt.Errorf("wakeword: %s: %w", path, err)
	}
	if h.Rate != SampleRate || h.Channels != 1 {
		return nil, fmt.Errorf("wakeword: %s: %d Hz %d channels, want %d Hz mono", path, h.Rate, h.Channels, SampleRate)
	}
	return pcm, nil
}
