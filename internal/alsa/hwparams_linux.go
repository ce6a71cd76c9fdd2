package alsa

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

func (p *hwParams) mask(param int) *sndMask { return &p.Masks[param-paramAccess] }

func (p *hwParams) interval(param int) *sndInterval {
	return &p.Intervals[param-paramFirstInterval]
}

// setAny makes p the unrestricted parameter space, as alsa-lib's snd_pcm_hw_params_any.
func (p *hwParams) setAny() {
	*p = hwParams{}
	for i := range p.Masks {
		for j := range p.Masks[i].Bits {
			p.Masks[i].Bits[j] = ^uint32(0)
		}
	}
	for i := range p.Intervals {
		p.Intervals[i] = sndInterval{Min: 0, Max: ^uint32(0)}
	}
	p.Rmask = ^uint32(0)
	p.Info = ^uint32(0)
}

func (m *sndMask) has(bit int) bool { return m.Bits[bit>>5]&(1<<(bit&31)) != 0 }

func (m *sndMask) only(bit int) {
	*m = sndMask{}
	m.Bits[bit>>5] = 1 << (bit & 31)
}

func (m *sndMask) empty() bool { return *m == sndMask{} }

// first is the lowest bit set, or -1.
func (m *sndMask) first() int {
	for i := range 256 {
		if m.has(i) {
			return i
		}
	}
	return -1
}

// lo and hi are the smallest and largest integer the interval contains.
func (i *sndInterval) lo() uint32 {
	if i.Flags&intervalOpenMin != 0 {
		return i.Min + 1
	}
	return i.Min
}

func (i *sndInterval) hi() uint32 {
	if i.Flags&intervalOpenMax != 0 && i.Max > 0 {
		return i.Max - 1
	}
	return i.Max
}

func (i *sndInterval) set(lo, hi uint32) {
	i.Min, i.Max = lo, hi
	i.Flags &^= intervalOpenMin | intervalOpenMax | intervalEmpty
}

func refine(d device, p *hwParams) error {
	p.Rmask = ^uint32(0)
	p.Cmask = 0
	return d.ioctl(ioctlHWRefine, unsafe.Pointer(p))
}

// kernel format numbers of our formats, in order of preference after the configured one.
var (
	formatPreference = []Format{S16LE, S32LE, S24LE, S24_3LE}
	kernelFormat     = map[Format]int{S16LE: fmtS16LE, S24LE: fmtS24LE, S24_3LE: fmtS24_3LE, S32LE: fmtS32LE}
)

func formatFromKernel(k int) Format {
	for f, v := range kernelFormat {
		if v == k {
			return f
		}
	}
	return FormatUnset
}

var paramNames = map[int]string{
	paramChannels: "channels", paramRate: "rate", paramPeriodSize: "period size", paramBufferSize: "buffer size",
}

// setNear narrows param to the value nearest want that the device accepts together with
// everything already chosen, as alsa-lib's snd_pcm_hw_params_set_*_near.
func setNear(d device, p *hwParams, param int, want uint32) (uint32, error) {
	try := func(base *hwParams, lo, hi uint32) (hwParams, bool) {
		q := *base
		q.interval(param).set(lo, hi)
		return q, refine(d, &q) == nil
	}
	if q, ok := try(p, want, want); ok {
		*p = q
		return want, nil
	}
	cur := p.interval(param)
	lo, hi := cur.lo(), cur.hi()
	var best hwParams
	var bestV uint32
	bestDist := ^uint32(0)
	consider := func(q hwParams, v uint32) {
		if exact, ok := try(&q, v, v); ok {
			dist := max(v, want) - min(v, want)
			if dist < bestDist {
				best, bestV, bestDist = exact, v, dist
			}
		}
	}
	if want < hi { // the smallest accepted value above want
		if q, ok := try(p, max(want, lo), hi); ok {
			consider(q, q.interval(param).lo())
		}
	}
	if want > lo { // the largest accepted value below want
		if q, ok := try(p, lo, min(want, hi)); ok {
			consider(q, q.interval(param).hi())
		}
	}
	if bestDist == ^uint32(0) {
		return 0, fmt.Errorf("no %s near %d (device offers %d..%d)", paramNames[param], want, lo, hi)
	}
	*p = best
	return bestV, nil
}

