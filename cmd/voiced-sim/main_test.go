package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/realtime"
	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
	"github.com/voiced-project/voiced/internal/realtime/schematest"
)

// startSim runs voiced-sim in-process and returns its address.
func startSim(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("run = %v, want context.Canceled", err)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("first line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("first line %q, want \"listening on HOST:PORT\"", line)
	}
	return addr
}

// turn does one push-to-talk turn and returns the reply transcript and
// the number of reply samples.
func turn(t *testing.T, addr, key string, pcm []int16, opts ...func(*realtime.Options)) (string, int) {
	t.Helper()
	samples := 0
	o := realtime.Options{
		URL: "ws://" + addr + "/v1/realtime", APIKey: key,
		Session: realtime.Session{Voice: "marin", Transcription: &realtime.Transcription{Model: "whisper-1"}},
		Audio:   func(_ string, p []int16) { samples += len(p) },
	}
	for _, f := range opts {
		f(&o)
	}
	c, err := realtime.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- c.Run(ctx) }()
	defer func() {
		cancel()
		for range c.Events() {
		}
		<-runDone
	}()
	transcript := ""
	for ev := range c.Events() {
		switch e := ev.(type) {
		case *realtime.Connected:
			for i := 0; i < len(pcm); i += 480 {
				for c.AppendAudio(pcm[i:min(len(pcm), i+480)]) == realtime.ErrDropped {
					time.Sleep(time.Millisecond)
				}
			}
			if err := c.CommitAudio(); err != nil {
				t.Fatal(err)
			}
			if err := c.CreateResponse(); err != nil {
				t.Fatal(err)
			}
		case *realtime.AudioTranscriptDone:
			transcript = e.Transcript
		case *realtime.ResponseDone:
			if len(e.Response.Output) > 0 && e.Response.Output[0].Type == "function_call" {
				continue // the reply follows the tool's output
			}
			return transcript, samples
		case *realtime.Fatal:
			t.Fatalf("fatal: %v", e.Err)
		}
	}
	t.Fatal("events closed before the reply")
	return "", 0
}

func TestSimRecordValidatesStrict(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "record.jsonl")
	addr := startSim(t, "--speed", "0", "--record", rec, "--api-key", "k")
	text, n := turn(t, addr, "k", realtimetest.Tone(300, 500, 24000, 8000))
	if !strings.Contains(text, "echo of 0.5 s") || n != 12000 {
		t.Errorf("reply %q with %d samples, want the 0.5 s parrot", text, n)
	}
	raw, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	if len(lines) < 4 {
		t.Fatalf("record has %d lines, want session.update, appends, commit, response.create", len(lines))
	}
	sch, err := schematest.Client("realtime-ga.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, l := range lines {
		var h struct{ Type string }
		if err := json.Unmarshal(l, &h); err != nil {
			t.Fatalf("record line %q: %v", l, err)
		}
		types[h.Type]++
		if err := sch.Validate(l); err != nil {
			t.Errorf("recorded %s fails the strict schema: %v", l, err)
		}
	}
	for _, want := range []string{"session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "response.create"} {
		if types[want] == 0 {
			t.Errorf("record has no %s (%v)", want, types)
		}
	}
}

func TestSimReplyWAV(t *testing.T) {
	// 0.25 s at 16 kHz stereo comes back as 0.25 s at 24 kHz mono.
	wav := filepath.Join(t.TempDir(), "reply.wav")
	writeWAV(t, wav, 16000, 2, 4000)
	addr := startSim(t, "--speed", "0", "--reply", wav)
	text, n := turn(t, addr, "", realtimetest.Tone(300, 200, 24000, 8000))
	if n != 6000 || !strings.Contains(text, "recorded reply") {
		t.Errorf("reply %q with %d samples, want 6000 samples of the file", text, n)
	}
}

func TestSimToolCallAndBeta(t *testing.T) {
	addr := startSim(t, "--speed", "0", "--dialect", "beta", "--tool-call", "get_time", "--tool-args", `{"zone":"UTC"}`)
	tools := realtime.NewTools()
	if err := tools.Add(realtime.Tool{Def: realtime.ToolDef{Name: "get_time"},
		Run: func(_ context.Context, args json.RawMessage) (string, error) { return "noon in " + string(args), nil }}); err != nil {
		t.Fatal(err)
	}
	text, _ := turn(t, addr, "", realtimetest.Tone(300, 200, 24000, 8000), func(o *realtime.Options) {
		o.Dialect, o.Tools = realtime.Beta, tools
	})
	if !strings.Contains(text, `tool get_time said: noon in {"zone":"UTC"}`) {
		t.Errorf("reply %q, want it to quote the tool's output", text)
	}
}

func TestSimFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--dialect", "v2"},
		{"--speed", "-1"},
		{"--session-max", "0s"},
		{"--reply", "/no/such/file.wav"},
		{"--addr", "256.0.0.1:1"},
		{"extra"},
	} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		if err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

func writeWAV(t *testing.T, path string, rate, channels, frames int) {
	t.Helper()
	data := make([]byte, frames*channels*2)
	for i := range frames * channels {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(int16((i%50)*400)))
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(channels), uint32(rate),
		uint32(rate * channels * 2), uint16(channels * 2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
