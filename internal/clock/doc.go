// Package clock is the time source of every part that waits: the button's
// debounce and the LED's blinking (gpio), the engine's timers, file: device
// pacing and reopen backoff (alsa), reconnect backoff (realtime) and the
// daemon's rebuild backoff.
//
// Each consumer declares the small Clock interface it needs; Real satisfies
// all of them, and so does clocktest.Clock, a fake whose time moves only when
// a test says so. Timer and Ticker are the shared shapes of what those
// interfaces return, so that one type can satisfy them all.
package clock
