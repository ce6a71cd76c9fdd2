package sio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

func TestParsePacket(t *testing.T) {
	tests := []struct {
		name, in string
		typ      byte
		nsp      string
		id       int
		data     string
	}{
		{"connect root", "0", TypeConnect, "/", -1, ""},
		{"connect nsp payload", `0/sdk,{"sid":"a"}`, TypeConnect, "/sdk", -1, `{"sid":"a"}`},
		{"disconnect no comma", "1/sdk", TypeDisconnect, "/sdk", -1, ""},
		{"event root", `2["hi",1]`, TypeEvent, "/", -1, `["hi",1]`},
		{"event with ack id", `2/sdk,7["start_voice"]`, TypeEvent, "/sdk", 7, `["start_voice"]`},
		{"ack", `3/v1/audio/agent,12[]`, TypeAck, "/v1/audio/agent", 12, `[]`},
		{"connect error", `4/sdk,{"message":"bad key"}`, TypeConnectError, "/sdk", -1, `{"message":"bad key"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePacket([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParsePacket(%q): %v", tt.in, err)
			}
			if p.Type != tt.typ || string(p.Namespace) != tt.nsp || p.ID != tt.id || string(p.Data) != tt.data {
				t.Errorf("ParsePacket(%q) = %c %s %d %s, want %c %s %d %s", tt.in, p.Type, p.Namespace, p.ID, p.Data, tt.typ, tt.nsp, tt.id, tt.data)
			}
		})
	}
	for _, bad := range []string{"", "9", "5/sdk,1-[]", "2/sdk,99999999999[]"} {
		if _, err := ParsePacket([]byte(bad)); err == nil {
			t.Errorf("ParsePacket(%q) = nil error, want one", bad)
		}
	}
}

func TestAppend(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"event nsp no arg", string(AppendEvent(nil, "/sdk", -1, "start_voice", nil)), `42/sdk,["start_voice"]`},
		{"event root arg", string(AppendEvent(nil, "/", -1, "x", []byte(`{"a":1}`))), `42["x",{"a":1}]`},
		{"event ack id", string(AppendEvent(nil, "/sdk", 3, "stop_voice", nil)), `42/sdk,3["stop_voice"]`},
		{"connect auth", string(AppendConnect(nil, "/sdk", []byte(`{"api_key":"k"}`))), `40/sdk,{"api_key":"k"}`},
		{"connect bare", string(AppendConnect(nil, "/v1/audio/agent", nil)), `40/v1/audio/agent,`},
		{"ack", string(AppendAck(nil, "/sdk", 3, nil)), `43/sdk,3[]`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestSplitEvent(t *testing.T) {
	tests := []struct{ in, name, arg string }{
		{`["start_voice"]`, "start_voice", ""},
		{`["start_voice",null]`, "start_voice", "null"},
		{` [ "a" , {"x":"]\"}","y":[1,{}]} ]`, "a", `{"x":"]\"}","y":[1,{}]}`},
		{`["b","s",2]`, "b", `"s"`},
		{`["c",12]`, "c", "12"},
	}
	for _, tt := range tests {
		name, arg, err := SplitEvent([]byte(tt.in))
		if err != nil || string(name) != tt.name || string(arg) != tt.arg {
			t.Errorf("SplitEvent(%s) = %q, %q, %v, want %q, %q", tt.in, name, arg, err, tt.name, tt.arg)
		}
	}
	for _, bad := range []string{``, `{}`, `[1]`, `["a"`, `["a",{]`, `["a\"b"]`, `["a" 1]`} {
		if _, _, err := SplitEvent([]byte(bad)); err == nil {
			t.Errorf("SplitEvent(%s) = nil error, want one", bad)
		}
	}
}

func FuzzSplitEvent(f *testing.F) {
	f.Add([]byte(`["a",{"b":[1,"]"]}]`))
	f.Add([]byte(`42/sdk,1["x"]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParsePacket(b); err == nil {
			SplitEvent(p.Data)
		}
		name, arg, err := SplitEvent(b)
		if err == nil && (len(name) > len(b) || len(arg) > len(b)) {
			t.Fatalf("SplitEvent(%q) returned more than its input", b)
		}
	})
}

func TestMask(t *testing.T) {
	key := [4]byte{1, 2, 3, 250}
	for n := range 40 {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i * 7)
		}
		mask(p, key)
		for i := range p {
			if want := byte(i*7) ^ key[i%4]; p[i] != want {
				t.Fatalf("mask len %d byte %d = %d, want %d", n, i, p[i], want)
			}
		}
	}
}

