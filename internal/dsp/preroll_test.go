package dsp

import (
	"slices"
	"testing"

	"github.com/voiced-project/voiced/internal/dsp/dsptest"
)

func TestPreRoll(t *testing.T) {
	tests := []struct {
		name   string
		writes [][]int16
		tail   int // WriteTo(n)
		want   []int16
	}{
		{"empty", nil, 10, nil},
		{"partial", [][]int16{dsptest.Ramp(0, 3)}, 10, dsptest.Ramp(0, 3)},
		{"exactly full", [][]int16{dsptest.Ramp(0, 4), dsptest.Ramp(4, 4)}, 10, dsptest.Ramp(0, 8)},
		{"wrapped", [][]int16{dsptest.Ramp(0, 5), dsptest.Ramp(5, 6)}, 10, dsptest.Ramp(3, 8)},
		{"one block larger than the buffer", [][]int16{dsptest.Ramp(0, 2), dsptest.Ramp(2, 13)}, 10, dsptest.Ramp(7, 8)},
		{"tail only", [][]int16{dsptest.Ramp(0, 5), dsptest.Ramp(5, 6)}, 3, dsptest.Ramp(8, 3)},
		{"tail across the wrap", [][]int16{dsptest.Ramp(0, 7), dsptest.Ramp(7, 3)}, 5, dsptest.Ramp(5, 5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPreRoll(1, 8000) // 8 samples
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.writes {
				p.Write(w)
			}
			q, err := NewRing(64, RingOverwrite)
			if err != nil {
				t.Fatal(err)
			}
			if n := p.WriteTo(q, tc.tail); n != len(tc.want) {
				t.Errorf("WriteTo = %d, want %d", n, len(tc.want))
			}
			got := make([]int16, 64)
			got = got[:q.Read(got)]
			if !slices.Equal(got, tc.want) {
				t.Errorf("pre-roll gave %v, want %v", got, tc.want)
			}
			if tc.tail >= p.Len() {
				all := make([]int16, 16)
				if n := p.Read(all); !slices.Equal(all[:n], tc.want) {
					t.Errorf("Read = %v, want %v", all[:n], tc.want)
				}
			}
			p.Reset()
			if p.Len() != 0 || p.WriteTo(q, 8) != 0 {
				t.Errorf("after Reset: Len %d, want 0 and nothing written", p.Len())
			}
		})
	}
}

func TestNewPreRoll(t *testing.T) {
	p, err := NewPreRoll(DefaultPreRollMs, 24000)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cap() != 7200 {
		t.Errorf("300 ms at 24 kHz: Cap = %d, want 7200", p.Cap())
	}
	for _, tc := range []struct{ ms, rate int }{{-1, 24000}, {10001, 24000}, {300, 0}} {
		if _, err := NewPreRoll(tc.ms, tc.rate); err == nil {
			t.Errorf("NewPreRoll(%d, %d) = nil error, want error", tc.ms, tc.rate)
		}
	}
	z, err := NewPreRoll(0, 24000)
	if err != nil {
		t.Fatal(err)
	}
	z.Write(dsptest.Ramp(0, 10))
	if z.Len() != 0 {
		t.Errorf("zero pre-roll holds %d samples, want 0", z.Len())
	}
}

func BenchmarkPreRoll(b *testing.B) {
	p, err := NewPreRoll(DefaultPreRollMs, 24000)
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]int16, 240)
	b.SetBytes(int64(2 * len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		p.Write(frame)
	}
}
