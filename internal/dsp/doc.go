// Package dsp holds the audio building blocks that the device loops are made
// of: sample format conversion, gain, rate conversion, the FFT, ring buffers
// and the pre-roll. None of it knows about devices, the network or the conversation.
//
// # Conversion and gain
//
// DecodeMono turns interleaved S16_LE, S24_LE (4-byte container), S24_3LE
// and S32_LE frames into mono, picking one channel or mixing them all;
// EncodeFrames does the reverse into every channel. ApplyGain and MixInto
// saturate rather than wrap around.
//
// # Resampling
//
// Resampler converts between 8, 16, 22.05, 24, 32, 44.1 and 48 kHz with a
// Kaiser-windowed sinc in polyphase form, designed for 94 dB of stopband
// attenuation with the transition band between 0.9 and 1.0 of the lower
// Nyquist frequency: flat to ±0.1 dB below it, no aliasing above it. Its
// inner dot product has assembly kernels for amd64, arm64 and arm, checked
// against the Go version.
//
// # FFT
//
// FFT is the real-input float32 FFT of a power-of-two length that the echo
// canceller, the Silero detector's STFT and the classic detector's spectrum
// and autocorrelation share: n real samples packed as
// n/2 complex ones, a radix-2 transform whose stages have assembly kernels
// for amd64, arm64 and arm, and a split into the n/2+1 bins, held as
// separate real and imaginary slices. On arm64 the first two stages, the
// split and the inverse's output are NEON kernels too. Every kernel is
// tested against the Go loop it replaces. The wake
// word's front end keeps its own fixed-point FFT, which must match its
// reference to the bit.
//
// # Rings
//
// Ring is a preallocated single-producer single-consumer queue of int16
// samples with atomic 64-bit indices (atomic.Uint64, safe on 32-bit ARM).
// Neither side blocks: a full ring either overwrites its oldest samples
// (RingOverwrite) or refuses new ones (RingReject), and counts what it
// loses. PreRoll always holds the last few hundred milliseconds written, so
// that audio from before a decision can still be sent.
//
// # Allocation
//
// Nothing here allocates after construction; tests prove it with
// testing.AllocsPerRun.
package dsp
