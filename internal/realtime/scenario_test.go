package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/voiced-project/voiced/internal/realtime"
	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
)

// waitTimeout bounds every wait; scenarios finish far sooner.
const waitTimeout = 10 * time.Second

type audioChunk struct {
	item    string
	samples int
}

type harness struct {
	t      *testing.T
	srv    *realtimetest.Server
	addr   string
	client *realtime.Client
	cancel context.CancelFunc
	done   chan error
	audio  chan audioChunk
	seen   []realtime.Event
}

type harnessOpt func(*realtime.Options)

// start runs a realtimetest server on loopback and a client against it.
// Every server event is validated against the lenient schema and, at the
// end, every client event against the strict one.
func start(t *testing.T, cfg realtimetest.Config, opts ...harnessOpt) *harness {
	t.Helper()
	lenient := lenientSchema(t, cfg.Dialect)
	var mu sync.Mutex
	var bad []string
	cfg.OnEvent = func(msg []byte) {
		if err := lenient.validate("server", msg); err != nil {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("%s: %v", msg, err))
			mu.Unlock()
		}
	}
	srv := realtimetest.New(cfg)
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, addr: addr, done: make(chan error, 1), audio: make(chan audioChunk, 4096)}
	o := realtime.Options{
		URL: "ws://" + addr + "/v1/realtime", Dialect: cfg.Dialect, APIKey: "test-key",
		BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		RolloverIdle: 100 * time.Millisecond,
		Rand:         func() float64 { return 0.5 },
		Audio: func(item string, pcm []int16) {
			select {
			case h.audio <- audioChunk{item, len(pcm)}:
			default:
				t.Errorf("audio sink overflow")
			}
		},
	}
	for _, f := range opts {
		f(&o)
	}
	c, err := realtime.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.client = c
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-h.done:
			if !errors.Is(err, context.Canceled) {
				var fe *realtime.FatalError
				if !errors.As(err, &fe) {
					t.Errorf("Run = %v, want context.Canceled", err)
				}
			}
		case <-time.After(waitTimeout):
			t.Errorf("Run did not return after cancel")
		}
		for range c.Events() { // closed by Run
		}
		srv.Stop()
		for _, msg := range srv.Received() {
			if err := validateClient(t, cfg.Dialect, msg); err != nil {
				t.Errorf("client sent an invalid event %s: %v", msg, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for _, b := range bad {
			t.Errorf("server event fails the lenient schema: %s", b)
		}
	})
	return h
}

// waitFor reads events until match returns true and returns that event.
func (h *harness) waitFor(what string, match func(realtime.Event) bool) realtime.Event {
	h.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev, ok := <-h.client.Events():
			if !ok {
				h.t.Fatalf("events closed while waiting for %s", what)
			}
			h.seen = append(h.seen, ev)
			if match(ev) {
				return ev
			}
		case <-deadline:
			h.t.Fatalf("timed out waiting for %s; seen %s", what, h.summary())
		}
	}
}

func (h *harness) summary() string {
	var s []string
	for _, ev := range h.seen[max(0, len(h.seen)-30):] {
		s = append(s, fmt.Sprintf("%T", ev))
	}
	return strings.Join(s, " ")
}

func is[T realtime.Event](ev realtime.Event) bool { _, ok := ev.(T); return ok }

func (h *harness) connected() *realtime.Connected {
	h.t.Helper()
	return h.waitFor("Connected", is[*realtime.Connected]).(*realtime.Connected)
}

func (h *harness) responseDone() *realtime.ResponseDone {
	h.t.Helper()
	return h.waitFor("ResponseDone", is[*realtime.ResponseDone]).(*realtime.ResponseDone)
}

func (h *harness) serverError(code string) *realtime.ServerError {
	h.t.Helper()
	return h.waitFor("error "+code, func(ev realtime.Event) bool {
		e, ok := ev.(*realtime.ServerError)
		return ok && e.Error.Code == code
	}).(*realtime.ServerError)
}

// send streams pcm in 20 ms appends.
func (h *harness) send(pcm []int16) {
	h.t.Helper()
	for i := 0; i < len(pcm); i += 480 {
		for {
			err := h.client.AppendAudio(pcm[i:min(len(pcm), i+480)])
			if err == nil {
				break
			}
			if !errors.Is(err, realtime.ErrDropped) {
				h.t.Fatalf("AppendAudio = %v", err)
			}
			time.Sleep(time.Millisecond) // the test outpaces the socket; a device would drop
		}
	}
}

