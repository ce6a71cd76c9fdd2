package daemon

import (
	"strings"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/gpio"
)

// gpioParts are the button and the LED. They belong to the daemon, not the runtime, so
// the LED can show an error while the audio pipeline waits for a device.
type gpioParts struct {
	cfg    config.GPIO
	opened bool
	button *gpio.Button
	led    *gpio.LED
	stop   chan struct{} // closed to stop the button forwarder
	wg     sync.WaitGroup

	mu     sync.Mutex // guards status
	status string
}

func (g *gpioParts) Status() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.status
}

func (g *gpioParts) setStatus(s string) {
	g.mu.Lock()
	g.status = s
	g.mu.Unlock()
}

// ensureGPIO opens the lines the config names, reopening them if their settings
// changed. A missing chip, a busy line or no permission is logged and shown on
// /v1/status; the daemon runs on without them.
func (d *Daemon) ensureGPIO(c config.GPIO) {
	g := &d.gpio
	if g.opened && g.cfg == c {
		return
	}
	d.closeGPIO()
	g.cfg, g.opened = c, true
	if !c.Enabled {
		g.setStatus("disabled (gpio.enabled is false)")
		return
	}
	var problems []string
	if c.LED.Line != "" {
		led, err := gpio.OpenLED(c.Chip, c.LED.Line, gpio.LEDConfig{ActiveLow: c.LED.ActiveLow, Log: d.log})
		if err != nil {
			problems = append(problems, err.Error())
			d.log.Warn("LED unavailable; running without it", "err", err)
		} else {
			g.led = led
		}
	}
	if c.Button.Line != "" {
		bias, err := gpio.ParseBias(c.Button.Pull)
		if err == nil {
			g.button, err = gpio.OpenButton(c.Chip, c.Button.Line, gpio.ButtonConfig{
				ActiveLow:   c.Button.ActiveLow,
				Bias:        bias,
				Debounce:    time.Duration(c.Button.DebounceMs) * time.Millisecond,
				LongPress:   time.Duration(c.Button.LongPressMs) * time.Millisecond,
				DoublePress: time.Duration(c.Button.DoublePressMs) * time.Millisecond,
				Log:         d.log,
			})
		}
		if err != nil {
			g.button = nil
			problems = append(problems, err.Error())
			d.log.Warn("button unavailable; running without it (voice wake and HTTP control still work)", "err", err)
		} else {
			g.stop = make(chan struct{})
			g.wg.Add(1)
			go d.forwardButton(g.button.Events(), g.stop)
		}
	}
	if len(problems) > 0 {
		g.setStatus("unavailable: " + strings.Join(problems, "; "))
	} else {
		g.setStatus("ok")
	}
}

// forwardButton hands button events to the engine in force; presses while no engine
// runs are dropped (there is nobody to talk to).
func (d *Daemon) forwardButton(events <-chan gpio.Event, stop <-chan struct{}) {
	defer d.gpio.wg.Done()
	for {
		select {
		case <-stop:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			b, known := buttonEvents[ev.Kind]
			if b == engine.ButtonRelease {
				d.metrics.released()
			}
			if rt := d.current(); known && rt != nil {
				if rt.svc != nil && b == engine.ButtonPress {
					rt.svc.wake()
				}
				rt.engine.HandleButton(b)
			}
		}
	}
}

// closeGPIO releases the lines; the LED goes dark.
func (d *Daemon) closeGPIO() {
	g := &d.gpio
	if g.stop != nil {
		close(g.stop)
		g.stop = nil
	}
	if g.button != nil {
		if err := g.button.Close(); err != nil {
			d.log.Warn("closing the button line", "err", err)
		}
		g.button = nil
	}
	g.wg.Wait()
	if g.led != nil {
		if err := g.led.Close(); err != nil {
			d.log.Warn("closing the LED line", "err", err)
		}
		g.led = nil
	}
	g.opened = false
}

// showError puts the error pattern on the LED while nothing runs.
func (d *Daemon) showError() {
	if d.gpio.led != nil {
		ledAdapter{d.gpio.led}.SetPattern(engine.LEDError)
	}
}
