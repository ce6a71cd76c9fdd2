// Package enginetest provides fakes of what the conversation engine
// drives: the realtime connection and its on-demand connector, the capture gate, the
// player, the VAD's echo guard, the LED and the earcons (the clock is clocktest.Clock).
//
// Every fake writes what it was asked to do into a shared Log, so a test can assert the
// order of calls across all of them.
package enginetest
