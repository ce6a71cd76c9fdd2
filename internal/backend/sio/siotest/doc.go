// Package siotest is what the fakes of the Socket.IO voice services
// (estuarytest, selamtest) share, so each keeps only its protocol: a [Hub]
// that accepts connections, keeps their Engine.IO heartbeat, refuses unknown
// namespaces, splits events and plays a restart ([Hub.Drop],
// [Hub.SetDown]); a [Recorder] of what clients sent; and the parrot's audio
// tools: an energy [Detector] that finds a turn, [Reply] streaming of the
// answer and PCM16 helpers.
package siotest
