// Command reference is the yardstick of `make bench`: a voice client for the Realtime
// protocol written the way the simplest working client is written. Every event goes
// through encoding/json, every message gets new buffers, audio is converted with fresh
// slices and there are no rings: a goroutine reads the microphone and sends, another
// receives and plays. It does what voiced does on the same conversation (16 kHz mono
// capture to the 24 kHz the server wants, replies to the speaker's rate and channels) so
// that the benchmark can show voiced's CPU time and allocations as a ratio of its own.
//
//	reference --url ws://HOST:PORT/v1/realtime --capture mic.wav --playback out.wav
//	          [--mode push_to_talk|continuous] [--http 127.0.0.1:0]
//
// Its HTTP endpoint has the parts of voiced's that the benchmark drives:
// POST /v1/control {"action":"ptt_start"|"ptt_stop"}, GET /v1/status {"state":...},
// GET /v1/events (state changes as server-sent events) and GET /metrics (the Go runtime's allocation counters). It prints
// "listening on HOST:PORT" first on stdout.
//
// In continuous mode it streams everything the microphone hears and lets the server's
// voice detection find the turns, which is how the simplest client gets hands-free talk.
package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/gorilla/websocket"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/metrics"
	"github.com/voiced-project/voiced/internal/wav"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reference:", err)
		os.Exit(1)
	}
}

type options struct {
	url, apiKey               string
	capture, playback         string
	mode, listen              string
	playRate, playChannels    int
	periodMs, serverSilenceMs int
	wireRate                  int
	continuous                bool
	resampler                 string
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("reference", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.url, "url", "", "Realtime WebSocket URL")
	fs.StringVar(&o.apiKey, "api-key", "", "API key (Authorization: Bearer)")
	fs.StringVar(&o.capture, "capture", "", "microphone: a 16-bit PCM WAV file (a FIFO works)")
	fs.StringVar(&o.playback, "playback", "", "speaker: a WAV file to write")
	fs.StringVar(&o.mode, "mode", "push_to_talk", "push_to_talk or continuous")
	fs.StringVar(&o.listen, "http", "127.0.0.1:0", "HTTP control address")
	fs.IntVar(&o.playRate, "playback-rate", 48000, "speaker sample rate")
	fs.IntVar(&o.playChannels, "playback-channels", 2, "speaker channels")
	fs.IntVar(&o.periodMs, "period-ms", 20, "microphone read size")
	fs.IntVar(&o.serverSilenceMs, "silence-ms", 600, "server VAD silence that ends a turn (continuous)")
	fs.StringVar(&o.resampler, "resampler", "linear", "linear (interpolation), or voiced (the pipeline's filter, to compare like with like)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case o.url == "" || o.capture == "" || o.playback == "":
		return errors.New("--url, --capture and --playback are required")
	case o.mode != "push_to_talk" && o.mode != "continuous":
		return fmt.Errorf("--mode %q: want push_to_talk or continuous", o.mode)
	case o.playChannels < 1 || o.playChannels > 2:
		return fmt.Errorf("--playback-channels %d: want 1 or 2", o.playChannels)
	case o.resampler != "linear" && o.resampler != "voiced":
		return fmt.Errorf("--resampler %q: want linear or voiced", o.resampler)
	}
	o.continuous = o.mode == "continuous"
	o.wireRate = 24000

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c := &client{opt: o, subs: map[chan string]bool{}, state: "connecting"}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.listen, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/control", c.control)
	mux.HandleFunc("GET /v1/events", c.events)
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, _ *http.Request) {
		c.mu.Lock()
		st := c.state
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"state": st})
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		var r metrics.Registry
		r.WriteText(w)
	})
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())

	h := http.Header{}
	if o.apiKey != "" {
		h.Set("Authorization", "Bearer "+o.apiKey)
	}
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, o.url, h)
	if err != nil {
		return fmt.Errorf("dial %s: %w", o.url, err)
	}
	defer conn.Close()
	c.conn = conn
	go func() {
		<-ctx.Done()
		conn.Close()
	}()

	turn := any(nil)
	if o.continuous {
		turn = map[string]any{"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
			"silence_duration_ms": o.serverSilenceMs, "create_response": true, "interrupt_response": true}
	}
	if err := c.send(map[string]any{"type": "session.update", "session": map[string]any{
		"type": "realtime", "output_modalities": []string{"audio"},
		"audio": map[string]any{
			"input":  map[string]any{"format": map[string]any{"type": "audio/pcm", "rate": o.wireRate}, "turn_detection": turn},
			"output": map[string]any{"format": map[string]any{"type": "audio/pcm", "rate": o.wireRate}, "voice": "marin"},
		},
	}}); err != nil {
		return err
	}

	out, err := os.Create(o.playback)
	if err != nil {
		return err
	}
	defer out.Close()
	ww, err := wav.NewWriter(out, wav.Header{Channels: o.playChannels, Rate: o.playRate, Bits: 16, Container: 2})
	if err != nil {
		return fmt.Errorf("write %s: %w", o.playback, err)
	}
	defer ww.Close()

	errc := make(chan error, 2)
	go func() { errc <- c.readLoop(ww) }()
	go func() { errc <- c.captureLoop(ctx) }()
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
}

