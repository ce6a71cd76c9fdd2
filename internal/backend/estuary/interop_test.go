package estuary

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/backendtest"
	"github.com/voiced-project/voiced/internal/backend/estuary/estuarytest"
	"github.com/voiced-project/voiced/internal/backend/nodetest"
)

// TestInteropReferenceClient drives estuarytest with npm socket.io-client.
func TestInteropReferenceClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	srv := estuarytest.New(estuarytest.Options{APIKey: "est_good"})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	p := nodetest.Start(t, "testdata/client.js", ts.URL, "est_good")
	var done struct {
		STT []struct {
			Text    string `json:"text"`
			IsFinal bool   `json:"is_final"`
		} `json:"stt"`
		Reply     string `json:"reply"`
		Samples   int    `json:"samples"`
		Rate      int    `json:"rate"`
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal([]byte(p.Line(t, "DONE ", 60*time.Second)), &done); err != nil {
		t.Fatal(err)
	}
	if len(done.STT) != 2 || done.STT[0].IsFinal || !done.STT[1].IsFinal || done.STT[1].Text != "I spoke for 500 milliseconds" {
		t.Errorf("stt_response = %+v, want an interim then the final transcript", done.STT)
	}
	if done.Reply != "You said: I spoke for 500 milliseconds" || done.Samples != 8000 || done.Rate != 16000 {
		t.Errorf("reply %q, %d samples at %d Hz; want the parrot: 8000 at 16000", done.Reply, done.Samples, done.Rate)
	}
	if err := p.Wait(5 * time.Second); err != nil {
		t.Errorf("node client: %v", err)
	}
	var got []string
	for _, r := range srv.Records() {
		if r.Event != "stream_audio" {
			got = append(got, r.Event)
		}
	}
	if want := "connect start_voice stop_voice audio_playback_complete disconnect"; strings.Join(got, " ") != want {
		t.Errorf("server saw %v, want %s", got, want)
	}
	if n := srv.Count("stream_audio"); n != 5 {
		t.Errorf("stream_audio = %d, want 5", n)
	}
	// A wrong key is refused in a way socket.io-client understands.
	p = nodetest.Start(t, "testdata/client.js", ts.URL, "est_bad")
	if msg := p.Line(t, "CONNECT_ERROR ", 60*time.Second); msg != `"Invalid API key"` {
		t.Errorf("connect_error message %s, want \"Invalid API key\"", msg)
	}
}

// TestInteropReferenceServer drives a fake built on npm socket.io with the
// Go client.
func TestInteropReferenceServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	p := nodetest.Start(t, "testdata/server.js")
	url := "http://127.0.0.1:" + p.Line(t, "PORT ", 60*time.Second)
	snk := &backendtest.Sink{}
	c, err := New(Options{URL: url, APIKey: "est_good", CharacterID: "char-1", PlayerID: "player-1", PushToTalk: true, Audio: snk.Audio})
	if err != nil {
		t.Fatal(err)
	}
	stop := backendtest.Start(t, c)
	h := &harness{Harness: backendtest.Harness{T: t, B: c}, t: t, c: c, snk: snk}
	ev := h.Wait("connected", kind(backend.Connected))
	if id := ev[len(ev)-1].SessionID; id != "sess-node" {
		t.Errorf("session %q, want sess-node", id)
	}
	var auth map[string]any
	json.Unmarshal([]byte(p.Line(t, "AUTH ", time.Second)), &auth)
	if auth["api_key"] != "est_good" || auth["character_id"] != "char-1" || auth["audio_sample_rate"] != 16000.0 {
		t.Errorf("auth seen by socket.io = %v", auth)
	}
	c.StartTurn()
	if l := p.Line(t, "EV ", 5*time.Second); l != `{"name":"start_voice","arg":{"turn_mode":"push_to_talk"},"acked":true}` {
		t.Errorf("socket.io saw %s", l)
	}
	h.Wait("voice started", kind(backend.ControlAck))
	time.Sleep(700 * time.Millisecond) // two of the server's 300 ms pings answered
	h.Send(speech(500))
	c.EndTurn()
	evs := h.Wait("reply done", kind(backend.ReplyDone))
	var texts []string
	for _, e := range evs {
		if e.Kind == backend.Transcript {
			texts = append(texts, e.Text)
		}
	}
	if want := "hel|hello there|Hi|Hi, friend"; strings.Join(texts, "|") != want {
		t.Errorf("transcripts %q, want %s", texts, want)
	}
	if snk.Total() != 9600 || snk.Rate() != 24000 {
		t.Errorf("reply audio %d samples at %d Hz, want 9600 at 24000", snk.Total(), snk.Rate())
	}
	if l := p.Line(t, "EV ", 5*time.Second); l != `{"name":"stop_voice","bytes":16000,"acked":true}` {
		t.Errorf("socket.io saw %s", l)
	}
	c.PlaybackDone("m1")
	if l := p.Line(t, "EV ", 5*time.Second); l != `{"name":"audio_playback_complete","arg":{"message_id":"m1"}}` {
		t.Errorf("socket.io saw %s", l)
	}
	c.Interrupt("m1", 100)
	if l := p.Line(t, "EV ", 5*time.Second); l != `{"name":"client_interrupt","arg":{"message_id":"m1"}}` {
		t.Errorf("socket.io saw %s", l)
	}
	stop()

	// A wrong key: socket.io's middleware error is a CONNECT_ERROR.
	bad, _ := New(Options{URL: url, APIKey: "est_bad", CharacterID: "c", PlayerID: "p", Audio: snk.Audio})
	stop = backendtest.Start(t, bad)
	h = &harness{Harness: backendtest.Harness{T: t, B: bad}, t: t, c: bad, snk: snk}
	ev = h.Wait("fatal", kind(backend.Fatal))
	if err := ev[len(ev)-1].Err; backend.KindOf(err) != backend.KindAuth || !strings.Contains(err.Error(), "Invalid API key") {
		t.Errorf("fatal %v, want an auth error quoting socket.io's message", err)
	}
	stop() // checks that Run returned context.Canceled
}
