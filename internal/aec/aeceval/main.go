// Command aeceval measures the echo canceller: on a development set of its own
// (far-end speech played through simulated rooms, with espeak-ng users talking
// over it at several levels) it prints ERLE per room and the near-end distortion
// during double talk; with -echo it scores a recorded echo file against its
// reference (the echo file of the VAD set, which stays a test: nothing is tuned
// on it).
//
//	go run ./internal/aec/aeceval -far /path/to/vad/set           # the room table
//	go run ./internal/aec/aeceval -echo /path/to/vad/set          # echo_bargein.wav
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/voiced-project/voiced/internal/aec"
	"github.com/voiced-project/voiced/internal/aec/echosim"
	"github.com/voiced-project/voiced/internal/wav"
)

const rate = 16000

var (
	quick   bool
	noiseDB = flag.Float64("noise", -65, "microphone noise floor of the room set, dBFS")
)

// Gate settings, chosen on the development set: a frame is speech when the
// output is above gateAbs dBFS and gateMargin dB above the canceller's residual
// echo estimate.
var (
	gateAbs    = flag.Float64("gate-abs", -45, "energy gate: absolute threshold, dBFS")
	gateMargin = flag.Float64("gate-margin", 10, "energy gate: margin over the residual echo estimate, dB")
)

func main() {
	far := flag.String("far", "", "directory with tts_clean.wav and real_clean.wav (far-end material)")
	echo := flag.String("echo", "", "directory with echo_bargein.wav, echo_ref.wav, labels.tsv, echo_ref_segments.tsv")
	tmp := flag.String("work", os.TempDir(), "directory for rendered near-end speech")
	flag.BoolVar(&quick, "quick", false, "three rooms, one level, 128 ms filter only")
	flag.Parse()
	var err error
	switch {
	case *echo != "":
		err = evalEchoFile(*echo)
	case *far != "":
		err = evalRooms(*far, *tmp)
	default:
		err = fmt.Errorf("give -far or -echo")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "aeceval:", err)
		os.Exit(1)
	}
}

func readWAV(path string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcm, h, err := wav.ReadMono16(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	x := make([]float32, len(pcm))
	for i, v := range pcm {
		x[i] = float32(v) / 32768
	}
	if h.Rate != rate {
		x = echosim.Resample(x, h.Rate, rate)
	}
	return x, nil
}

// result of one run, scored per 10 ms frame.
type result struct {
	erle                 float64 // echo-only frames
	residualDB           float64 // output level on echo-only frames, dBFS
	sdr                  float64 // near-end signal to distortion on double-talk frames
	flagged, recall      float64
	echoOnly, nearFrames int
}

// run cancels mic against ref and scores frames: echoOnly[i] and near[i] mark the
// truth; nearSig, when given, is the clean near-end for the distortion figure.
func run(c aec.Config, ref, mic, nearSig, echoSig []float32, echoOnly, near []bool, skip int) (result, error) {
	a, err := aec.New(c)
	if err != nil {
		return result{}, err
	}
	f := c.FrameSize
	out := make([]float32, len(mic)+a.Latency()+f)
	resid := make([]float64, len(mic)/f+2)
	for i := 0; i+f <= len(mic); i += f {
		a.Playback(ref[i:i+f], -1)
		if err := a.Process(mic[i:i+f], out[i:i+f]); err != nil {
			return result{}, err
		}
		resid[i/f] = float64(a.Stats().Residual)

	}
	out = out[a.Latency():]
	var r result
	var dm, de, ns, nd, ee, er float64
	var flag, tp int
	lat := (a.Latency() + f - 1) / f // frames the residual estimate lags the aligned output
	for fr := skip; fr < len(echoOnly) && (fr+1)*160 <= len(mic); fr++ {
		lo, hi := fr*160, (fr+1)*160
		var m, o float64
		for i := lo; i < hi; i++ {
			m += float64(mic[i]) * float64(mic[i])
			o += float64(out[i]) * float64(out[i])
		}
		lvl := 10 * math.Log10(o/160+1e-12)
		rl := 10 * math.Log10(resid[min(len(resid)-1, fr+lat)]+1e-12)
		speech := lvl > *gateAbs && lvl > rl+*gateMargin
		if echoOnly[fr] {
			r.echoOnly++
			dm += m
			de += o
			if echoSig != nil {
				for i := lo; i < hi; i++ {
					// What is left of the echo: the output minus the near end and noise.
					v := float64(echoSig[i])
					ee += v * v
					d := float64(out[i]) - float64(mic[i]) + v
					er += d * d
				}
			}
			if speech {
				flag++
			}
		}
		if near[fr] {
			r.nearFrames++
			if speech {
				tp++
			}
			if nearSig != nil {
				for i := lo; i < hi; i++ {
					v := float64(nearSig[i])
					ns += v * v
					d := float64(out[i]) - v
					nd += d * d
				}
			}
		}
	}
	r.erle = 10 * math.Log10(dm/(de+1e-20))
	if echoSig != nil {
		r.erle = 10 * math.Log10(ee/(er+1e-20))
	}
	r.residualDB = 10 * math.Log10(de/float64(max(1, r.echoOnly)*160)+1e-12)
	r.sdr = 10 * math.Log10(ns/(nd+1e-20))
	r.flagged = float64(flag) / float64(max(1, r.echoOnly))
	r.recall = float64(tp) / float64(max(1, r.nearFrames))
	return r, nil
}

var phrases = []string{
	"stop, that is enough", "hey, wait a second", "no, I meant tomorrow morning",
	"turn the volume down please", "what time is it now", "cancel that",
}

// renderNear speaks the phrases with espeak-ng into one 16 kHz signal per voice.
func renderNear(dir string, voice string, idx int) ([]float32, error) {
	path := filepath.Join(dir, fmt.Sprintf("aeceval_%s_%d.wav", voice, idx))
	if _, err := os.Stat(path); err != nil {
		cmd := exec.Command("espeak-ng", "-v", voice, "-s", "150", "-w", path, phrases[idx%len(phrases)])
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("espeak-ng: %v: %s", err, out)
		}
	}
	return readWAV(path)
}

