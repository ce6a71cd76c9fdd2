package alsa

import (
	"slices"
	"testing"
)

func TestToInt16(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		src  []byte
		want []int16
	}{
		{S16LE, []byte{0x34, 0x12, 0xff, 0xff, 0x00, 0x80}, []int16{0x1234, -1, -32768}},
		{S24LE, []byte{0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f, 0x00}, []int16{0x1234, -32768, 32767}},
		{S24LE, []byte{0x00, 0x00, 0x80, 0x00}, []int16{-32768}}, // bit 23 is the sign, not the top byte
		{S24_3LE, []byte{0x56, 0x34, 0x12, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff}, []int16{0x1234, -32768, -1}},
		{S32LE, []byte{0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff, 0x7f}, []int16{0x1234, -32768, 32767}},
	} {
		dst := make([]int16, len(tc.want)+1)
		n := tc.f.ToInt16(dst, tc.src)
		if n != len(tc.want) || !slices.Equal(dst[:n], tc.want) {
			t.Errorf("%v.ToInt16(% x) = %d %v, want %v", tc.f, tc.src, n, dst[:n], tc.want)
		}
	}
}

func TestFromInt16(t *testing.T) {
	src := []int16{0x1234, -1, -32768}
	for _, tc := range []struct {
		f    Format
		want []byte
	}{
		{S16LE, []byte{0x34, 0x12, 0xff, 0xff, 0x00, 0x80}},
		{S24LE, []byte{0x00, 0x34, 0x12, 0x00, 0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x80, 0xff}},
		{S24_3LE, []byte{0x00, 0x34, 0x12, 0x00, 0xff, 0xff, 0x00, 0x00, 0x80}},
		{S32LE, []byte{0x00, 0x00, 0x34, 0x12, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x80}},
	} {
		dst := make([]byte, len(tc.want))
		if n := tc.f.FromInt16(dst, src); n != 3 || !slices.Equal(dst, tc.want) {
			t.Errorf("%v.FromInt16(%v) = %d % x, want % x", tc.f, src, n, dst, tc.want)
		}
		back := make([]int16, 3)
		if tc.f.ToInt16(back, dst); !slices.Equal(back, src) {
			t.Errorf("%v round trip = %v, want %v", tc.f, back, src)
		}
	}
}

func TestConversionShortBuffers(t *testing.T) {
	if n := S32LE.ToInt16(make([]int16, 1), make([]byte, 16)); n != 1 {
		t.Errorf("ToInt16 into 1 sample = %d, want 1", n)
	}
	if n := S24_3LE.ToInt16(make([]int16, 8), make([]byte, 7)); n != 2 {
		t.Errorf("ToInt16 from 7 bytes of S24_3LE = %d, want 2", n)
	}
	if n := S16LE.FromInt16(make([]byte, 3), []int16{1, 2}); n != 1 {
		t.Errorf("FromInt16 into 3 bytes = %d, want 1", n)
	}
	if n := FormatUnset.ToInt16(make([]int16, 4), make([]byte, 8)); n != 0 {
		t.Errorf("FormatUnset.ToInt16 = %d, want 0", n)
	}
}

func TestFormatNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
	}{
		{"S16_LE", S16LE}, {"S16LE", S16LE}, {"S24_LE", S24LE}, {"S24LE", S24LE},
		{"S24_3LE", S24_3LE}, {"S32_LE", S32LE}, {"S32LE", S32LE},
	} {
		if got, err := ParseFormat(tc.in); got != tc.want || err != nil {
			t.Errorf("ParseFormat(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
		}
		if tc.want.String() == "" || tc.want.BytesPerSample() == 0 {
			t.Errorf("%v has no name or size", tc.want)
		}
	}
	if _, err := ParseFormat("FLOAT_LE"); err == nil {
		t.Error("ParseFormat(FLOAT_LE) succeeded, want error")
	}
}

func TestParseName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want devName
	}{
		{"default", devName{kind: "default", subdev: -1}},
		{"hw:0", devName{kind: "hw", card: "0", subdev: -1}},
		{"hw:1,2", devName{kind: "hw", card: "1", device: 2, subdev: -1}},
		{"hw:1,2,3", devName{kind: "hw", card: "1", device: 2, subdev: 3}},
		{"hw:CARD=Loopback,DEV=1", devName{kind: "hw", card: "Loopback", device: 1, subdev: -1}},
		{"plughw:CARD=seeed2micvoicec,DEV=0", devName{kind: "hw", card: "seeed2micvoicec", subdev: -1}},
		{"hw:Loopback,1,0", devName{kind: "hw", card: "Loopback", device: 1, subdev: 0}},
		{"file:/tmp/a b.wav", devName{kind: "file", path: "/tmp/a b.wav"}},
	} {
		got, err := parseName(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseName(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"file:", "hw:", "hw:0,-1", "hw:0,1,2,3", "hw:DEV=1", "hw:CARD=0,FOO=1", "sysdefault"} {
		if _, err := parseName(bad); err == nil {
			t.Errorf("parseName(%q) succeeded, want error", bad)
		}
	}
}

func FuzzParseName(f *testing.F) {
	for _, s := range []string{"default", "hw:0,0", "hw:CARD=Loopback,DEV=1,SUBDEV=0", "plughw:1", "file:x.wav", "hw:,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseName(s)
		if err != nil {
			return
		}
		switch d.kind {
		case "default":
		case "file":
			if d.path == "" {
				t.Fatalf("parseName(%q) accepted an empty path", s)
			}
		case "hw":
			if d.card == "" || d.device < 0 || d.subdev < -1 {
				t.Fatalf("parseName(%q) = %+v", s, d)
			}
		default:
			t.Fatalf("parseName(%q) kind %q", s, d.kind)
		}
	})
}
