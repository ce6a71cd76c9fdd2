package alsa

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/clock/clocktest"
	"github.com/voiced-project/voiced/internal/race"
	"github.com/voiced-project/voiced/internal/wav"
)

func writeWAV(t *testing.T, h wav.Header, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := wav.NewWriter(f, h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := errors.Join(w.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

// readWAV reads a WAV file's header and data.
func readWAV(t *testing.T, path string) (wav.Header, []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := wav.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return r.Header(), data
}

func ramp(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 13)
	}
	return b
}

func TestFileCaptureFast(t *testing.T) {
	data := ramp(1000 * 8)
	path := writeWAV(t, wav.Header{Channels: 2, Rate: 48000, Bits: 32, Container: 4}, data)
	p, err := Open("file:"+path, Capture, Config{Rate: 16000, PeriodMs: 10}, WithFileRealtime(false))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	want := Params{Format: S32LE, Channels: 2, Rate: 48000, PeriodFrames: 480, BufferFrames: 1920}
	if got := p.Params(); got != want {
		t.Errorf("Params() = %v, want %v (the file's own format)", got, want)
	}
	var got []byte
	buf := make([]byte, 300*8)
	for {
		n, err := p.ReadFrames(buf)
		got = append(got, buf[:n*8]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("ReadFrames returned 0 frames without error")
		}
	}
	if !bytes.Equal(got, data) {
		t.Errorf("read %d bytes, want the %d bytes of the file", len(got), len(data))
	}
}

func TestFileCaptureRealtime(t *testing.T) {
	path := writeWAV(t, wav.Header{Channels: 1, Rate: 16000, Bits: 16, Container: 2}, ramp(16000*2))
	clk := clocktest.NewClock(time.Unix(1_700_000_000, 0))
	start := clk.Now()
	p, err := Open("file:"+path, Capture, Config{PeriodMs: 20}, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	buf := make([]byte, 320*2)
	for i := range 3 {
		n, err := p.ReadFrames(buf)
		if err != nil || n != 320 {
			t.Fatalf("read %d: ReadFrames = %d, %v, want one period of 320", i, n, err)
		}
	}
	if n, err := p.ReadFrames(make([]byte, 800*2)); err != nil || n != 800 {
		t.Fatalf("ReadFrames(800 frames) = %d, %v", n, err)
	}
	if got := clk.Now().Sub(start); got != 110*time.Millisecond {
		t.Errorf("1760 frames at 16 kHz took %v of clock time, want 110ms", got)
	}
}

func TestFilePlayback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.wav")
	p, err := Open("file:"+path, Playback, Config{Rate: 24000, Channels: 1}, WithFileRealtime(false))
	if err != nil {
		t.Fatal(err)
	}
	data := ramp(480 * 2)
	for range 3 {
		if n, err := p.WriteFrames(data); err != nil || n != 480 {
			t.Fatalf("WriteFrames = %d, %v", n, err)
		}
	}
	if d, _ := p.Delay(); d != 0 {
		t.Errorf("Delay() = %d in fast mode, want 0", d)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	h, got := readWAV(t, path)
	if h != (wav.Header{Channels: 1, Rate: 24000, Bits: 16, Container: 2, DataFrames: 1440}) {
		t.Errorf("written header = %+v", h)
	}
	if !bytes.Equal(got, slices.Concat(data, data, data)) {
		t.Errorf("written data differs")
	}
}

func TestFilePlaybackRealtime(t *testing.T) {
	clk := clocktest.NewClock(time.Unix(1_700_000_000, 0))
	path := filepath.Join(t.TempDir(), "out.wav")
	p, err := Open("file:"+path, Playback, Config{Rate: 16000, PeriodMs: 20, BufferMs: 80}, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.WriteFrames(make([]byte, 1280*2)); err != nil { // fills the buffer: no wait
		t.Fatal(err)
	}
	if d, _ := p.Delay(); d != 1280 {
		t.Errorf("Delay() after filling the buffer = %d, want 1280", d)
	}
	clk.Advance(20 * time.Millisecond)
	if d, _ := p.Delay(); d != 960 {
		t.Errorf("Delay() 20ms later = %d, want 960", d)
	}
	if _, err := p.WriteFrames(make([]byte, 640*2)); err != nil { // must wait for 320 frames of room
		t.Fatal(err)
	}
	if err := p.Drain(); err != nil { // waits out the 1280 queued frames
		t.Fatal(err)
	}
	if got, want := clk.Slept(), []time.Duration{20 * time.Millisecond, 80 * time.Millisecond}; !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
}

// A real-time file speaker that runs dry, or is dropped, plays silence like a sound card
// in free-running mode: the file gets it, so it keeps the time line of what was heard, and
// the daemon need not write any.
func TestFilePlaybackFillsSilence(t *testing.T) {
	clk := clocktest.NewClock(time.Unix(1_700_000_000, 0))
	path := filepath.Join(t.TempDir(), "out.wav")
	p, err := Open("file:"+path, Playback, Config{Rate: 16000, Channels: 1, PeriodMs: 20, BufferMs: 80}, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	if !p.FillsSilence() {
		t.Fatal("a file speaker does not fill silence")
	}
	a, b, c := ramp(320*2), ramp(160*2), ramp(320*2)
	for i := range b {
		b[i] ^= 0x55
	}
	if _, err := p.WriteFrames(a); err != nil { // 320 frames queued at t=0
		t.Fatal(err)
	}
	clk.Advance(100 * time.Millisecond) // 1600 frames played: 1280 of them silence
	if d, err := p.CatchUp(); err != nil || d != 0 {
		t.Errorf("CatchUp after running dry = %d, %v; want 0", d, err)
	}
	if _, err := p.WriteFrames(b); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Millisecond) // 80 of b's 160 frames played
	if err := p.Drop(); err != nil {  // the other 80 are thrown away, yet stay in the file
		t.Fatal(err)
	}
	clk.Advance(10 * time.Millisecond) // 160 frames of silence
	if _, err := p.WriteFrames(c); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_, got := readWAV(t, path)
	want := slices.Concat(a, make([]byte, 1280*2), b, make([]byte, 160*2), c)
	if !bytes.Equal(got, want) {
		t.Errorf("file holds %d bytes, want %d: a, 80 ms of silence, b, 10 ms of silence, c", len(got), len(want))
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	float := filepath.Join(dir, "float.wav")
	os.WriteFile(float, []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x03\x00\x01\x00\x80\x3e\x00\x00\x00\xfa\x00\x00\x04\x00\x20\x00data\x00\x00\x00\x00"), 0o644)
	for _, name := range []string{"file:" + filepath.Join(dir, "missing.wav"), "file:" + float} {
		if _, err := Open(name, Capture, Config{}); err == nil {
			t.Errorf("Open(%q) succeeded, want error", name)
		}
	}
	var pathErr *os.PathError
	if _, err := Open("file:"+filepath.Join(dir, "missing.wav"), Capture, Config{}); !errors.As(err, &pathErr) {
		t.Errorf("missing file error = %v, want an *os.PathError naming the file", err)
	}
}

func TestFileTransferAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	path := writeWAV(t, wav.Header{Channels: 1, Rate: 16000, Bits: 16, Container: 2}, make([]byte, 1<<20))
	rp, err := Open("file:"+path, Capture, Config{}, WithFileRealtime(false))
	if err != nil {
		t.Fatal(err)
	}
	defer rp.Close()
	clk := clocktest.NewClock(time.Unix(1_700_000_000, 0))
	wp, err := Open("file:"+filepath.Join(t.TempDir(), "o.wav"), Playback, Config{Rate: 16000}, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer wp.Close()
	buf := make([]byte, 320*2)
	if got := testing.AllocsPerRun(100, func() { rp.ReadFrames(buf) }); got != 0 {
		t.Errorf("file ReadFrames: %v allocs per period, want 0", got)
	}
	if got := testing.AllocsPerRun(100, func() { wp.WriteFrames(buf); wp.Delay() }); got != 0 {
		t.Errorf("paced file WriteFrames: %v allocs per period, want 0", got)
	}
}
