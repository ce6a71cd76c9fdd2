package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/realtime"
)

// tools builds the registry: the built-in device tools the config lists and the
// webhook tools. A tool that fails returns its error to the model; nothing crashes.
func (rt *runtime) tools() *realtime.Tools {
	reg := realtime.NewTools()
	builtin := map[string]realtime.Tool{
		"time": {
			Def: realtime.ToolDef{Name: "time", Description: "The current local date and time on the device.",
				Parameters: json.RawMessage(`{"type":"object","properties":{}}`)},
			Run: func(context.Context, json.RawMessage) (string, error) {
				return time.Now().Format("Monday 2 January 2006, 15:04 MST"), nil
			},
		},
		"volume": {
			Def: realtime.ToolDef{Name: "volume", Description: "Set the speaker volume in percent (0-100), or read it when percent is omitted.",
				Parameters: json.RawMessage(`{"type":"object","properties":{"percent":{"type":"integer","minimum":0,"maximum":100}}}`)},
			Run: func(_ context.Context, args json.RawMessage) (string, error) {
				var a struct {
					Percent *int `json:"percent"`
				}
				if err := json.Unmarshal(args, &a); err != nil {
					return "", fmt.Errorf("arguments: %w", err)
				}
				if a.Percent != nil {
					if *a.Percent < 0 || *a.Percent > 100 {
						return "", fmt.Errorf("percent %d is out of range 0..100", *a.Percent)
					}
					rt.playback.SetVolume(float64(*a.Percent) / 100)
				}
				return fmt.Sprintf("volume is %.0f%%", rt.playback.Volume()*100), nil
			},
		},
		"mute": {
			Def: realtime.ToolDef{Name: "mute", Description: "Mute the microphone (voice wake stops until unmuted by the button or the app).",
				Parameters: json.RawMessage(`{"type":"object","properties":{"on":{"type":"boolean"}},"required":["on"]}`)},
			Run: func(ctx context.Context, args json.RawMessage) (string, error) {
				var a struct {
					On bool `json:"on"`
				}
				if err := json.Unmarshal(args, &a); err != nil {
					return "", fmt.Errorf("arguments: %w", err)
				}
				action := engine.ActionUnmute
				if a.On {
					action = engine.ActionMute
				}
				if err := rt.engine.Control(ctx, action); err != nil {
					return "", err
				}
				return "done", nil
			},
		},
		"expect_answer": {
			Def: realtime.ToolDef{Name: "expect_answer", Description: "Call this when your reply asks the user something and you wait for the answer: the microphone opens by itself after you finish speaking, without a wake or a button press.",
				Parameters: json.RawMessage(`{"type":"object","properties":{}}`)},
			Run: func(context.Context, json.RawMessage) (string, error) {
				rt.engine.ExpectAnswer()
				return "ok", nil
			},
		},
		"status": {
			Def: realtime.ToolDef{Name: "status", Description: "The device's state: connection, microphone, speaker, counters.",
				Parameters: json.RawMessage(`{"type":"object","properties":{}}`)},
			Run: func(context.Context, json.RawMessage) (string, error) {
				return rt.engine.Status().Summary(), nil
			},
		},
	}
	for name, t := range rt.timerTools() {
		builtin[name] = t
	}
	for _, name := range rt.cfg.Realtime.Tools.Builtin {
		if t, ok := builtin[name]; ok {
			reg.Add(t)
		}
	}
	hc := &http.Client{}
	for _, w := range rt.cfg.Realtime.Tools.Webhooks {
		params := json.RawMessage(`{"type":"object","properties":{}}`)
		if w.Parameters != nil {
			if b, err := json.Marshal(w.Parameters); err == nil {
				params = b
			}
		}
		t := realtime.WebhookTool(realtime.ToolDef{Name: w.Name, Description: w.Description, Parameters: params}, w.URL, nil, hc)
		if w.TimeoutMs > 0 {
			t.Timeout = time.Duration(w.TimeoutMs) * time.Millisecond
		}
		if err := reg.Add(t); err != nil {
			rt.log.Warn("webhook tool not added", "tool", w.Name, "err", err)
		}
	}
	return reg
}
