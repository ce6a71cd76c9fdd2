package realtimetest

import (
	"bytes"
	"sync"

	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/voiced-project/voiced/internal/realtime"
	"github.com/voiced-project/voiced/internal/realtime/schematest"
)

var dialects sync.Map // *websocket.Conn -> realtime.Dialect

// dial opens a raw WebSocket to a fresh server and reads session.created.
func dial(t *testing.T, cfg Config, header http.Header) (*websocket.Conn, *Server) {
	t.Helper()
	srv := New(cfg)
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/realtime", header)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	dialects.Store(ws, cfg.Dialect)
	if ev := next(t, ws, ""); ev["type"] != "session.created" {
		t.Fatalf("first event %v, want session.created", ev)
	}
	return ws, srv
}

// lenient holds the lenient schema of each dialect, for the events this server sends.
var (
	schemaMu sync.Mutex
	lenient  = map[realtime.Dialect]*schematest.Validator{}
)

func validateServerEvent(t *testing.T, d realtime.Dialect, msg []byte) {
	t.Helper()
	schemaMu.Lock()
	v, ok := lenient[d]
	if !ok {
		var err error
		if v, err = schematest.Server("realtime-" + d.String() + ".lenient.schema.json"); err != nil {
			schemaMu.Unlock()
			t.Fatal(err)
		}
		lenient[d] = v
	}
	schemaMu.Unlock()
	if err := v.Validate(msg); err != nil {
		t.Errorf("server event %s fails the lenient schema: %v", msg, err)
	}
}

// next reads events until one of type typ ("" for any), validating each.
func next(t *testing.T, ws *websocket.Conn, typ string) map[string]any {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	d, _ := dialects.Load(ws)
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %q: %v", typ, err)
		}
		validateServerEvent(t, d.(realtime.Dialect), msg)
		var ev map[string]any
		if err := json.Unmarshal(msg, &ev); err != nil {
			t.Fatal(err)
		}
		if typ == "" || ev["type"] == typ {
			return ev
		}
	}
}

func appendMsg(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return []byte(`{"type":"input_audio_buffer.append","audio":"` + base64.StdEncoding.EncodeToString(b) + `"}`)
}

