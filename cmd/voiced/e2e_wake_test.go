package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
	"github.com/voiced-project/voiced/internal/realtime/schematest"
)

// wakeMic writes a microphone WAV at 16 kHz: a minute of other speech (the demo's
// question and a negative of the wake-word development set, in turn), then "okay nabu"
// (flite's rms voice, from the development set) and "what time is it?"
// (testdata/what_time.wav, espeak-ng en-us), then silence. It returns the path and
// the question alone at 24 kHz.
func wakeMic(t *testing.T) (string, []int16) {
	t.Helper()
	read := func(path string) []int16 {
		pcm, rate, err := realtimetest.ReadWAV(path)
		if err != nil || rate != 16000 {
			t.Fatalf("%s: %v, rate %d", path, err, rate)
		}
		return pcm
	}
	other := [][]int16{
		read("../../examples/question.wav"),
		read("../../test/wakeword/devset-sample/neg/speech/0001-en-us-clean-4s.wav"),
	}
	word := read("../../test/wakeword/devset-sample/pos/flite-rms/okay_nabu-1.0-clean.wav")
	word = word[900*16 : 2445*16] // the word is at 1000..2345 ms
	q := read("testdata/what_time.wav")

	var out []int16
	for i := 0; len(out) < 60*16000; i++ {
		out = append(out, other[i%len(other)]...)
	}
	out = append(out, make([]int16, 16000)...)
	out = append(out, word...)
	out = append(out, make([]int16, 150*16)...)
	out = append(out, q...)
	out = append(out, make([]int16, 3*16000)...)
	return writeMic(t, out, 16000), trimSilence(realtimetest.Resample(q, 16000, 24000))
}

// wakeWords lists the words of the wake_word events seen so far.
func wakeWords(a *allEvents) []string {
	var words []string
	for _, e := range a.list() {
		if e.Type == "wake_word" && e.Score > 0 {
			words = append(words, e.Word)
		}
	}
	return words
}

// appendedAudio is the audio of every input_audio_buffer.append in a --record file.
func appendedAudio(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	for line := range strings.Lines(string(b)) {
		var ev struct {
			Type  string `json:"type"`
			Audio string `json:"audio"`
		}
		if json.Unmarshal([]byte(line), &ev) != nil || ev.Type != "input_audio_buffer.append" {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(ev.Audio)
		if err != nil {
			t.Fatalf("append audio: %v", err)
		}
		for i := 0; i+1 < len(raw); i += 2 {
			pcm = append(pcm, int16(uint16(raw[i])|uint16(raw[i+1])<<8))
		}
	}
	return pcm
}

// TestEndToEndWakeWord (issue 22): with wake.mode word, a minute of other speech
// wakes nothing; "okay nabu, what time is it?" gives exactly one turn, and the server
// receives the question, not the word nor the minute before it (voiced-sim parrots
// what it received).
func TestEndToEndWakeWord(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("plays a minute of audio in real time")
	}
	voiced, sim := binaries(t)
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec.jsonl")
	addr := startSim(t, sim, "--speed", "0", "--record", rec)
	mic, want := wakeMic(t)
	reply := filepath.Join(dir, "reply.wav")
	d := startDaemon(t, voiced, nil, "--config", "../../examples/demo.yaml",
		"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
		"--set", "wake.mode=word", "--set", "wake.words=[okay_nabu, hey_jarvis]",
		"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+reply,
		"--set", "http.listen=127.0.0.1:0", "--turns", "1", "--timeout", "120s")
	ev := subscribe(t, d.http)
	wakes := subscribeAll(t, d.http)
	// While the turn the word began goes on, /v1/status tells the word heard.
	for limit := time.Now().Add(100 * time.Second); len(wakeWords(wakes)) == 0 && time.Now().Before(limit); {
		time.Sleep(50 * time.Millisecond)
	}
	checkWakeStatus(t, status(t, d.http))
	if err := d.wait(t, 120*time.Second); err != nil {
		t.Fatalf("voiced run --turns 1: %v\n%s", err, d.stderr.String())
	}
	if got := wakeWords(wakes); len(got) != 1 || got[0] != "okay_nabu" {
		t.Errorf("wake_word events %q, want okay_nabu once", got)
	}
	states := ev.list()
	if !inOrder(states, []string{"listening", "processing", "speaking"}) {
		t.Errorf("/v1/events states %v, want listening, processing, speaking in order", states)
	}
	n := 0
	for _, s := range states {
		if s == "listening" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("/v1/events states %v: %d turns, want exactly one", states, n)
	}
	checkReply(t, reply, want)
	// What the server received: the question, the silence that ended the turn and a
	// little slack, but not the word (1.5 s) or the minute before.
	sent := appendedAudio(t, rec)
	c := bestCorrelation(sent, want, 24000)
	t.Logf("sent %.2f s (%.2f s of sound); the question is %.2f s; correlation %.3f",
		float64(len(sent))/24000, float64(len(trimSilence(sent)))/24000, float64(len(want))/24000, c)
	if c < 0.85 {
		t.Errorf("the audio sent correlates %.3f with the question, want >= 0.85", c)
	}
	if speech, most := len(trimSilence(sent)), len(want)+24000*3/10; speech > most {
		t.Errorf("the server received %.2f s of sound, want at most %.2f s: the question alone", float64(speech)/24000, float64(most)/24000)
	}
	v, err := schematest.Client("realtime-ga.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	counts, err := v.ValidateLines(rec)
	if err != nil {
		t.Fatal(err)
	}
	if counts["input_audio_buffer.commit"] != 1 || counts["response.create"] != 1 {
		t.Errorf("the server saw %v, want one commit and one response.create", counts)
	}
}

// checkWakeStatus: /v1/status's wake part after okay_nabu was heard once, with
// wake.mode word and the words okay_nabu and hey_jarvis.
func checkWakeStatus(t *testing.T, st map[string]any) {
	t.Helper()
	b, _ := json.Marshal(st["wake"])
	var w struct {
		Mode  string
		Words []struct {
			Word, Phrase, Model string
			Threshold           float64
		}
		Detections int
		Last       *struct {
			Word  string
			Time  time.Time
			Score float64
		}
	}
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatalf("/v1/status wake %s: %v", b, err)
	}
	ok := w.Mode == "word" && len(w.Words) == 2 && w.Detections == 1 && w.Last != nil &&
		w.Last.Word == "okay_nabu" && w.Last.Score > 0 && time.Since(w.Last.Time) < time.Minute
	for i, name := range []string{"okay_nabu", "hey_jarvis"} {
		ok = ok && i < len(w.Words) && w.Words[i].Word == name && w.Words[i].Model == "built in" && w.Words[i].Threshold > 0
	}
	if !ok {
		t.Errorf("/v1/status wake = %s, want mode word, okay_nabu and hey_jarvis built in with their thresholds, 1 detection, the last okay_nabu just now", b)
	}
}
