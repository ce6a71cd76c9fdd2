package alsa

import (
	"fmt"
	"strconv"
	"strings"
)

// devName is a parsed device name.
type devName struct {
	kind   string // "hw", "default" or "file"
	card   string // number or card ID, as given
	device int
	subdev int // -1: any
	path   string
}

// parseName parses "hw:CARD=Name,DEV=N[,SUBDEV=S]", "hw:N[,M[,S]]", "hw:Name,M", the same
// with "plughw:", "default" and "file:PATH".
func parseName(s string) (devName, error) {
	switch {
	case s == "default" || s == "":
		return devName{kind: "default", subdev: -1}, nil
	case strings.HasPrefix(s, "file:"):
		p := strings.TrimPrefix(s, "file:")
		if p == "" {
			return devName{}, fmt.Errorf("alsa: device %q: file: needs a path", s)
		}
		return devName{kind: "file", path: p}, nil
	}
	rest, ok := strings.CutPrefix(s, "hw:")
	if !ok {
		rest, ok = strings.CutPrefix(s, "plughw:")
	}
	if !ok {
		return devName{}, fmt.Errorf("alsa: device %q: want hw:CARD,DEV, plughw:CARD,DEV, default or file:PATH.wav", s)
	}
	d := devName{kind: "hw", subdev: -1}
	haveCard := false
	for i, part := range strings.Split(rest, ",") {
		key, val, named := strings.Cut(part, "=")
		if !named {
			val = key
			key = [...]string{"CARD", "DEV", "SUBDEV", ""}[min(i, 3)]
		}
		var err error
		switch strings.ToUpper(key) {
		case "CARD":
			if val == "" {
				return devName{}, fmt.Errorf("alsa: device %q: empty card", s)
			}
			d.card, haveCard = val, true
		case "DEV":
			d.device, err = strconv.Atoi(val)
		case "SUBDEV":
			d.subdev, err = strconv.Atoi(val)
		default:
			return devName{}, fmt.Errorf("alsa: device %q: unexpected %q", s, part)
		}
		if err != nil || d.device < 0 || d.subdev < -1 {
			return devName{}, fmt.Errorf("alsa: device %q: %s=%q is not a number", s, key, val)
		}
	}
	if !haveCard {
		return devName{}, fmt.Errorf("alsa: device %q: no card", s)
	}
	return d, nil
}
