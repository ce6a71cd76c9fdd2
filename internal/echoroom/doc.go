// Package echoroom closes the acoustic loop around a device, in real time: what
// its speaker plays reaches its microphone through an echosim.Room (a delay, a
// reverberant tail, a loudspeaker driven into soft clipping), over the room's
// noise, and a user's voice is mixed in on cue, at a level set against the
// echo's as the microphone hears it.
//
// It does not move audio itself. The caller is the sound card: once per period
// it hands Step what the speaker played in that period and writes what Step
// returns to the microphone, so that one clock drives both directions, as the
// one crystal of a sound card does. cmd/voiced's end-to-end tests do this with
// FIFOs as the daemon's file: devices, test/vm's `vmprobe room` with the two
// sides of the snd-aloop loopback card.
//
// # Levels
//
// Levels are active levels, as speech levels are quoted: the RMS over the
// samples louder than -60 dBFS. The echo's is measured over everything the
// microphone has heard of the speaker since New or ResetEchoLevel; SayOver scales the user's voice
// so that its active level is a given number of dB above (or below) it: 0 dB
// is a user who speaks as loud as the reply sounds at the microphone.
package echoroom