type client struct {
	opt  options
	conn *websocket.Conn

	wmu sync.Mutex // serialises socket writes

	up func([]int16) []int16 // microphone rate -> wire rate; capture goroutine only

	mu        sync.Mutex
	streaming bool
	state     string
	subs      map[chan string]bool
}

func (c *client) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.conn.WriteMessage(websocket.TextMessage, b)
}

func (c *client) setState(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == s {
		return
	}
	c.state = s
	b, _ := json.Marshal(map[string]string{"type": "state", "state": s})
	for ch := range c.subs {
		select {
		case ch <- string(b):
		default:
		}
	}
}

func (c *client) control(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Action string `json:"action"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var err error
	switch req.Action {
	case "ptt_start":
		c.mu.Lock()
		c.streaming = true
		c.mu.Unlock()
		err = c.send(map[string]string{"type": "input_audio_buffer.clear"})
		c.setState("listening")
	case "ptt_stop":
		c.mu.Lock()
		c.streaming = false
		c.mu.Unlock()
		if err = c.send(map[string]string{"type": "input_audio_buffer.commit"}); err == nil {
			err = c.send(map[string]string{"type": "response.create"})
		}
		c.setState("processing")
	default:
		http.Error(w, "unknown action "+req.Action, http.StatusBadRequest)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"action": req.Action, "status": "executed"})
}

func (c *client) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no streaming", http.StatusInternalServerError)
		return
	}
	ch := make(chan string, 64)
	c.mu.Lock()
	c.subs[ch] = true
	first, _ := json.Marshal(map[string]string{"type": "state", "state": c.state})
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.subs, ch)
		c.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	fmt.Fprintf(w, "event: state\ndata: %s\n\n", first)
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case s := <-ch:
			fmt.Fprintf(w, "event: state\ndata: %s\n\n", s)
			fl.Flush()
		}
	}
}

// captureLoop reads the microphone a period at a time and, while a turn is open (or
// always, in continuous mode), sends it.
func (c *client) captureLoop(ctx context.Context) error {
	f, err := os.Open(c.opt.capture)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := wav.NewReader(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", c.opt.capture, err)
	}
	h := r.Header()
	if h.Bits != 16 || h.Container != 2 {
		return fmt.Errorf("read %s: %d-bit samples, want 16", c.opt.capture, h.Bits)
	}
	frames := h.Rate * c.opt.periodMs / 1000
	c.up, err = newResampler(c.opt.resampler, h.Rate, c.opt.wireRate)
	if err != nil {
		return err
	}
	for {
		buf := make([]byte, frames*h.Channels*2)
		n, err := io.ReadFull(r, buf)
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				// The microphone is done; keep the conversation alive until stopped.
				<-ctx.Done()
				return nil
			}
			return err
		}
		samples := make([]int16, n/2/h.Channels)
		for i := range samples {
			sum := 0
			for ch := range h.Channels {
				sum += int(int16(binary.LittleEndian.Uint16(buf[2*(i*h.Channels+ch):])))
			}
			samples[i] = int16(sum / h.Channels)
		}
		c.mu.Lock()
		on := c.streaming || c.opt.continuous
		c.mu.Unlock()
		if !on {
			continue
		}
		pcm := c.up(samples)
		raw := make([]byte, 2*len(pcm))
		for i, s := range pcm {
			binary.LittleEndian.PutUint16(raw[2*i:], uint16(s))
		}
		if err := c.send(map[string]string{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(raw)}); err != nil {
			return err
		}
	}
}

// readLoop handles every server event; audio deltas are played as they come.
func (c *client) readLoop(w *wav.Writer) error {
	down, err := newResampler(c.opt.resampler, c.opt.wireRate, c.opt.playRate)
	if err != nil {
		return err
	}
	c.setState("connected")
	for {
		_, msg, err := c.conn.ReadMessage()
		if err != nil {
			return err
		}
		var ev struct {
			Type  string `json:"type"`
			Delta string `json:"delta"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(msg, &ev); err != nil {
			return fmt.Errorf("server event: %w", err)
		}
		switch ev.Type {
		case "input_audio_buffer.speech_started":
			c.setState("listening")
		case "input_audio_buffer.committed":
			c.setState("processing")
		case "response.output_audio.delta", "response.audio.delta":
			c.setState("speaking")
			raw, err := base64.StdEncoding.DecodeString(ev.Delta)
			if err != nil {
				return fmt.Errorf("audio delta: %w", err)
			}
			pcm := make([]int16, len(raw)/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
			}
			pcm = down(pcm)
			out := make([]byte, 2*len(pcm)*c.opt.playChannels)
			for i, s := range pcm {
				for ch := range c.opt.playChannels {
					binary.LittleEndian.PutUint16(out[2*(i*c.opt.playChannels+ch):], uint16(s))
				}
			}
			if _, err := w.Write(out); err != nil {
				return err
			}
		case "response.done":
			c.setState("connected")
		case "error":
			if ev.Error != nil && !strings.Contains(ev.Error.Message, "no active response") {
				fmt.Fprintln(os.Stderr, "reference: server error:", ev.Error.Message)
			}
		}
	}
}

