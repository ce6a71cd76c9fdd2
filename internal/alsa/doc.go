// Package alsa provides PCM capture and playback through the Linux ALSA kernel interface,
// in pure Go: the ioctls of <sound/asound.h> on /dev/snd/pcmC*D*, no alsa-lib and no cgo.
//
// Kernel documentation: https://www.kernel.org/doc/html/latest/sound/designs/index.html
// and the header itself, which is the source of truth for every struct and ioctl number.
//
// # Devices
//
// Open takes alsa-lib style names: "hw:CARD=Name,DEV=N", "hw:N,M", "plughw:..." (the same
// device; conversion is the caller's, as plughw would do it), "default" (the first card
// with a device in the wanted direction) and "file:PATH.wav", which reads a WAV file as a
// microphone (paced in real time, or as fast as possible) or writes one as a speaker, so
// everything runs without sound hardware.
//
// # Negotiation
//
// Open refines the hardware parameters the way alsa-lib's *_near setters do: interleaved
// access, the first of S16_LE, S32_LE, S24_LE, S24_3LE the device offers, the channel
// count and rate nearest to the wanted ones, then period and buffer sizes nearest to the
// wanted durations. Params reports what was granted; the caller converts and resamples.
//
// # I/O and recovery
//
// ReadFrames and WriteFrames move interleaved frames between the device and buffers the
// caller owns, without allocating. The file descriptor is non-blocking and waits in the Go
// runtime poller, so Close unblocks a reader. An overrun or underrun (EPIPE) is recovered
// by preparing the stream again and counted (Xruns); a suspend (ESTRPIPE) is resumed.
//
// # Playback that runs free
//
// A playback stream is set up in ALSA's free-running mode where the kernel allows it
// (FillsSilence): it never stops on underrun, and the kernel writes silence over every
// period played, so the speaker plays silence when nothing is written instead of stopping
// with a click, or playing the buffer's old contents again. A writer with nothing to play
// writes nothing; before it writes again, CatchUp moves the write position up to the
// hardware's if the stream played past it (SNDRV_PCM_IOCTL_FORWARD). A file: speaker
// behaves the same, writing the silence its imaginary card played into the file.
//
// # A device that goes away
//
// When a card is disconnected (an unplugged USB microphone, its driver unbound) the kernel
// says so in more than one way: ENODEV, EBADFD from a stream that can no longer be
// prepared, or a poll that reports only an error. All of them mean "gone": the error the
// transfer returns is ENODEV to errors.Is (the kernel's errno stays in it), the PCM closes
// its file at once, since the kernel holds the card, and whoever removes it, until every
// file of it is closed, and Gone turns true. With WithReopen the transfer instead waits,
// reopening with backoff until the device returns. A busy device gives an error naming
// who holds it, when /proc tells.
package alsa
