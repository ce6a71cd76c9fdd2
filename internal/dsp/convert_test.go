package dsp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/voiced-project/voiced/internal/race"
)

// convertRefEncode is the plain reference for one sample: the int16 value
// placed in the top 16 bits of the container's significant bits.
func convertRefEncode(s int16, e Encoding) []byte {
	v := int32(s)
	switch e {
	case S16LE:
		return binary.LittleEndian.AppendUint16(nil, uint16(s))
	case S24LE:
		return binary.LittleEndian.AppendUint32(nil, uint32(v<<8))
	case S24_3LE:
		b := binary.LittleEndian.AppendUint32(nil, uint32(v<<8))
		return b[:3]
	case S32LE:
		return binary.LittleEndian.AppendUint32(nil, uint32(v<<16))
	}
	return nil
}

var convertEncodings = []Encoding{S16LE, S24LE, S24_3LE, S32LE}

func TestDecodeMono(t *testing.T) {
	tests := []struct {
		name    string
		enc     Encoding
		frames  [][]int32 // per frame, per channel, full-scale 32-bit values
		channel int
		want    []int16
	}{
		{"s16 mono", S16LE, [][]int32{{1 << 16}, {-1 << 16}, {math.MaxInt16 << 16}, {math.MinInt16 << 16}}, 0, []int16{1, -1, math.MaxInt16, math.MinInt16}},
		{"s16 stereo right", S16LE, [][]int32{{1 << 16, 2 << 16}, {3 << 16, -4 << 16}}, 1, []int16{2, -4}},
		{"s16 stereo mix", S16LE, [][]int32{{100 << 16, 300 << 16}, {math.MaxInt16 << 16, math.MaxInt16 << 16}, {math.MinInt16 << 16, math.MinInt16 << 16}}, MixChannels, []int16{200, math.MaxInt16, math.MinInt16}},
		{"s16 stereo mix rounds toward zero", S16LE, [][]int32{{-3 << 16, 0}, {3 << 16, 0}, {-1 << 16, -2 << 16}}, MixChannels, []int16{-1, 1, -1}},
		{"s32 stereo mix", S32LE, [][]int32{{-3 << 16, 0}, {100 << 16, 300 << 16}}, MixChannels, []int16{-1, 200}},
		{"s24 truncates low bits", S24LE, [][]int32{{0x12345600}, {-0x100}}, 0, []int16{0x1234, -1}},
		{"s24_3 stereo left", S24_3LE, [][]int32{{0x7fffff00, 0}, {-0x80000000, 0}}, 0, []int16{math.MaxInt16, math.MinInt16}},
		{"s32 4 channels mix", S32LE, [][]int32{{4 << 16, 8 << 16, -4 << 16, 0}}, MixChannels, []int16{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := Format{Encoding: tc.enc, Channels: len(tc.frames[0]), Rate: 48000}
			var src []byte
			for _, fr := range tc.frames {
				for _, v := range fr {
					switch tc.enc {
					case S16LE:
						src = binary.LittleEndian.AppendUint16(src, uint16(v>>16))
					case S24LE:
						// Garbage in the padding byte must not matter.
						src = binary.LittleEndian.AppendUint32(src, uint32(v>>8)&0xffffff|0xa5000000)
					case S24_3LE:
						b := binary.LittleEndian.AppendUint32(nil, uint32(v>>8))
						src = append(src, b[:3]...)
					case S32LE:
						src = binary.LittleEndian.AppendUint32(src, uint32(v))
					}
				}
			}
			dst := make([]int16, len(tc.want)+3)
			n := DecodeMono(dst, src, f, tc.channel)
			if n != len(tc.want) || !slices.Equal(dst[:n], tc.want) {
				t.Errorf("DecodeMono = %v (%d frames), want %v", dst[:n], n, tc.want)
			}
		})
	}
}

func TestEncodeFrames(t *testing.T) {
	src := []int16{0, 1, -1, 1234, math.MaxInt16, math.MinInt16}
	for _, enc := range convertEncodings {
		for _, ch := range []int{1, 2, 6} {
			t.Run(fmt.Sprintf("%v/%d", enc, ch), func(t *testing.T) {
				f := Format{Encoding: enc, Channels: ch, Rate: 24000}
				dst := make([]byte, len(src)*f.FrameBytes())
				if n := EncodeFrames(dst, src, f); n != len(src) {
					t.Fatalf("EncodeFrames = %d, want %d", n, len(src))
				}
				var want []byte
				for _, s := range src {
					for range ch {
						want = append(want, convertRefEncode(s, enc)...)
					}
				}
				if !slices.Equal(dst, want) {
					t.Errorf("EncodeFrames = % x, want % x", dst, want)
				}
				// And back, from every channel and mixed.
				back := make([]int16, len(src))
				for _, c := range []int{0, ch - 1, MixChannels} {
					if n := DecodeMono(back, dst, f, c); n != len(src) || !slices.Equal(back, src) {
						t.Errorf("DecodeMono(channel %d) = %v, want %v", c, back[:n], src)
					}
				}
			})
		}
	}
}

