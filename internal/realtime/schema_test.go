package realtime_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/voiced-project/voiced/internal/realtime"
)

// schemaSet validates events of one dialect against one schema file, by
// event type through the file's x-event-index.
type schemaSet struct {
	mu      sync.Mutex
	c       *jsonschema.Compiler
	url     string
	index   map[string]map[string]string // "client"/"server" -> type -> $defs name
	compile map[string]*jsonschema.Schema
}

var (
	schemaMu    sync.Mutex
	schemaCache = map[string]*schemaSet{}
)

// loadSchema loads testdata/<name>, e.g. "realtime-ga.schema.json".
func loadSchema(t testing.TB, name string) *schemaSet {
	t.Helper()
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemaCache[name]; ok {
		return s
	}
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	var idx struct {
		Index map[string]map[string]string `json:"x-event-index"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	url := "file:///" + name
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s := &schemaSet{c: c, url: url, index: idx.Index, compile: map[string]*jsonschema.Schema{}}
	schemaCache[name] = s
	return s
}

// validate checks one event (side "client" or "server") and returns an
// error naming what is wrong.
func (s *schemaSet) validate(side string, msg []byte) error {
	var h struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(msg, &h); err != nil {
		return err
	}
	def, ok := s.index[side][h.Type]
	if !ok {
		return &schemaError{"no schema for " + side + " event " + h.Type}
	}
	s.mu.Lock()
	sch, ok := s.compile[def]
	if !ok {
		var err error
		sch, err = s.c.Compile(s.url + "#/$defs/" + def)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		s.compile[def] = sch
	}
	s.mu.Unlock()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

type schemaError struct{ s string }

func (e *schemaError) Error() string { return e.s }

// validateClient validates a client event against the strict schema of
// its dialect. One documented deviation: the beta reference says
// turn_detection "can be set to null to turn off" (push-to-talk), but the
// beta schema lost the null; such an event is checked without the field.
func validateClient(t testing.TB, d realtime.Dialect, msg []byte) error {
	err := strictSchema(t, d).validate("client", msg)
	if err == nil || d != realtime.Beta {
		return err
	}
	var ev map[string]any
	if json.Unmarshal(msg, &ev) != nil {
		return err
	}
	sess, ok := ev["session"].(map[string]any)
	if td, has := sess["turn_detection"]; !ok || !has || td != nil {
		return err
	}
	delete(sess, "turn_detection")
	b, _ := json.Marshal(ev)
	return strictSchema(t, d).validate("client", b)
}

func strictSchema(t testing.TB, d realtime.Dialect) *schemaSet {
	return loadSchema(t, "realtime-"+d.String()+".schema.json")
}

func lenientSchema(t testing.TB, d realtime.Dialect) *schemaSet {
	return loadSchema(t, "realtime-"+d.String()+".lenient.schema.json")
}

func boolp(b bool) *bool { return &b }

func testSessions() map[string]realtime.Session {
	return map[string]realtime.Session{
		"ptt": {},
		"server_vad": {
			Model: "gpt-realtime", Instructions: "You are a helpful voice assistant.", Voice: "marin",
			Transcription:  &realtime.Transcription{Model: "gpt-4o-mini-transcribe", Language: "en"},
			NoiseReduction: "far_field",
			TurnDetection: &realtime.TurnDetection{Type: realtime.ServerVAD, Threshold: 0.5,
				PrefixPaddingMs: 300, SilenceDurationMs: 500, IdleTimeoutMs: 6000,
				CreateResponse: boolp(true), InterruptResponse: boolp(false)},
			Speed: 1.1, ToolChoice: "auto", MaxOutputTokens: 4096,
			Tools: []realtime.ToolDef{
				{Name: "get_time", Description: "the local time"},
				{Name: "set_volume", Parameters: json.RawMessage(`{"type":"object","properties":{"percent":{"type":"integer"}},"required":["percent"]}`)},
			},
			RawTools: []json.RawMessage{json.RawMessage(`{"type":"mcp","server_label":"home","server_url":"https://example.com/mcp"}`)},
		},
		"semantic_vad": {Voice: "alloy", TurnDetection: &realtime.TurnDetection{Type: realtime.SemanticVAD, Eagerness: "low"}},
	}
}

// Every client event the client can produce validates against the strict
// schema of its dialect.
func TestClientEventsValidateStrict(t *testing.T) {
	for _, d := range []realtime.Dialect{realtime.GA, realtime.Beta} {
		for name, s := range testSessions() {
			if d == realtime.Beta {
				s.RawTools = nil // beta has no server-side tools
			}
			t.Run(d.String()+"/"+name, func(t *testing.T) {
				if err := s.Validate(); err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				msgs, err := realtime.ClientEvents(d, s)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range msgs {
					if err := validateClient(t, d, m); err != nil {
						t.Errorf("event %s: %v", m, err)
					}
				}
			})
		}
	}
}

// The schema check itself must be able to fail: the negative samples fail.
func TestSchemaRejectsNegativeSamples(t *testing.T) {
	files, _ := filepath.Glob("testdata/samples/daemon/negative/*.json")
	if len(files) == 0 {
		t.Fatal("no negative samples")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := realtime.GA
		if strings.HasPrefix(filepath.Base(f), "beta.") {
			d = realtime.Beta
		}
		if err := strictSchema(t, d).validate("client", raw); err == nil {
			t.Errorf("%s validates, want a failure", f)
		}
	}
}

// The official client examples pass the lenient schema (two of them hit
// spec bugs the strict one keeps: item_reference inputs in GA
// response.create, a null previous_item_id in beta).
func TestOfficialClientSamplesValidate(t *testing.T) {
	for _, d := range []realtime.Dialect{realtime.GA, realtime.Beta} {
		files, _ := filepath.Glob("testdata/samples/" + d.String() + "/client.*.json")
		if len(files) < 10 {
			t.Fatalf("%d %s client samples, want the whole set", len(files), d)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := lenientSchema(t, d).validate("client", raw); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
}

// The daemon samples are the shapes voiced is meant to send.
func TestDaemonSamplesValidate(t *testing.T) {
	files, _ := filepath.Glob("testdata/samples/daemon/*.json")
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		d := realtime.GA
		if strings.HasPrefix(filepath.Base(f), "beta.") {
			d = realtime.Beta
		}
		if err := validateClient(t, d, raw); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Every server sample parses into a typed event (or Unknown for the MCP
// events voiced does not use), with its type and the fields voiced reads.
func TestServerSamplesParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/samples/*/server.*.json")
	rec, _ := filepath.Glob("testdata/samples/recorded/*.json")
	files = append(files, rec...)
	if len(files) < 80 {
		t.Fatalf("found %d server samples, want the whole set", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := realtime.DecodeEvent(raw)
		if err != nil {
			t.Errorf("DecodeEvent(%s) = %v", f, err)
			continue
		}
		typ := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "server."), ".json")
		typ = strings.TrimPrefix(typ, "beta.server.")
		if u, ok := ev.(*realtime.Unknown); ok && !strings.Contains(typ, "mcp") && !strings.Contains(typ, "transcription_session") &&
			!strings.Contains(typ, "dtmf") && !strings.Contains(typ, "segment") && !strings.Contains(typ, "retrieved") {
			t.Errorf("%s decoded as Unknown %q, want a typed event", f, u.Type)
		}
	}
}

func TestDecodeEventFields(t *testing.T) {
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata/samples", p))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("session.created ga", func(t *testing.T) {
		ev, _ := realtime.DecodeEvent(read("ga/server.session.created.json"))
		sc := ev.(*realtime.SessionCreated)
		if sc.Session.ID != "sess_C9G5QPteg4UIbotdKLoYQ" || sc.Session.ExpiresAt != 1756324625 ||
			sc.Session.OutputRate != 24000 || sc.Session.Voice != "marin" || sc.Session.TurnDetection != "server_vad" {
			t.Errorf("session = %+v", sc.Session)
		}
	})
	t.Run("session.created beta recorded", func(t *testing.T) {
		ev, _ := realtime.DecodeEvent(read("recorded/beta.server.session.created.json"))
		sc := ev.(*realtime.SessionCreated)
		if sc.Session.ExpiresAt != 1737839896 || sc.Session.Voice != "verse" || sc.Session.OutputRate != 24000 {
			t.Errorf("session = %+v", sc.Session)
		}
	})
	t.Run("response.done", func(t *testing.T) {
		ev, _ := realtime.DecodeEvent(read("ga/server.response.done.json"))
		rd := ev.(*realtime.ResponseDone)
		if rd.Response.Status != "completed" || rd.Response.Usage == nil || rd.Response.Usage.TotalTokens != 253 ||
			rd.Response.Usage.InputTokenDetails.CachedTokens != 64 || rd.Response.Output[0].Text() == "" {
			t.Errorf("response = %+v", rd.Response)
		}
	})
	t.Run("error", func(t *testing.T) {
		ev, _ := realtime.DecodeEvent(read("ga/server.error.json"))
		se := ev.(*realtime.ServerError)
		if se.Error.Code != "invalid_event" || se.Error.EventID != "event_567" || se.Error.Type != "invalid_request_error" {
			t.Errorf("error = %+v", se.Error)
		}
	})
	t.Run("beta audio delta", func(t *testing.T) {
		ev, _ := realtime.DecodeEvent(read("beta/server.response.audio.delta.json"))
		if _, ok := ev.(*realtime.AudioDelta); !ok {
			t.Errorf("DecodeEvent = %T, want *AudioDelta", ev)
		}
	})
	bad := []struct{ name, in string }{
		{"not json", `hello`},
		{"no type", `{"event_id":"x"}`},
		{"wrong field type", `{"type":"response.done","response":{"status":3}}`},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if ev, err := realtime.DecodeEvent([]byte(c.in)); err == nil {
				t.Errorf("DecodeEvent(%q) = %T, nil; want an error", c.in, ev)
			}
		})
	}
	ev, err := realtime.DecodeEvent([]byte(`{"type":"brand.new.event","x":1}`))
	if u, ok := ev.(*realtime.Unknown); err != nil || !ok || u.Type != "brand.new.event" {
		t.Errorf("DecodeEvent(unknown) = %#v, %v; want *Unknown", ev, err)
	}
}
