package dsp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Encoding is the sample encoding of a device stream, as the device
// delivers or expects it. The pipeline keeps its own type so that it does
// not import the alsa package; the wiring maps one onto the other.
type Encoding int

// Encodings the pipeline converts from and to. All are little-endian and
// signed, interleaved by frame.
const (
	S16LE   Encoding = iota + 1 // 16 bits in 2 bytes
	S24LE                       // 24 bits in the low 3 bytes of a 4-byte container
	S24_3LE                     // 24 bits packed in 3 bytes
	S32LE                       // 32 bits in 4 bytes
)

// String returns the ALSA name of the encoding.
func (e Encoding) String() string {
	switch e {
	case S16LE:
		return "S16_LE"
	case S24LE:
		return "S24_LE"
	case S24_3LE:
		return "S24_3LE"
	case S32LE:
		return "S32_LE"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// BytesPerSample is the size of one sample of one channel, or 0 for an
// unknown encoding.
func (e Encoding) BytesPerSample() int {
	switch e {
	case S16LE:
		return 2
	case S24LE, S32LE:
		return 4
	case S24_3LE:
		return 3
	}
	return 0
}

// Format describes a device stream: encoding, interleaved channel count and
// frame rate.
type Format struct {
	Encoding Encoding
	Channels int
	Rate     int
}

// FrameBytes is the size of one interleaved frame.
func (f Format) FrameBytes() int { return f.Encoding.BytesPerSample() * f.Channels }

// convertMaxChannels bounds the channel count so that a mixing sum of
// int32 samples cannot overflow.
const convertMaxChannels = 32

// errConvertFormat is wrapped by every format validation error.
var errConvertFormat = errors.New("pipeline: unsupported format")

// Validate reports a clear error for a format the pipeline cannot convert.
func (f Format) Validate() error {
	if f.Encoding.BytesPerSample() == 0 {
		return fmt.Errorf("%w: encoding %v", errConvertFormat, f.Encoding)
	}
	if f.Channels < 1 || f.Channels > convertMaxChannels {
		return fmt.Errorf("%w: %d channels (want 1 to %d)", errConvertFormat, f.Channels, convertMaxChannels)
	}
	if !resampleRateSupported(f.Rate) {
		return fmt.Errorf("%w: rate %d Hz (want one of %v)", errConvertFormat, f.Rate, resampleRates)
	}
	return nil
}

// MixChannels asks DecodeMono to average all channels instead of picking one.
const MixChannels = -1

// convertHigh is the byte offset of a sample's top 16 bits within its
// container; the pipeline keeps those and drops the rest.
func convertHigh(e Encoding) int {
	switch e {
	case S24LE, S24_3LE:
		return 1
	case S32LE:
		return 2
	}
	return 0
}

// convertShift is how far an int16 moves up to fill the container's
// significant bits.
func convertShift(e Encoding) int {
	switch e {
	case S24LE, S24_3LE:
		return 8
	case S32LE:
		return 16
	}
	return 0
}

// DecodeMono converts interleaved device frames in src to mono int16 in dst.
// channel picks one channel (0-based), or MixChannels averages them all.
// Wider samples are truncated to their top 16 bits. It converts
// min(len(dst), whole frames in src) frames and returns that count. The
// format and channel must have been validated; DecodeMono does not allocate.
func DecodeMono(dst []int16, src []byte, f Format, channel int) int {
	bps := f.Encoding.BytesPerSample()
	fb := bps * f.Channels
	if fb == 0 {
		return 0
	}
	n := min(len(dst), len(src)/fb)
	dst = dst[:n]
	hi := convertHigh(f.Encoding)
	switch {
	case channel >= 0:
		src = src[channel*bps+hi:]
		for i := range dst {
			p := src[i*fb : i*fb+2]
			dst[i] = int16(binary.LittleEndian.Uint16(p))
		}
	case f.Channels == 2 && bps == 2:
		// The common card: 16-bit stereo, walked a frame at a time so that
		// the loop needs no bounds checks.
		s := src[:4*n]
		for i := range dst {
			if len(s) < 4 {
				break
			}
			l := int32(int16(binary.LittleEndian.Uint16(s)))
			r := int32(int16(binary.LittleEndian.Uint16(s[2:4])))
			dst[i] = int16((l + r) / 2)
			s = s[4:]
		}
	case f.Channels == 2:
		src = src[hi:]
		for i := range dst {
			p := src[i*fb : i*fb+bps+2]
			l := int32(int16(binary.LittleEndian.Uint16(p)))
			r := int32(int16(binary.LittleEndian.Uint16(p[bps:])))
			dst[i] = int16((l + r) / 2)
		}
	default:
		ch := int32(f.Channels)
		for i := range dst {
			frame := src[i*fb : (i+1)*fb]
			var sum int32
			for c := hi; c+2 <= len(frame); c += bps {
				sum += int32(int16(binary.LittleEndian.Uint16(frame[c:])))
			}
			dst[i] = int16(sum / ch)
		}
	}
	return n
}

// EncodeFrames converts mono int16 in src into interleaved device frames in
// dst, the same sample in every channel. It converts min(len(src), whole
// frames that fit in dst) frames and returns that count, without allocating.
func EncodeFrames(dst []byte, src []int16, f Format) int {
	bps := f.Encoding.BytesPerSample()
	fb := bps * f.Channels
	if fb == 0 {
		return 0
	}
	n := min(len(src), len(dst)/fb)
	src = src[:n]
	shift := convertShift(f.Encoding)
	switch {
	case bps == 2 && f.Channels == 1:
		for i, s := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], uint16(s))
		}
	case bps == 2 && f.Channels == 2:
		for i, s := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], uint32(uint16(s))*0x10001)
		}
	case bps == 4 && f.Channels == 1:
		for i, s := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], uint32(int32(s)<<shift))
		}
	case bps == 4 && f.Channels == 2:
		for i, s := range src {
			v := uint64(uint32(int32(s) << shift))
			binary.LittleEndian.PutUint64(dst[8*i:], v|v<<32)
		}
	case bps == 3:
		for i, s := range src {
			v := uint32(int32(s) << shift)
			b0, b1, b2 := byte(v), byte(v>>8), byte(v>>16)
			frame := dst[i*fb : (i+1)*fb]
			for c := 0; c+3 <= len(frame); c += 3 {
				frame[c], frame[c+1], frame[c+2] = b0, b1, b2
			}
		}
	default: // more channels
		for i, s := range src {
			v := uint32(int32(s) << shift) // S24LE: sign-extended into the padding byte
			frame := dst[i*fb : (i+1)*fb]
			for c := 0; c+bps <= len(frame); c += bps {
				if bps == 2 {
					binary.LittleEndian.PutUint16(frame[c:], uint16(v))
				} else {
					binary.LittleEndian.PutUint32(frame[c:], v)
				}
			}
		}
	}
	return n
}

