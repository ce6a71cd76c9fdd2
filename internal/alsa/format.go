package alsa

import (
	"encoding/binary"
	"fmt"
)

// Stream is a PCM direction.
type Stream int

const (
	Playback Stream = iota // to the speaker
	Capture                // from the microphone
)

func (s Stream) String() string {
	switch s {
	case Playback:
		return "playback"
	case Capture:
		return "capture"
	}
	return fmt.Sprintf("Stream(%d)", int(s))
}

// Format is a sample format, always signed little-endian integer PCM.
type Format int

const (
	FormatUnset Format = iota // in a Config: let Open choose, S16LE first
	S16LE                     // 16 bits in 2 bytes
	S24LE                     // 24 bits in the low 3 bytes of a 4-byte container
	S24_3LE                   // 24 bits packed in 3 bytes
	S32LE                     // 32 bits in 4 bytes
)

var formatNames = [...]string{"unset", "S16_LE", "S24_LE", "S24_3LE", "S32_LE"}

func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// BytesPerSample is the container size of one sample of one channel.
func (f Format) BytesPerSample() int {
	switch f {
	case S16LE:
		return 2
	case S24_3LE:
		return 3
	case S24LE, S32LE:
		return 4
	}
	return 0
}

// Bits is the number of significant bits per sample.
func (f Format) Bits() int {
	switch f {
	case S16LE:
		return 16
	case S24LE, S24_3LE:
		return 24
	case S32LE:
		return 32
	}
	return 0
}

// ParseFormat accepts the names String returns, case-sensitively, with or without the underscore before LE.
func ParseFormat(s string) (Format, error) {
	for f := S16LE; f <= S32LE; f++ {
		if s == f.String() || s == fmt.Sprintf("S%dLE", f.Bits()) && f != S24_3LE {
			return f, nil
		}
	}
	if s == "S24_3_LE" {
		return S24_3LE, nil
	}
	return FormatUnset, fmt.Errorf("alsa: unknown sample format %q (want S16_LE, S24_LE, S24_3LE or S32_LE)", s)
}

// ToInt16 converts the interleaved samples in src, in format f, to 16-bit samples in dst,
// keeping the most significant bits. It returns the number of samples converted: the
// smaller of len(dst) and the whole samples in src.
func (f Format) ToInt16(dst []int16, src []byte) int {
	bps := f.BytesPerSample()
	if bps == 0 {
		return 0
	}
	n := min(len(dst), len(src)/bps)
	le := binary.LittleEndian
	switch f {
	case S16LE:
		for i := range n {
			dst[i] = int16(le.Uint16(src[2*i:]))
		}
	case S24LE:
		for i := range n {
			// Sign-extend bit 23, whatever the unused top byte holds.
			v := int32(le.Uint32(src[4*i:])<<8) >> 8
			dst[i] = int16(v >> 8)
		}
	case S24_3LE:
		for i := range n {
			s := src[3*i : 3*i+3]
			dst[i] = int16(uint16(s[1]) | uint16(s[2])<<8)
		}
	case S32LE:
		for i := range n {
			dst[i] = int16(le.Uint32(src[4*i:]) >> 16)
		}
	}
	return n
}

// FromInt16 converts 16-bit samples to format f in dst (the low bits are zero). It returns
// the number of samples converted: the smaller of len(src) and the samples dst holds.
func (f Format) FromInt16(dst []byte, src []int16) int {
	bps := f.BytesPerSample()
	if bps == 0 {
		return 0
	}
	n := min(len(src), len(dst)/bps)
	le := binary.LittleEndian
	switch f {
	case S16LE:
		for i := range n {
			le.PutUint16(dst[2*i:], uint16(src[i]))
		}
	case S24LE:
		for i := range n {
			le.PutUint32(dst[4*i:], uint32(int32(src[i])<<8))
		}
	case S24_3LE:
		for i := range n {
			v := uint16(src[i])
			dst[3*i], dst[3*i+1], dst[3*i+2] = 0, byte(v), byte(v>>8)
		}
	case S32LE:
		for i := range n {
			le.PutUint32(dst[4*i:], uint32(int32(src[i])<<16))
		}
	}
	return n
}
