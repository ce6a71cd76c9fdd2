package estuary

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/backendtest"
	"github.com/voiced-project/voiced/internal/backend/estuary/estuarytest"
	"github.com/voiced-project/voiced/internal/backend/sio"
	"github.com/voiced-project/voiced/internal/backend/siolink"
)

type harness struct {
	backendtest.Harness
	t   *testing.T
	srv *estuarytest.Server
	c   *Client
	snk *backendtest.Sink
}

func start(t *testing.T, so estuarytest.Options, o Options) *harness {
	t.Helper()
	h := &harness{t: t, srv: estuarytest.New(so), snk: &backendtest.Sink{}}
	ts := httptest.NewServer(h.srv)
	t.Cleanup(ts.Close)
	o.URL = ts.URL
	if o.APIKey == "" {
		o.APIKey = "est_good"
	}
	o.CharacterID, o.PlayerID = "char-1", "player-1"
	o.Audio = h.snk.Audio
	o.BackoffMin, o.BackoffMax = 20*time.Millisecond, 50*time.Millisecond
	o.FatalRetry = time.Hour
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.c, h.Harness = c, backendtest.Harness{T: t, B: c}
	backendtest.Start(t, c)
	return h
}

var (
	kind   = backendtest.Kind
	speech = backendtest.Speech
)

func TestPushToTalkTurn(t *testing.T) {
	h := start(t, estuarytest.Options{APIKey: "est_good"}, Options{PushToTalk: true, OutputRate: 24000})
	h.Wait("connected", kind(backend.Connected))
	if err := h.c.StartTurn(); err != nil {
		t.Fatal(err)
	}
	h.Wait("start ack", kind(backend.ControlAck))
	h.Send(speech(500))
	if err := h.c.EndTurn(); err != nil {
		t.Fatal(err)
	}
	evs := h.Wait("reply done", kind(backend.ReplyDone))
	var order []string
	var final, answer string
	for _, e := range evs {
		switch {
		case e.Kind == backend.Transcript && e.Role == backend.User:
			order = append(order, map[bool]string{false: "interim", true: "final"}[e.Final])
			if e.Final {
				final = e.Text
			}
		case e.Kind == backend.Transcript && e.Role == backend.Assistant && e.Final:
			answer = e.Text
		case e.Kind == backend.SpeechStarted, e.Kind == backend.SpeechStopped, e.Kind == backend.Committed, e.Kind == backend.ReplyStarted:
			order = append(order, e.Kind.String())
		}
	}
	want := "speech_started interim final speech_stopped committed reply_started"
	if strings.Join(order, " ") != want {
		t.Errorf("events = %v, want %s", order, want)
	}
	if final != "I spoke for 500 milliseconds" || answer != "You said: "+final {
		t.Errorf("transcript %q, reply %q", final, answer)
	}
	// The parrot comes back at the session's 24 kHz: 500 ms is 12000 samples.
	if n := h.snk.Total(); n != 12000 || h.snk.Rate() != 24000 {
		t.Errorf("reply audio = %d samples at %d Hz, want 12000 at 24000", n, h.snk.Rate())
	}
	var sv struct {
		TurnMode string `json:"turn_mode"`
	}
	recs := h.srv.Records()
	if recs[0].Event != "connect" || !strings.Contains(string(recs[0].Arg), `"audio_sample_rate":24000`) {
		t.Errorf("first record = %s %s, want connect with the auth object", recs[0].Event, recs[0].Arg)
	}
	for _, r := range recs {
		if r.Event == "start_voice" {
			json.Unmarshal(r.Arg, &sv)
			if r.AckID < 0 || sv.TurnMode != "push_to_talk" {
				t.Errorf("start_voice %s ack %d, want push_to_talk with an ack id", r.Arg, r.AckID)
			}
		}
	}
	if n := h.srv.Count("stream_audio"); n != 5 {
		t.Errorf("stream_audio events = %d, want 5", n)
	}
	if err := h.c.PlaybackDone(evs[len(evs)-1].ReplyID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "audio_playback_complete", func() bool { return h.srv.Count("audio_playback_complete") == 1 })
	if r := last(h.srv.Records()); string(r.Arg) != `{"message_id":"`+evs[len(evs)-1].ReplyID+`"}` {
		t.Errorf("audio_playback_complete %s, want the reply's message_id", r.Arg)
	}
}

func last(r []estuarytest.Record) estuarytest.Record { return r[len(r)-1] }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: not within 5 s", what)
}