var rooms = []echosim.Room{
	{Name: "small-20ms", DelayMs: 20, RT60Ms: 150, DRRdB: 6, GaindB: -3, Seed: 1},
	{Name: "mid-60ms", DelayMs: 60, RT60Ms: 250, DRRdB: 3, GaindB: -6, Seed: 2},
	{Name: "usb-180ms", DelayMs: 180, RT60Ms: 300, DRRdB: 0, GaindB: -6, Seed: 3},
	{Name: "buffer-350ms", DelayMs: 350, RT60Ms: 200, DRRdB: 6, GaindB: -3, Seed: 4},
	{Name: "reverb-500", DelayMs: 40, RT60Ms: 500, DRRdB: 0, GaindB: -6, Seed: 5},
	{Name: "clip-6dB", DelayMs: 40, RT60Ms: 200, DRRdB: 6, GaindB: -3, ClipDB: 6, Seed: 6},
	{Name: "drift+100", DelayMs: 80, RT60Ms: 200, DRRdB: 3, GaindB: -6, DriftPPM: 100, Seed: 7},
	{Name: "drift-100+clip", DelayMs: 120, RT60Ms: 250, DRRdB: 3, GaindB: -6, DriftPPM: -100, ClipDB: 3, Seed: 8},
}

func evalRooms(farDir, work string) error {
	var far []float32
	for _, name := range []string{"tts_clean.wav", "real_clean.wav"} {
		x, err := readWAV(filepath.Join(farDir, name))
		if err != nil {
			return err
		}
		far = append(far, x[:min(len(x), 30*rate)]...)
	}
	// Normalise the reply to -20 dBFS active level, as a TTS reply would be played.
	g := math.Pow(10, -20.0/20) / echosim.RMS(far)
	for i := range far {
		far[i] *= float32(g)
	}
	voices := []string{"en-us", "en-gb+f3", "en-us+m4"}
	levels := []float64{-6, 0, 6}
	fmt.Printf("%-16s %9s %9s %9s %9s | double talk SDR dB at near/echo %v dB | gate flagged/recall\n", "room", "lin128", "res128", "lin256", "res256", levels)
	var pf, pr float64
	var pn, pnr int
	for ri, room := range rooms {
		if quick && ri != 1 && ri != 3 && ri != 6 {
			continue
		}
		echo := room.Echo(far, rate)
		var erle [4]float64
		var sdrs []string
		for li, lvl := range levels {
			if quick && li != 1 {
				continue
			}
			// Users speak at 10 s, 25 s, 40 s: after the filter has had time to converge.
			near := make([]float32, len(far))
			nearMask := make([]bool, len(far)/160)
			for u, at := range []int{10, 25, 40} {
				ph, err := renderNear(work, voices[(ri+u)%len(voices)], ri*3+u+li)
				if err != nil {
					return err
				}
				copy(near[at*rate:], ph)
				for i, v := range ph {
					if math.Abs(float64(v)) > 1e-3 {
						nearMask[(at*rate+i)/160] = true
					}
				}
			}
			sc := echosim.Mix(far, echo, near, lvl, *noiseDB, uint64(ri*10+li))
			echoOnly := make([]bool, len(nearMask))
			for fr := range echoOnly {
				var e float64
				for _, v := range sc.Echo[fr*160 : (fr+1)*160] {
					e += float64(v) * float64(v)
				}
				echoOnly[fr] = !nearMask[fr] && 10*math.Log10(e/160+1e-12) > -50
			}
			for ti, tail := range []int{128, 256} {
				for si, off := range []bool{true, false} {
					if quick && (ti != 0 || !off) {
						continue
					}
					c := aec.Config{SampleRate: rate, FrameSize: 160, TailMs: tail, NoSuppress: off}
					r, err := run(c, sc.Ref, sc.Mic, sc.Near, sc.Echo, echoOnly, nearMask, 5*100)
					if err != nil {
						return err
					}
					if li == 1 {
						erle[ti*2+si] = r.erle
					}
					if ti == 0 && si == 1 {
						sdrs = append(sdrs, strconv.FormatFloat(r.sdr, 'f', 1, 64))
						pf += r.flagged * float64(r.echoOnly)
						pr += r.recall * float64(r.nearFrames)
						pn += r.echoOnly
						pnr += r.nearFrames
						if li == 1 {
							fmt.Fprintf(os.Stderr, "%s: gate flagged %.3f recall %.3f\n", room.Name, r.flagged, r.recall)
						}
					}
				}
			}
		}
		lin := ""
		if room.Linear() {
			lin = "*"
		}
		fmt.Printf("%-16s %8.1f%s %9.1f %9.1f %9.1f | %s\n", room.Name, erle[0], lin, erle[1], erle[2], erle[3], strings.Join(sdrs, " / "))
	}
	fmt.Printf("energy gate after the canceller (128 ms, suppressor on), pooled over rooms and levels: echo-only flagged %.3f, user recall %.3f\n",
		pf/float64(max(1, pn)), pr/float64(max(1, pnr)))
	return nil
}

