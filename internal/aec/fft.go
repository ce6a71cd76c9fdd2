package aec

import "github.com/voiced-project/voiced/internal/dsp"

// fft is the real FFT the canceller's blocks go through (spectra as separate
// real and imaginary slices of n/2+1 bins); internal/dsp holds it, with its
// kernels in assembly.
type fft = dsp.FFT

func newFFT(n int) (*fft, error) { return dsp.NewFFT(n) }
