package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// The client's HTTP API as the benchmark uses it: control, metrics, status and events.

var httpClient = &http.Client{Timeout: 10 * time.Second}

func control(base, action string) error {
	resp, err := httpClient.Post(base+"/v1/control", "application/json", strings.NewReader(`{"action":"`+action+`"}`))
	if err != nil {
		return fmt.Errorf("control %s: %w", action, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("control %s: %s: %s", action, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

func scrapeMetrics(base string) (scrape, error) {
	resp, err := httpClient.Get(base + "/metrics")
	if err != nil {
		return scrape{}, fmt.Errorf("get /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return scrape{}, fmt.Errorf("get /metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

// scrapeOverhead is the heap objects one /metrics request costs the client: the mean
// over many back-to-back requests, because the runtime counts allocations a span of
// objects at a time and a single difference is too coarse. It returns the last scrape.
// scrapeWindowEnd ends a window of allocation counting: the scrape, and the cost of one
// scrape measured right then with a second one. A scrape reads the count part way
// through its own work, so a window between two scrapes holds one whole scrape's
// objects; what a scrape costs grows a little as histograms fill, so the cost is taken
// next to the window rather than once at the start.
func scrapeWindowEnd(base string) (scrape, float64, error) {
	const allocs = "voiced_go_heap_allocs_objects_total"
	w1, err := scrapeMetrics(base)
	if err != nil {
		return w1, 0, err
	}
	w2, err := scrapeMetrics(base)
	if err != nil {
		return w1, 0, err
	}
	return w1, w2.Values[allocs] - w1.Values[allocs], nil
}

func scrapeOverhead(base string) (float64, scrape, error) {
	const n = 40
	first, err := scrapeMetrics(base)
	if err != nil {
		return 0, first, err
	}
	if _, ok := first.Values["voiced_go_heap_allocs_objects_total"]; !ok {
		return 0, first, errors.New("/metrics has no voiced_go_heap_allocs_objects_total")
	}
	last := first
	for range n {
		if last, err = scrapeMetrics(base); err != nil {
			return 0, last, err
		}
	}
	return (last.Values["voiced_go_heap_allocs_objects_total"] - first.Values["voiced_go_heap_allocs_objects_total"]) / n, last, nil
}

// waitConnected polls /v1/status until the client reports the connected state.
func waitConnected(ctx context.Context, base string, cmd *exec.Cmd, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if cmd.ProcessState != nil {
			return fmt.Errorf("%s exited: %v", cmd.Path, cmd.ProcessState)
		}
		resp, err := httpClient.Get(base + "/v1/status")
		if err == nil {
			var v any
			_ = json.NewDecoder(resp.Body).Decode(&v)
			resp.Body.Close()
			if st, _ := findKey(v, "state").(string); st != "" {
				last = st
				if st == "connected" {
					return nil
				}
			}
		} else {
			last = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("not connected within %v (last: %s)", timeout, last)
}

// findKey finds the first value under key in decoded JSON, breadth first.
func findKey(v any, key string) any {
	queue := []any{v}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		switch m := cur.(type) {
		case map[string]any:
			if x, ok := m[key]; ok {
				return x
			}
			for _, x := range m {
				queue = append(queue, x)
			}
		case []any:
			queue = append(queue, m...)
		}
	}
	return nil
}

// subscribe follows /v1/events and delivers the state of every state event.
func subscribe(ctx context.Context, base string) (<-chan string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/events", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("get /v1/events: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("get /v1/events: %s", resp.Status)
	}
	out := make(chan string, 1024)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(line[6:])
			case strings.HasPrefix(line, "data:"):
				var d struct {
					Type  string `json:"type"`
					State string `json:"state"`
				}
				if json.Unmarshal([]byte(strings.TrimSpace(line[5:])), &d) == nil && d.State != "" && (event == "state" || d.Type == "state") {
					out <- d.State
				}
			case line == "":
				event = ""
			}
		}
	}()
	return out, nil
}
