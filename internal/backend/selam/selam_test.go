package selam

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/backendtest"
	"github.com/voiced-project/voiced/internal/backend/selam/selamtest"
	"github.com/voiced-project/voiced/internal/backend/sio"
	"github.com/voiced-project/voiced/internal/backend/siolink"
)

type harness struct {
	backendtest.Harness
	t    *testing.T
	srv  *selamtest.Server
	c    *Client
	snk  *backendtest.Sink
	stop func()
}

func start(t *testing.T, so selamtest.Options, o Options) *harness {
	t.Helper()
	h := &harness{t: t, srv: selamtest.New(so), snk: &backendtest.Sink{}}
	ts := httptest.NewServer(h.srv)
	t.Cleanup(ts.Close)
	o.URL = ts.URL
	if o.APIKey == "" {
		o.APIKey = "sk-selam-good"
	}
	if o.Voice == "" {
		o.Voice = "mekdes"
	}
	o.Audio = h.snk.Audio
	o.BackoffMin, o.BackoffMax = 20*time.Millisecond, 50*time.Millisecond
	o.FatalRetry = time.Hour
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.c, h.Harness = c, backendtest.Harness{T: t, B: c}
	h.stop = backendtest.Start(t, c)
	return h
}

var (
	kind   = backendtest.Kind
	speech = backendtest.Speech
)

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

func (h *harness) turn(ms int) []backend.Event {
	h.t.Helper()
	if err := h.c.StartTurn(); err != nil {
		h.t.Fatal(err)
	}
	h.Send(speech(ms))
	if err := h.c.EndTurn(); err != nil {
		h.t.Fatal(err)
	}
	return h.Wait("reply done", kind(backend.ReplyDone))
}

func TestTurn(t *testing.T) {
	h := start(t, selamtest.Options{APIKey: "sk-selam-good", Token: "jwt"}, Options{Token: "jwt", Language: "am", Instructions: "Be brief.", VADThreshold: 700})
	h.Wait("connected", kind(backend.Connected))
	evs := h.turn(500)
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
	if want := "speech_started interim final speech_stopped committed reply_started"; strings.Join(order, " ") != want {
		t.Errorf("events = %v, want %s", order, want)
	}
	// 500 ms of speech and the 500 ms of quiet that ended it.
	if final != "I spoke for 1000 milliseconds" || answer != "You said: "+final {
		t.Errorf("transcript %q, reply %q", final, answer)
	}
	if n := h.snk.Total(); n != 24000 || h.snk.AtRate(24000) != n {
		t.Errorf("reply audio = %d samples (last at %d Hz), want 24000 at 24 kHz", n, h.snk.Rate())
	}
	q := h.srv.Queries()[0]
	if q["api_key"] != "sk-selam-good" || q["voice"] != "mekdes" || q["token"] != "jwt" {
		t.Errorf("handshake query = %v", q)
	}
	var ss map[string]any
	for _, r := range h.srv.Records() {
		switch r.Event {
		case "start_session":
			json.Unmarshal(r.Arg, &ss)
		case "audio_chunk":
			if !strings.Contains(string(r.Arg), `"format":"pcm16","sample_rate":16000`) {
				t.Errorf("audio_chunk %s: want pcm16 at 16000", r.Arg)
			}
		}
	}
	if ss["voice"] != "mekdes" || ss["language"] != "am" || ss["instructions"] != "Be brief." || ss["vad_threshold"] != 700.0 {
		t.Errorf("start_session = %v", ss)
	}
	// 5 chunks of speech and 6 of trailing silence.
	waitFor(t, "11 audio chunks", func() bool { return h.srv.Count("audio_chunk") == 11 })
	h.stop()
	waitFor(t, "end_session when Run ended", func() bool { return h.srv.Count("end_session") == 1 })
}

func TestMP3Reply(t *testing.T) {
	mp3, err := os.ReadFile("testdata/tone-24k.mp3")
	if err != nil {
		t.Fatal(err)
	}
	h := start(t, selamtest.Options{MP3: [][]byte{mp3, mp3}}, Options{})
	h.Wait("connected", kind(backend.Connected))
	h.turn(300)
	// go-mp3 gives 8640 frames for the 300 ms tone (encoder delay and padding included).
	if n := h.snk.Total(); n != 2*8640 || h.snk.AtRate(24000) != n {
		t.Errorf("decoded MP3 = %d samples (last at %d Hz), want %d at 24 kHz", n, h.snk.Rate(), 2*8640)
	}
}

