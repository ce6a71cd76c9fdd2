// Package backendtest helps test a backend.Backend against a fake service:
// [Start] runs it for the length of a test, [Wait] reads its events until
// one matches, [Sink] collects reply audio, [Speech] and [Send] make and
// stream a spoken turn, and [Quiet] is a service that sets a session up and
// then drops what it reads without allocating, for allocation counts.
package backendtest
