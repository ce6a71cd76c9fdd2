package alsa

import "fmt"

// Card is a sound card and its PCM devices.
type Card struct {
	Number   int
	ID       string // e.g. "Loopback", usable in hw:CARD=ID,DEV=N
	Driver   string
	Name     string
	LongName string
	Devices  []DeviceInfo
}

// DeviceInfo is one direction of one PCM device.
type DeviceInfo struct {
	Card, Device    int
	Stream          Stream
	ID, Name        string
	Subdevices      int
	SubdevicesAvail int
	Caps            Caps
	CapsErr         error // why Caps is empty, e.g. a *BusyError
}

// Caps is the configuration space a device offers, as hw_refine reports it.
type Caps struct {
	Formats      []Format // those voiced can use, in order of preference
	OtherFormats string   // the rest, by kernel name
	MinChannels  int
	MaxChannels  int
	MinRate      int
	MaxRate      int
	Rates        []int // the common rates (8000..192000) the device accepts
	MinPeriod    int   // frames
	MaxPeriod    int
	MinBuffer    int
	MaxBuffer    int
}

// HWName is the stable name to give Open: hw:CARD=<card ID>,DEV=<device>.
func (c Card) HWName(d DeviceInfo) string { return fmt.Sprintf("hw:CARD=%s,DEV=%d", c.ID, d.Device) }

// commonRates are probed one by one, since many devices offer a list, not a range.
var commonRates = []int{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000, 176400, 192000}