// audioSamples drains the sink until n samples arrived for one item.
func (h *harness) audioSamples(n int) (string, int) {
	h.t.Helper()
	got, item := 0, ""
	deadline := time.After(waitTimeout)
	for got < n {
		select {
		case c := <-h.audio:
			got += c.samples
			item = c.item
		case <-deadline:
			h.t.Fatalf("received %d audio samples, want %d", got, n)
		}
	}
	return item, got
}

func speech(ms int) []int16  { return realtimetest.Tone(300, ms, 24000, 8000) }
func silence(ms int) []int16 { return make([]int16, ms*24) }

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptt(o *realtime.Options) {
	o.Session = realtime.Session{Instructions: "Be brief.", Voice: "marin",
		Transcription: &realtime.Transcription{Model: "gpt-4o-mini-transcribe"}}
}

func TestScenarioPushToTalk(t *testing.T) {
	for _, d := range []realtime.Dialect{realtime.GA, realtime.Beta} {
		t.Run(d.String(), func(t *testing.T) {
			h := start(t, realtimetest.Config{Dialect: d, APIKey: "test-key"}, ptt)
			c := h.connected()
			if c.SessionID == "" || c.ExpiresAt.Before(time.Now()) || c.Rollover {
				t.Errorf("Connected = %+v, want a session id and a future expiry", c)
			}
			upd := h.waitFor("SessionUpdated", is[*realtime.SessionUpdated]).(*realtime.SessionUpdated)
			if upd.Session.TurnDetection != "" {
				t.Errorf("session turn detection = %q, want none for push-to-talk", upd.Session.TurnDetection)
			}
			// Too short a commit gets the service's error, and nothing breaks.
			h.send(speech(40))
			check(t, h.client.CommitAudio())
			h.serverError(realtime.CodeCommitEmpty)

			h.send(speech(500))
			check(t, h.client.CommitAudio())
			check(t, h.client.CreateResponse())
			h.waitFor("AudioCommitted", is[*realtime.AudioCommitted])
			tr := h.waitFor("transcription", is[*realtime.InputTranscriptionCompleted]).(*realtime.InputTranscriptionCompleted)
			if !strings.Contains(tr.Transcript, "0.5 s") {
				t.Errorf("transcript = %q, want it to describe 0.5 s of audio", tr.Transcript)
			}
			done := h.responseDone()
			if done.Response.Status != "completed" || done.Response.Usage == nil || done.Response.Usage.TotalTokens == 0 {
				t.Errorf("response.done = %+v, want completed with usage", done.Response)
			}
			// Parrot: the 540 ms committed come back at 24 kHz.
			if _, n := h.audioSamples(540 * 24); n != 540*24 {
				t.Errorf("reply audio = %d samples, want %d", n, 540*24)
			}
			var sawTranscript bool
			for _, ev := range h.seen {
				if td, ok := ev.(*realtime.AudioTranscriptDone); ok && strings.Contains(td.Transcript, "echo") {
					sawTranscript = true
				}
			}
			if !sawTranscript {
				t.Errorf("no assistant transcript among %s", h.summary())
			}
			// Cancelling with nothing active is an error, not a crash.
			check(t, h.client.CancelResponse())
			h.serverError(realtime.CodeCancelNotActive)
		})
	}
}

func TestScenarioServerVAD(t *testing.T) {
	for _, d := range []realtime.Dialect{realtime.GA, realtime.Beta} {
		t.Run(d.String(), func(t *testing.T) { testServerVAD(t, d) })
	}
}

