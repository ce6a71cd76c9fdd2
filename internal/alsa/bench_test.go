package alsa

import "testing"

func BenchmarkToInt16(b *testing.B) {
	for _, f := range []Format{S16LE, S24LE, S24_3LE, S32LE} {
		b.Run(f.String(), func(b *testing.B) {
			src := make([]byte, 960*f.BytesPerSample())
			dst := make([]int16, 960)
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				f.ToInt16(dst, src)
			}
		})
	}
}

func BenchmarkFromInt16(b *testing.B) {
	for _, f := range []Format{S16LE, S24LE, S24_3LE, S32LE} {
		b.Run(f.String(), func(b *testing.B) {
			src := make([]int16, 960)
			dst := make([]byte, 960*f.BytesPerSample())
			b.SetBytes(int64(len(dst)))
			b.ReportAllocs()
			for b.Loop() {
				f.FromInt16(dst, src)
			}
		})
	}
}