func readSegs(path, file string) ([][2]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var segs [][2]int
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != file {
			continue
		}
		s, e1 := strconv.Atoi(f[1])
		e, e2 := strconv.Atoi(f[2])
		if e1 != nil || e2 != nil {
			continue
		}
		segs = append(segs, [2]int{s, e})
	}
	return segs, nil
}

func mask(segs [][2]int, frames int) []bool {
	m := make([]bool, frames)
	for _, s := range segs {
		for i := s[0] / 10; i < s[1]/10 && i < frames; i++ {
			m[i] = true
		}
	}
	return m
}

func evalEchoFile(dir string) error {
	mic, err := readWAV(filepath.Join(dir, "echo_bargein.wav"))
	if err != nil {
		return err
	}
	ref, err := readWAV(filepath.Join(dir, "echo_ref.wav"))
	if err != nil {
		return err
	}
	n := min(len(mic), len(ref))
	frames := n / 160
	user, err := readSegs(filepath.Join(dir, "labels.tsv"), "echo_bargein.wav")
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, "echo_ref_segments.tsv"))
	if err != nil {
		return err
	}
	var dev [][2]int
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 {
			s, _ := strconv.Atoi(f[1])
			e, _ := strconv.Atoi(f[2])
			dev = append(dev, [2]int{s, e})
		}
	}
	um, dm := mask(user, frames), mask(dev, frames)
	echoOnly := make([]bool, frames)
	for i := range echoOnly {
		echoOnly[i] = dm[i] && !um[i]
	}
	for _, tail := range []int{128, 256} {
		for _, off := range []bool{true, false} {
			c := aec.Config{SampleRate: rate, FrameSize: 160, TailMs: tail, NoSuppress: off}
			r, err := run(c, ref[:n], mic[:n], nil, nil, echoOnly, um, 0)
			if err != nil {
				return err
			}
			fmt.Printf("echo_bargein.wav tail %d suppressor %-5v: erle %.1f dB (echo-only frames %d), residual %.1f dBFS, gate echo-only-flagged %.3f user-recall %.3f\n",
				tail, !off, r.erle, r.echoOnly, r.residualDB, r.flagged, r.recall)
		}
	}
	return nil
}
