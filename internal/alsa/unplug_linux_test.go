package alsa

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The loopback card's platform device, and where its driver is unbound and bound again:
// unbinding is what unplugging a USB card does to ALSA (snd_card_disconnect).
const (
	aloopDevice = "snd_aloop.0"
	aloopDriver = "/sys/bus/platform/drivers/snd_aloop/"
	aloopNode   = "/dev/snd/pcmC0D1c"
)

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex // guards following fields
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitUntil(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestHWUnplug unbinds the loopback card under a capture, as unplugging a USB card does.
// The kernel's unbind returns only once every file of the card is closed, so the PCM must
// see the device as gone and close its file by itself, whether the reader was waiting in
// the poller or busy elsewhere (as voiced's capture is while it processes a period: then
// the next wait finds the poller's error, not the kernel's ENODEV). Then the card is
// bound again and the PCM reopens it.
func TestHWUnplug(t *testing.T) {
	needHW(t)
	if _, err := os.Stat(aloopDriver + "unbind"); err != nil {
		t.Skipf("cannot unplug the loopback card: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("unplugging the loopback card takes root")
	}
	for _, tc := range []struct {
		name string
		busy bool // the reader is between two reads when the card goes
	}{
		{"reader waiting in the poller", false},
		{"reader busy elsewhere", true},
	} {
		t.Run(tc.name, func(t *testing.T) { testUnplug(t, tc.busy) })
	}
}

func testUnplug(t *testing.T, busy bool) {
	t.Cleanup(func() {
		if _, err := os.Stat(aloopNode); err != nil {
			os.WriteFile(aloopDriver+"bind", []byte(aloopDevice), 0)
			waitUntil(10*time.Second, func() bool { _, err := os.Stat(aloopNode); return err == nil })
		}
	})
	var log lockedBuffer
	defer func() { t.Logf("the PCM's log:\n%s", log.String()) }()
	// Long periods: a waiting reader spends nearly all its time parked in the poller.
	capt, err := Open("hw:Loopback,1,0", Capture, Config{Rate: 8000, PeriodMs: 250, BufferMs: 1000},
		WithReopen(50*time.Millisecond, 200*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer capt.Close()
	var reads atomic.Int64
	hold := make(chan struct{}) // a busy reader waits for it after its first read
	release := sync.OnceFunc(func() { close(hold) })
	defer release() // before Close (deferred earlier), so that the reader ends
	readerDone := make(chan error, 1)
	go func() {
		buf := make([]byte, capt.Params().PeriodFrames*capt.Params().FrameBytes())
		for {
			if _, err := capt.ReadFrames(buf); err != nil {
				readerDone <- err
				return
			}
			if reads.Add(1) == 1 && busy {
				<-hold
			}
		}
	}()
	if !waitUntil(10*time.Second, func() bool { return reads.Load() > 0 }) {
		t.Fatal("no period captured in 10 s")
	}
	time.Sleep(50 * time.Millisecond) // a waiting reader is back in the poller

	unbound := make(chan error, 1)
	go func() { unbound <- os.WriteFile(aloopDriver+"unbind", []byte(aloopDevice), 0) }()
	if busy {
		time.Sleep(500 * time.Millisecond) // the runtime's poller takes in the disconnect
		release()
	}
	select {
	case err := <-unbound:
		if err != nil {
			t.Fatalf("unbind: %v", err)
		}
	case err := <-readerDone:
		t.Fatalf("ReadFrames returned %v when the card went, want it to wait for its return", err)
	case <-time.After(20 * time.Second):
		// Hung: the PCM kept its file open. Closing it lets the unbind finish.
		capt.Close()
		<-unbound
		t.Fatalf("unbind still blocked 20 s later: the capture's file was not closed (Gone() = %v)", capt.Gone())
	}
	if !capt.Gone() {
		t.Error("Gone() = false with the card unbound")
	}
	before := reads.Load()

	if err := os.WriteFile(aloopDriver+"bind", []byte(aloopDevice), 0); err != nil {
		t.Fatalf("bind: %v", err)
	}
	if !waitUntil(20*time.Second, func() bool { return reads.Load() > before }) {
		t.Fatalf("no period captured in 20 s after the card came back (Gone() = %v)", capt.Gone())
	}
	if capt.Gone() {
		t.Error("Gone() = true after reading from the card again")
	}
	capt.Close()
	if err := <-readerDone; !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFrames after Close = %v, want ErrClosed", err)
	}
}
