package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// ToolFunc runs a tool call. args is the JSON arguments object the model
// produced; the returned string goes back to the model as the output, an
// error goes back as {"error": "..."}. It must return when ctx is done
// (the call's timeout, or the connection closing).
type ToolFunc func(ctx context.Context, args json.RawMessage) (string, error)

// Tool is a function the model can call and voiced runs.
type Tool struct {
	Def     ToolDef
	Run     ToolFunc
	Timeout time.Duration // 0 takes the client's ToolTimeout
}

// Tools is a registry of callable tools; safe for concurrent use.
type Tools struct {
	mu    sync.Mutex // guards following fields
	tools map[string]Tool
}

// NewTools returns an empty registry.
func NewTools() *Tools { return &Tools{tools: map[string]Tool{}} }

// Add registers a tool, replacing one of the same name.
func (r *Tools) Add(t Tool) error {
	if t.Def.Name == "" || t.Run == nil {
		return fmt.Errorf("realtime: add tool %q: name and Run are required", t.Def.Name)
	}
	if t.Def.Parameters != nil && !json.Valid(t.Def.Parameters) {
		return fmt.Errorf("realtime: add tool %s: parameters are not valid JSON", t.Def.Name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tools[t.Def.Name] = t
	return nil
}

// Remove drops a tool.
func (r *Tools) Remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.tools, name)
}

// Lookup finds a tool by name.
func (r *Tools) Lookup(name string) (Tool, bool) {
	if r == nil {
		return Tool{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tools[name]
	return t, ok
}

// Defs returns the definitions, sorted by name, for session.update.
func (r *Tools) Defs() []ToolDef {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	defs := make([]ToolDef, 0, len(r.tools))
	for _, t := range r.tools {
		defs = append(defs, t.Def)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	return defs
}

// maxWebhookBody bounds what a webhook may return to the model.
const maxWebhookBody = 64 << 10

// WebhookTool is a tool that POSTs the call's arguments as JSON to URL and
// returns the response body. A nil client uses http.DefaultClient; the
// call's timeout comes from the context.
func WebhookTool(def ToolDef, url string, header http.Header, client *http.Client) Tool {
	if client == nil {
		client = http.DefaultClient
	}
	return Tool{Def: def, Run: func(ctx context.Context, args json.RawMessage) (string, error) {
		if len(args) == 0 {
			args = json.RawMessage("{}")
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(args))
		if err != nil {
			return "", fmt.Errorf("webhook %s: %w", def.Name, err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return "", fmt.Errorf("webhook %s: %w", def.Name, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookBody))
		if err != nil {
			return "", fmt.Errorf("webhook %s: read body: %w", def.Name, err)
		}
		if resp.StatusCode/100 != 2 {
			return "", fmt.Errorf("webhook %s: HTTP %d: %s", def.Name, resp.StatusCode, bytes.TrimSpace(body))
		}
		return string(body), nil
	}}
}

// toolOutput is what the model gets for a call: the tool's output, or a
// JSON error object it can explain to the user.
func toolOutput(out string, err error) string {
	if err == nil {
		return out
	}
	b, _ := json.Marshal(map[string]string{"error": err.Error()})
	return string(b)
}

// startTool runs a call on its own goroutine, bounded by the tool's
// timeout and the connection's life; its output, or an error object, goes
// back to the model.
func (c *Client) startTool(ctx context.Context, e *FunctionCallArgumentsDone) {
	c.mu.Lock()
	rc := c.calls[e.ResponseID]
	if rc == nil {
		rc = &respCalls{}
		c.calls[e.ResponseID] = rc
	}
	rc.pending++
	c.mu.Unlock()
	tool, ok := c.opts.Tools.Lookup(e.Name)
	c.toolWG.Add(1)
	go func() {
		defer c.toolWG.Done()
		start := c.clock.Now()
		var out string
		var err error
		if !ok {
			err = fmt.Errorf("unknown tool %q", e.Name)
		} else {
			timeout := tool.Timeout
			if timeout <= 0 {
				timeout = c.opts.ToolTimeout
			}
			tctx, cancel := context.WithTimeout(ctx, timeout)
			out, err = runTool(tctx, tool, json.RawMessage(e.Arguments))
			cancel()
		}
		if err != nil {
			c.log.Warn("realtime tool call failed", "tool", e.Name, "err", err)
		}
		output := toolOutput(out, err)
		c.sendOrLog(clientEvent{Type: typeItemCreate, Item: functionOutputItem(e.CallID, output)})
		c.emit(ctx, &ToolResult{Name: e.Name, CallID: e.CallID, Output: output, Err: err, Duration: c.clock.Now().Sub(start)})
		c.mu.Lock()
		rc.pending--
		again := rc.done && rc.pending == 0
		if again {
			delete(c.calls, e.ResponseID)
		}
		c.mu.Unlock()
		if again {
			c.sendOrLog(clientEvent{Type: typeResponseCreate})
		}
	}()
}

// runTool calls a tool, turning a panic into an error: a broken tool must
// not take the daemon down.
func runTool(ctx context.Context, t Tool, args json.RawMessage) (out string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("tool %s panicked: %v", t.Def.Name, p)
		}
	}()
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	return t.Run(ctx, args)
}