// The service's error codes for the mistakes a client can make.
func TestErrors(t *testing.T) {
	cases := []struct {
		name     string
		send     []string
		code     string
		param    string
		eventID  string
		dialect  realtime.Dialect
		toolCall string
	}{
		{name: "malformed json", send: []string{`{"type":`}, code: realtime.CodeInvalidJSON},
		{name: "missing type", send: []string{`{"event_id":"e1"}`}, code: realtime.CodeInvalidEvent, eventID: "e1"},
		{name: "unknown type", send: []string{`{"type":"session.explode","event_id":"e2"}`}, code: realtime.CodeInvalidValue, param: "type", eventID: "e2"},
		{name: "commit empty", send: []string{`{"type":"input_audio_buffer.commit","event_id":"e3"}`}, code: realtime.CodeCommitEmpty, eventID: "e3"},
		{name: "cancel idle", send: []string{`{"type":"response.cancel"}`}, code: realtime.CodeCancelNotActive},
		{name: "second response", send: []string{`{"type":"response.create"}`, `{"type":"response.create"}`}, code: realtime.CodeActiveResponse},
		{name: "ga session without type", send: []string{`{"type":"session.update","session":{"instructions":"x"}}`}, code: "missing_required_parameter", param: "session.type"},
		{name: "ga input rate", send: []string{`{"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcm","rate":16000}}}}}`}, code: realtime.CodeInvalidValue, param: "session.audio.input.format.rate"},
		{name: "bad audio", send: []string{`{"type":"input_audio_buffer.append","audio":"%%%"}`}, code: realtime.CodeInvalidValue, param: "audio"},
		{name: "truncate unknown item", send: []string{`{"type":"conversation.item.truncate","item_id":"nope","content_index":0,"audio_end_ms":10}`}, code: realtime.CodeInvalidValue, param: "item_id"},
		{name: "bad turn detection", send: []string{`{"type":"session.update","session":{"turn_detection":{"type":"magic"}}}`}, code: realtime.CodeInvalidValue, dialect: realtime.Beta},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws, _ := dial(t, Config{Dialect: c.dialect, Speed: 1}, nil)
			for _, m := range c.send {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			ev := next(t, ws, "error")
			e := ev["error"].(map[string]any)
			if e["code"] != c.code || e["type"] != "invalid_request_error" || e["message"] == "" {
				t.Errorf("error = %v, want code %s", e, c.code)
			}
			if c.param != "" && e["param"] != c.param {
				t.Errorf("error param = %v, want %s", e["param"], c.param)
			}
			if c.eventID != "" && e["event_id"] != c.eventID {
				t.Errorf("error event_id = %v, want %s", e["event_id"], c.eventID)
			}
			// The session survives its mistakes.
			if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"input_audio_buffer.clear"}`)); err != nil {
				t.Fatal(err)
			}
			next(t, ws, "input_audio_buffer.cleared")
		})
	}
}

func TestAuth(t *testing.T) {
	srv := New(Config{APIKey: "k1"})
	addr, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	cases := []struct {
		name   string
		header http.Header
		status int
	}{
		{"bearer", http.Header{"Authorization": {"Bearer k1"}}, http.StatusSwitchingProtocols},
		{"azure", http.Header{"Api-Key": {"k1"}}, http.StatusSwitchingProtocols},
		{"yandex", http.Header{"Authorization": {"api-key k1"}}, http.StatusSwitchingProtocols},
		{"wrong", http.Header{"Authorization": {"Bearer k2"}}, http.StatusUnauthorized},
		{"none", nil, http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws, resp, _ := websocket.DefaultDialer.Dial("ws://"+addr+"/v1/realtime", c.header)
			if ws != nil {
				ws.Close()
			}
			if resp == nil || resp.StatusCode != c.status {
				t.Fatalf("upgrade status = %v, want %d", resp, c.status)
			}
			if c.status == http.StatusUnauthorized {
				var body bytes.Buffer
				_, _ = body.ReadFrom(resp.Body)
				if !strings.Contains(body.String(), realtime.CodeInvalidAPIKey) {
					t.Errorf("401 body %q, want code invalid_api_key", body.String())
				}
			}
		})
	}
}

func TestVAD(t *testing.T) {
	v := newEnergyVAD(24000, 0.5)
	if v.speech(make([]int16, 240)) {
		t.Error("silence is speech")
	}
	if !v.speech(Tone(300, 10, 24000, 8000)) {
		t.Error("a loud tone is not speech")
	}
	if v.speech(Tone(300, 10, 24000, 200)) {
		t.Error("a faint hum is speech")
	}
}

func TestResample(t *testing.T) {
	in := Tone(440, 100, 24000, 8000)
	cases := []struct{ to, want int }{{24000, 2400}, {44100, 4410}, {16000, 1600}, {48000, 4800}}
	for _, c := range cases {
		if got := Resample(in, 24000, c.to); len(got) != c.want {
			t.Errorf("Resample(100 ms, 24000 -> %d) = %d samples, want %d", c.to, len(got), c.want)
		}
	}
	// Linear interpolation keeps a slow ramp a ramp.
	ramp := []int16{0, 100, 200, 300}
	if got := Resample(ramp, 1, 2); got[1] != 50 || got[2] != 100 {
		t.Errorf("Resample(ramp, 1 -> 2) = %v, want midpoints", got)
	}
}

func TestDecodeWAV(t *testing.T) {
	bad := []string{"", "RIFF0000WAVX", "RIFF\x00\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd"}
	for _, b := range bad {
		if _, _, err := DecodeWAV(strings.NewReader(b)); err == nil {
			t.Errorf("DecodeWAV(%q) = nil error", b)
		}
	}
}

// A response cancelled by speech says so, and VAD commits the turn.
func TestVADInterruptsResponse(t *testing.T) {
	ws, _ := dial(t, Config{Speed: 1, Reply: ReplyTone}, nil)
	send := func(m []byte) {
		if err := ws.WriteMessage(websocket.TextMessage, m); err != nil {
			t.Fatal(err)
		}
	}
	send([]byte(`{"type":"response.create"}`))
	next(t, ws, "response.output_audio.delta")
	send(appendMsg(Tone(300, 100, 24000, 8000)))
	next(t, ws, "input_audio_buffer.speech_started")
	done := next(t, ws, "response.done")["response"].(map[string]any)
	if done["status"] != "cancelled" || done["status_details"].(map[string]any)["reason"] != "turn_detected" {
		t.Errorf("response.done = %v, want cancelled, turn_detected", done)
	}
	send(appendMsg(make([]int16, 24000*6/10)))
	next(t, ws, "input_audio_buffer.speech_stopped")
	next(t, ws, "input_audio_buffer.committed")
}

func TestItems(t *testing.T) {
	for _, d := range []realtime.Dialect{realtime.GA, realtime.Beta} {
		t.Run(d.String(), func(t *testing.T) {
			ws, _ := dial(t, Config{Dialect: d}, nil)
			send := func(m string) {
				if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			send(`{"type":"conversation.item.create","item":{"id":"it_1","type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}}`)
			added := "conversation.item.added"
			if d == realtime.Beta {
				added = "conversation.item.created"
			}
			ev := next(t, ws, added)
			if ev["item"].(map[string]any)["id"] != "it_1" {
				t.Errorf("%s = %v, want item it_1", added, ev)
			}
			send(`{"type":"conversation.item.delete","item_id":"it_1"}`)
			if ev := next(t, ws, "conversation.item.deleted"); ev["item_id"] != "it_1" {
				t.Errorf("deleted = %v", ev)
			}
			send(`{"type":"conversation.item.delete","item_id":"it_1"}`)
			next(t, ws, "error")
			send(`{"type":"conversation.item.create","item":{"type":"message","role":"robot","content":[]}}`)
			next(t, ws, "error")
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	ws, _ := dial(t, Config{MinIdleTimeout: time.Millisecond, ReplyAudio: Tone(440, 50, 24000, 8000), ReplyRate: 24000}, nil)
	send := func(m string) {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"type":"session.update","session":{"type":"realtime","audio":{"input":{"turn_detection":{"type":"server_vad","idle_timeout_ms":200}}}}}`)
	// Read without the schema: 200 ms is below the service's 5 s minimum,
	// allowed here by MinIdleTimeout to keep the test short.
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var upd map[string]any
	for upd == nil || upd["type"] != "session.updated" {
		upd = nil
		if err := ws.ReadJSON(&upd); err != nil {
			t.Fatal(err)
		}
	}
	td := upd["session"].(map[string]any)["audio"].(map[string]any)["input"].(map[string]any)["turn_detection"].(map[string]any)
	if td["idle_timeout_ms"] != float64(200) {
		t.Errorf("turn_detection = %v, want idle_timeout_ms 200", td)
	}
	send(`{"type":"response.create"}`)
	next(t, ws, "response.done")
	start := time.Now()
	ev := next(t, ws, "input_audio_buffer.timeout_triggered")
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("timeout_triggered after %v, want after the 50 ms reply plus 200 ms", waited)
	}
	if ev["item_id"] == "" {
		t.Errorf("timeout_triggered = %v, want an item id", ev)
	}
	next(t, ws, "input_audio_buffer.committed")
	next(t, ws, "response.created")

	// Out of the service's range: refused.
	ws2, _ := dial(t, Config{}, nil)
	if err := ws2.WriteMessage(websocket.TextMessage, []byte(`{"type":"session.update","session":{"type":"realtime","audio":{"input":{"turn_detection":{"type":"server_vad","idle_timeout_ms":200}}}}}`)); err != nil {
		t.Fatal(err)
	}
	if e := next(t, ws2, "error")["error"].(map[string]any); e["code"] != realtime.CodeInvalidValue {
		t.Errorf("error = %v, want invalid_value", e)
	}
}

// A server listening to silence keeps only the padding it may need.
func TestSilenceBounded(t *testing.T) {
	ws, srv := dial(t, Config{}, nil)
	for range 50 { // 5 s
		if err := ws.WriteMessage(websocket.TextMessage, appendMsg(make([]int16, 2400))); err != nil {
			t.Fatal(err)
		}
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"input_audio_buffer.clear"}`)); err != nil {
		t.Fatal(err)
	}
	next(t, ws, "input_audio_buffer.cleared")
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.conns {
		c.mu.Lock()
		n, start := cap(c.input), c.inputStart
		c.mu.Unlock()
		if n > 3*1300*24 || start != 5*inputRate {
			t.Errorf("input buffer cap %d samples, start %d: want at most about 2.6 s kept and the stream position 5 s", n, start)
		}
	}
}

func TestQuestion(t *testing.T) {
	ws, _ := dial(t, Config{Question: true, Reply: ReplyTone, Speed: 0}, nil)
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"response.create"}`)); err != nil {
		t.Fatal(err)
	}
	ev := next(t, ws, "response.output_audio_transcript.done")
	if tr, _ := ev["transcript"].(string); !strings.HasSuffix(tr, "?") {
		t.Errorf("transcript = %q, want a question", tr)
	}
}

// IgnoreInstructed leaves an announcement (response.create with instructions)
// unanswered, and answers a plain response.create as usual.
func TestIgnoreInstructed(t *testing.T) {
	for _, ignore := range []bool{false, true} {
		ws, _ := dial(t, Config{IgnoreInstructed: ignore, Reply: ReplyTone, Speed: 0}, nil)
		send := func(m string) {
			if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		send(`{"type":"response.create","response":{"instructions":"Say: the tea is ready."}}`)
		answered := false
		_ = ws.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		for !answered {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				break
			}
			answered = bytes.Contains(msg, []byte(`"response.created"`))
		}
		if answered == ignore {
			t.Errorf("IgnoreInstructed %v: announcement answered %v, want %v", ignore, answered, !ignore)
		}
		if ignore {
			ws2, _ := dial(t, Config{IgnoreInstructed: true, Reply: ReplyTone, Speed: 0}, nil)
			if err := ws2.WriteMessage(websocket.TextMessage, []byte(`{"type":"response.create"}`)); err != nil {
				t.Fatal(err)
			}
			next(t, ws2, "response.created")
		}
	}
}
