package sdnotify

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listen makes a real unixgram NOTIFY_SOCKET, as systemd does.
func listen(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return conn
}

func recv(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("read notify socket: %v", err)
	}
	return string(buf[:n])
}

func quiet(t *testing.T, c *net.UnixConn) {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := c.Read(buf); err == nil {
		t.Fatalf("unexpected notification %q", buf[:n])
	}
}

func TestNotifications(t *testing.T) {
	sock := listen(t)
	t.Setenv("WATCHDOG_USEC", "2000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	n := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if got, want := n.WatchdogInterval(), time.Second; got != want {
		t.Fatalf("WatchdogInterval = %v, want %v (half of WATCHDOG_USEC)", got, want)
	}
	clock := time.Unix(1000, 0)
	n.now = func() time.Time { return clock }

	n.Ready("connecting")
	if got := recv(t, sock); got != "READY=1\nSTATUS=connecting" {
		t.Errorf("Ready sent %q", got)
	}
	n.Status("listening")
	if got := recv(t, sock); got != "STATUS=listening" {
		t.Errorf("Status sent %q", got)
	}
	n.Status("listening")
	quiet(t, sock) // a repeated status is not sent

	// The engine loop calls Watchdog often; systemd gets a ping per half interval.
	n.Watchdog()
	quiet(t, sock)
	clock = clock.Add(500 * time.Millisecond)
	n.Watchdog()
	if got := recv(t, sock); got != "WATCHDOG=1" {
		t.Errorf("Watchdog sent %q", got)
	}
	clock = clock.Add(100 * time.Millisecond)
	n.Watchdog()
	quiet(t, sock)
	clock = clock.Add(450 * time.Millisecond)
	n.Watchdog()
	if got := recv(t, sock); got != "WATCHDOG=1" {
		t.Errorf("second Watchdog sent %q", got)
	}

	n.Reloading()
	if got := recv(t, sock); !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Errorf("Reloading sent %q", got)
	}
	n.Reloaded()
	if got := recv(t, sock); got != "READY=1" {
		t.Errorf("Reloaded sent %q", got)
	}
	n.Stopping()
	if got := recv(t, sock); got != "STOPPING=1" {
		t.Errorf("Stopping sent %q", got)
	}
}

func TestWatchdogForAnotherPID(t *testing.T) {
	listen(t)
	t.Setenv("WATCHDOG_USEC", "2000000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
	n := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if n.WatchdogInterval() != 0 {
		t.Errorf("WatchdogInterval = %v for another process's watchdog, want 0", n.WatchdogInterval())
	}
}

func TestOutsideSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	n := New(slog.New(slog.NewTextHandler(io.Discard, nil)))
	n.Ready("x")
	n.Status("y")
	n.Watchdog()
	n.Stopping()
	if n.WatchdogInterval() != 0 {
		t.Errorf("WatchdogInterval outside systemd = %v, want 0", n.WatchdogInterval())
	}
}
