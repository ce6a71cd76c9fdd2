package daemon

import (
	"github.com/voiced-project/voiced/internal/metrics"
	"github.com/voiced-project/voiced/internal/pipeline"
)

// daemonMetrics are the figures GET /metrics shows. Device and connection counters are
// read from the runtime in force at scrape time.
type daemonMetrics struct {
	reg         metrics.Registry
	state       *metrics.Gauge
	turns       *metrics.Counter
	replies     *metrics.Counter
	interrupts  *metrics.Counter
	errors      *metrics.Counter
	disconnects *metrics.Counter
	turnSeconds *metrics.Histogram // speech end to the reply's first audio, as the user waits
	turnStart   int64              // unix nanos of the last local speech end; engine-event goroutine only
}

func newDaemonMetrics(d *Daemon) *daemonMetrics {
	m := &daemonMetrics{}
	r := &m.reg
	m.state = r.Gauge("voiced_state", "Conversation state: 0 IDLE, 1 CONNECTING, 2 CONNECTED, 3 LISTENING, 4 PROCESSING, 5 SPEAKING, 6 DISCONNECTED.")
	m.turns = r.Counter("voiced_turns_total", "Turns sent to the server.")
	m.replies = r.Counter("voiced_replies_total", "Replies that started.")
	m.interrupts = r.Counter("voiced_interrupts_total", "Replies stopped by barge-in or control.")
	m.errors = r.Counter("voiced_errors_total", "Conversation errors.")
	m.disconnects = r.Counter("voiced_disconnects_total", "Connections lost.")
	m.turnSeconds = r.Histogram("voiced_response_latency_seconds", "From the end of the user's speech to the reply starting.", metrics.LatencyBuckets...)
	fromRT := func(f func(rt *runtime) uint64) func() uint64 {
		return func() uint64 {
			if rt := d.current(); rt != nil {
				return f(rt)
			}
			return 0
		}
	}
	r.CounterFunc("voiced_reconnects_total", "Reconnections of the realtime client.", fromRT(func(rt *runtime) uint64 { return rt.client.Stats().Reconnects }))
	r.CounterFunc("voiced_capture_xruns_total", "Microphone overruns (recovered).", fromRT(func(rt *runtime) uint64 { return rt.capDev.Xruns() }))
	r.CounterFunc("voiced_playback_xruns_total", "Speaker underruns (recovered).", fromRT(func(rt *runtime) uint64 { return rt.playDev.Xruns() }))
	r.CounterFunc("voiced_capture_dropped_samples_total", "Captured samples dropped because the uplink fell behind.", fromRT(func(rt *runtime) uint64 { return rt.ring.Dropped() }))
	r.CounterFunc("voiced_audio_sent_samples_total", "Samples handed to the WebSocket writer.", fromRT(func(rt *runtime) uint64 { return rt.client.Stats().AudioQueued }))
	r.CounterFunc("voiced_audio_dropped_appends_total", "Audio appends dropped (not connected, or the socket was behind).", fromRT(func(rt *runtime) uint64 { return rt.client.Stats().AudioDropped }))
	r.CounterFunc("voiced_audio_received_samples_total", "Reply samples received.", fromRT(func(rt *runtime) uint64 { return rt.client.Stats().AudioReceived }))
	r.CounterFunc("voiced_unknown_events_total", "Server events of unknown type (ignored).", fromRT(func(rt *runtime) uint64 { return rt.client.Stats().UnknownEvents }))
	r.CounterFunc("voiced_bad_events_total", "Server messages that could not be decoded.", fromRT(func(rt *runtime) uint64 { return rt.client.Stats().BadEvents }))
	return m
}

func (m *daemonMetrics) onEvent(ev pipeline.Event) {
	switch ev.Kind {
	case pipeline.EventState:
		m.state.Set(float64(ev.State))
		if ev.State == pipeline.StateProcessing {
			m.turns.Inc()
			m.turnStart = ev.Time.UnixNano()
		}
		if ev.State == pipeline.StateSpeaking && m.turnStart != 0 {
			m.turnSeconds.Observe(float64(ev.Time.UnixNano()-m.turnStart) / 1e9)
			m.turnStart = 0
		}
	case pipeline.EventResponseStarted:
		m.replies.Inc()
	case pipeline.EventResponseDone:
		if ev.Status == "cancelled" {
			m.interrupts.Inc()
		}
	case pipeline.EventError:
		m.errors.Inc()
	}
}
