package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/ratelog"
	"github.com/voiced-project/voiced/internal/realtime"
)

// sessionFor is the session voiced asks the server for.
func sessionFor(c config.Config) realtime.Session {
	r := c.Realtime
	s := realtime.Session{
		Model:          r.Model,
		Instructions:   r.Instructions,
		Voice:          r.Voice,
		InputRate:      pipeline.CaptureRate,
		OutputRate:     r.OutputRate,
		NoiseReduction: r.NoiseReduction,
	}
	if s.NoiseReduction == "none" {
		s.NoiseReduction = ""
	}
	if r.Transcription.Enabled {
		s.Transcription = &realtime.Transcription{Model: r.Transcription.Model, Language: r.Language}
	}
	td := r.TurnDetection
	// Push-to-talk and local end of turn: the device commits (turn_detection null).
	if c.Mode != "push_to_talk" && (td.Type == "server_vad" || td.Type == "semantic_vad") {
		t := &realtime.TurnDetection{
			CreateResponse:    &td.CreateResponse,
			InterruptResponse: &td.InterruptResponse,
		}
		if td.Type == "server_vad" {
			t.Type = realtime.ServerVAD
			t.Threshold = td.Threshold
			t.PrefixPaddingMs = td.PrefixPaddingMs
			t.SilenceDurationMs = td.SilenceDurationMs
			t.IdleTimeoutMs = td.IdleTimeoutMs
		} else {
			t.Type = realtime.SemanticVAD
			t.Eagerness = td.Eagerness
		}
		s.TurnDetection = t
	}
	for _, raw := range r.Tools.Server {
		if b, err := json.Marshal(raw); err == nil {
			s.RawTools = append(s.RawTools, b)
		}
	}
	return s
}

// clientOptions maps the config onto the realtime client.
func clientOptions(c config.Config, s config.Secrets, log *slog.Logger) (realtime.Options, error) {
	r := c.Realtime
	prof, err := realtime.ParseProfile(r.Profile)
	if err != nil {
		return realtime.Options{}, err
	}
	def := prof.Defaults()
	dialect := def.Dialect
	if r.Dialect != "" {
		if dialect, err = realtime.ParseDialect(r.Dialect); err != nil {
			return realtime.Options{}, err
		}
	}
	url := r.URL
	if url == "" {
		if url, err = prof.URL(r.Model, "", ""); err != nil {
			return realtime.Options{}, fmt.Errorf("realtime.url: %w", err)
		}
	}
	if err := def.CheckRates(pipeline.CaptureRate, r.OutputRate); err != nil {
		return realtime.Options{}, fmt.Errorf("realtime.output_rate: %w", err)
	}
	o := realtime.Options{
		URL:         url,
		Profile:     prof,
		Dialect:     dialect,
		APIKey:      s.APIKey,
		Session:     sessionFor(c),
		Logger:      log,
		ToolTimeout: time.Duration(r.Tools.TimeoutMs) * time.Millisecond,
	}
	return o, nil
}

// forwardRealtime hands the Realtime client's events to the engine, holding the uplink
// while there is no session.
func (rt *runtime) forwardRealtime(ctx context.Context) error {
	evs := rt.client.Events()
	lost := false // a session was lost and not yet regained
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-evs:
			if !ok {
				return nil
			}
			rt.noteRealtime(ev)
			switch e := ev.(type) {
			case *realtime.Disconnected:
				lost = !errors.Is(e.Err, realtime.ErrHangup) // an on_demand hang-up is not a loss
			case *realtime.Connected:
				lost = false
			case *realtime.Connecting:
				if lost {
					// Each retry is not news: the LED keeps saying DISCONNECTED until a
					// session is back, instead of flickering to CONNECTING and back.
					rt.uplink.SetHold(true)
					continue
				}
			}
			switch ev.(type) {
			case *realtime.Connecting, *realtime.Disconnected, *realtime.Fatal:
				// Speech while there is no session waits in the ring instead of being
				// appended to a closed socket and lost.
				rt.uplink.SetHold(true)
			case *realtime.Connected:
				rt.uplink.SetHold(false)
			}
			if pe, ok := translate(ev); ok {
				rt.engine.HandleRealtime(pe)
			}
		}
	}
}

// serverLogger is l throttled per kind of line (ratelog's defaults: 5 at
// once, then one per 10 s) with long values clipped: a server can repeat a
// failure thousands of times a second, and a config value can be huge.
func serverLogger(l *slog.Logger) *slog.Logger {
	return ratelog.Wrap(l, ratelog.Options{})
}

// noteRealtime logs and counts what the engine does not see.
func (rt *runtime) noteRealtime(ev realtime.Event) {
	m := rt.d.metrics
	log := rt.rlog
	switch e := ev.(type) {
	case *realtime.Connected:
		log.Info("connected", "session", e.SessionID, "model", e.Model, "expires", e.ExpiresAt, "rollover", e.Rollover)
	case *realtime.Disconnected:
		m.disconnects.Inc()
		if !errors.Is(e.Err, realtime.ErrHangup) {
			rt.noteConnError(e.Err)
		}
		log.Warn("connection lost; reconnecting", "err", e.Err, "retry_in", e.RetryIn)
	case *realtime.Fatal:
		rt.noteConnError(e.Err)
		log.Error("the server refused voiced; not retrying soon", "err", e.Err, "retry_in", e.RetryIn)
	case *realtime.ProtocolError:
		log.Warn("server message not understood; ignored", "err", e.Err)
	case *realtime.ToolResult:
		if e.Err != nil {
			log.Warn("tool call failed", "tool", e.Name, "err", e.Err, "took", e.Duration)
		} else {
			log.Info("tool called", "tool", e.Name, "took", e.Duration)
		}
	case *realtime.InputTranscriptionFailed:
		log.Warn("transcription of your speech failed (the reply still comes)", "err", e.Error.Message)
	case *realtime.ServerError:
		log.Warn("server error", "code", e.Error.Code, "message", e.Error.Message)
	}
}

// noteConnError keeps why the connection failed for the status.
func (rt *runtime) noteConnError(err error) {
	if err == nil {
		return
	}
	rt.mu.Lock()
	rt.connErr, rt.connErrAt = ratelog.Clip(err.Error(), 1000), time.Now()
	rt.mu.Unlock()
}

// withConnError puts the last connection failure in s's last_error when it is
// newer than the engine's own: reconnects that fail (HTTP 500, a timeout, a
// name not found) never reach a session the engine could record as lost.
func (rt *runtime) withConnError(s *engine.Status) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.connErr != "" && rt.connErrAt.After(s.LastErrorAt) {
		s.LastError, s.LastErrorAt = "connect: "+rt.connErr, rt.connErrAt
	}
}