// negotiate chooses hardware parameters for c and installs them with HW_PARAMS.
func negotiate(d device, c Config) (hwParams, Params, error) {
	var p hwParams
	p.setAny()
	if err := refine(d, &p); err != nil {
		return p, Params{}, fmt.Errorf("hw_refine: %w", err)
	}
	if !p.mask(paramAccess).has(accessRWInterleaved) {
		return p, Params{}, errors.New("device offers no interleaved read/write access")
	}
	p.mask(paramAccess).only(accessRWInterleaved)
	if err := refine(d, &p); err != nil {
		return p, Params{}, fmt.Errorf("hw_refine access: %w", err)
	}

	prefs := formatPreference
	if c.Format != FormatUnset {
		prefs = append([]Format{c.Format}, formatPreference...)
	}
	format := FormatUnset
	for _, f := range prefs {
		if !p.mask(paramFormat).has(kernelFormat[f]) {
			continue
		}
		q := p
		q.mask(paramFormat).only(kernelFormat[f])
		if refine(d, &q) == nil {
			p, format = q, f
			break
		}
	}
	if format == FormatUnset {
		return p, Params{}, fmt.Errorf("device offers none of S16_LE, S32_LE, S24_LE, S24_3LE (it offers %s)", kernelFormatNames(p.mask(paramFormat)))
	}

	var par Params
	par.Format = format
	ch, err := setNear(d, &p, paramChannels, uint32(c.Channels))
	if err != nil {
		return p, par, err
	}
	rate, err := setNear(d, &p, paramRate, uint32(c.Rate))
	if err != nil {
		return p, par, err
	}
	period, err := setNear(d, &p, paramPeriodSize, uint32(int(rate)*c.PeriodMs/1000))
	if err != nil {
		return p, par, err
	}
	buffer, err := setNear(d, &p, paramBufferSize, max(2*period, uint32(int(rate)*c.BufferMs/1000)))
	if err != nil {
		return p, par, err
	}
	p.Rmask = ^uint32(0)
	if err := d.ioctl(ioctlHWParams, unsafe.Pointer(&p)); err != nil {
		return p, par, fmt.Errorf("hw_params %v %d ch %d Hz period %d buffer %d: %w", format, ch, rate, period, buffer, err)
	}
	// Read back what the kernel installed.
	par.Channels = int(p.interval(paramChannels).lo())
	par.Rate = int(p.interval(paramRate).lo())
	par.PeriodFrames = int(p.interval(paramPeriodSize).lo())
	par.BufferFrames = int(p.interval(paramBufferSize).lo())
	if f := formatFromKernel(p.mask(paramFormat).first()); f != FormatUnset {
		par.Format = f
	}
	return p, par, nil
}

var kernelFormatName = map[int]string{
	0: "S8", 1: "U8", 2: "S16_LE", 3: "S16_BE", 4: "U16_LE", 5: "U16_BE", 6: "S24_LE", 7: "S24_BE",
	8: "U24_LE", 9: "U24_BE", 10: "S32_LE", 11: "S32_BE", 12: "U32_LE", 13: "U32_BE",
	14: "FLOAT_LE", 15: "FLOAT_BE", 16: "FLOAT64_LE", 17: "FLOAT64_BE", 18: "IEC958_SUBFRAME_LE",
	19: "IEC958_SUBFRAME_BE", 20: "MU_LAW", 21: "A_LAW", 22: "IMA_ADPCM", 32: "S24_3LE", 33: "S24_3BE",
	34: "U24_3LE", 35: "U24_3BE", 36: "S20_3LE", 38: "U20_3LE", 40: "S18_3LE", 42: "U18_3LE",
}

func kernelFormatNames(m *sndMask) string {
	var names []string
	for i := range 64 {
		if m.has(i) {
			if n, ok := kernelFormatName[i]; ok {
				names = append(names, n)
			} else {
				names = append(names, fmt.Sprintf("format %d", i))
			}
		}
	}
	if len(names) == 0 {
		return "nothing"
	}
	return strings.Join(names, " ")
}

// installSW sets the software parameters: wake up per period, start capture on the first
// read, stop (xrun) when the capture buffer runs full. It reports whether a playback
// stream fills silence by itself.
//
// Playback asks for ALSA's free-running mode first: the stream never stops on underrun
// (stop_threshold at the boundary) and the kernel writes silence over every period
// played (silence_size at the boundary, silence_threshold 0: "top-up"). A speaker with
// nothing to say then costs the daemon no wake-ups at all, and when audio comes the
// application pointer is moved up to the hardware's (catchUp). The boundary is whatever
// the kernel reports from a first call: a 32-bit process on a 64-bit kernel gets a
// different one than the kernel keeps for itself. A kernel that refuses the mode gets
// the classic one: start once half the buffer is queued, stop when it runs empty, and
// the daemon keeps silence queued itself.
func installSW(d device, s Stream, par Params) (fills bool, err error) {
	sw := swParams{
		TstampMode:     0,
		PeriodStep:     1,
		AvailMin:       uint(par.PeriodFrames),
		StartThreshold: 1,
		StopThreshold:  uint(par.BufferFrames),
		Proto:          pcmVersion,
		TstampType:     tstampTypeMonotonic,
	}
	if s == Playback {
		sw.StartThreshold = uint(max(par.PeriodFrames, par.BufferFrames/2))
	}
	if err := d.ioctl(ioctlSWParams, unsafe.Pointer(&sw)); err != nil {
		return false, fmt.Errorf("sw_params: %w", err)
	}
	if s != Playback || sw.Boundary < uint(par.BufferFrames) {
		return false, nil
	}
	free := sw
	free.StopThreshold = sw.Boundary
	free.SilenceThreshold = 0
	free.SilenceSize = sw.Boundary
	// The writer queues its lead of silence in one write before the audio, so the stream
	// may start as soon as a period is there.
	free.StartThreshold = uint(par.PeriodFrames)
	if err := d.ioctl(ioctlSWParams, unsafe.Pointer(&free)); err != nil {
		// The first call's parameters are still in force.
		return false, nil
	}
	return true, nil
}

// isErrno reports whether err is one of the errnos.
func isErrno(err error, errnos ...unix.Errno) bool {
	for _, e := range errnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
