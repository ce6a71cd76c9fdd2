package daemon

import (
	"time"

	"github.com/voiced-project/voiced/internal/version"
)

// maxURLInStatus bounds the backend URL in /v1/status: the config accepts
// any length, and the status answer must stay small.
const maxURLInStatus = 200

// Status is GET /v1/status.
func (d *Daemon) Status() any {
	d.mu.Lock()
	cfg, rt, problem, cfgErr, replies, secrets := d.cfg, d.rt, d.problem, d.configError, d.replies, d.secrets
	d.mu.Unlock()
	st := map[string]any{
		"version":      version.Version,
		"uptime_s":     int(time.Since(d.started).Seconds()),
		"mode":         cfg.Mode,
		"backend":      backendStatus(cfg.Realtime),
		"api_key":      secrets.APIKeySrc,
		"replies":      replies,
		"config_error": cfgErr,
		"gpio":         d.gpio.Status(),
		"wake":         d.wake.status(cfg.Wake.Mode, rt),
	}
	if secrets.APIKey == "" {
		st["api_key"] = "missing: set VOICED_API_KEY in /etc/default/voiced or realtime.api_key_file"
	}
	if rt == nil {
		st["state"] = "STARTING"
		if problem != "" {
			st["state"] = "WAITING"
			st["problem"] = problem
		}
		return st
	}
	rs := rt.status()
	es := rs.Engine
	st["state"] = es.State.String()
	st["state_since"] = es.StateSince
	st["muted"] = es.Muted
	st["paused"] = es.Paused
	st["follow_up"] = es.FollowUp
	if es.Alarm != "" {
		st["alarm"] = es.Alarm
	}
	st["session_id"] = es.SessionID
	if !es.ConnectedSince.IsZero() {
		st["connected_since"] = es.ConnectedSince
	}
	st["last_error"] = es.LastError
	if es.Fatal != "" {
		st["fatal"] = es.Fatal
	}
	st["devices"] = map[string]any{"microphone": rs.Microphone, "speaker": rs.Speaker}
	if p := goneProblem(rs.Microphone.Device, rs.Speaker.Device, rs.Microphone.Gone, rs.Speaker.Gone); p != "" {
		st["problem"] = p
	}
	st["counters"] = map[string]any{
		"turns": es.Turns, "replies": es.Replies, "interrupts": es.Interrupts,
		"listen_timeouts": es.ListenTimeouts, "reply_timeouts": es.ReplyTimeouts,
		"echo_suppressed": es.EchoSuppressed, "reconnects": es.Reconnects, "errors": es.Errors,
		"audio_sent_samples": rs.Realtime.AudioQueued, "audio_dropped_appends": rs.Realtime.AudioDropped,
		"audio_received_samples": rs.Realtime.AudioReceived, "unknown_events": rs.Realtime.UnknownEvents,
		"bad_events": rs.Realtime.BadEvents, "session_rollovers": rs.Realtime.Rollovers,
	}
	return st
}