func TestContinuousTurn(t *testing.T) {
	h := start(t, estuarytest.Options{SilenceMs: 300}, Options{})
	h.Wait("connected", kind(backend.Connected))
	h.Wait("voice started", kind(backend.ControlAck)) // start_voice went by itself
	h.Send(speech(300))
	h.Send(make([]int16, 16*400))
	evs := h.Wait("reply done", kind(backend.ReplyDone))
	// The turn ends after 300 ms of the quiet: 600 ms heard.
	if n := h.snk.Total(); n != 16*600 {
		t.Errorf("reply audio = %d samples, want %d (the whole turn at 16 kHz)", n, 16*600)
	}
	for _, e := range evs {
		if e.Kind == backend.Transcript && e.Role == backend.User && e.Final && e.Text != "I spoke for 600 milliseconds" {
			t.Errorf("final transcript %q", e.Text)
		}
	}
}

func TestInterrupt(t *testing.T) {
	h := start(t, estuarytest.Options{Pace: true, ChunkMs: 100}, Options{PushToTalk: true})
	h.Wait("connected", kind(backend.Connected))
	h.c.StartTurn()
	h.Send(speech(2000))
	h.c.EndTurn()
	ev := h.Wait("reply started", kind(backend.ReplyStarted))
	waitFor(t, "first chunk", func() bool { return h.snk.Total() > 0 })
	if err := h.c.Control(backend.ActionInterrupt); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "client_interrupt", func() bool { return h.srv.Count("client_interrupt") == 1 })
	r := last(h.srv.Records())
	if string(r.Arg) != `{"message_id":"`+ev[len(ev)-1].ReplyID+`"}` {
		t.Errorf("client_interrupt %s, want message_id %s", r.Arg, ev[len(ev)-1].ReplyID)
	}
	time.Sleep(300 * time.Millisecond)
	n := h.snk.Total()
	if n >= 32000 {
		t.Errorf("reply audio after interrupt = %d samples, want less than the 32000 of the whole reply", n)
	}
	// A chunk of that reply still in flight is dropped. (Fed by hand once
	// the server has gone quiet: the handler belongs to the reader.)
	h.c.link.Packet(packet(t, `42/sdk,["bot_voice",{"audio":"AAAAAA==","message_id":"`+ev[len(ev)-1].ReplyID+`"}]`))
	if h.snk.Total() != n {
		t.Error("a chunk of the interrupted reply reached the sink")
	}
}

func TestServerInterruptDropsLateChunks(t *testing.T) {
	h := start(t, estuarytest.Options{Pace: true, ChunkMs: 100}, Options{PushToTalk: true})
	h.Wait("connected", kind(backend.Connected))
	h.c.StartTurn()
	h.Send(speech(2000))
	h.c.EndTurn()
	started := h.Wait("reply started", kind(backend.ReplyStarted))
	waitFor(t, "first chunk", func() bool { return h.snk.Total() > 0 })
	if err := h.srv.Inject("interrupt"); err != nil {
		t.Fatal(err)
	}
	ev := h.Wait("interrupted", kind(backend.Interrupted))
	if id := ev[len(ev)-1].ReplyID; id != started[len(started)-1].ReplyID {
		t.Errorf("interrupted %q, want %q", id, started[len(started)-1].ReplyID)
	}
	// A late chunk of that message is dropped: play it in by hand once the
	// server has gone quiet (the handler belongs to the reader).
	time.Sleep(200 * time.Millisecond)
	n := h.snk.Total()
	h.c.link.Packet(packet(t, `42/sdk,["bot_voice",{"audio":"AAAAAA==","message_id":"`+ev[len(ev)-1].ReplyID+`"}]`))
	if h.snk.Total() != n {
		t.Error("a chunk of the interrupted message reached the sink")
	}
}

