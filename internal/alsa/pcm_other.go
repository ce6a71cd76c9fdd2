//go:build !linux

package alsa

import (
	"errors"
	"sync/atomic"
)

func openHW(devName, Stream, Config, *options, *atomic.Uint64) (backend, error) {
	return nil, errors.New("alsa: sound hardware needs Linux; use a file: device")
}

// List finds no cards outside Linux.
func List(...Option) ([]Card, error) { return nil, nil }
