package alsa

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/wav"
)

// A file: device on a FIFO whose other end goes quiet (a microphone nobody writes, a
// speaker nobody reads) must not hold up Close: the daemon's shutdown waits on it.
func TestFileCloseUnblocksFIFO(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []Stream{Capture, Playback} {
		t.Run(s.String(), func(t *testing.T) {
			path := filepath.Join(dir, s.String()+".fifo")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			// The other end: opened, then silent.
			peer := make(chan *os.File, 1)
			go func() {
				flag := os.O_WRONLY
				if s == Playback {
					flag = os.O_RDONLY
				}
				f, err := os.OpenFile(path, flag, 0)
				if err != nil {
					peer <- nil
					return
				}
				if s == Capture {
					w, _ := wav.NewWriter(f, wav.Header{Channels: 1, Rate: 16000, Bits: 16, Container: 2})
					_ = w // the header is out; no frames follow
				}
				peer <- f
			}()
			p, err := Open("file:"+path, s, Config{Rate: 16000, Channels: 1}, WithFileRealtime(false))
			if err != nil {
				t.Fatal(err)
			}
			other := <-peer
			if other == nil {
				t.Fatal("could not open the FIFO's other end")
			}
			defer other.Close()
			done := make(chan error, 1)
			buf := make([]byte, 1<<17) // more than a pipe holds, so a write blocks
			go func() {
				var err error
				for err == nil {
					if s == Capture {
						_, err = p.ReadFrames(buf)
					} else {
						_, err = p.WriteFrames(buf)
					}
				}
				done <- err
			}()
			time.Sleep(50 * time.Millisecond) // let the transfer block
			closed := make(chan error, 1)
			go func() { closed <- p.Close() }()
			select {
			case err := <-done:
				if !errors.Is(err, ErrClosed) {
					t.Errorf("transfer after Close: %v, want ErrClosed", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not unblock the transfer on the FIFO")
			}
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not return")
			}
		})
	}
}
