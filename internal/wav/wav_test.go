package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// canonical builds the classic 44-byte PCM header (format tag 1) followed by data.
func canonical(tag uint16, channels, rate, bits, align int, dataSize uint32, data []byte) []byte {
	le := binary.LittleEndian
	b := make([]byte, 44)
	copy(b, "RIFF")
	le.PutUint32(b[4:], 36+uint32(len(data)))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], tag)
	le.PutUint16(b[22:], uint16(channels))
	le.PutUint32(b[24:], uint32(rate))
	le.PutUint32(b[28:], uint32(rate*align))
	le.PutUint16(b[32:], uint16(align))
	le.PutUint16(b[34:], uint16(bits))
	copy(b[36:], "data")
	le.PutUint32(b[40:], dataSize)
	return append(b, data...)
}

func TestReadCanonical(t *testing.T) {
	data := []byte{1, 0, 2, 0, 3, 0, 4, 0}
	r, err := NewReader(bytes.NewReader(canonical(1, 2, 16000, 16, 4, 8, data)))
	if err != nil {
		t.Fatal(err)
	}
	want := Header{Channels: 2, Rate: 16000, Bits: 16, Container: 2, DataFrames: 2}
	if got := r.Header(); got != want {
		t.Errorf("Header() = %+v, want %+v", got, want)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("ReadAll = %v, %v, want %v", got, err, data)
	}
}

func TestReadStreamedAndTruncated(t *testing.T) {
	data := []byte{1, 0, 2, 0, 3, 0}
	for _, tc := range []struct {
		name   string
		size   uint32
		frames int
		want   []byte
	}{
		{"size 0 means to EOF", 0, -1, data},
		{"size 0xFFFFFFFF means to EOF", 0xFFFFFFFF, -1, data},
		{"data shorter than declared", 100, 50, data},
		{"trailing bytes after data chunk", 4, 2, data[:4]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(canonical(1, 1, 8000, 16, 2, tc.size, data)))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Header().DataFrames; got != tc.frames {
				t.Errorf("DataFrames = %d, want %d", got, tc.frames)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("ReadAll = %v, %v, want %v", got, err, tc.want)
			}
		})
	}
}

func TestReadSkipsOddChunk(t *testing.T) {
	f := canonical(1, 1, 8000, 16, 2, 2, []byte{7, 0})
	// Insert a 3-byte "LIST" chunk (padded to 4) between fmt and data.
	extra := append([]byte("LIST\x03\x00\x00\x00abc"), 0)
	f = append(f[:36:36], append(extra, f[36:]...)...)
	r, err := NewReader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	if !bytes.Equal(got, []byte{7, 0}) {
		t.Errorf("data = %v, want [7 0]", got)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"empty", nil},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVE")},
		{"no chunks", []byte("RIFF\x04\x00\x00\x00WAVE")},
		{"float format", canonical(3, 1, 8000, 32, 4, 4, []byte{0, 0, 0, 0})},
		{"zero channels", canonical(1, 0, 8000, 16, 2, 2, []byte{0, 0})},
		{"zero rate", canonical(1, 1, 0, 16, 2, 2, []byte{0, 0})},
		{"align not multiple of channels", canonical(1, 2, 8000, 16, 3, 3, []byte{0, 0, 0})},
		{"bits wider than container", canonical(1, 1, 8000, 24, 2, 2, []byte{0, 0})},
		{"data before fmt", []byte("RIFF\x10\x00\x00\x00WAVEdata\x00\x00\x00\x00")},
		{"truncated fmt", canonical(1, 1, 8000, 16, 2, 0, nil)[:30]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.file))
			if !errors.Is(err, ErrFormat) {
				t.Errorf("NewReader error = %v, want ErrFormat", err)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, h := range []Header{
		{Channels: 1, Rate: 24000, Bits: 16, Container: 2},
		{Channels: 2, Rate: 48000, Bits: 24, Container: 3},
		{Channels: 2, Rate: 44100, Bits: 24, Container: 4},
		{Channels: 1, Rate: 16000, Bits: 32, Container: 4},
	} {
		path := filepath.Join(t.TempDir(), "x.wav")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(f, h)
		if err != nil {
			t.Fatal(err)
		}
		data := make([]byte, 5*h.FrameBytes())
		for i := range data {
			data[i] = byte(i * 7)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if got := w.Frames(); got != 5 {
			t.Errorf("Frames() = %d, want 5", got)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		raw, _ := os.ReadFile(path)
		r, err := NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%+v: %v", h, err)
		}
		want := h
		want.DataFrames = 5
		if got := r.Header(); got != want {
			t.Errorf("Header() = %+v, want %+v", got, want)
		}
		got, _ := io.ReadAll(r)
		if !bytes.Equal(got, data) {
			t.Errorf("%+v: data differs after round trip", h)
		}
		if riff := binary.LittleEndian.Uint32(raw[4:]); int(riff) != len(raw)-8 {
			t.Errorf("%+v: RIFF size %d, want %d", h, riff, len(raw)-8)
		}
	}
}

func TestWriterNotSeekable(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Channels: 1, Rate: 8000, Bits: 16, Container: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{1, 0, 2, 0})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header().DataFrames; got != -1 {
		t.Errorf("streamed DataFrames = %d, want -1", got)
	}
	got, _ := io.ReadAll(r)
	if !bytes.Equal(got, []byte{1, 0, 2, 0}) {
		t.Errorf("data = %v", got)
	}
}

func TestNewWriterRejectsBadHeader(t *testing.T) {
	if _, err := NewWriter(io.Discard, Header{Channels: 0, Rate: 8000, Bits: 16, Container: 2}); err == nil {
		t.Error("NewWriter(0 channels) succeeded, want error")
	}
}

func FuzzReader(f *testing.F) {
	f.Add(canonical(1, 2, 16000, 16, 4, 8, []byte{1, 0, 2, 0, 3, 0, 4, 0}))
	f.Add(canonical(1, 1, 8000, 16, 2, 0xFFFFFFFF, []byte{1, 0}))
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, Header{Channels: 2, Rate: 48000, Bits: 24, Container: 4})
	w.Write(make([]byte, 16))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		h := r.Header()
		if err := h.Validate(); err != nil {
			t.Fatalf("accepted header %+v: %v", h, err)
		}
		n, _ := io.Copy(io.Discard, r)
		if n > int64(len(b)) {
			t.Fatalf("read %d bytes from a %d-byte file", n, len(b))
		}
	})
}

func TestReadMono16(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Channels: 2, Rate: 8000, Bits: 16, Container: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{0x10, 0x00, 0x30, 0x00, 0xff, 0xff, 0xfd, 0xff}) // (16, 48), (-1, -3)
	w.Close()
	pcm, h, err := ReadMono16(bytes.NewReader(buf.Bytes()))
	if err != nil || h.Channels != 2 || h.Rate != 8000 || len(pcm) != 2 || pcm[0] != 32 || pcm[1] != -2 {
		t.Fatalf("ReadMono16 = %v, %+v, %v; want [32 -2] from 2 channels at 8000 Hz", pcm, h, err)
	}
	buf.Reset()
	w, _ = NewWriter(&buf, Header{Channels: 1, Rate: 8000, Bits: 24, Container: 3})
	w.Write([]byte{1, 2, 3})
	w.Close()
	if _, _, err := ReadMono16(bytes.NewReader(buf.Bytes())); !errors.Is(err, ErrFormat) {
		t.Errorf("ReadMono16 of 24-bit = %v, want ErrFormat", err)
	}
}
