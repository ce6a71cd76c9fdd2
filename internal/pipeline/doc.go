// Package pipeline moves audio between the sound devices and the realtime
// connection, and decides when it flows: ring buffers, sample format and
// rate conversion, voice activity detection and the conversation engine.
//
// The internal format is mono signed 16-bit PCM at 24 kHz (CaptureRate),
// the Realtime API's PCM16. Devices run at whatever format, channel count
// and rate ALSA grants; the pipeline converts, as alsa-lib's plughw would.
// It does not import the alsa package: it reads and writes devices through
// two small interfaces (frameReader, frameWriter) that *alsa.PCM
// satisfies.
//
// # Data flow
//
//	mic → Capture: DecodeMono → Resampler → 10 ms frames → VAD (OnVoice)
//	                                       → PreRoll → gate → uplink Ring
//	uplink Ring → Uplink → AppendAudio (realtime client)
//	audio deltas → Playback.WriteItem → Ring → Resampler → volume, earcons
//	             → EncodeFrames → speaker
//
// Each arrow out of a loop crosses goroutines through a Ring or an atomic;
// no audio path blocks on another. One goroutine owns each device (the
// Run of Capture and of Playback), one drains the uplink (Uplink.Run), and
// the Engine's goroutine owns all conversation state.
//
// # Rings
//
// Ring is a preallocated single-producer single-consumer queue of int16
// samples with atomic 64-bit indices (atomic.Uint64, safe on 32-bit ARM).
// Neither side blocks: a full capture ring overwrites its oldest samples
// (RingOverwrite), a full playback ring refuses new ones (RingReject), and
// both count what they lose. PreRoll always holds the last pre_roll_ms
// (default 300) of captured audio, so that when the gate opens on a wake
// the first syllable, which caused it, is sent too. While nothing listens
// (the gate closed and the detector off, between push-to-talk turns) the
// capture loop holds that audio at the device rate and resamples it only
// when a turn opens, which makes an idle period about an eighth of a busy one.
// Between replies the playback loop writes nothing to a device that plays
// silence by itself (ALSA's free-running mode; see the alsa package) and
// sleeps, looking at the device twice a second; it queues two periods of
// silence ahead of the next reply, as it keeps queued for a device that
// cannot fill silence.
//
// # Conversion and resampling
//
// DecodeMono turns interleaved S16_LE, S24_LE (4-byte container), S24_3LE
// and S32_LE frames into mono, picking one channel or mixing them all;
// EncodeFrames does the reverse into every channel. ApplyGain and MixInto
// saturate rather than wrap around.
//
// Resampler converts between 8, 16, 22.05, 24, 32, 44.1 and 48 kHz with a
// Kaiser-windowed sinc in polyphase form, designed for 94 dB of stopband
// attenuation with the transition band between 0.9 and 1.0 of the lower
// Nyquist frequency: flat to ±0.1 dB below it, no aliasing above it.
//
// # Voice activity
//
// VAD decides for each 10 ms frame whether it holds speech, from band
// energies against an adaptive noise floor, spectral flatness and pitch,
// with a short hangover. Endpointer turns those decisions into turns:
// onset after min_speech_ms, end after silence_ms. While the device speaks,
// the echo guard raises the VAD's threshold so that the reply does not wake
// it. `voiced vad-eval` scores the VAD on labeled recordings.
//
// # Conversation engine
//
// Engine is the state machine (IDLE, CONNECTING, CONNECTED, LISTENING,
// PROCESSING, SPEAKING, DISCONNECTED, plus muted and paused), run by one
// goroutine and fed by button events, turn edges, realtime events, control
// requests and timers. It opens and closes the capture gate, commits turns,
// cancels and truncates replies on barge-in (Playback.Heard is what the
// user heard), drives the LED and earcons, and publishes every change to
// its subscribers.
//
// # Allocation
//
// Nothing on the audio paths allocates after setup: capture through
// conversion, resampling, detection and the rings to the append call, and
// reply audio from WriteItem to the device write. Tests prove it with
// testing.AllocsPerRun.
package pipeline