func testServerVAD(t *testing.T, d realtime.Dialect) {
	h := start(t, realtimetest.Config{Dialect: d}, func(o *realtime.Options) {
		o.Session = realtime.Session{
			Transcription: &realtime.Transcription{Model: "whisper-1"},
			TurnDetection: &realtime.TurnDetection{Type: realtime.ServerVAD, Threshold: 0.5,
				PrefixPaddingMs: 100, SilenceDurationMs: 200},
		}
	})
	h.connected()
	h.waitFor("SessionUpdated", is[*realtime.SessionUpdated])
	h.send(silence(300))
	h.send(speech(600))
	h.send(silence(400))
	st := h.waitFor("SpeechStarted", is[*realtime.SpeechStarted]).(*realtime.SpeechStarted)
	if st.AudioStartMs != 200 {
		t.Errorf("speech_started audio_start_ms = %d, want 200 (300 ms minus 100 ms padding)", st.AudioStartMs)
	}
	sp := h.waitFor("SpeechStopped", is[*realtime.SpeechStopped]).(*realtime.SpeechStopped)
	if sp.AudioEndMs != 900 || sp.ItemID != st.ItemID {
		t.Errorf("speech_stopped = %+v, want audio_end_ms 900 for item %s", sp, st.ItemID)
	}
	cm := h.waitFor("AudioCommitted", is[*realtime.AudioCommitted]).(*realtime.AudioCommitted)
	if cm.ItemID != st.ItemID {
		t.Errorf("committed item %s, want %s", cm.ItemID, st.ItemID)
	}
	h.waitFor("transcription", is[*realtime.InputTranscriptionCompleted])
	if done := h.responseDone(); done.Response.Status != "completed" {
		t.Errorf("response status = %s, want completed", done.Response.Status)
	}
	if _, n := h.audioSamples(700 * 24); n != 700*24 {
		t.Errorf("reply = %d samples, want %d (speech and padding)", n, 700*24)
	}
}

func TestScenarioBargeIn(t *testing.T) {
	t.Run("button: cancel and truncate", func(t *testing.T) {
		// Real-time pacing so the reply is still playing when we interrupt.
		h := start(t, realtimetest.Config{Speed: 1}, ptt)
		h.connected()
		h.send(speech(3000))
		check(t, h.client.CommitAudio())
		check(t, h.client.CreateResponse())
		item, n := h.audioSamples(1)
		heardMs := n / 24
		check(t, h.client.CancelResponse())
		check(t, h.client.TruncateItem(item, 0, heardMs))
		// The truncation and the end of the response may come in either order.
		var done *realtime.ResponseDone
		var tr *realtime.ItemTruncated
		h.waitFor("ResponseDone and ItemTruncated", func(ev realtime.Event) bool {
			switch e := ev.(type) {
			case *realtime.ResponseDone:
				done = e
			case *realtime.ItemTruncated:
				tr = e
			}
			return done != nil && tr != nil
		})
		if done.Response.Status != "cancelled" || done.Response.StatusDetails == nil ||
			done.Response.StatusDetails.Reason != "client_cancelled" {
			t.Errorf("response.done = %+v, want cancelled by the client", done.Response)
		}
		if tr.ItemID != item || tr.AudioEndMs != heardMs {
			t.Errorf("truncated = %+v, want item %s at %d ms", tr, item, heardMs)
		}
		// Beyond what was sent, like the service, it is refused.
		check(t, h.client.TruncateItem(item, 0, 60000))
		h.serverError(realtime.CodeInvalidValue)
	})
	t.Run("voice: server cancels on speech", func(t *testing.T) {
		h := start(t, realtimetest.Config{Speed: 1}, func(o *realtime.Options) {
			o.Session.TurnDetection = &realtime.TurnDetection{Type: realtime.ServerVAD, SilenceDurationMs: 200}
		})
		h.connected()
		h.send(speech(3000))
		h.send(silence(300))
		h.waitFor("ResponseCreated", is[*realtime.ResponseCreated])
		h.audioSamples(1)
		h.send(speech(200))
		h.waitFor("SpeechStarted", is[*realtime.SpeechStarted])
		done := h.responseDone()
		if done.Response.Status != "cancelled" || done.Response.StatusDetails == nil ||
			done.Response.StatusDetails.Reason != "turn_detected" {
			t.Errorf("response.done = %+v, want cancelled by turn detection", done.Response)
		}
	})
}

