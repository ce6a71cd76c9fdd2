// Package daemon is `voiced run`: it loads the configuration, opens the audio devices and
// the GPIO lines, connects to the Realtime backend, runs the conversation engine, serves
// the local HTTP endpoint and talks to systemd, until it is told to stop.
//
// # Parts and restarts
//
// The daemon keeps what must outlive a change (the configuration store, the HTTP
// endpoint, the event hub its subscribers listen to, systemd notification, metrics) and
// builds the rest, the runtime (devices, pipeline, engine, connection), from the
// configuration in force. A change that can be applied live (voice, instructions, turn
// detection, VAD sensitivity, volume, earcons) is; any other change rebuilds the runtime,
// while HTTP clients and their event streams stay connected.
//
// # Missing things
//
// A missing sound card, GPIO line, network or API key does not stop the daemon: it says
// what is missing in the journal, on /v1/status and on the LED, and keeps trying.
package daemon
