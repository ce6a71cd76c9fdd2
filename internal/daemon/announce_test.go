package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiced-project/voiced/internal/wav"
)

func wavBytes(t *testing.T, rate, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := wav.NewWriter(&b, wav.Header{Channels: 1, Rate: rate, Bits: 16, Container: 2})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 2*n))
	w.Close()
	return b.Bytes()
}

func TestDecodeAnnounceWAV(t *testing.T) {
	for _, tc := range []struct {
		name      string
		b         []byte
		wantLen   int // approximate, in samples at 24 kHz
		wantError string
	}{
		{"same rate", wavBytes(t, 24000, 24000), 24000, ""},
		{"resampled", wavBytes(t, 16000, 16000), 24000, ""},
		{"empty", wavBytes(t, 24000, 0), 0, "no audio"},
		{"longer than the playback ring", wavBytes(t, 8000, 8000*41), 0, "at most 40 s"},
		{"not a wav", []byte("hello"), 0, "wav:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pcm, err := decodeAnnounceWAV(tc.b, 24000)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("decodeAnnounceWAV = %v, want an error with %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := len(pcm) - tc.wantLen; d < -100 || d > 100 {
				t.Errorf("%d samples, want about %d", len(pcm), tc.wantLen)
			}
		})
	}
}

func TestReadAnnounceFile(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	in := filepath.Join(dir, "bell.wav")
	out := filepath.Join(other, "secret.wav")
	for _, p := range []string{in, out} {
		if err := os.WriteFile(p, wavBytes(t, 24000, 100), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(dir, "link.wav")
	if err := os.Symlink(out, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url, wantError string
	}{
		{"file:" + in, ""},
		{"file:" + out, "not under paths.audio_dirs"},
		{"file:" + link, "not under paths.audio_dirs"}, // a link out of the directory
		{"file:" + dir + "/../" + filepath.Base(other) + "/secret.wav", "not under paths.audio_dirs"},
		{"file:bell.wav", "absolute"},
		{"http://example.com/bell.wav", "absolute"},
	} {
		_, err := readAnnounceFile(tc.url, []string{dir})
		if (err == nil) != (tc.wantError == "") || (err != nil && !strings.Contains(err.Error(), tc.wantError)) {
			t.Errorf("readAnnounceFile(%q) = %v, want %q", tc.url, err, tc.wantError)
		}
	}
}
