// Package aec cancels the echo of what voiced plays from what its microphone
// hears.
//
// The reference is exactly the audio voiced hands to the speaker, so the echo
// path (speaker, room, microphone, and the two sound cards' buffering) is the
// only unknown. A Canceller learns it with a partitioned-block frequency-domain
// adaptive filter and subtracts its estimate from the microphone.
//
// # Structure
//
// The playback goroutine calls Playback with the samples as written to the
// device; they go into a single-producer single-consumer ring indexed by the
// capture stream's sample position, so no lock is shared with the capture side.
// The capture goroutine calls Process once per frame:
//
//	mic → block FIFO → delay estimate (band-energy cross-correlation over ≤ 400 ms)
//	    → MDF adaptive filter (reference delayed by the estimate; foreground/background
//	      pair; learning rate from the residual-to-echo ratio) → residual echo
//	      suppressor (spectral gain with a floor) → out
//
// The filter is the multidelay block frequency-domain filter (MDF): the tail is
// cut into partitions of one block, each with its own frequency-domain weights,
// so the cost grows with the tail but the latency stays one block. Its step size
// follows J.-M. Valin, "On adjusting the learning rate in frequency domain echo
// cancellation with double-talk" (IEEE TASLP, 2007): the optimal step in each
// bin is the ratio of the residual echo to the error, and the residual echo is
// estimated as a leakage coefficient times the echo estimate, the leakage being
// the part of the error power that follows the echo estimate's power. Near-end
// speech does not follow it, so during double talk the step falls by itself. A
// second (foreground) filter holds the last good weights: it takes the adapting
// (background) filter's weights only when they cancel better, and gives them back
// when the background diverges.
//
// # Delay and clock drift
//
// The reference may land in the microphone 10 to 400 ms after it is handed
// over (sound card buffers plus the acoustic path). The delay estimator
// correlates the log band energies of the reference with those of the
// microphone over that range (one block resolution) and the filter reads the
// reference at the estimate minus three blocks, so its partitions cover the room
// and not the buffering. The estimate is refreshed continuously; a move of two
// blocks or more shifts the filter's partitions with it, a move of one is left
// to the filter. The ring keeps MaxDelay plus the filter span behind the capture
// position, and up to a second ahead of it. Playback places its samples where
// the device's delay says they play (the capture position it has been handed
// plus that delay), but leaves a writer trailing that by less than 30 ms where
// it is; after a gap in which nothing was written (a device that plays silence
// by itself) the first samples go at the offset the previous audio had, so the
// echo path the filter learnt does not move with the re-anchoring.
//
// Two sound cards run on two clocks: at ±100 ppm the echo slides by 1.6 samples
// a second at 16 kHz, which turns a converged filter's phase around at 3 kHz in a
// few seconds, faster than it re-adapts. So the drift is measured and undone:
// every half second the adapting filter's main peak is located to a fraction of a
// sample, a line through eight positions gives the slide, and the reference is
// read at the rate that cancels it, through a polyphase windowed-sinc
// interpolator; the correction is integrated, each fit measuring what is left.
// Whole blocks of the accumulated correction move into the delay.
//
// # Latency and cost
//
// Blocks are a power of two (128 samples at 16 and 24 kHz by default). A frame
// size that is not a multiple of the block adds one block of latency, the
// suppressor's overlap-add another: Latency reports the total (256 samples, 16 ms,
// for 10 or 20 ms frames at 16 kHz). Per block: about a dozen FFTs of two blocks
// and three multiply-accumulate passes over the partitions (both filters in one,
// the update in another), with the linear-convolution constraint applied to one
// partition per block in turn. When nothing was played within the filter's span
// the microphone passes through. Nothing is allocated per frame.
package aec
