package alsa

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// procCard is one entry of /proc/asound/cards.
type procCard struct {
	Number       int
	ID           string
	Driver, Name string
	LongName     string
}

// readCards parses /proc/asound/cards:
//
//	0 [Loopback       ]: Loopback - Loopback
//	                     Loopback 1
func readCards(procRoot string) ([]procCard, error) {
	f, err := os.Open(filepath.Join(procRoot, "asound", "cards"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil // no sound support at all: no cards
		}
		return nil, err
	}
	defer f.Close()
	var cards []procCard
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.Atoi(fields[0])
		if err != nil {
			if len(cards) > 0 && cards[len(cards)-1].LongName == "" {
				cards[len(cards)-1].LongName = strings.TrimSpace(line)
			}
			continue
		}
		open, close := strings.Index(line, "["), strings.Index(line, "]")
		if open < 0 || close < open {
			continue
		}
		c := procCard{Number: n, ID: strings.TrimSpace(line[open+1 : close])}
		rest := strings.TrimPrefix(line[close+1:], ":")
		c.Driver, c.Name, _ = strings.Cut(strings.TrimSpace(rest), " - ")
		c.Driver, c.Name = strings.TrimSpace(c.Driver), strings.TrimSpace(c.Name)
		cards = append(cards, c)
	}
	return cards, sc.Err()
}

// cardNumber resolves a card given by number or ID.
func cardNumber(sys *system, card string) (int, error) {
	if n, err := strconv.Atoi(card); err == nil {
		return n, nil
	}
	cards, err := readCards(sys.procRoot)
	if err != nil {
		return 0, fmt.Errorf("read sound cards: %w", err)
	}
	var ids []string
	for _, c := range cards {
		if strings.EqualFold(c.ID, card) {
			return c.Number, nil
		}
		ids = append(ids, c.ID)
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("no card %q: no sound cards found", card)
	}
	return 0, fmt.Errorf("no card %q (cards: %s)", card, strings.Join(ids, ", "))
}

func pcmPath(card, dev int, s Stream) string {
	c := 'p'
	if s == Capture {
		c = 'c'
	}
	return fmt.Sprintf("/dev/snd/pcmC%dD%d%c", card, dev, c)
}

func ctlPath(card int) string { return fmt.Sprintf("/dev/snd/controlC%d", card) }

// pcmDevices lists the PCM device numbers of a card that have stream s, through the control device.
func pcmDevices(sys *system, card int, s Stream) ([]pcmInfo, error) {
	ctl, err := sys.open(ctlPath(card))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", ctlPath(card), err)
	}
	defer ctl.Close()
	var out []pcmInfo
	next := int32(-1)
	for {
		if err := ctl.ioctl(ioctlCtlPCMNextDevice, unsafe.Pointer(&next)); err != nil {
			return out, fmt.Errorf("pcm_next_device on card %d: %w", card, err)
		}
		if next < 0 {
			return out, nil
		}
		info := pcmInfo{Device: uint32(next), Stream: int32(kernelStream(s))}
		err := ctl.ioctl(ioctlCtlPCMInfo, unsafe.Pointer(&info))
		if errors.Is(err, syscall.ENOENT) {
			continue // the device has no such direction
		}
		if err != nil {
			return out, fmt.Errorf("pcm_info card %d device %d: %w", card, next, err)
		}
		out = append(out, info)
	}
}

func kernelStream(s Stream) int {
	if s == Capture {
		return streamCapture
	}
	return streamPlayback
}

// resolve turns a parsed name into card and device numbers.
func resolve(sys *system, dn devName, s Stream) (card, dev int, err error) {
	if dn.kind == "hw" {
		card, err = cardNumber(sys, dn.card)
		return card, dn.device, err
	}
	cards, err := readCards(sys.procRoot)
	if err != nil {
		return 0, 0, fmt.Errorf("read sound cards: %w", err)
	}
	for _, c := range cards {
		devs, err := pcmDevices(sys, c.Number, s)
		if err == nil && len(devs) > 0 {
			return c.Number, int(devs[0].Device), nil
		}
	}
	return 0, 0, fmt.Errorf("default: no sound card with a %v device", s)
}

func cString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
