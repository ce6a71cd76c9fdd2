// Package clocktest provides Clock, a fake clock whose time moves only when a
// test calls Advance (or, for code that paces itself, Sleep). It satisfies the
// small Clock interface of every consumer: gpio, engine, alsa, realtime and
// the daemon.
package clocktest
