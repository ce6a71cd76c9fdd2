// Package wav reads and writes RIFF WAVE files holding integer PCM, as voiced uses them
// for file: audio devices, recordings and test fixtures.
//
// # Format
//
// Supported are WAVE_FORMAT_PCM and WAVE_FORMAT_EXTENSIBLE with the PCM sub-format, 8 to 32
// bits per sample in 1 to 4 byte containers, any channel count up to 32. Sample data is
// passed through as little-endian interleaved bytes; conversion is the caller's business.
// Unknown chunks are skipped. A data chunk size of 0 or 0xFFFFFFFF (written by streaming
// tools that could not seek back) means "until the end of the file".
//
// See http://www-mmsp.ece.mcgill.ca/Documents/AudioFormats/WAVE/WAVE.html for the layout.
package wav