func TestControlActions(t *testing.T) {
	h := start(t, selamtest.Options{}, Options{})
	h.Wait("connected", kind(backend.Connected))
	for _, a := range []backend.Action{backend.ActionInterrupt, backend.ActionStopListening, backend.ActionStartListening, backend.ActionPause, backend.ActionResume} {
		if err := h.c.Control(a); err != nil {
			t.Fatal(err)
		}
		ev := h.Wait("ack", kind(backend.ControlAck))
		if got := ev[len(ev)-1].Action; got != a {
			t.Errorf("Control(%s): ack for %s", a, got)
		}
	}
	n := 0
	for _, r := range h.srv.Records() {
		if r.Event == "control" {
			n++
		}
	}
	if n != 5 {
		t.Errorf("control events = %d, want 5", n)
	}
	if err := h.c.Control("dance"); err == nil {
		t.Error("Control(dance) = nil, want an error")
	}
}

func TestControlAckChecked(t *testing.T) {
	for _, tt := range []struct {
		name   string
		so     selamtest.Options
		status string
	}{
		{"failed", selamtest.Options{AckStatus: "failed"}, "failed"},
		{"missing", selamtest.Options{NoAck: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := start(t, tt.so, Options{AckTimeout: 100 * time.Millisecond})
			h.Wait("connected", kind(backend.Connected))
			h.c.Control(backend.ActionPause)
			ev := h.Wait("error", kind(backend.Error))
			var ae *AckError
			if !errors.As(ev[len(ev)-1].Err, &ae) || ae.Action != backend.ActionPause || ae.Status != tt.status {
				t.Errorf("error %v, want an AckError for pause with status %q", ev[len(ev)-1].Err, tt.status)
			}
		})
	}
}

func TestInterrupt(t *testing.T) {
	h := start(t, selamtest.Options{Pace: true, ChunkMs: 100}, Options{})
	h.Wait("connected", kind(backend.Connected))
	h.Send(speech(2000))
	h.c.EndTurn()
	h.Wait("reply started", kind(backend.ReplyStarted))
	waitFor(t, "first chunk", func() bool { return h.snk.Total() > 0 })
	if err := h.c.StartTurn(); err != nil { // a press while the reply plays interrupts it
		t.Fatal(err)
	}
	h.Wait("interrupted", kind(backend.Interrupted))
	n := h.snk.Total()
	time.Sleep(300 * time.Millisecond)
	if h.snk.Total() != n {
		t.Errorf("reply audio went on after the interrupt: %d then %d samples", n, h.snk.Total())
	}
	if n >= 2500*24 {
		t.Errorf("reply audio = %d samples, want less than the whole reply", n)
	}
}

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		typ    string
		nested bool
		ev     backend.Kind
		kind   backend.ErrorKind
	}{
		{"authentication_error", false, backend.Fatal, backend.KindAuth},
		{"authorization_error", true, backend.Fatal, backend.KindPermission},
		{"validation_error", false, backend.Error, backend.KindInvalid},
		{"session_error", true, backend.Error, backend.KindSession},
		{"audio_error", false, backend.Error, backend.KindAudio},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			h := start(t, selamtest.Options{NestedErrors: tt.nested}, Options{})
			h.Wait("connected", kind(backend.Connected))
			if err := h.srv.Inject(tt.typ); err != nil {
				t.Fatal(err)
			}
			ev := h.Wait(tt.ev.String(), kind(tt.ev))
			err := ev[len(ev)-1].Err
			var se *Error
			if !errors.As(err, &se) || se.Type != tt.typ || backend.KindOf(err) != tt.kind {
				t.Fatalf("%s: err %v, want *Error %s of kind %d", tt.ev, err, tt.typ, tt.kind)
			}
			if !strings.HasPrefix(err.Error(), "selam: ") || len(err.Error()) < 40 {
				t.Errorf("message %q: want plain words", err)
			}
			if tt.typ == "session_error" { // a new session follows
				h.Wait("connected again", kind(backend.Connected))
				if n := h.srv.Count("start_session"); n != 2 {
					t.Errorf("start_session sent %d times, want 2", n)
				}
			}
		})
	}
}

func TestAuthRefused(t *testing.T) {
	for _, how := range []string{"connect_error", "error_event"} {
		t.Run(how, func(t *testing.T) {
			h := start(t, selamtest.Options{APIKey: "sk-selam-good", AuthFailure: how}, Options{APIKey: "sk-selam-bad"})
			ev := h.Wait("fatal", kind(backend.Fatal))
			if err := ev[len(ev)-1].Err; backend.KindOf(err) != backend.KindAuth || !strings.Contains(err.Error(), "Invalid or missing API key") {
				t.Errorf("fatal error %v, want an authentication error quoting the server", err)
			}
		})
	}
}