// newResampler returns a rate converter that returns a new slice per call: linear
// interpolation, or voiced's filter (dsp.Resampler).
func newResampler(kind string, from, to int) (func([]int16) []int16, error) {
	if kind == "linear" {
		return func(in []int16) []int16 { return resample(in, from, to) }, nil
	}
	if from == to {
		return func(in []int16) []int16 { return in }, nil
	}
	r, err := dsp.NewResampler(from, to)
	if err != nil {
		return nil, err
	}
	return func(in []int16) []int16 {
		out := make([]int16, r.MaxOutput(len(in)))
		n := 0
		for len(in) > 0 {
			c, p := r.Process(in, out[n:])
			in, n = in[c:], n+p
			if c == 0 && p == 0 {
				break
			}
		}
		return out[:n]
	}, nil
}

// resample converts by linear interpolation into a new slice, block by block, as a
// simple client does (the edges of blocks are not smoothed).
func resample(in []int16, from, to int) []int16 {
	if from == to {
		return in
	}
	n := len(in) * to / from
	out := make([]int16, n)
	for i := range out {
		pos := float64(i) * float64(from) / float64(to)
		j := int(pos)
		frac := pos - float64(j)
		a := float64(in[j])
		b := a
		if j+1 < len(in) {
			b = float64(in[j+1])
		}
		out[i] = int16(a + (b-a)*frac)
	}
	return out
}
