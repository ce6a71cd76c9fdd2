package sdnotify

import (
	"log/slog"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notifier sends state to systemd. Safe for concurrent use.
type Notifier struct {
	log      *slog.Logger
	interval time.Duration // watchdog ping interval: half of WATCHDOG_USEC; 0 = no watchdog
	now      func() time.Time

	mu         sync.Mutex // guards following fields
	lastPing   time.Time
	lastStatus string
	failed     bool
}

// New reads the environment systemd set (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID).
func New(log *slog.Logger) *Notifier {
	n := &Notifier{log: log, now: time.Now}
	if d, err := daemon.SdWatchdogEnabled(false); err != nil {
		log.Warn("systemd watchdog settings not understood; not pinging it", "err", err)
	} else if d > 0 {
		n.interval = d / 2
	}
	return n
}

// WatchdogInterval is how often Watchdog must be called at least; 0 when systemd does
// not watch us.
func (n *Notifier) WatchdogInterval() time.Duration { return n.interval }

func (n *Notifier) send(state string) {
	ok, err := daemon.SdNotify(false, state)
	if err != nil {
		n.mu.Lock()
		first := !n.failed
		n.failed = true
		n.mu.Unlock()
		if first { // once: a broken socket would otherwise log every second
			n.log.Warn("sd_notify failed", "state", state, "err", err)
		}
		return
	}
	_ = ok // false: not under systemd; nothing to do
}

// Ready says startup is complete, with the first status line.
func (n *Notifier) Ready(status string) {
	n.mu.Lock()
	n.lastStatus = status
	n.lastPing = n.now()
	n.mu.Unlock()
	n.send("READY=1\nSTATUS=" + status)
}

// Status shows s in `systemctl status`. Repeats are not sent.
func (n *Notifier) Status(s string) {
	n.mu.Lock()
	same := s == n.lastStatus
	n.lastStatus = s
	n.mu.Unlock()
	if !same {
		n.send("STATUS=" + s)
	}
}

// Watchdog is called from the engine loop whenever it runs; it pings systemd at most
// once per WatchdogInterval. If the loop hangs, the pings stop and systemd restarts us.
func (n *Notifier) Watchdog() {
	if n.interval == 0 {
		return
	}
	n.mu.Lock()
	now := n.now()
	due := now.Sub(n.lastPing) >= n.interval/2
	if due {
		n.lastPing = now
	}
	n.mu.Unlock()
	if due {
		n.send(daemon.SdNotifyWatchdog)
	}
}

// Reloading brackets a config reload; call Ready-less Reloaded after.
func (n *Notifier) Reloading() {
	n.send(daemon.SdNotifyReloading + "\n" + daemon.SdNotifyMonotonicUsec())
}

// Reloaded ends a reload.
func (n *Notifier) Reloaded() { n.send(daemon.SdNotifyReady) }

// Stopping says shutdown has begun.
func (n *Notifier) Stopping() { n.send(daemon.SdNotifyStopping) }
