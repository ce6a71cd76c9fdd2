// Package gpio provides the push-to-talk button and the state LED of voiced.
//
// Lines are reached through the Linux GPIO character device (the v2 uAPI,
// https://docs.kernel.org/userspace-api/gpio/chardev.html) by way of
// periph.io/x/host/v3/gpioioctl, which works on every Raspberry Pi (including the
// Pi 5's RP1) and on any Linux board. The button and the LED themselves take
// periph's gpio.PinIn and gpio.PinOut, so tests drive them with fake lines.
//
// # Chips and lines
//
// A chip is named by its device name (gpiochip0), its label (pinctrl-bcm2835) or its
// path (/dev/gpiochip0); an empty name picks the first chip, pinctrl-* chips first.
// A line is named by the name the chip reports (GPIO17, BUTTON), by its offset (17),
// or as GPIO<n> on chips that do not name their lines.
//
// # Button
//
// Button turns edge events into Press, Release, LongPress and DoublePress on a
// channel. Debouncing happens here, against an injectable Clock: a new level counts
// once the line has held it for the debounce window (10 ms by default), every edge
// restarting the window, and the line is sampled again when it closes. So contact
// bounce can neither duplicate nor swallow an event, a chattering held button does
// not end a turn, and Press and Release always alternate. ButtonConfig.KernelDebounce
// also has the kernel filter the line (the v2 debounce attribute), so bounces never
// wake the daemon; periph cannot ask for that, so such a line is requested directly.
//
// # LED
//
// LED shows one Pattern per conversation state (see the table in pattern.go). One
// goroutine drives the line from a ticker; the level is computed from the time since
// the pattern started, so blinking never drifts, and a new pattern shows at once.
// An RGB LED on three lines gets a colour per pattern from the same table.
//
// # Errors
//
// A missing chip or line, a line held by another process, or a chip the user may not
// open yields a *LineError naming the chip and line and saying what to do. Callers that
// can run without GPIO (voice wake and HTTP still work) check Unavailable(err).
package gpio
