package gpio

import pgpio "periph.io/x/conn/v3/gpio"

// Test hooks for package gpio_test: each returned channel gets a value after every
// loop iteration that handled an edge, a timer, a tick or a pattern change, so tests
// on a fake clock know when the goroutine has caught up.

func NewButtonHooked(line pgpio.PinIn, c ButtonConfig) (*Button, <-chan struct{}, error) {
	ch := make(chan struct{}, 4096)
	b, err := newButton(line, c, func() { ch <- struct{}{} })
	return b, ch, err
}

func NewLEDHooked(c LEDConfig, lines ...pgpio.PinOut) (*LED, <-chan struct{}, error) {
	ch := make(chan struct{}, 4096)
	l, err := newLED(lines, c, func() { ch <- struct{}{} })
	return l, ch, err
}
