package alsa

import (
	"fmt"
	"slices"
	"unsafe"
)

// List returns the sound cards, their PCM devices and what each offers. A device that
// cannot be opened (busy, no permission) is listed with CapsErr set.
func List(opts ...Option) ([]Card, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	sys := o.sys
	if sys == nil {
		sys = realSystem
	}
	pcs, err := readCards(sys.procRoot)
	if err != nil {
		return nil, fmt.Errorf("list sound cards: %w", err)
	}
	var cards []Card
	for _, pc := range pcs {
		c := Card{Number: pc.Number, ID: pc.ID, Driver: pc.Driver, Name: pc.Name, LongName: pc.LongName}
		if ctl, err := sys.open(ctlPath(pc.Number)); err == nil {
			var ci ctlCardInfo
			if ctl.ioctl(ioctlCtlCardInfo, unsafe.Pointer(&ci)) == nil {
				c.ID, c.Driver, c.Name, c.LongName = cString(ci.ID[:]), cString(ci.Driver[:]), cString(ci.Name[:]), cString(ci.Longname[:])
			}
			ctl.Close()
		}
		for _, s := range []Stream{Playback, Capture} {
			infos, err := pcmDevices(sys, pc.Number, s)
			if err != nil {
				return nil, fmt.Errorf("list card %d: %w", pc.Number, err)
			}
			for _, in := range infos {
				d := DeviceInfo{
					Card: pc.Number, Device: int(in.Device), Stream: s,
					ID: cString(in.ID[:]), Name: cString(in.Name[:]),
					Subdevices: int(in.SubdevicesCount), SubdevicesAvail: int(in.SubdevicesAvail),
				}
				d.Caps, d.CapsErr = probe(sys, pc.Number, int(in.Device), s)
				c.Devices = append(c.Devices, d)
			}
		}
		slices.SortStableFunc(c.Devices, func(a, b DeviceInfo) int { return a.Device - b.Device })
		cards = append(cards, c)
	}
	return cards, nil
}

// probe opens a PCM just to ask hw_refine what it offers.
func probe(sys *system, card, dev int, s Stream) (Caps, error) {
	path := pcmPath(card, dev, s)
	d, err := sys.open(path)
	if err != nil {
		return Caps{}, explainOpen(sys, err, fmt.Sprintf("hw:%d,%d", card, dev), card, dev, s, path)
	}
	defer d.Close()
	return capsOf(d)
}

func capsOf(d device) (Caps, error) {
	var p hwParams
	p.setAny()
	if err := refine(d, &p); err != nil {
		return Caps{}, fmt.Errorf("hw_refine: %w", err)
	}
	var c Caps
	other := p.mask(paramFormat)
	for _, f := range formatPreference {
		if k := kernelFormat[f]; other.has(k) {
			c.Formats = append(c.Formats, f)
			other.Bits[k>>5] &^= 1 << (k & 31)
		}
	}
	if !other.empty() {
		c.OtherFormats = kernelFormatNames(other)
	}
	iv := func(param int) (int, int) {
		i := p.interval(param)
		return int(i.lo()), int(i.hi())
	}
	c.MinChannels, c.MaxChannels = iv(paramChannels)
	c.MinRate, c.MaxRate = iv(paramRate)
	c.MinPeriod, c.MaxPeriod = iv(paramPeriodSize)
	c.MinBuffer, c.MaxBuffer = iv(paramBufferSize)
	for _, r := range commonRates {
		if r < c.MinRate || r > c.MaxRate {
			continue
		}
		q := p
		q.interval(paramRate).set(uint32(r), uint32(r))
		if refine(d, &q) == nil {
			c.Rates = append(c.Rates, r)
		}
	}
	return c, nil
}
