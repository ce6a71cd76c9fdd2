package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// event is one /v1/events event as vmprobe events logs it.
type event struct {
	Arrived int64     `json:"arrived_ms"` // when vmprobe read it
	Type    string    `json:"type"`
	Time    time.Time `json:"time"` // when the daemon published it
	State   string    `json:"state"`
	Prev    string    `json:"prev"`
	Reason  string    `json:"reason"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
	// FollowUp is the follow-up window (every engine event carries it); nil for other
	// events.
	FollowUp *bool `json:"follow_up"`
}

// at is the event's time in Unix ms: the daemon's own stamp, else its arrival.
func (e event) at() int64 {
	if !e.Time.IsZero() {
		return e.Time.UnixMilli()
	}
	return e.Arrived
}

// runEvents subscribes to /v1/events and writes each event as a JSON line with its
// arrival time, until stopped; it resubscribes when the stream breaks.
func runEvents(ctx context.Context, args []string) error {
	fs := newFlags("events")
	url := fs.String("url", "", "the daemon's HTTP base URL")
	out := fs.String("out", "events.log", "event log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	w, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer w.Close()
	for ctx.Err() == nil {
		if err := stream(ctx, *url+"/v1/events", w); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "vmprobe events: %v; subscribing again\n", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}

func stream(ctx context.Context, url string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			return fmt.Errorf("event %q: %w", data, err)
		}
		m["arrived_ms"] = nowMs()
		b, _ := json.Marshal(m)
		fmt.Fprintf(w, "%s\n", b)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

func readEvents(path string) ([]event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var evs []event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		evs = append(evs, e)
	}
	return evs, sc.Err()
}

// getJSON fetches url and decodes it.
func getJSON(ctx context.Context, url string) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return m, nil
}

// field walks a dotted path through nested objects.
func field(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = o[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// runWait polls /v1/status until its state is one of --state (comma-separated).
func runWait(ctx context.Context, args []string) error {
	fs := newFlags("wait")
	url := fs.String("url", "", "the daemon's HTTP base URL")
	state := fs.String("state", "connected", "wanted state(s), comma-separated")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	deadline := time.Now().Add(*timeout)
	var last map[string]any
	var lastErr error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		last, lastErr = getJSON(ctx, *url+"/v1/status")
		if lastErr == nil {
			for _, s := range strings.Split(*state, ",") {
				if last["state"] == s {
					fmt.Printf("state %s after waiting\n", s)
					return nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := json.Marshal(last)
	return fmt.Errorf("%w: no state %s within %v; last status %s (err %v)", errCheck, *state, *timeout, b, lastErr)
}

// runGet prints one field of a JSON document (or, with --metric, a Prometheus sample).
func runGet(ctx context.Context, args []string) error {
	fs := newFlags("get")
	url := fs.String("url", "", "URL of a JSON document or of /metrics")
	path := fs.String("field", "", "dotted path of the field")
	metric := fs.String("metric", "", "name of a Prometheus sample instead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *metric != "" {
		v, err := getMetric(ctx, *url, *metric)
		if err != nil {
			return err
		}
		fmt.Println(v)
		return nil
	}
	m, err := getJSON(ctx, *url)
	if err != nil {
		return err
	}
	v, ok := field(m, *path)
	if !ok {
		return fmt.Errorf("%w: %s has no %s", errCheck, *url, *path)
	}
	switch v := v.(type) {
	case string:
		fmt.Println(v)
	default:
		b, _ := json.Marshal(v)
		fmt.Println(string(b))
	}
	return nil
}

func getMetric(ctx context.Context, url, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			return strconv.ParseFloat(f[1], 64)
		}
	}
	return 0, fmt.Errorf("%w: %s has no sample %s", errCheck, url, name)
}

// runAgree checks /v1/status against what /v1/events told: the same current state, and
// as many replies as the events show stays in speaking that ended.
func runAgree(ctx context.Context, args []string) error {
	fs := newFlags("agree")
	url := fs.String("url", "", "the daemon's HTTP base URL")
	evPath := fs.String("events", "events.log", "log from vmprobe events")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var st map[string]any
	var evs []event
	// The log may lag the status by an event in flight: read both until they settle.
	for try := 0; ; try++ {
		var err error
		if st, err = getJSON(ctx, *url+"/v1/status"); err != nil {
			return err
		}
		if evs, err = readEvents(*evPath); err != nil {
			return err
		}
		if try == 20 || lastState(evs) == st["state"] {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	spoke := 0
	for _, e := range evs {
		if e.Type == "state" && e.Prev == "speaking" && e.State != "speaking" {
			spoke++
		}
	}
	replies := st["replies"]
	since, _ := st["state_since"].(string)
	fmt.Printf("status: state %v since %s, replies %v; events: last state %q, %d replies ended\n",
		st["state"], since, replies, lastState(evs), spoke)
	var bad []string
	if lastState(evs) != st["state"] {
		bad = append(bad, fmt.Sprintf("status state %v, events' last state %q", st["state"], lastState(evs)))
	}
	if r, ok := replies.(float64); !ok || int(r) != spoke {
		bad = append(bad, fmt.Sprintf("status replies %v, events show %d replies", replies, spoke))
	}
	if t, err := time.Parse(time.RFC3339Nano, since); err == nil {
		if le := lastStateEvent(evs); le != nil && (le.Time.Sub(t) > 250*time.Millisecond || t.Sub(le.Time) > 250*time.Millisecond) {
			bad = append(bad, fmt.Sprintf("status state_since %s, last state event at %s", since, le.Time.Format(time.RFC3339Nano)))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", errCheck, strings.Join(bad, "; "))
	}
	return nil
}

func lastStateEvent(evs []event) *event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == "state" {
			return &evs[i]
		}
	}
	return nil
}

func lastState(evs []event) string {
	if e := lastStateEvent(evs); e != nil {
		return e.State
	}
	return ""
}