func TestScenarioToolCall(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var args map[string]any
		if err := json.NewDecoder(r.Body).Decode(&args); err != nil || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if args["room"] == "broken" {
			http.Error(w, "lamp offline", http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, `{"lights":"on","room":%q}`, args["room"])
	}))
	t.Cleanup(hook.Close)
	cases := []struct {
		name, tool, args string
		want             string
		wantErr          bool
		dialect          realtime.Dialect
	}{
		{"builtin", "get_time", `{}`, `{"time":"12:00"}`, false, realtime.GA},
		{"builtin beta", "get_time", `{}`, `{"time":"12:00"}`, false, realtime.Beta},
		{"webhook", "lights", `{"room":"kitchen"}`, `{"lights":"on","room":"kitchen"}`, false, realtime.GA},
		{"webhook failing", "lights", `{"room":"broken"}`, `lamp offline`, true, realtime.GA},
		{"panicking", "explode", `{}`, `panicked`, true, realtime.GA},
		{"unknown", "no_such_tool", `{}`, `unknown tool`, true, realtime.GA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tools := realtime.NewTools()
			check(t, tools.Add(realtime.Tool{Def: realtime.ToolDef{Name: "get_time", Description: "local time"},
				Run: func(context.Context, json.RawMessage) (string, error) { return `{"time":"12:00"}`, nil }}))
			check(t, tools.Add(realtime.WebhookTool(realtime.ToolDef{Name: "lights",
				Parameters: json.RawMessage(`{"type":"object","properties":{"room":{"type":"string"}}}`)}, hook.URL, nil, nil)))
			check(t, tools.Add(realtime.Tool{Def: realtime.ToolDef{Name: "explode"},
				Run: func(context.Context, json.RawMessage) (string, error) { panic("boom") }}))
			h := start(t, realtimetest.Config{Dialect: tc.dialect, ToolCall: tc.tool, ToolArguments: tc.args}, ptt, func(o *realtime.Options) { o.Tools = tools })
			h.connected()
			h.send(speech(300))
			check(t, h.client.CommitAudio())
			check(t, h.client.CreateResponse())
			call := h.waitFor("function call", is[*realtime.FunctionCallArgumentsDone]).(*realtime.FunctionCallArgumentsDone)
			if call.Name != tc.tool || call.Arguments != tc.args {
				t.Errorf("call = %+v, want %s(%s)", call, tc.tool, tc.args)
			}
			res := h.waitFor("ToolResult", is[*realtime.ToolResult]).(*realtime.ToolResult)
			if (res.Err != nil) != tc.wantErr || !strings.Contains(res.Output, tc.want) {
				t.Errorf("tool result = %q, %v; want output with %q, error %v", res.Output, res.Err, tc.want, tc.wantErr)
			}
			// The reply follows the output without anyone asking.
			var reply *realtime.AudioTranscriptDone
			h.waitFor("reply transcript", func(ev realtime.Event) bool {
				reply, _ = ev.(*realtime.AudioTranscriptDone)
				return reply != nil
			})
			if !strings.Contains(reply.Transcript, "tool "+tc.tool+" said") {
				t.Errorf("reply = %q, want it to quote the tool output", reply.Transcript)
			}
		})
	}
}

func TestScenarioSessionRollover(t *testing.T) {
	cases := []struct {
		name        string
		hideExpiry  bool
		wantExpired int // sessions the server had to end
	}{
		{"before expires_at", false, 0},
		{"on session_expired", true, 1}, // no expires_at: the server ends it
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, realtimetest.Config{SessionMax: 2 * time.Second, HideExpiry: tc.hideExpiry}, ptt,
				// StableAfter stays at its 30 s: an expiry is a rollover
				// however short the session.
				func(o *realtime.Options) { o.RolloverLead = 800 * time.Millisecond })
			first := h.connected()
			h.send(speech(300))
			check(t, h.client.CommitAudio())
			check(t, h.client.CreateResponse())
			h.responseDone()
			next := h.connected()
			if !next.Rollover || next.Replayed != 2 || next.SessionID == first.SessionID {
				t.Errorf("second Connected = %+v, want a new session rolled over with 2 turns replayed", next)
			}
			for _, ev := range h.seen {
				if d, ok := ev.(*realtime.Disconnected); ok {
					t.Errorf("rollover reported Disconnected(%v); it should be seamless", d.Err)
				}
			}
			// The conversation goes on in the new session.
			h.send(speech(300))
			check(t, h.client.CommitAudio())
			check(t, h.client.CreateResponse())
			if done := h.responseDone(); done.Response.Status != "completed" {
				t.Errorf("response after rollover = %s", done.Response.Status)
			}
			var replayed []string
			updates := 0
			for _, msg := range h.srv.Received() {
				var ev struct {
					Type string `json:"type"`
					Item struct {
						Role    string                  `json:"role"`
						Content []struct{ Text string } `json:"content"`
					} `json:"item"`
				}
				check(t, json.Unmarshal(msg, &ev))
				if ev.Type == "session.update" {
					updates++
				}
				if ev.Type == "conversation.item.create" && updates == 2 {
					replayed = append(replayed, ev.Item.Role+": "+ev.Item.Content[0].Text)
				}
			}
			if len(replayed) != 2 || !strings.HasPrefix(replayed[0], "user: (0.3 s") || !strings.HasPrefix(replayed[1], "assistant: (echo") {
				t.Errorf("replayed items = %q, want the user turn then the assistant turn", replayed)
			}
			if !tc.hideExpiry {
				// A second rollover replays both turns, each once.
				third := h.connected()
				if !third.Rollover || third.Replayed != 4 {
					t.Errorf("third Connected = %+v, want a rollover replaying 4 turns", third)
				}
			}
			if n := h.srv.Expired(); n != tc.wantExpired {
				t.Errorf("server expired %d sessions, want %d", n, tc.wantExpired)
			}
			if want := 2 - tc.wantExpired; h.client.Stats().Rollovers != uint64(want) {
				t.Errorf("Stats().Rollovers = %d, want %d", h.client.Stats().Rollovers, want)
			}
		})
	}
}

