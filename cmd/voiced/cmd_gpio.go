package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/voiced-project/voiced/internal/gpio"
)

func init() {
	register(command{
		name:  "gpio",
		usage: "check the wiring: print button events and cycle the LED through every pattern",
		run:   runGPIO,
	})
}

func runGPIO(ctx context.Context, env *cmdEnv, args []string) error {
	fs := flag.NewFlagSet("gpio", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	chip := fs.String("chip", "", "GPIO chip: name (gpiochip0), label (pinctrl-bcm2835) or path; empty: the first chip")
	button := fs.String("button", "", "button line: name (GPIO17) or offset (17)")
	led := fs.String("led", "", "LED line; or three lines red,green,blue for an RGB LED")
	list := fs.Bool("list", false, "list the GPIO chips and their named lines, then exit")
	buttonLow := fs.Bool("button-active-low", true, "the button pulls the line low when pressed")
	biasName := fs.String("bias", "up", "button pull resistor: up, down, off or as-is")
	ledLow := fs.Bool("led-active-low", false, "the LED is lit when the line is low")
	debounce := fs.Duration("debounce", gpio.DefaultDebounce, "how long a new button level must hold")
	kernelDebounce := fs.Duration("kernel-debounce", 0, "also have the kernel debounce the button (0: off)")
	long := fs.Duration("long-press", gpio.DefaultLongPress, "hold time for a long press")
	double := fs.Duration("double-press", gpio.DefaultDoublePress, "longest release-to-press gap of a double press")
	each := fs.Duration("each", 4*time.Second, "how long the LED shows each pattern")
	fs.Usage = func() {
		fmt.Fprintln(env.stderr, "usage: voiced gpio [--chip C] [--button LINE] [--led LINE|R,G,B] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *list {
		return listChips(env)
	}
	if *button == "" && *led == "" {
		return fmt.Errorf("%w: give --button, --led or both (--list shows the lines)", errUsage)
	}
	bias, err := gpio.ParseBias(*biasName)
	if err != nil {
		return fmt.Errorf("%w: --bias: %v", errUsage, err)
	}
	if *each <= 0 {
		return fmt.Errorf("%w: --each must be positive, got %v", errUsage, *each)
	}

	var events <-chan gpio.Event
	if *button != "" {
		b, err := gpio.OpenButton(*chip, *button, gpio.ButtonConfig{
			ActiveLow: *buttonLow, Bias: bias, Debounce: *debounce,
			KernelDebounce: *kernelDebounce, LongPress: *long, DoublePress: *double, Log: env.log,
		})
		if err != nil {
			return err
		}
		defer b.Close()
		events = b.Events()
		fmt.Fprintf(env.stdout, "button on %s: press it (Ctrl-C to stop)\n", *button)
	}

	var l *gpio.LED
	var patterns []gpio.Pattern
	var tick <-chan time.Time
	if *led != "" {
		cfg := gpio.LEDConfig{ActiveLow: *ledLow, Log: env.log}
		switch rgb := strings.Split(*led, ","); len(rgb) {
		case 1:
			l, err = gpio.OpenLED(*chip, *led, cfg)
		case 3:
			l, err = gpio.OpenRGBLED(*chip, rgb[0], rgb[1], rgb[2], cfg)
		default:
			return fmt.Errorf("%w: --led takes one line or three (red,green,blue), got %q", errUsage, *led)
		}
		if err != nil {
			return err
		}
		defer l.Close()
		patterns = gpio.Patterns()
		t := time.NewTicker(*each)
		defer t.Stop()
		tick = t.C
	}

	next := 0
	showNext := func() {
		p := patterns[next%len(patterns)]
		next++
		l.SetPattern(p)
		fmt.Fprintf(env.stdout, "%s led %s\n", time.Now().Format("15:04:05.000"), p)
	}
	if l != nil {
		showNext()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			showNext()
		case e, ok := <-events:
			if !ok {
				return errors.New("gpio: button stopped")
			}
			line := fmt.Sprintf("%s button %s", e.Time.Format("15:04:05.000"), e.Kind)
			if e.Held > 0 {
				line += fmt.Sprintf(" (held %v)", e.Held.Round(time.Millisecond))
			}
			fmt.Fprintln(env.stdout, line)
		}
	}
}

func listChips(env *cmdEnv) error {
	chips, err := gpio.Chips()
	if err != nil {
		return err
	}
	for _, c := range chips {
		fmt.Fprintf(env.stdout, "%s\t%s\t%s\t%d lines\n", c.Name, c.Label, c.Path, len(c.Lines))
		for i, n := range c.Lines {
			if n != "" {
				fmt.Fprintf(env.stdout, "\t%d\t%s\n", i, n)
			}
		}
	}
	return nil
}