func packet(t *testing.T, s string) sio.Packet {
	p, err := sio.ParsePacket([]byte(s[1:]))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestControl(t *testing.T) {
	h := start(t, estuarytest.Options{}, Options{})
	h.Wait("connected", kind(backend.Connected))
	h.Wait("voice started", kind(backend.ControlAck))
	for _, a := range []backend.Action{backend.ActionStopListening, backend.ActionStartListening} {
		if err := h.c.Control(a); err != nil {
			t.Fatal(err)
		}
		ev := h.Wait("ack", kind(backend.ControlAck))
		if got := ev[len(ev)-1].Action; got != a {
			t.Errorf("Control(%s): ack for %s", a, got)
		}
	}
	for _, a := range []backend.Action{backend.ActionPause, backend.ActionResume} {
		if err := h.c.Control(a); !errors.Is(err, backend.ErrUnsupported) {
			t.Errorf("Control(%s) = %v, want ErrUnsupported", a, err)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		inject   string
		ev       backend.Kind
		kind     backend.ErrorKind
		redialed bool // reconnects by itself
	}{
		{"error", backend.Error, backend.KindOther, false},
		{"voice_error", backend.Error, backend.KindAudio, false},
		{"voice_timeout", backend.Error, backend.KindTimeout, false},
		{"auth_error", backend.Fatal, backend.KindAuth, false},
		{"quota_exceeded", backend.Fatal, backend.KindQuota, false},
		{"session_timeout", backend.Fatal, backend.KindTimeout, false},
		{"session_rejected", backend.Fatal, backend.KindSession, false},
	}
	for _, tt := range tests {
		t.Run(tt.inject, func(t *testing.T) {
			h := start(t, estuarytest.Options{}, Options{PushToTalk: true})
			h.Wait("connected", kind(backend.Connected))
			if err := h.srv.Inject(tt.inject); err != nil {
				t.Fatal(err)
			}
			evs := h.Wait(tt.ev.String(), kind(tt.ev))
			e := evs[len(evs)-1]
			var ee *Error
			if !errors.As(e.Err, &ee) || ee.Event != tt.inject || backend.KindOf(e.Err) != tt.kind {
				t.Fatalf("%s event err = %v, want an *Error for %s of kind %d", tt.ev, e.Err, tt.inject, tt.kind)
			}
			if !strings.HasPrefix(e.Err.Error(), "estuary: ") || len(e.Err.Error()) < 30 {
				t.Errorf("message %q: want plain words", e.Err)
			}
		})
	}
	// After session_timeout, the next turn reconnects.
	h := start(t, estuarytest.Options{}, Options{PushToTalk: true})
	h.Wait("connected", kind(backend.Connected))
	h.srv.Inject("session_timeout")
	h.Wait("fatal", kind(backend.Fatal))
	if err := h.c.StartTurn(); !errors.Is(err, backend.ErrNotConnected) {
		t.Errorf("StartTurn after session_timeout = %v, want ErrNotConnected", err)
	}
	h.Wait("connected again", kind(backend.Connected))
}

func TestAuthRefused(t *testing.T) {
	for _, how := range []string{"connect_error", "auth_error"} {
		t.Run(how, func(t *testing.T) {
			h := start(t, estuarytest.Options{APIKey: "est_good", AuthFailure: how}, Options{APIKey: "est_bad"})
			evs := h.Wait("fatal", kind(backend.Fatal))
			err := evs[len(evs)-1].Err
			if backend.KindOf(err) != backend.KindAuth || !strings.Contains(err.Error(), "Invalid API key") {
				t.Errorf("fatal error %v, want an auth error quoting the server", err)
			}
			if evs[len(evs)-1].RetryIn != time.Hour {
				t.Errorf("retry in %v, want FatalRetry", evs[len(evs)-1].RetryIn)
			}
		})
	}
}

func TestReconnectAfterRestart(t *testing.T) {
	h := start(t, estuarytest.Options{}, Options{PushToTalk: true})
	h.Wait("connected", kind(backend.Connected))
	h.srv.SetDown(true)
	h.srv.Drop()
	h.Wait("disconnected", kind(backend.Disconnected))
	h.Wait("a failed redial", kind(backend.Disconnected))
	h.srv.SetDown(false)
	h.Wait("connected again", kind(backend.Connected))
	if n := h.srv.Count("connect"); n != 2 {
		t.Errorf("connects = %d, want 2", n)
	}
	// The new link works: a turn goes through.
	h.c.StartTurn()
	h.Send(speech(200))
	h.c.EndTurn()
	h.Wait("reply done", kind(backend.ReplyDone))
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	h := startQuiet(t, Options{PushToTalk: true, Tuning: siolink.Tuning{AudioSlots: 4}})
	h.Wait("connected", kind(backend.Connected))
	pcm := speech(100)
	for range 8 { // every buffer grows once
		h.c.AppendAudio(pcm)
		time.Sleep(10 * time.Millisecond)
	}
	if n := testing.AllocsPerRun(100, func() {
		h.c.AppendAudio(pcm) // dropped when the writer is behind: also free
	}); n != 0 {
		t.Errorf("AppendAudio: %.1f allocations per 100 ms chunk, want 0", n)
	}
	// The downlink: a bot_voice chunk found and decoded without allocating.
	msg := []byte(`2/sdk,["bot_voice",{"audio":"` + strings.Repeat("AAAA", 1600) + `","message_id":"m1","chunk_index":3,"is_final":false,"sample_rate":24000}]`)
	hd := h.c.link
	p, _ := sio.ParsePacket(msg)
	hd.Packet(p)
	if n := testing.AllocsPerRun(100, func() {
		p, _ := sio.ParsePacket(msg)
		hd.Packet(p)
	}); n != 0 {
		t.Errorf("bot_voice chunk: %.1f allocations, want 0", n)
	}
}

func TestSendText(t *testing.T) {
	h := start(t, estuarytest.Options{}, Options{PushToTalk: true})
	h.Wait("connected", kind(backend.Connected))
	if err := h.c.SendText("Hello"); err != nil {
		t.Fatal(err)
	}
	evs := h.Wait("reply done", kind(backend.ReplyDone))
	var answer string
	for _, e := range evs {
		if e.Kind == backend.Transcript && e.Final {
			answer = e.Text
		}
	}
	if answer != "You said: Hello" || h.snk.Total() != 16*400 {
		t.Errorf("reply %q with %d samples, want \"You said: Hello\" and a 400 ms tone", answer, h.snk.Total())
	}
	r := last(h.srv.Records())
	if r.Event != "text" || string(r.Arg) != `{"text":"Hello","textOnly":false}` {
		t.Errorf("sent %s %s", r.Event, r.Arg)
	}
}

// lockedBuf is a Record writer the test may read while the server writes.
type lockedBuf struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

func TestRecordLines(t *testing.T) {
	rec := &lockedBuf{}
	h := start(t, estuarytest.Options{Record: rec}, Options{PushToTalk: true})
	h.Wait("connected", kind(backend.Connected))
	h.c.StartTurn()
	h.Send(speech(100))
	h.c.EndTurn()
	h.Wait("reply done", kind(backend.ReplyDone))
	lines := strings.Split(strings.TrimSpace(rec.String()), "\n")
	want := []string{
		`{"event":"connect","arg":{"api_key":"est_good",`,
		`{"event":"start_voice","arg":{"turn_mode":"push_to_talk"}}`,
		`{"event":"stream_audio","arg":{"audio_bytes":3200}}`,
		`{"event":"stop_voice"}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("record = %q, want %d lines", lines, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("record line %d = %s, want %s...", i, lines[i], w)
		}
	}
}

// TestPushToTalkHoldsAudioUntilAck: the fake opens speech-to-text 150 ms
// after start_voice, beside its reader; audio sent before the ack would be
// lost, so the client holds it and nothing is ignored.
func TestPushToTalkHoldsAudioUntilAck(t *testing.T) {
	h := start(t, estuarytest.Options{StartDelay: 150 * time.Millisecond}, Options{PushToTalk: true})
	h.Wait("connected", kind(backend.Connected))
	if err := h.c.StartTurn(); err != nil {
		t.Fatal(err)
	}
	h.Send(speech(300)) // at once: the pre-roll and the first words
	if err := h.c.EndTurn(); err != nil {
		t.Fatal(err)
	}
	evs := h.Wait("reply done", kind(backend.ReplyDone))
	for _, e := range evs {
		if e.Kind == backend.Transcript && e.Role == backend.User && e.Final && e.Text != "I spoke for 300 milliseconds" {
			t.Errorf("final transcript %q, want all 300 ms heard", e.Text)
		}
	}
	var order []string
	for _, r := range h.srv.Records() {
		if strings.Contains(string(r.Arg), "ignored") {
			t.Errorf("audio lost: %s", r.Arg)
		}
		if r.Event != "connect" && (len(order) == 0 || order[len(order)-1] != r.Event) {
			order = append(order, r.Event)
		}
	}
	if want := "start_voice stream_audio stop_voice"; strings.Join(order, " ") != want {
		t.Errorf("server saw %v, want %s", order, want)
	}
}

// startQuiet runs a client against backendtest.Quiet.
func startQuiet(t *testing.T, o Options) *harness {
	t.Helper()
	url := backendtest.Quiet(t, "", `40/sdk,{"sid":"q"}`, `42/sdk,["session_info",{"session_id":"q"}]`)
	h := &harness{t: t, snk: &backendtest.Sink{}}
	o.URL, o.APIKey, o.CharacterID, o.PlayerID, o.Audio = url, "k", "c", "p", h.snk.Audio
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.c, h.Harness = c, backendtest.Harness{T: t, B: c}
	backendtest.Start(t, c)
	return h
}
