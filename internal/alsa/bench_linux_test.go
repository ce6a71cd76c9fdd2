package alsa

import "testing"

// BenchmarkReadFramesFake measures the per-period cost of the transfer path above the
// kernel: PCM.ReadFrames, recovery bookkeeping and the fake's copy.
func BenchmarkReadFramesFake(b *testing.B) {
	fs := newFakeSystem(b)
	fs.addCard(b, 0, "Loopback", loopbackCaps, 0)
	p, err := Open("hw:0,0", Capture, Config{Rate: 48000, Channels: 2, PeriodMs: 10}, withSystem(fs.sys))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	buf := make([]byte, p.Params().PeriodFrames*p.Params().FrameBytes())
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.ReadFrames(buf); err != nil {
			b.Fatal(err)
		}
	}
}
