// Package siolink is the part of a Socket.IO voice backend that does not
// depend on the service, shared by estuary and selam: a [Link] keeps an
// sio.Client connected, turns its link state into backend events
// (Connecting, Connected, Disconnected, Fatal), hands the namespace's events
// to the service's [Protocol] (reply audio on a path that neither decodes
// JSON nor allocates), delivers the events on one channel that Run closes,
// and frames uplink audio into the client's reusable buffers.
//
// What stays in each backend is its own: event names and payloads, the
// session setup and auth, its acks and the quirks of its protocol.
package siolink