// Gain is a software volume factor in fixed point, 1<<16 being unity. It
// is a plain integer so that it can live in an atomic and be applied
// without floating point on the hot path.
type Gain int32

// UnityGain leaves samples unchanged.
const UnityGain Gain = 1 << 16

// convertMaxGain bounds amplification to +24 dB.
const convertMaxGain = 16.0

// GainFromLinear converts a linear factor (1 = unchanged, 0 = silent) to a
// Gain. Factors are clamped to [0, 16]; NaN gives silence.
func GainFromLinear(v float64) Gain {
	if !(v > 0) {
		return 0
	}
	v = min(v, convertMaxGain)
	return Gain(math.Round(v * float64(UnityGain)))
}

// ApplyGain scales pcm in place by g, rounding to nearest and saturating at
// the int16 limits instead of wrapping around.
func ApplyGain(pcm []int16, g Gain) {
	if g == UnityGain {
		return
	}
	gg := int64(g)
	for i, s := range pcm {
		v := (int64(s)*gg + 1<<15) >> 16
		pcm[i] = convertSaturate(v)
	}
}

// MixInto adds src to dst sample by sample, saturating.
func MixInto(dst, src []int16) {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = convertSaturate(int64(dst[i]) + int64(src[i]))
	}
}

func convertSaturate(v int64) int16 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}
