package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/voiced-project/voiced/internal/alsa"
)

func init() {
	register(command{name: "devices", usage: "list sound cards, their PCM devices and the formats, rates and channels they offer", run: runDevices})
}

func runDevices(_ context.Context, env *cmdEnv, args []string) error {
	fs := flag.NewFlagSet("devices", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: devices takes no arguments", errUsage)
	}
	cards, err := alsa.List()
	if err != nil {
		return err
	}
	if len(cards) == 0 {
		fmt.Fprintln(env.stdout, "no sound cards found (/proc/asound/cards is empty: is the driver loaded?)")
		fmt.Fprintln(env.stdout, "without hardware, use file:PATH.wav as the device")
		return nil
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	for _, c := range cards {
		fmt.Fprintf(tw, "card %d: %s [%s], driver %s\n", c.Number, c.ID, c.Name, c.Driver)
		fmt.Fprintln(tw, "  DEVICE\tDIRECTION\tNAME\tFORMATS\tCHANNELS\tRATES\tSUBDEVICES FREE")
		for _, d := range c.Devices {
			formats, channels, rates := "-", "-", "-"
			if d.CapsErr != nil {
				formats = "(" + d.CapsErr.Error() + ")"
			} else {
				formats = joinFormats(d.Caps.Formats)
				if formats == "" {
					formats = "none usable (" + d.Caps.OtherFormats + ")"
				}
				channels = span(d.Caps.MinChannels, d.Caps.MaxChannels)
				rates = rateList(d.Caps)
			}
			fmt.Fprintf(tw, "  %s\t%v\t%s\t%s\t%s\t%s\t%d/%d\n", c.HWName(d), d.Stream, d.Name, formats, channels, rates, d.SubdevicesAvail, d.Subdevices)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(env.stdout, "\nUse a DEVICE above (or hw:CARD,DEV, default, file:PATH.wav) with --device.")
	return nil
}

func joinFormats(fs []alsa.Format) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.String()
	}
	return strings.Join(s, ",")
}

func span(lo, hi int) string {
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}

// rateList names the common rates the device takes; a device with a continuous range
// that covers them all shows the range.
func rateList(c alsa.Caps) string {
	if len(c.Rates) == 0 {
		return span(c.MinRate, c.MaxRate)
	}
	if len(c.Rates) >= 8 {
		return span(c.MinRate, c.MaxRate)
	}
	s := make([]string, len(c.Rates))
	for i, r := range c.Rates {
		s[i] = fmt.Sprint(r)
	}
	return strings.Join(s, ",")
}
