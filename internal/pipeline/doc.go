// Package pipeline runs the device loops: it moves audio between the sound
// devices and the realtime connection, as the conversation engine (package
// engine) opens and closes the way.
//
// The internal format is mono signed 16-bit PCM at 24 kHz (CaptureRate),
// the Realtime API's PCM16. Devices run at whatever format, channel count
// and rate ALSA grants; the loops convert with package dsp, as alsa-lib's
// plughw would. The package does not import the alsa package: it reads and
// writes devices through two small interfaces (frameReader, frameWriter)
// that *alsa.PCM satisfies.
//
// # Data flow
//
//	mic → Capture: dsp.DecodeMono → dsp.Resampler → 10 ms frames → echo canceller
//	               → vad.Detector (OnVoice) → dsp.PreRoll → gate → uplink dsp.Ring
//	               → WakeListener (OnFrame): 16 kHz → wakeword.Detector
//	uplink Ring → Uplink → AppendAudio (realtime client)
//	audio deltas → Playback.WriteItem → Ring → Resampler → volume, earcons
//	             → dsp.EncodeFrames → speaker
//	             → back to 24 kHz, with the device's delay → echo canceller's reference
//
// The echo canceller (internal/aec, CaptureConfig.Echo and PlaybackConfig.Echo)
// is the one part both loops touch: the playback loop hands it what the speaker
// is given, through its own lock-free ring, and the capture loop cleans each
// frame before anything else sees it, so the detector and the server hear the
// user rather than the reply.
//
// Each arrow out of a loop crosses goroutines through a Ring or an atomic;
// no audio path blocks on another. One goroutine owns each device (the
// Run of Capture and of Playback), and one drains the uplink (Uplink.Run).
//
// # Idle
//
// A full capture ring overwrites its oldest samples, a full playback ring
// refuses new ones. The pre-roll always holds the last pre_roll_ms (default
// 300) of captured audio, so that when the gate opens on a wake the first
// syllable, which caused it, is sent too. While nothing listens (the gate
// closed and the detector off, between push-to-talk turns) the capture loop
// holds that audio at the device rate and resamples it only when a turn
// opens, which makes an idle period about an eighth of a busy one. Between
// replies the playback loop writes nothing to a device that plays silence
// by itself (ALSA's free-running mode; see the alsa package) and sleeps,
// looking at the device twice a second; it queues two periods of silence
// ahead of the next reply, as it keeps queued for a device that cannot fill
// silence.
//
// # Wake word
//
// With a WakeListener on its frames (CaptureConfig.OnFrame) the capture loop
// never sleeps: the listener is the wake source. A word it hears is reported
// with its end on the capture clock, and Capture.OpenFrom makes the opening
// that follows send from there: what was said after the word, however long
// the engine took to open the gate (the pre-roll holds CaptureConfig.KeepMs
// for it), and not the word itself.
//
// # Allocation
//
// Nothing on the audio paths allocates after setup: capture through
// conversion, resampling, detection and the rings to the append call, and
// reply audio from WriteItem to the device write. Tests prove it with
// testing.AllocsPerRun.
package pipeline
