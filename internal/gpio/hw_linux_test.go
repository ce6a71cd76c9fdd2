package gpio_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/gpio"
)

// Hardware tests run against gpio-sim in the test/vm guest: a chip of 28 lines with
// line 17 named BUTTON and line 27 named LED. They need VOICED_HW_TEST=1, the chip's
// name in VOICED_HW_GPIO_CHIP and its sysfs directory in VOICED_HW_GPIO_SYSFS.

type simChip struct {
	t     *testing.T
	chip  string
	sysfs string
}

func hwChip(t *testing.T) simChip {
	t.Helper()
	if os.Getenv("VOICED_HW_TEST") != "1" {
		t.Skip("set VOICED_HW_TEST=1 to run against gpio-sim")
	}
	c := simChip{t: t, chip: os.Getenv("VOICED_HW_GPIO_CHIP"), sysfs: os.Getenv("VOICED_HW_GPIO_SYSFS")}
	if c.chip == "" || c.sysfs == "" {
		t.Fatal("VOICED_HW_GPIO_CHIP and VOICED_HW_GPIO_SYSFS must name the gpio-sim chip and its sysfs directory")
	}
	return c
}

// setPull sets the simulated pull of line off: "pull-up" or "pull-down".
func (c simChip) setPull(off, v string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.sysfs, "sim_gpio"+off, "pull"), []byte(v), 0); err != nil {
		c.t.Fatal(err)
	}
}

// value returns what the consumer drives on line off: "0" or "1".
func (c simChip) value(off string) string {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.sysfs, "sim_gpio"+off, "value"))
	if err != nil {
		c.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// waitValue polls line off until it reads want, failing after limit.
func (c simChip) waitValue(off, want string, limit time.Duration) time.Duration {
	c.t.Helper()
	start := time.Now()
	for {
		if c.value(off) == want {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			c.t.Fatalf("sim_gpio%s/value = %s after %v, want %s", off, c.value(off), limit, want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHWButton(t *testing.T) {
	c := hwChip(t)
	c.setPull("17", "pull-up") // released: the button is active low
	// No bias requested: gpio-sim would take it as the simulated pull.
	b, err := gpio.OpenButton(c.chip, "BUTTON", gpio.ButtonConfig{ActiveLow: true, Pull: gpio.PullAsIs})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	expect := func(kind gpio.EventKind, start time.Time) {
		t.Helper()
		select {
		case e := <-b.Events():
			lat := time.Since(start)
			t.Logf("%v after %v", e.Kind, lat.Round(100*time.Microsecond))
			if e.Kind != kind {
				t.Fatalf("event %v, want %v", e.Kind, kind)
			}
			if lat > 100*time.Millisecond {
				t.Errorf("%v took %v, want at most 100ms", kind, lat)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("no %v within 2s", kind)
		}
	}
	for i := 0; i < 3; i++ {
		start := time.Now()
		c.setPull("17", "pull-down")
		expect(gpio.Press, start)
		time.Sleep(50 * time.Millisecond)
		start = time.Now()
		c.setPull("17", "pull-up")
		expect(gpio.Release, start)
		time.Sleep(500 * time.Millisecond) // no double press
	}
	select {
	case e := <-b.Events():
		t.Errorf("spurious event %v", e.Kind)
	case <-time.After(200 * time.Millisecond):
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	// Released: it can be opened again.
	b2, err := gpio.OpenButton(c.chip, "17", gpio.ButtonConfig{ActiveLow: true})
	if err != nil {
		t.Fatalf("reopening line 17 after Close: %v", err)
	}
	b2.Close()
}

func TestHWLED(t *testing.T) {
	c := hwChip(t)
	for _, activeLow := range []bool{false, true} {
		lit, dark := "1", "0"
		if activeLow {
			lit, dark = "0", "1"
		}
		led, err := gpio.OpenLED(c.chip, "LED", gpio.LEDConfig{ActiveLow: activeLow})
		if err != nil {
			t.Fatal(err)
		}
		c.waitValue("27", dark, 100*time.Millisecond)
		led.SetPattern(gpio.Listening)
		t.Logf("active low %v: lit after %v", activeLow, c.waitValue("27", lit, 100*time.Millisecond))
		led.SetPattern(gpio.Off)
		c.waitValue("27", dark, 100*time.Millisecond)

		// Processing blinks at 4 Hz: over 2 s the value changes about 16 times.
		led.SetPattern(gpio.Processing)
		changes, prev := 0, c.value("27")
		for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
			if v := c.value("27"); v != prev {
				changes, prev = changes+1, v
			}
		}
		t.Logf("active low %v: %d changes in 2s of processing (want 16)", activeLow, changes)
		if changes < 14 || changes > 18 {
			t.Errorf("active low %v: %d changes in 2s of a 4 Hz blink, want 14 to 18", activeLow, changes)
		}
		led.SetPattern(gpio.Listening)
		c.waitValue("27", lit, 100*time.Millisecond)
		if err := led.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
		if v := c.value("27"); v != dark {
			t.Errorf("after Close: sim_gpio27/value = %s, want %s (dark)", v, dark)
		}
	}
}

func TestHWErrors(t *testing.T) {
	c := hwChip(t)
	if _, err := gpio.OpenLine(c.chip, "NO_SUCH_LINE"); !errors.Is(err, gpio.ErrNoLine) {
		t.Errorf("OpenLine(NO_SUCH_LINE) = %v, want ErrNoLine", err)
	}
	if _, err := gpio.OpenLine("gpiochip99", "LED"); !errors.Is(err, gpio.ErrNoChip) {
		t.Errorf("OpenLine(gpiochip99) = %v, want ErrNoChip", err)
	}
	led, err := gpio.OpenLED(c.chip, "LED", gpio.LEDConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	_, err = gpio.OpenButton(c.chip, "27", gpio.ButtonConfig{})
	if !errors.Is(err, gpio.ErrBusy) || !gpio.Unavailable(err) {
		t.Errorf("OpenButton on the LED's line = %v, want ErrBusy", err)
	}
	t.Logf("busy: %v", err)
	chips, err := gpio.Chips()
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range chips {
		t.Logf("chip %s label %q, %d lines", ci.Name, ci.Label, len(ci.Lines))
	}
}
