package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAVClock: a tick writes one microphone period (queued speech first, then quiet
// noise, never digital zero) and reads what the speaker has, without blocking.
func TestAVClock(t *testing.T) {
	dir := t.TempDir()
	micPath, spkPath := filepath.Join(dir, "mic.wav"), filepath.Join(dir, "spk.wav")
	for _, p := range []string{micPath, spkPath} {
		if err := mkfifo(p); err != nil {
			t.Fatal(err)
		}
	}
	c, err := newAVClock(micPath, spkPath, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	mic, err := os.Open(micPath)
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	spk, err := os.OpenFile(spkPath, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer spk.Close()

	hdr := make([]byte, 68)
	if _, err := io.ReadFull(mic, hdr); err != nil || string(hdr[:4]) != "RIFF" {
		t.Fatalf("microphone header = %q, %v; want a RIFF header", hdr[:4], err)
	}
	// Nothing from the speaker yet: the tick must not block.
	speech := make([]int16, periodFrames+100)
	for i := range speech {
		speech[i] = 1000
	}
	c.say(speech)
	if err := c.tick(); err != nil {
		t.Fatal(err)
	}
	if c.spkBytes != 0 || c.micFrames != periodFrames || !c.speaking() {
		t.Fatalf("after one tick: speaker %d bytes, microphone %d frames, speaking %v; want 0, %d, true", c.spkBytes, c.micFrames, c.speaking(), periodFrames)
	}
	period := make([]byte, 2*periodFrames)
	if _, err := io.ReadFull(mic, period); err != nil {
		t.Fatal(err)
	}
	for i := range periodFrames {
		if s := int16(binary.LittleEndian.Uint16(period[2*i:])); s != 1000 {
			t.Fatalf("sample %d = %d, want the queued 1000", i, s)
		}
	}
	// The speaker has a period and a bit (all the 4 KiB pipe holds): a tick reads a period.
	if _, err := spk.Write(make([]byte, playPeriodB+200)); err != nil {
		t.Fatal(err)
	}
	if err := c.tick(); err != nil {
		t.Fatal(err)
	}
	if c.spkBytes != playPeriodB || c.speaking() {
		t.Errorf("after the second tick: speaker %d bytes, speaking %v; want %d, false", c.spkBytes, c.speaking(), playPeriodB)
	}
	if _, err := io.ReadFull(mic, period); err != nil {
		t.Fatal(err)
	}
	zeros, rest := 0, 0
	for i := range periodFrames {
		s := int16(binary.LittleEndian.Uint16(period[2*i:]))
		switch {
		case i < 100 && s != 1000:
			t.Fatalf("sample %d = %d, want the rest of the speech", i, s)
		case i >= 100 && s == 0:
			zeros++
		case i >= 100:
			rest++
		}
		if i >= 100 && (s > 300 || s < -300) {
			t.Fatalf("quiet sample %d = %d, want room noise within ±300", i, s)
		}
	}
	if zeros > rest {
		t.Errorf("quiet room: %d zero samples of %d, want noise", zeros, zeros+rest)
	}
	if got, want := c.frames(), 2.0+1.0; got != want {
		t.Errorf("frames() = %v, want %v", got, want)
	}
}

func TestAVClockPaced(t *testing.T) {
	dir := t.TempDir()
	micPath, spkPath := filepath.Join(dir, "mic.wav"), filepath.Join(dir, "spk.wav")
	for _, p := range []string{micPath, spkPath} {
		if err := mkfifo(p); err != nil {
			t.Fatal(err)
		}
	}
	c, err := newAVClock(micPath, spkPath, 10) // 2 ms a tick
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	mic, err := os.Open(micPath)
	if err != nil {
		t.Fatal(err)
	}
	defer mic.Close()
	go io.Copy(io.Discard, mic)
	start := time.Now()
	if err := c.run(200 * time.Millisecond); err != nil { // 10 ticks
		t.Fatal(err)
	}
	// Ten ticks at 2 ms: the first is due at once, so at least 18 ms.
	if d := time.Since(start); d < 18*time.Millisecond {
		t.Errorf("10 ticks at 10x real time took %v, want at least 18 ms", d)
	}
}

func TestReadRecord(t *testing.T) {
	lines := `{"type":"session.update","session":{"type":"realtime"}}
{"type":"input_audio_buffer.append","audio":"AAAAAAAAAAAAAAAA"}
{"audio":"AAAAAAAA","type":"input_audio_buffer.append"}
{"type": "input_audio_buffer.append", "audio": "AAAAAAAAAAA="}
{"type":"input_audio_buffer.commit"}
not json
{"type":"input_audio_buffer.append","audio":"AAA\/AAAA"}
`
	out := make(chan recEvent, 10)
	var logged []string
	readRecord(strings.NewReader(lines), out, func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) })
	close(out)
	var got []recEvent
	for ev := range out {
		got = append(got, ev)
	}
	want := []struct {
		typ            string
		samples, bytes int
	}{
		{"session.update", 0, 55},
		{"input_audio_buffer.append", 6, 63}, // 16 base64 characters: 12 bytes, 6 samples
		{"input_audio_buffer.append", 3, 55},
		{"input_audio_buffer.append", 4, 62}, // as Python's json.dumps spells it; 11 bytes: 4 samples
		{"input_audio_buffer.commit", 0, 36},
		{"", 0, 8},
		{"input_audio_buffer.append", 3, 56}, // an escaped slash is one base64 character
	}
	if len(got) != len(want) {
		t.Fatalf("readRecord gave %d events, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].typ != w.typ || got[i].samples != w.samples || got[i].bytes != w.bytes || got[i].t.IsZero() {
			t.Errorf("event %d = %q %d samples %d bytes at %v, want %q %d samples %d bytes, timestamped",
				i, got[i].typ, got[i].samples, got[i].bytes, got[i].t, w.typ, w.samples, w.bytes)
		}
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "line 6") {
		t.Errorf("logged %q, want one complaint about line 6", logged)
	}
}

// cpuTime reads the scheduler's count through the process's CPU clock; it must agree
// with the tick-sampled times of /proc/PID/stat, within their coarseness.
func TestCPUTime(t *testing.T) {
	pid := os.Getpid()
	c0, err := cpuTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	s0, err := statCPUTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	x := 1
	for deadline := time.Now().Add(20 * time.Second); ; {
		for i := range 1 << 20 {
			x = x*31 + i
		}
		c, err := cpuTime(pid)
		if err != nil {
			t.Fatal(err)
		}
		if c-c0 >= 200*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cpuTime moved %v in 20 s of spinning", c-c0)
		}
	}
	c1, _ := cpuTime(pid)
	s1, _ := statCPUTime(pid)
	if s1 == s0 {
		// qemu-user answers its own /proc/self/stat, with the times left at zero.
		t.Skipf("/proc/%d/stat did not move in %v of CPU: emulated?", pid, c1-c0)
	}
	if d, s := c1-c0, s1-s0; d < s-50*time.Millisecond || d > s+50*time.Millisecond {
		t.Errorf("cpuTime counted %v where /proc/PID/stat counted %v (x %d)", d, s, x)
	}
}
