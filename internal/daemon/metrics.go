package daemon

import (
	"sync/atomic"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/metrics"
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
	commit      *metrics.Histogram // button release (or ptt_stop) to the commit written on the socket
	releasedAt  atomic.Int64       // unix nanos of the last release not yet committed; 0 = none
	uplink      *metrics.Histogram // captured audio into the uplink ring to its append on the socket
	downlink    *metrics.Histogram // reply audio received to its first frame on the speaker
	bargeIn     *metrics.Histogram // barge-in to the speaker's queue thrown away
	wakeWords   *metrics.CounterVec
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// released marks a push-to-talk release, the start of the commit latency.
func (m *daemonMetrics) released() { m.releasedAt.Store(time.Now().UnixNano()) }

// written is the realtime client's OnWritten hook (writer goroutine).
func (m *daemonMetrics) written(typ string, _ int) {
	if typ != "input_audio_buffer.commit" {
		return
	}
	if at := m.releasedAt.Swap(0); at != 0 {
		m.commit.Observe(float64(time.Now().UnixNano()-at) / 1e9)
	}
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
	m.commit = r.Histogram("voiced_commit_latency_seconds", "From the button release (or ptt_stop) to input_audio_buffer.commit written on the socket.", metrics.LatencyBuckets...)
	m.uplink = r.Histogram("voiced_uplink_latency_seconds", "From the capture loop putting audio into the uplink ring to the append holding its newest sample written on the socket.", metrics.AudioLatencyBuckets...)
	m.downlink = r.Histogram("voiced_downlink_latency_seconds", "From reply audio received while nothing was queued (a reply's first delta) to its first frame written to the speaker.", metrics.AudioLatencyBuckets...)
	m.bargeIn = r.Histogram("voiced_bargein_latency_seconds", "From a barge-in (button, voice or control) stopping playback to the speaker's queue thrown away.", metrics.AudioLatencyBuckets...)
	m.wakeWords = r.CounterVec("voiced_wake_words_total", "Wake words heard (while not muted), by word.", "word")
	m.turnSeconds = r.Histogram("voiced_response_latency_seconds", "From the end of the user's speech to the reply starting.", metrics.LatencyBuckets...)
	fromRT := func(f func(rt *runtime) uint64) func() uint64 {
		return func() uint64 {
			if rt := d.current(); rt != nil {
				return f(rt)
			}
			return 0
		}
	}
	r.CounterFunc("voiced_reconnects_total", "Reconnections of the realtime client.", fromRT(func(rt *runtime) uint64 { return rt.rtStats().Reconnects }))
	r.CounterFunc("voiced_session_rollovers_total", "Sessions replaced ahead of their expiry while the room was quiet, without a disconnect.", fromRT(func(rt *runtime) uint64 { return rt.rtStats().Rollovers }))
	r.CounterFunc("voiced_capture_xruns_total", "Microphone overruns (recovered).", fromRT(func(rt *runtime) uint64 { return rt.capDev.Xruns() }))
	r.CounterFunc("voiced_playback_xruns_total", "Speaker underruns (recovered).", fromRT(func(rt *runtime) uint64 { return rt.playDev.Xruns() }))
	r.CounterFunc("voiced_capture_dropped_samples_total", "Captured samples dropped because the uplink fell behind.", fromRT(func(rt *runtime) uint64 { return rt.ring.Dropped() }))
	r.CounterFunc("voiced_audio_sent_samples_total", "Samples handed to the WebSocket writer.", fromRT(func(rt *runtime) uint64 { return rt.rtStats().AudioQueued }))
	r.CounterFunc("voiced_audio_dropped_appends_total", "Audio appends dropped (not connected, or the socket was behind).", fromRT(func(rt *runtime) uint64 { return rt.rtStats().AudioDropped }))
	r.CounterFunc("voiced_audio_received_samples_total", "Reply samples received.", fromRT(func(rt *runtime) uint64 { return rt.rtStats().AudioReceived }))
	r.CounterFunc("voiced_websocket_sent_bytes_total", "WebSocket message bytes written.", fromRT(func(rt *runtime) uint64 { return rt.rtStats().BytesSent }))
	r.CounterFunc("voiced_websocket_received_bytes_total", "WebSocket message bytes read.", fromRT(func(rt *runtime) uint64 { return rt.rtStats().BytesReceived }))
	r.CounterFunc("voiced_unknown_events_total", "Server events of unknown type (ignored).", fromRT(func(rt *runtime) uint64 { return rt.rtStats().UnknownEvents }))
	r.CounterFunc("voiced_bad_events_total", "Server messages that could not be decoded.", fromRT(func(rt *runtime) uint64 { return rt.rtStats().BadEvents }))
	return m
}

func (m *daemonMetrics) onEvent(ev engine.Event) {
	switch ev.Kind {
	case engine.EventState:
		m.state.Set(float64(ev.State))
		if ev.State == engine.StateProcessing {
			m.turns.Inc()
			m.turnStart = ev.Time.UnixNano()
		}
		if ev.State == engine.StateSpeaking && m.turnStart != 0 {
			m.turnSeconds.Observe(float64(ev.Time.UnixNano()-m.turnStart) / 1e9)
			m.turnStart = 0
		}
	case engine.EventResponseStarted:
		m.replies.Inc()
	case engine.EventResponseDone:
		if ev.Status == "cancelled" {
			m.interrupts.Inc()
		}
	case engine.EventError:
		m.errors.Inc()
	case engine.EventWakeWord:
		m.wakeWords.Inc(ev.Word)
	}
}
