// Package silero runs Silero VAD v6.2, a neural voice activity detector, on
// 16 kHz audio in pure Go: no cgo, no runtime, the same probabilities as the
// ONNX Runtime to within 1e-4.
//
// # Model
//
// The network (MIT licence, (c) Silero Team; LICENSE beside weights.bin) takes
// 512 new samples (32 ms) with the previous call's last 64 samples in front, and
// carries an LSTM state between calls. Per step:
//
//   - the 576 samples are padded to 640 by reflecting the last 64 (the newest
//     sample is the mirror; so the model looks at no future audio);
//   - a fixed STFT (in the model a convolution with a 258x256 Hann-windowed
//     DFT basis at a hop of 128; here a real FFT) gives four frames of 129
//     magnitudes;
//   - four convolutions of width 3 with ReLU (strides 1, 2, 2, 1) reduce them to
//     one vector of 128;
//   - an LSTM cell of 128 units updates the state;
//   - ReLU, a 1x1 convolution and a sigmoid give the speech probability.
//
// weights.bin holds the ONNX file's learned initializers as little-endian
// float32, in the order internal/onnxconv writes them (go generate rebuilds it
// from the model in ../shared/models/silero-vad, after checking that its STFT
// basis is the DFT the FFT computes). The package reorders them once, at first
// use, into rows that the dot-product kernels read straight through.
//
// # Kernels
//
// Every layer after the STFT is a set of dot products over contiguous float32 rows whose
// length is a multiple of 16: SSE on amd64, NEON on arm64, VFP on ARMv6 (see
// dot_*.s), the portable loop elsewhere and with -tags purego.
//
// # Use
//
// A Detector is one stream's state: call Process with each consecutive step of
// 512 samples and Reset between streams. It is not safe for concurrent use;
// detectors share the weights, which are read only.
package silero
