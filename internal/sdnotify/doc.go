// Package sdnotify tells systemd how voiced is doing (sd_notify(3)): READY=1 once the
// devices and the HTTP endpoint are up, STATUS= the state in words, WATCHDOG=1 from the
// engine's own loop so a hung engine gets restarted, STOPPING=1 and RELOADING=1.
// Outside systemd (no NOTIFY_SOCKET) every call is a no-op.
package sdnotify
