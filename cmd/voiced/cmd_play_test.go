package main

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/voiced-project/voiced/internal/alsa"
)

// TestPlayConverter: a 16 kHz stereo S16 file on a device that only takes 48 kHz S32
// stereo comes out three times as long, at the same level, on both channels.
func TestPlayConverter(t *testing.T) {
	const rate, n = 16000, 1600 // 100 ms per block
	c, err := newPlayConverter(alsa.S16LE, 2, rate, alsa.Params{Format: alsa.S32LE, Channels: 2, Rate: 48000})
	if err != nil {
		t.Fatal(err)
	}
	var outFrames int
	var peak float64
	in := make([]byte, n*4)
	for block := range 5 {
		for i := range n {
			v := int16(10000 * math.Sin(2*math.Pi*1000*float64(block*n+i)/rate))
			binary.LittleEndian.PutUint16(in[4*i:], uint16(v))
			binary.LittleEndian.PutUint16(in[4*i+2:], uint16(v))
		}
		out := c.convert(in)
		if len(out)%8 != 0 {
			t.Fatalf("output of %d bytes is not whole S32 stereo frames", len(out))
		}
		for f := 0; f < len(out)/8; f++ {
			l := int32(binary.LittleEndian.Uint32(out[8*f:]))
			r := int32(binary.LittleEndian.Uint32(out[8*f+4:]))
			if l != r {
				t.Fatalf("frame %d: left %d, right %d; want the same", f, l, r)
			}
			if block > 0 {
				peak = math.Max(peak, math.Abs(float64(l))/65536)
			}
		}
		outFrames += len(out) / 8
	}
	if want := 5 * n * 3; outFrames < want-200 || outFrames > want {
		t.Errorf("%d frames out for %d in at 16 -> 48 kHz, want about %d", outFrames, 5*n, want)
	}
	if peak < 9800 || peak > 10200 {
		t.Errorf("peak %.0f after conversion, want about 10000", peak)
	}

	same, _ := newPlayConverter(alsa.S16LE, 2, rate, alsa.Params{Format: alsa.S16LE, Channels: 2, Rate: rate})
	if out := same.convert(in); &out[0] != &in[0] {
		t.Errorf("a file the device takes as it is was converted")
	}
}
