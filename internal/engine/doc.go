// Package engine is the conversation state machine: it decides when audio
// flows, when a turn is committed and when a reply is cut short.
//
// # States
//
// Engine runs IDLE, CONNECTING, CONNECTED, LISTENING, PROCESSING, SPEAKING
// and DISCONNECTED, plus muted and paused, in one goroutine fed by button
// events, turn edges (VoiceEdges), realtime events, control requests
// (Control), announcements (Announce) and timers. It opens and closes the capture gate, commits turns,
// cancels and truncates replies on barge-in (the player's Heard is what the
// user heard), drives the LED and earcons, and publishes every change to its
// subscribers as Events.
//
// # Dependencies
//
// Everything the engine drives is a small interface declared here and
// satisfied in the daemon by the pipeline's UplinkGate and Playback, the
// VAD, the realtime client, the LED and a clock; enginetest has fakes of all
// of them.
//
// # Earcons
//
// The earcons are tones generated at the device rate when playback is set
// up (Earcon): rising notes invite speech, falling notes close the turn, a
// low double beep means something went wrong, a single soft low note means
// the microphone is muted.
package engine
