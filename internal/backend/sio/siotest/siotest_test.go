package siotest

import (
	"bytes"
	"encoding/base64"
	"slices"
	"testing"
)

func TestDetector(t *testing.T) {
	loud := make([]int16, Rate/10) // 100 ms
	for i := range loud {
		loud[i] = 3000 * int16(1-2*(i%2))
	}
	quiet := make([]int16, Rate/10)
	for _, tc := range []struct {
		name      string
		keepQuiet bool
		want      int // samples in the turn
	}{
		{"speech only", false, 4 * len(loud)}, // speech, and the quiet after it
		{"keep quiet", true, 5 * len(loud)},   // and the quiet before it
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Detector{KeepQuiet: tc.keepQuiet}
			var firsts []bool
			for _, c := range [][]int16{quiet, loud, loud, quiet, quiet} {
				firsts = append(firsts, d.Hear(c, 500))
			}
			if want := []bool{false, true, false, false, false}; !slices.Equal(firsts, want) {
				t.Errorf("Hear = %v, want %v", firsts, want)
			}
			if d.Ended(300) {
				t.Error("Ended(300) after 200 ms of quiet = true, want false")
			}
			if !d.Ended(200) {
				t.Error("Ended(200) after 200 ms of quiet = false, want true")
			}
			if turn := d.Take(); len(turn) != tc.want {
				t.Errorf("Take = %d samples, want %d", len(turn), tc.want)
			}
			if d.Ended(0) || len(d.Take()) != 0 {
				t.Error("Take did not start a new turn")
			}
		})
	}
}

func TestChunksDecodePCM(t *testing.T) {
	pcm := []int16{1, -2, 300, -32768, 32767}
	chunks := Chunks(pcm, 2)
	if len(chunks) != 3 || len(chunks[2]) != 2 {
		t.Fatalf("Chunks(5 samples, 2) = %d chunks, last of %d bytes; want 3, the last of 2", len(chunks), len(chunks[len(chunks)-1]))
	}
	got, err := DecodePCM([]byte(base64.StdEncoding.EncodeToString(bytes.Join(chunks, nil))))
	if err != nil || !slices.Equal(got, pcm) {
		t.Errorf("DecodePCM = %v, %v; want %v", got, err, pcm)
	}
	if _, err := DecodePCM([]byte(base64.StdEncoding.EncodeToString([]byte{1, 2, 3}))); err == nil {
		t.Error("DecodePCM of 3 bytes: no error")
	}
	if got := Resample([]int16{0, 100}, 8000, 16000); !slices.Equal(got, []int16{0, 50, 100, 100}) {
		t.Errorf("Resample = %v, want [0 50 100 100]", got)
	}
}

func TestReplyStream(t *testing.T) {
	r := NewReply("m1")
	var sent []int
	chunks := [][]byte{{1}, {2}, {3}}
	if !r.Stream(chunks, 0, func(i int, b []byte) { sent = append(sent, i) }) || len(sent) != 3 {
		t.Fatalf("Stream sent %v, want all of 3 chunks", sent)
	}
	sent = nil
	all := r.Stream(chunks, 0, func(i int, b []byte) {
		sent = append(sent, i)
		r.Cut()
		r.Cut() // a second cut does nothing
	})
	if all || !slices.Equal(sent, []int{0}) {
		t.Errorf("Stream cut after the first chunk = %v (sent %v), want false after [0]", all, sent)
	}
}

func TestRecorder(t *testing.T) {
	var lines bytes.Buffer
	r := Recorder{w: &lines}
	r.Record("connect", []byte(`{"k":1}`), -1)
	r.Record("start_voice", nil, 3)
	r.Record("start_voice", []byte(`{}`), -1)
	if n := r.Count("start_voice"); n != 2 {
		t.Errorf("Count(start_voice) = %d, want 2", n)
	}
	if got := r.Records(); len(got) != 3 || got[1].AckID != 3 || string(got[0].Arg) != `{"k":1}` {
		t.Errorf("Records = %+v", got)
	}
	want := "{\"event\":\"connect\",\"arg\":{\"k\":1}}\n{\"event\":\"start_voice\"}\n{\"event\":\"start_voice\",\"arg\":{}}\n"
	if lines.String() != want {
		t.Errorf("record lines = %q, want %q", lines.String(), want)
	}
}