func TestReconnectAfterRestart(t *testing.T) {
	h := start(t, selamtest.Options{}, Options{})
	h.Wait("connected", kind(backend.Connected))
	h.srv.SetDown(true)
	h.srv.Drop()
	h.Wait("disconnected", kind(backend.Disconnected))
	h.Wait("a failed redial", kind(backend.Disconnected))
	h.srv.SetDown(false)
	h.Wait("connected again", kind(backend.Connected))
	h.turn(300)
}

func TestParseError(t *testing.T) {
	tests := []struct{ in, typ, msg string }{
		{`{"type":"validation_error","message":"bad voice"}`, "validation_error", "bad voice"},
		{`{"error":{"type":"audio_error","message":"x","code":"audio_error"}}`, "audio_error", "x"},
		{`{"error":"session_error","message":"gone"}`, "session_error", "gone"},
		{`{"code":"authorization_error","message":"tier"}`, "authorization_error", "tier"},
		{`"something broke"`, "", "something broke"},
		{`{"message":"Invalid key","data":{"type":"authentication_error"}}`, "authentication_error", "Invalid key"},
	}
	for _, tt := range tests {
		e := parseError([]byte(tt.in))
		if e.Type != tt.typ || e.Message != tt.msg {
			t.Errorf("parseError(%s) = %q %q, want %q %q", tt.in, e.Type, e.Message, tt.typ, tt.msg)
		}
	}
}

func TestSniffAndWAV(t *testing.T) {
	wav := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x80\x3e\x00\x00\x00\xfa\x00\x00\x04\x00\x10\x00data\x08\x00\x00\x00")
	wav = binary.LittleEndian.AppendUint16(wav, 100)
	wav = binary.LittleEndian.AppendUint16(wav, 300)
	wav = binary.LittleEndian.AppendUint16(wav, 0xFFFF) // -1
	wav = binary.LittleEndian.AppendUint16(wav, 0xFFFD) // -3
	tests := []struct {
		b    []byte
		want Format
	}{
		{[]byte("ID3\x04"), FormatMP3}, {[]byte{0xFF, 0xF3, 0x44}, FormatMP3}, {wav, FormatWAV},
		{[]byte("OggS\x00"), FormatOgg}, {[]byte{0, 0, 1, 0}, FormatPCM}, {[]byte{0xFF, 0xE1}, FormatPCM},
	}
	for _, tt := range tests {
		if got := Sniff(tt.b); got != tt.want {
			t.Errorf("Sniff(% x) = %d, want %d", tt.b[:min(4, len(tt.b))], got, tt.want)
		}
	}
	c := &Client{}
	pcm, rate, err := c.decodeWAV(wav)
	if err != nil || rate != 16000 || len(pcm) != 2 || pcm[0] != 200 || pcm[1] != -2 {
		t.Errorf("decodeWAV = %v %d %v, want [200 -2] 16000", pcm, rate, err)
	}
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	h := startQuiet(t, Options{Tuning: siolink.Tuning{AudioSlots: 4}})
	h.Wait("connected", kind(backend.Connected))
	pcm := speech(100)
	for range 8 { // every buffer grows once
		h.c.AppendAudio(pcm)
		time.Sleep(10 * time.Millisecond)
	}
	if n := testing.AllocsPerRun(100, func() { h.c.AppendAudio(pcm) }); n != 0 {
		t.Errorf("AppendAudio: %.1f allocations per 100 ms chunk, want 0", n)
	}
	msg := []byte(`2/v1/audio/agent,["audio_chunk",{"audio":"` + strings.Repeat("AAEA", 1600) + `"}]`)
	hd := h.c.link
	p, _ := sio.ParsePacket(msg)
	hd.Packet(p) // starts a reply, grows the buffers
	if n := testing.AllocsPerRun(100, func() {
		p, _ := sio.ParsePacket(msg)
		hd.Packet(p)
	}); n != 0 {
		t.Errorf("raw PCM audio_chunk: %.1f allocations, want 0", n)
	}
}

// startQuiet runs a client against backendtest.Quiet.
func startQuiet(t *testing.T, o Options) *harness {
	t.Helper()
	url := backendtest.Quiet(t, "", `40/v1/audio/agent,{"sid":"q"}`, `42/v1/audio/agent,["connected",{"sid":"q"}]`,
		"", `42/v1/audio/agent,["session_started",{"session_id":"q"}]`)
	h := &harness{t: t, snk: &backendtest.Sink{}}
	o.URL, o.APIKey, o.Voice, o.Audio = url, "k", "mekdes", h.snk.Audio
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.c, h.Harness = c, backendtest.Harness{T: t, B: c}
	h.stop = backendtest.Start(t, c)
	return h
}