func TestScenarioServerRestart(t *testing.T) {
	h := start(t, realtimetest.Config{}, ptt, func(o *realtime.Options) {
		// The defaults, with the jitter fixed at its slow end.
		o.BackoffMin, o.BackoffMax = 0, 0
		o.Rand = func() float64 { return 0.999 }
	})
	h.connected()
	h.srv.Stop()
	downAt := time.Now()
	h.waitFor("Disconnected", is[*realtime.Disconnected])
	var waits []time.Duration
	for time.Since(downAt) < 2*time.Second {
		d := h.waitFor("Disconnected", is[*realtime.Disconnected]).(*realtime.Disconnected)
		waits = append(waits, d.RetryIn)
	}
	if len(waits) > 10 {
		t.Errorf("%d retries in 2 s (%v): a retry storm", len(waits), waits)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] {
			t.Errorf("retry waits %v: want them growing", waits)
		}
	}
	if _, err := h.srv.Start(h.addr); err != nil {
		t.Fatalf("restart on %s: %v", h.addr, err)
	}
	upAt := time.Now()
	h.connected()
	// After 2 s of outage the wait is at most 3.2 s (the backoff keeps
	// growing to BackoffMax while the server stays away).
	if d := time.Since(upAt); d > 4*time.Second {
		t.Errorf("reconnected %v after the server came back, want within 4 s", d)
	}
	// And it works.
	h.send(speech(200))
	check(t, h.client.CommitAudio())
	check(t, h.client.CreateResponse())
	h.responseDone()
}

func TestScenarioInvalidAPIKey(t *testing.T) {
	h := start(t, realtimetest.Config{APIKey: "the-right-key"})
	f := h.waitFor("Fatal", is[*realtime.Fatal]).(*realtime.Fatal)
	var fe *realtime.FatalError
	if !errors.As(f.Err, &fe) || fe.Status != http.StatusUnauthorized || fe.Code != realtime.CodeInvalidAPIKey {
		t.Fatalf("Fatal = %v, want HTTP 401 invalid_api_key", f.Err)
	}
	if msg := f.Err.Error(); !strings.Contains(msg, "API key was rejected") {
		t.Errorf("message %q, want it to say the API key was rejected", msg)
	}
	if f.RetryIn < time.Minute {
		t.Errorf("RetryIn = %v, want a slow retry", f.RetryIn)
	}
	time.Sleep(300 * time.Millisecond) // many normal backoffs' worth
	if n := h.srv.Upgrades(); n != 1 {
		t.Errorf("%d upgrade attempts after a fatal error, want 1", n)
	}
	if err := h.client.AppendAudio(speech(20)); !errors.Is(err, realtime.ErrNotConnected) {
		t.Errorf("AppendAudio = %v, want ErrNotConnected", err)
	}
}

