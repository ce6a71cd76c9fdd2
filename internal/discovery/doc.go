// Package discovery announces voiced on the local network over multicast DNS and
// DNS-SD (RFC 6762, RFC 6763), so that a phone finds the page at http://NAME.local:PORT/
// without knowing the device's address.
//
// Three things are answered: NAME.local (A and AAAA records of the listen address), an
// _http._tcp service whose TXT record holds path=/, and a _voiced._tcp service whose TXT
// holds the version and the conversation state (kept current with SetState). It is used
// only when http.listen is on the network; on loopback nobody else could connect anyway.
//
// The protocol work is github.com/hashicorp/mdns's: its server answers questions from a
// Zone, which this package implements so that the TXT records can change while it runs.
package discovery
