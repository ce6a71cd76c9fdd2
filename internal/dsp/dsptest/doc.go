// Package dsptest holds small signal helpers for tests of audio code: known
// sequences to follow through buffers and a single-bin DFT to measure tones.
package dsptest