// pair connects a client Conn to a server Conn over httptest.
func pair(t testing.TB, nsp string, refuse bool) (client, server *Conn) {
	t.Helper()
	srvc := make(chan *Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, r, ServerOptions{PingInterval: 50 * time.Millisecond, PingTimeout: time.Second})
		if err != nil {
			t.Error(err)
			return
		}
		p, err := c.Read()
		if err != nil || p.Type != TypeConnect || string(p.Namespace) != nsp {
			t.Errorf("server read %c %s %v, want a CONNECT to %s", p.Type, p.Namespace, err, nsp)
			return
		}
		if refuse {
			c.WriteRaw(append(AppendPacket(nil, TypeConnectError, nsp, -1), `{"message":"no"}`...))
			return
		}
		c.WriteRaw(AppendConnect(nil, nsp, []byte(`{"sid":"s1"}`)))
		srvc <- c
	}))
	t.Cleanup(ts.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := Dial(ctx, nil, ts.URL, "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if hs := c.Handshake(); hs.PingInterval != 50 || hs.SID == "" {
		t.Errorf("handshake = %+v, want pingInterval 50 and a sid", hs)
	}
	err = c.Connect(nsp, []byte(`{"k":1}`))
	if refuse {
		var ce *ConnectError
		if !errors.As(err, &ce) || ce.Message != "no" {
			t.Fatalf("Connect = %v, want a ConnectError saying no", err)
		}
		return c, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := <-srvc
	t.Cleanup(func() { s.Close() })
	return c, s
}

func TestClientServer(t *testing.T) {
	c, s := pair(t, "/sdk", false)
	// The server pings; the client's Read answers while it waits.
	got := make(chan Packet, 4)
	go func() {
		for {
			p, err := c.Read()
			if err != nil {
				close(got)
				return
			}
			p.Data = append([]byte(nil), p.Data...)
			got <- p
		}
	}()
	if err := s.Ping(); err != nil {
		t.Fatal(err)
	}
	// The pong comes back before the event: the server reads it as nothing.
	if err := c.Emit("/sdk", 4, "hello", map[string]string{"a": strings.Repeat("x", 70000)}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Read()
	if err != nil {
		t.Fatal(err)
	}
	name, arg, err := SplitEvent(p.Data)
	if err != nil || p.Type != TypeEvent || p.ID != 4 || string(name) != "hello" || len(arg) != 70008 {
		t.Fatalf("server got %c id %d %s (%d bytes) %v, want event hello id 4 with a 70008-byte argument", p.Type, p.ID, name, len(arg), err)
	}
	if err := s.WriteRaw(AppendAck(nil, "/sdk", 4, []byte(`["ok"]`))); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p.Type != TypeAck || p.ID != 4 || string(p.Data) != `["ok"]` {
			t.Errorf("client got %c id %d %s, want ack 4 [\"ok\"]", p.Type, p.ID, p.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ack")
	}
	if err := s.Leave("/sdk"); err != nil {
		t.Fatal(err)
	}
	for p := range got {
		if p.Type != TypeDisconnect {
			t.Errorf("client got %c after Leave, want DISCONNECT", p.Type)
		}
	}
}

func TestConnectRefused(t *testing.T) { pair(t, "/sdk", true) }

func TestWriteAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	c, s := pair(t, "/sdk", false)
	// The server drops the bytes without allocating: AllocsPerRun counts
	// the whole process, and gorilla's reader allocates per message.
	go io.Copy(io.Discard, s.ws.UnderlyingConn())
	msg := AppendEvent(nil, "/sdk", -1, "stream_audio", []byte(`{"audio":"`+strings.Repeat("A", 4268)+`"}`))
	c.WriteRaw(msg) // grows the frame buffer once
	time.Sleep(50 * time.Millisecond)
	if n := testing.AllocsPerRun(200, func() {
		if err := c.WriteRaw(msg); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("WriteRaw of a 4.3 kB event: %.1f allocations, want 0", n)
	}
}

func TestField(t *testing.T) {
	obj := []byte(` {"a" : "x\"y", "audio":"QUJD","n":12,"o":{"audio":"no"},"t":true} `)
	tests := []struct{ key, want string }{
		{"a", `"x\"y"`}, {"audio", `"QUJD"`}, {"n", "12"}, {"o", `{"audio":"no"}`}, {"t", "true"}, {"missing", ""},
	}
	for _, tt := range tests {
		if got := Field(obj, tt.key); string(got) != tt.want {
			t.Errorf("Field(obj, %q) = %s, want %s", tt.key, got, tt.want)
		}
	}
	if s, ok := Str(Field(obj, "audio")); !ok || string(s) != "QUJD" {
		t.Errorf("Str(audio) = %s, %v, want QUJD, true", s, ok)
	}
	if _, ok := Str(Field(obj, "a")); ok {
		t.Error("Str of an escaped string: ok, want not ok")
	}
	if n := testing.AllocsPerRun(100, func() { Field(obj, "t") }); n != 0 && !raceEnabled {
		t.Errorf("Field: %.1f allocations, want 0", n)
	}
}

// FuzzField checks Field against encoding/json on valid objects.
func FuzzField(f *testing.F) {
	f.Add([]byte(`{"audio":"QU\"JD","n":[1,{"a":"]"}],"s":"\\\\"}`), "audio")
	f.Add([]byte(`{"a":{"b":"c\\"},"d":true}`), "d")
	f.Fuzz(func(t *testing.T, obj []byte, key string) {
		var m map[string]json.RawMessage
		if json.Unmarshal(obj, &m) != nil || strings.ContainsAny(key, `"\`) {
			return
		}
		keys := 0
		for k := range m {
			if strings.ContainsAny(k, `"\`) || !utf8.ValidString(k) {
				return // escaped or odd keys: Field matches raw bytes only
			}
			keys++
		}
		want, ok := m[key]
		got := Field(obj, key)
		if strings.Count(string(obj), `"`+key+`"`) > 1 {
			return // duplicate keys or the key inside a value: json keeps the last
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("Field(%s, %q) = %s, want %s", obj, key, got, want)
		}
		if !ok && got != nil {
			t.Fatalf("Field(%s, %q) = %s, want nil", obj, key, got)
		}
	})
}

func TestCloseFrameEchoed(t *testing.T) {
	c, s := pair(t, "/sdk", false)
	go func() {
		for {
			if _, err := c.Read(); err != nil {
				return
			}
		}
	}()
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "restart")
	if err := s.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := s.Read()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("server read %v, want the client's echo of close 1001", err)
	}
	if err := c.WriteRaw([]byte("42[\"x\"]")); err == nil {
		t.Error("client write after close = nil, want an error")
	}
}
