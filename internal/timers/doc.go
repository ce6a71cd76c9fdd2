// Package timers keeps the kitchen timers a user sets by voice or over HTTP.
//
// Timers belong to the device, not to the conversation: they ring without a
// connection, and they survive a reconnect and a restart because the store
// writes them to a file (timers.json in the state directory, by default
// /var/lib/voiced, the systemd unit's StateDirectory). Each change replaces
// the file atomically (a 0600 temporary file, fsync, rename), so a power cut
// leaves the old list or the new one, never half of one.
//
// # Life of a timer
//
// [Store.Set] adds a pending timer. When it is due, [Store.Run] marks it
// ringing and calls Options.OnRing once; it stays ringing, in the file too,
// until [Store.Dismiss] (the button) or [Store.Cancel] removes it. A timer
// that fell due while voiced was down rings as soon as Run starts.
package timers