func TestEncodeFramesShortBuffer(t *testing.T) {
	f := Format{Encoding: S16LE, Channels: 2, Rate: 24000}
	dst := make([]byte, 7) // one whole frame and a bit
	if n := EncodeFrames(dst, []int16{1, 2, 3}, f); n != 1 {
		t.Errorf("EncodeFrames into 7 bytes = %d frames, want 1", n)
	}
	if n := DecodeMono(make([]int16, 1), make([]byte, 16), f, 0); n != 1 {
		t.Errorf("DecodeMono into 1 sample = %d, want 1", n)
	}
}

func TestApplyGain(t *testing.T) {
	tests := []struct {
		name string
		gain float64
		in   []int16
		want []int16
	}{
		{"unity", 1, []int16{5, -5, math.MaxInt16, math.MinInt16}, []int16{5, -5, math.MaxInt16, math.MinInt16}},
		{"half rounds", 0.5, []int16{5, -5, 1000, math.MinInt16}, []int16{3, -2, 500, -16384}},
		{"silence", 0, []int16{5, math.MaxInt16}, []int16{0, 0}},
		{"double saturates", 2, []int16{20000, -20000, 100}, []int16{math.MaxInt16, math.MinInt16, 200}},
		{"huge clamps to 16", 1e9, []int16{3000, -3000, 1}, []int16{math.MaxInt16, math.MinInt16, 16}},
		{"negative is silence", -1, []int16{7}, []int16{0}},
		{"NaN is silence", math.NaN(), []int16{7}, []int16{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Clone(tc.in)
			ApplyGain(got, GainFromLinear(tc.gain))
			if !slices.Equal(got, tc.want) {
				t.Errorf("ApplyGain(%v, %v) = %v, want %v", tc.in, tc.gain, got, tc.want)
			}
		})
	}
}

func TestMixInto(t *testing.T) {
	dst := []int16{30000, -30000, 5, 9}
	MixInto(dst, []int16{10000, -10000, -7})
	want := []int16{math.MaxInt16, math.MinInt16, -2, 9}
	if !slices.Equal(dst, want) {
		t.Errorf("MixInto = %v, want %v", dst, want)
	}
}

func TestFormatValidate(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		ok   bool
	}{
		{"s16 stereo 48k", Format{S16LE, 2, 48000}, true},
		{"s24_3 mono 44.1k", Format{S24_3LE, 1, 44100}, true},
		{"no encoding", Format{0, 2, 48000}, false},
		{"no channels", Format{S16LE, 0, 48000}, false},
		{"too many channels", Format{S16LE, 33, 48000}, false},
		{"odd rate", Format{S16LE, 2, 11025}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate(%+v) = %v, want ok %v", tc.f, err, tc.ok)
			}
			if err != nil && !errors.Is(err, errConvertFormat) {
				t.Errorf("Validate(%+v) = %v, want it to wrap errConvertFormat", tc.f, err)
			}
		})
	}
}

func TestEncodingString(t *testing.T) {
	for e, want := range map[Encoding]string{S16LE: "S16_LE", S24LE: "S24_LE", S24_3LE: "S24_3LE", S32LE: "S32_LE", 9: "Encoding(9)"} {
		if got := e.String(); got != want {
			t.Errorf("Encoding(%d).String() = %q, want %q", int(e), got, want)
		}
	}
}

func TestConvertAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	f := Format{Encoding: S32LE, Channels: 2, Rate: 48000}
	raw := make([]byte, 960*f.FrameBytes())
	mono := make([]int16, 960)
	a := testing.AllocsPerRun(100, func() {
		DecodeMono(mono, raw, f, MixChannels)
		ApplyGain(mono, GainFromLinear(0.7))
		EncodeFrames(raw, mono, f)
	})
	if a != 0 {
		t.Errorf("conversion allocates %v times per period, want 0", a)
	}
}

func BenchmarkDecodeMono(b *testing.B) {
	for _, enc := range convertEncodings {
		for _, ch := range []int{1, 2} {
			for _, c := range []int{0, MixChannels} {
				if ch == 1 && c == MixChannels {
					continue
				}
				b.Run(fmt.Sprintf("%v/%dch/channel%d", enc, ch, c), func(b *testing.B) {
					f := Format{Encoding: enc, Channels: ch, Rate: 48000}
					raw := make([]byte, 960*f.FrameBytes())
					mono := make([]int16, 960)
					b.SetBytes(int64(len(raw)))
					b.ReportAllocs()
					for b.Loop() {
						DecodeMono(mono, raw, f, c)
					}
				})
			}
		}
	}
}

func BenchmarkEncodeFrames(b *testing.B) {
	for _, enc := range convertEncodings {
		b.Run(fmt.Sprintf("%v/2ch", enc), func(b *testing.B) {
			f := Format{Encoding: enc, Channels: 2, Rate: 48000}
			raw := make([]byte, 960*f.FrameBytes())
			mono := make([]int16, 960)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				EncodeFrames(raw, mono, f)
			}
		})
	}
}

func BenchmarkApplyGain(b *testing.B) {
	pcm := make([]int16, 960)
	for i := range pcm {
		pcm[i] = int16(i * 31)
	}
	g := GainFromLinear(0.8)
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		ApplyGain(pcm, g)
	}
}

func BenchmarkMixInto(b *testing.B) {
	dst := make([]int16, 960)
	src := make([]int16, 960)
	for i := range src {
		src[i] = int16(i * 17)
	}
	b.SetBytes(int64(2 * len(dst)))
	b.ReportAllocs()
	for b.Loop() {
		MixInto(dst, src)
	}
}
