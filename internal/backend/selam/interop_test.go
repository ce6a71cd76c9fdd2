package selam

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/backendtest"
	"github.com/voiced-project/voiced/internal/backend/nodetest"
	"github.com/voiced-project/voiced/internal/backend/selam/selamtest"
)

// TestInteropReferenceClient drives selamtest with npm socket.io-client.
func TestInteropReferenceClient(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	srv := selamtest.New(selamtest.Options{APIKey: "sk-selam-good"})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	p := nodetest.Start(t, "testdata/client.js", ts.URL, "sk-selam-good")
	var done struct {
		Transcription []struct {
			Text    string `json:"text"`
			IsFinal bool   `json:"is_final"`
		} `json:"transcription"`
		Response    string `json:"response"`
		Chunks      int    `json:"chunks"`
		Bytes       int    `json:"bytes"`
		TotalChunks int    `json:"total_chunks"`
		Acks        []struct {
			Action, Status string
		} `json:"acks"`
		Ended string `json:"ended"`
	}
	if err := json.Unmarshal([]byte(p.Line(t, "DONE ", 60*time.Second)), &done); err != nil {
		t.Fatal(err)
	}
	tr := done.Transcription
	if len(tr) != 2 || tr[0].IsFinal || !tr[1].IsFinal || tr[1].Text != "I spoke for 1000 milliseconds" {
		t.Errorf("transcription = %+v, want an interim then the final one", tr)
	}
	// The parrot: 1000 ms at 24 kHz in 200 ms chunks.
	if done.Response != "You said: I spoke for 1000 milliseconds" || done.Bytes != 48000 || done.Chunks != 5 || done.TotalChunks != 5 {
		t.Errorf("reply %q, %d chunks (audio_end says %d) of %d bytes; want the parrot in 5 chunks of 48000 bytes", done.Response, done.Chunks, done.TotalChunks, done.Bytes)
	}
	if len(done.Acks) != 1 || done.Acks[0].Action != "interrupt" || done.Acks[0].Status != "executed" || done.Ended != "ended" {
		t.Errorf("acks %+v, session %q; want interrupt executed and ended", done.Acks, done.Ended)
	}
	if err := p.Wait(5 * time.Second); err != nil {
		t.Errorf("node client: %v", err)
	}
	var got []string
	for _, r := range srv.Records() {
		if r.Event != "audio_chunk" {
			got = append(got, r.Event)
		}
	}
	if want := "connect start_session control end_session disconnect"; strings.Join(got, " ") != want {
		t.Errorf("server saw %v, want %s", got, want)
	}
	p = nodetest.Start(t, "testdata/client.js", ts.URL, "sk-selam-bad")
	if msg := p.Line(t, "CONNECT_ERROR ", 60*time.Second); msg != `{"message":"Invalid or missing API key","data":{"type":"authentication_error"}}` {
		t.Errorf("connect_error %s", msg)
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
	run := func(key string) (*harness, func()) {
		c, err := New(Options{URL: url, APIKey: key, Voice: "mekdes", Language: "so", Audio: snk.Audio})
		if err != nil {
			t.Fatal(err)
		}
		return &harness{Harness: backendtest.Harness{T: t, B: c}, t: t, c: c, snk: snk}, backendtest.Start(t, c)
	}
	h, stop := run("sk-selam-good")
	ev := h.Wait("connected", kind(backend.Connected))
	if id := ev[len(ev)-1].SessionID; id != "sess-node" {
		t.Errorf("session %q", id)
	}
	if q := p.Line(t, "QUERY ", time.Second); q != `{"api_key":"sk-selam-good","voice":"mekdes"}` {
		t.Errorf("query seen by socket.io: %s", q)
	}
	if l := p.Line(t, "EV ", time.Second); l != `{"name":"start_session","arg":{"language":"so","voice":"mekdes"}}` {
		t.Errorf("socket.io saw %s", l)
	}
	time.Sleep(700 * time.Millisecond) // two of the server's 300 ms pings answered
	h.Send(speech(500))
	evs := h.Wait("reply done", kind(backend.ReplyDone))
	var texts []string
	for _, e := range evs {
		if e.Kind == backend.Transcript {
			texts = append(texts, e.Text)
		}
	}
	if want := "selam|Selam! |How can I help?|Selam! How can I help?"; strings.Join(texts, "|") != want {
		t.Errorf("transcripts %q, want %s", texts, want)
	}
	if snk.Total() != 9600 || snk.AtRate(24000) != 9600 {
		t.Errorf("reply audio %d samples (last at %d Hz), want 9600 at 24 kHz", snk.Total(), snk.Rate())
	}
	if l := p.Line(t, "EV ", time.Second); l != `{"name":"audio_chunk","chunks":5,"bytes":3200}` {
		t.Errorf("socket.io saw %s", l)
	}
	for _, a := range []backend.Action{backend.ActionPause, backend.ActionResume} {
		h.c.Control(a)
		if ev := h.Wait("ack", kind(backend.ControlAck)); ev[len(ev)-1].Action != a {
			t.Errorf("ack for %s, want %s", ev[len(ev)-1].Action, a)
		}
	}
	stop()
	p.Line(t, `EV {"name":"end_session"}`, 5*time.Second)

	h, stop = run("sk-selam-bad")
	ev = h.Wait("fatal", kind(backend.Fatal))
	if err := ev[len(ev)-1].Err; backend.KindOf(err) != backend.KindAuth || !strings.Contains(err.Error(), "Invalid API key") {
		t.Errorf("fatal %v, want an authentication error quoting socket.io's message", err)
	}
	stop()
}