func TestScenarioFatalServerError(t *testing.T) {
	// A server that speaks only GA refuses a beta client with a fatal error.
	cfg := realtimetest.Config{Dialect: realtime.GA}
	srv := realtimetest.New(cfg)
	addr, err := srv.Start("127.0.0.1:0")
	check(t, err)
	defer srv.Stop()
	c, err := realtime.New(realtime.Options{URL: "ws://" + addr + "/v1/realtime", Dialect: realtime.Beta, FatalRetry: -1})
	check(t, err)
	go func() {
		for range c.Events() {
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	err = c.Run(ctx)
	var fe *realtime.FatalError
	if !errors.As(err, &fe) || fe.Code != realtime.CodeBetaAPIShapeDisabled {
		t.Errorf("Run = %v, want a fatal beta_api_shape_disabled", err)
	}
}

func TestScenarioBadFrames(t *testing.T) {
	h := start(t, realtimetest.Config{}, ptt, func(o *realtime.Options) { o.MaxMessageSize = 64 << 10 })
	h.connected()
	h.waitFor("SessionUpdated", is[*realtime.SessionUpdated])
	for _, f := range []struct {
		typ  int
		data string
	}{
		{websocket.TextMessage, "this is not json {"},
		{websocket.TextMessage, `{"no":"type"}`},
		{websocket.TextMessage, `{"type":"response.output_audio.delta","item_id":"x","delta":"%%%%"}`},
		{websocket.BinaryMessage, "\x00\x01"},
	} {
		h.srv.Inject(f.typ, []byte(f.data))
		pe := h.waitFor("ProtocolError", is[*realtime.ProtocolError]).(*realtime.ProtocolError)
		if pe.Err == nil || pe.Err.Error() == "" {
			t.Errorf("ProtocolError for %q has no message", f.data)
		}
	}
	h.srv.Inject(websocket.TextMessage, []byte(`{"type":"brand.new.event"}`))
	// Still the same connection: a turn works.
	h.send(speech(200))
	check(t, h.client.CommitAudio())
	check(t, h.client.CreateResponse())
	h.responseDone()
	if s := h.client.Stats(); s.BadEvents != 4 || s.UnknownEvents != 1 || s.Reconnects != 0 {
		t.Errorf("Stats = %+v, want 4 bad, 1 unknown, no reconnects", s)
	}

	// An oversized frame ends the connection with a clear error; the
	// client reconnects and goes on.
	h.srv.Inject(websocket.TextMessage, []byte(`{"type":"conversation.item.added","pad":"`+strings.Repeat("x", 100<<10)+`"}`))
	d := h.waitFor("Disconnected", is[*realtime.Disconnected]).(*realtime.Disconnected)
	if !errors.Is(d.Err, websocket.ErrReadLimit) {
		t.Errorf("Disconnected(%v), want the read limit named", d.Err)
	}
	h.connected()
	h.send(speech(200))
	check(t, h.client.CommitAudio())
	check(t, h.client.CreateResponse())
	h.responseDone()
}

func TestScenarioFailAfter(t *testing.T) {
	h := start(t, realtimetest.Config{FailAfter: 3}, ptt)
	h.connected()
	d := h.waitFor("Disconnected", is[*realtime.Disconnected]).(*realtime.Disconnected)
	if d.Err == nil || d.RetryIn <= 0 {
		t.Errorf("Disconnected = %+v, want an error and a retry delay", d)
	}
	h.connected()
}

func TestScenarioOnDemand(t *testing.T) {
	h := start(t, realtimetest.Config{}, ptt, func(o *realtime.Options) { o.OnDemand = true })
	time.Sleep(100 * time.Millisecond)
	if n := h.srv.Upgrades(); n != 0 {
		t.Fatalf("%d upgrades before Dial, want 0", n)
	}
	if err := h.client.AppendAudio(speech(20)); !errors.Is(err, realtime.ErrNotConnected) {
		t.Errorf("AppendAudio before Dial = %v, want ErrNotConnected", err)
	}
	h.client.Dial()
	h.connected()
	h.send(speech(300))
	check(t, h.client.CommitAudio())
	check(t, h.client.CreateResponse())
	h.responseDone()
	h.client.Hangup()
	d := h.waitFor("Disconnected", is[*realtime.Disconnected]).(*realtime.Disconnected)
	if !errors.Is(d.Err, realtime.ErrHangup) {
		t.Errorf("Disconnected(%v), want ErrHangup", d.Err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := h.srv.Connections(); n != 0 {
		t.Errorf("%d connections after Hangup, want 0", n)
	}
	// The next Dial picks the conversation up again.
	h.client.Dial()
	if c := h.connected(); c.Replayed != 2 {
		t.Errorf("Connected after redial = %+v, want 2 turns replayed", c)
	}
}

// A board whose clock is hours off still rolls over at the right time:
// the server's Date header corrects expires_at.
func TestScenarioClockSkew(t *testing.T) {
	skewed := skewClock{3 * time.Hour}
	h := start(t, realtimetest.Config{SessionMax: 2 * time.Second}, ptt, func(o *realtime.Options) {
		o.Clock = skewed
		o.RolloverLead = 800 * time.Millisecond
		o.StableAfter = 500 * time.Millisecond
	})
	c := h.connected()
	if life := c.ExpiresAt.Sub(skewed.Now()); life < time.Second || life > 4*time.Second {
		t.Errorf("ExpiresAt is %v from the local clock, want about 2 s", life)
	}
	next := h.connected()
	if !next.Rollover || h.srv.Expired() != 0 {
		t.Errorf("second Connected = %+v with %d expired sessions, want a rollover before expiry", next, h.srv.Expired())
	}
}

type skewClock struct{ d time.Duration }

func (s skewClock) Now() time.Time                         { return time.Now().Add(s.d) }
func (s skewClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestScenarioUplinkLatencyHook: an append that carries its capture time reports, once
// written, the time since then; a plain AppendAudio reports nothing.
func TestScenarioUplinkLatencyHook(t *testing.T) {
	got := make(chan time.Duration, 16)
	h := start(t, realtimetest.Config{Dialect: realtime.GA, APIKey: "test-key"}, ptt, func(o *realtime.Options) {
		o.OnAudioWritten = func(d time.Duration) { got <- d }
	})
	h.connected()
	check(t, h.client.AppendAudio(speech(20)))
	captured := time.Now().Add(-5 * time.Millisecond)
	check(t, h.client.AppendAudioAt(speech(20), captured.UnixNano()))
	select {
	case d := <-got:
		if d < 5*time.Millisecond || d > waitTimeout {
			t.Errorf("reported %v since capture, want at least the 5 ms it was old", d)
		}
	case <-time.After(waitTimeout):
		t.Fatal("OnAudioWritten was not called for the timed append")
	}
	// Both appends are on the socket once the server answers the commit that
	// follows them (one writer, in order; 40 ms is too short to commit).
	check(t, h.client.CommitAudio())
	h.serverError(realtime.CodeCommitEmpty)
	select {
	case d := <-got:
		t.Errorf("OnAudioWritten called again (%v); want once, for the timed append only", d)
	default:
	}
}

// A server that expires each session within minSessionLife is broken, not
// busy: its expiry is a disconnection with backoff, not a rollover loop.
func TestScenarioInstantExpiryIsDisconnection(t *testing.T) {
	h := start(t, realtimetest.Config{SessionMax: 200 * time.Millisecond, HideExpiry: true}, ptt)
	h.connected()
	d := h.waitFor("Disconnected", is[*realtime.Disconnected]).(*realtime.Disconnected)
	if d.Err == nil || !strings.Contains(d.Err.Error(), "ended the session after only") {
		t.Errorf("Disconnected(%v), want the short session named", d.Err)
	}
	if d.RetryIn <= 0 {
		t.Errorf("Disconnected.RetryIn = %v, want a backoff", d.RetryIn)
	}
}

// TestScenarioRolloverMidTurn: a session whose hard deadline comes while the user
// is speaking loses none of the turn. The new session gets the turn's audio again,
// with what came while it was being opened, and the question is answered once.
func TestScenarioRolloverMidTurn(t *testing.T) {
	h := start(t, realtimetest.Config{SessionMax: 2 * time.Second}, ptt,
		func(o *realtime.Options) { o.RolloverLead = 800 * time.Millisecond })
	first := h.connected()
	// 3 s of speech in real time, 20 ms at a time, across the rollover at about
	// 1.9 s: the client never reports the audio lost.
	tone := speech(3000)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < len(tone); i += 480 {
		<-tick.C
		if err := h.client.AppendAudio(tone[i : i+480]); err != nil {
			t.Fatalf("AppendAudio at %d ms = %v, want the audio kept across the rollover", i/24, err)
		}
	}
	check(t, h.client.CommitAudio())
	check(t, h.client.CreateResponse())
	next := h.connected()
	if !next.Rollover || next.SessionID == first.SessionID {
		t.Fatalf("second Connected = %+v, want a rollover", next)
	}
	tr := h.waitFor("the turn's transcript", is[*realtime.InputTranscriptionCompleted]).(*realtime.InputTranscriptionCompleted)
	if tr.Transcript != "(3.0 s of audio)" {
		t.Errorf("the new session heard %s, want all 3.0 s of the turn", tr.Transcript)
	}
	h.responseDone()
	if d := h.client.Stats().AudioDropped; d != 0 {
		t.Errorf("%d appends dropped", d)
	}
}
