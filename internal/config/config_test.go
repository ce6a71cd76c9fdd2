package config

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v, want nil", err)
	}
}

func TestExampleIsValid(t *testing.T) {
	for _, name := range []string{"voiced.yaml", "demo.yaml"} {
		path := filepath.Join("..", "..", "examples", name)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("examples/%s: %v", name, err)
		}
		if _, err := Load(path, nil); err != nil {
			t.Errorf("Load(examples/%s) = %v, want nil", name, err)
		}
	}
}

func TestThreeMistakesAllNamed(t *testing.T) {
	doc := `
mode: continuous
realtime:
  voise: alloy          # unknown key
audio:
  capture:
    period_ms: 0        # out of range
gpio:
  button:
    debounce_ms: fast   # wrong type
`
	_, err := Parse([]byte(doc))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse = %v, want Errors", err)
	}
	got := es.Fields()
	want := []string{"realtime.voise", "gpio.button.debounce_ms"}
	// Range checks run after decoding; the decoder reports type and key errors first.
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("fields = %v, want %s among them", got, w)
		}
	}
	if !strings.Contains(err.Error(), `did you mean "voice"`) {
		t.Errorf("error %q does not suggest voice", err)
	}
}

func TestLoadReportsAllKindsTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "voiced.yaml")
	doc := "realtime:\n  voise: alloy\naudio:\n  capture:\n    period_ms: 0\ngpio:\n  button:\n    debounce_ms: fast\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, nil)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Load = %v, want Errors", err)
	}
	want := []string{"realtime.voise", "gpio.button.debounce_ms", "audio.capture.period_ms"}
	for _, w := range want {
		if !slices.Contains(es.Fields(), w) {
			t.Errorf("fields = %v, want %s among them", es.Fields(), w)
		}
	}
	if !strings.Contains(err.Error(), "audio.capture.period_ms: 0 is out of range 5..100") {
		t.Errorf("error = %q, want the range named", err)
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name  string
		set   []string
		field string // "" = valid
		msg   string
	}{
		{"defaults", nil, "", ""},
		{"ptt mode", []string{"mode=push_to_talk"}, "", ""},
		{"bad mode", []string{"mode=always"}, "mode", `"always" is not one of push_to_talk, continuous, both`},
		{"azure needs url", []string{"realtime.profile=azure"}, "realtime.url", "must be set for profile azure"},
		{"http url", []string{"realtime.url=http://x/v1/realtime"}, "realtime.url", "not a ws:// or wss:// URL"},
		{"custom url", []string{"realtime.profile=custom", "realtime.url=ws://127.0.0.1:8089/v1/realtime"}, "", ""},
		{"bad dialect", []string{"realtime.dialect=v2"}, "realtime.dialect", "not one of ga, beta"},
		{"key and file", []string{"realtime.api_key=sk-x", "realtime.api_key_file=/k"}, "realtime.api_key_file", "not both"},
		{"threshold", []string{"realtime.turn_detection.threshold=1.5"}, "realtime.turn_detection.threshold", "out of range 0..1"},
		{"turn type", []string{"realtime.turn_detection.type=none"}, "realtime.turn_detection.type", "not one of local"},
		{"builtin tool", []string{"realtime.tools.builtin=[time, weather]"}, "realtime.tools.builtin[1]", `"weather" is not one of`},
		{"webhook url", []string{"realtime.tools.webhooks=[{name: lights, url: 'ftp://x'}]"}, "realtime.tools.webhooks[0].url", "not an http"},
		{"webhook dup", []string{"realtime.tools.webhooks=[{name: time, url: 'http://x/'}]"}, "realtime.tools.webhooks[0].name", "used by another tool"},
		{"device name", []string{"audio.capture.device=usb mic"}, "audio.capture.device", "is not a device name"},
		{"file device", []string{"audio.capture.device=file:/tmp/q.wav"}, "", ""},
		{"hw device", []string{"audio.playback.device=hw:CARD=Headphones,DEV=0"}, "", ""},
		{"rate", []string{"audio.capture.rate=12345"}, "audio.capture.rate", "is not one of 8000"},
		{"period", []string{"audio.capture.period_ms=0"}, "audio.capture.period_ms", "0 is out of range 5..100"},
		{"buffer vs period", []string{"audio.playback.buffer_ms=30"}, "audio.playback.buffer_ms", "30 is out of range 40..1000"},
		{"channel", []string{"audio.capture.channel=3"}, "audio.capture.channel", `"3" is not mix or a channel number 0..0`},
		{"channel ok", []string{"audio.capture.channels=2", "audio.capture.channel=1"}, "", ""},
		{"volume", []string{"audio.playback.volume=101"}, "audio.playback.volume", "101 is out of range 0..100"},
		{"same line", []string{"gpio.led.line=GPIO17"}, "gpio.led.line", "also the button's line"},
		{"line name", []string{"gpio.button.line=GPIO 17"}, "gpio.button.line", "not a line number or name"},
		{"gpio off ignores lines", []string{"gpio.enabled=false", "gpio.button.line=", "gpio.led.line="}, "", ""},
		{"aec mode", []string{"aec.mode=dsp"}, "aec.mode", `"dsp" is not one of software, hardware`},
		{"aec tail", []string{"aec.tail_ms=1000"}, "aec.tail_ms", "1000 is out of range 32..512"},
		{"aec long tail", []string{"aec.tail_ms=256"}, "", ""},
		{"aec hardware", []string{"aec.mode=hardware"}, "", ""},
		{"pull", []string{"gpio.button.pull=sideways"}, "gpio.button.pull", "not one of up, down, none"},
		{"public listen needs token", []string{"http.listen=0.0.0.0:8088"}, "http.token", "must be set"},
		{"public listen with token", []string{"http.listen=0.0.0.0:8088", "http.token_file=/etc/voiced/token"}, "", ""},
		{"short token", []string{"http.token=abc"}, "http.token", "use at least 16"},
		{"listen syntax", []string{"http.listen=8088"}, "http.listen", "not HOST:PORT"},
		{"http off", []string{"http.listen="}, "", ""},
		{"log level", []string{"log.level=verbose"}, "log.level", "not one of debug"},
		{"continue auto", []string{"turn.continue_conversation=auto"}, "", ""},
		{"continue bad", []string{"turn.continue_conversation=always"}, "turn.continue_conversation", `"always" is not one of off, auto`},
		{"state dir relative", []string{"paths.state_dir=state"}, "paths.state_dir", "not an absolute path"},
		{"state dir off", []string{"paths.state_dir="}, "", ""},
		{"estuary", []string{"realtime.profile=estuary", "realtime.estuary.character_id=c-1"}, "", ""},
		{"estuary needs character", []string{"realtime.profile=estuary"}, "realtime.estuary.character_id", "must be set for profile estuary"},
		{"estuary needs player", []string{"realtime.profile=estuary", "realtime.estuary.character_id=c", "realtime.estuary.player_id="}, "realtime.estuary.player_id", "must be set"},
		{"estuary url", []string{"realtime.profile=estuary", "realtime.estuary.character_id=c", "realtime.estuary.server_url=ftp://x"}, "realtime.estuary.server_url", "scheme must be http, https, ws or wss"},
		{"estuary no url", []string{"realtime.profile=estuary", "realtime.estuary.character_id=c", "realtime.estuary.server_url="}, "realtime.estuary.server_url", "must be set"},
		{"estuary on demand", []string{"realtime.profile=estuary", "realtime.estuary.character_id=c", "realtime.connection=on_demand"}, "realtime.connection", "not available with profile estuary"},
		{"estuary ignores realtime url", []string{"realtime.profile=estuary", "realtime.estuary.character_id=c", "realtime.url=", "realtime.model="}, "", ""},
		{"selam", []string{"realtime.profile=selam", "realtime.selam.language=am", "realtime.selam.vad_threshold=700"}, "", ""},
		{"selam language", []string{"realtime.profile=selam", "realtime.selam.language=fr"}, "realtime.selam.language", `"fr" is not one of`},
		{"selam voice", []string{"realtime.profile=selam", "realtime.selam.voice="}, "realtime.selam.voice", "must be set for profile selam"},
		{"selam vad", []string{"realtime.profile=selam", "realtime.selam.vad_threshold=-1"}, "realtime.selam.vad_threshold", "out of range"},
		{"selam interrupt", []string{"realtime.profile=selam", "realtime.selam.interrupt_threshold=5000"}, "realtime.selam.interrupt_threshold", "out of range"},
		{"selam url", []string{"realtime.profile=selam", "realtime.selam.server_url=nohost"}, "realtime.selam.server_url", "not an http"},
		{"bad profile", []string{"realtime.profile=acme"}, "realtime.profile", "not one of openai, azure, yandex, custom, estuary, selam"},
		{"vad engine", []string{"vad.engine=webrtc"}, "vad.engine", "not one of silero"},
		{"vad classic gated", []string{"vad.engine=classic", "vad.gate=true"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			var err error
			for _, s := range tt.set {
				if err = c.Set(s); err != nil {
					t.Fatalf("Set(%q) = %v", s, err)
				}
			}
			err = c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Validate() = %v, want Errors naming %s", err, tt.field)
			}
			for _, e := range es {
				if e.Path == tt.field {
					if !strings.Contains(e.Msg, tt.msg) {
						t.Errorf("%s: message %q, want it to contain %q", tt.field, e.Msg, tt.msg)
					}
					return
				}
			}
			t.Errorf("Validate() = %v, want an error at %s", err, tt.field)
		})
	}
}

func TestSet(t *testing.T) {
	c := Default()
	sets := []string{
		"audio.capture.device=file:q.wav",
		"realtime.url=ws://127.0.0.1:9/v1/realtime",
		"realtime.voice=123", // a string field keeps digits as text
		"vad.sensitivity=3",
		"earcons.enabled=false",
		"realtime.tools.builtin=[time]",
		"realtime.turn_detection.threshold=0.7",
	}
	for _, s := range sets {
		if err := c.Set(s); err != nil {
			t.Fatalf("Set(%q) = %v", s, err)
		}
	}
	if c.Audio.Capture.Device != "file:q.wav" || c.Realtime.URL != "ws://127.0.0.1:9/v1/realtime" ||
		c.Realtime.Voice != "123" || c.VAD.Sensitivity != 3 || c.Earcons.Enabled ||
		!reflect.DeepEqual(c.Realtime.Tools.Builtin, []string{"time"}) || c.Realtime.TurnDetection.Threshold != 0.7 {
		t.Errorf("after Set: %+v", c)
	}
	bad := map[string]string{
		"audio.capture.rate=fast":  "audio.capture.rate",
		"audio.captur.rate=16000":  "audio.captur",
		"nosuchthing=1":            "nosuchthing",
		"audio.capture=16000":      "audio.capture",
		"earcons.enabled=sometime": "earcons.enabled",
	}
	for s, field := range bad {
		err := c.Set(s)
		var es Errors
		if !errors.As(err, &es) || es[0].Path != field {
			t.Errorf("Set(%q) = %v, want an error at %s", s, err, field)
		}
	}
	if err := c.Set("novalue"); err == nil {
		t.Errorf("Set(novalue) = nil, want an error")
	}
}

func TestMergeJSONKeepsOldOnError(t *testing.T) {
	c := Default()
	if err := c.Merge([]byte(`{"realtime": {"voice": "cedar"}, "audio": {"playback": {"volume": 55}}}`)); err != nil {
		t.Fatalf("Merge = %v", err)
	}
	if c.Realtime.Voice != "cedar" || c.Audio.Playback.Volume != 55 || c.Realtime.Model != "gpt-realtime" {
		t.Fatalf("Merge gave %+v", c.Realtime)
	}
	before := c.Clone()
	err := c.Merge([]byte(`{"realtime": {"voice": "ash"}, "audio": {"playback": {"volume": 300}}}`))
	if err == nil {
		t.Fatal("Merge with volume 300 = nil, want an error")
	}
	if !reflect.DeepEqual(c, before) {
		t.Errorf("a failed Merge changed the config")
	}
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("sk-from-file\n"), 0o600)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	tests := []struct {
		name    string
		set     []string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{"inline", []string{"realtime.api_key=sk-inline"}, map[string]string{"VOICED_API_KEY": "sk-env"}, "sk-inline", false},
		{"file", []string{"realtime.api_key_file=" + keyFile}, nil, "sk-from-file", false},
		{"missing file", []string{"realtime.api_key_file=" + filepath.Join(dir, "nope")}, nil, "", true},
		{"voiced env first", nil, map[string]string{"VOICED_API_KEY": "sk-v", "OPENAI_API_KEY": "sk-o"}, "sk-v", false},
		{"openai env", nil, map[string]string{"OPENAI_API_KEY": "sk-o"}, "sk-o", false},
		{"none", nil, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			for _, s := range tt.set {
				if err := c.Set(s); err != nil {
					t.Fatal(err)
				}
			}
			s, err := c.ResolveSecrets(env(tt.env))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ResolveSecrets err = %v, wantErr %v", err, tt.wantErr)
			}
			if s.APIKey != tt.want {
				t.Errorf("APIKey = %q, want %q", s.APIKey, tt.want)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	c := Default()
	c.Realtime.APIKey = "sk-secret-value"
	c.HTTP.Token = "0123456789abcdef0123"
	for _, form := range []func(Config) ([]byte, error){Config.JSON, Config.YAML} {
		b, err := form(c.Redacted())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "sk-secret-value") || strings.Contains(string(b), "0123456789abcdef0123") {
			t.Errorf("redacted form shows a secret:\n%s", b)
		}
	}
	next := c.Redacted()
	next.Realtime.Voice = "ash"
	c.KeepSecrets(&next)
	if next.Realtime.APIKey != "sk-secret-value" || next.HTTP.Token != "0123456789abcdef0123" {
		t.Errorf("KeepSecrets did not restore the secrets")
	}
}

func TestRoundTrip(t *testing.T) {
	c := Default()
	c.Realtime.Tools.Webhooks = []Webhook{{Name: "lights", URL: "http://127.0.0.1:8123/api", Parameters: map[string]any{"type": "object"}}}
	path := filepath.Join(t.TempDir(), "voiced.yaml")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load(saved) = %v", err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", got, c)
	}
	j, _ := c.JSON()
	fromJSON, err := Parse(j)
	if err != nil || !reflect.DeepEqual(fromJSON, c) {
		t.Errorf("JSON round trip: err %v, equal %v", err, reflect.DeepEqual(fromJSON, c))
	}
}

func TestSaveKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "voiced.yaml")
	os.WriteFile(path, []byte("mode: both\n"), 0o604)
	if err := Default().Save(path); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o604 {
		t.Errorf("mode after save = %o, want 604", fi.Mode().Perm())
	}
	newPath := filepath.Join(filepath.Dir(path), "new.yaml")
	Default().Save(newPath)
	fi, _ = os.Stat(newPath)
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode of a new file = %o, want 640", fi.Mode().Perm())
	}
}

// TestCrashBeforeRename kills a real process between the temp file's fsync and the
// rename: the old file must be intact, and the next save must work.
func TestCrashBeforeRename(t *testing.T) {
	if path := os.Getenv("VOICED_CRASH_SAVE"); path != "" {
		writeAtomic(path, []byte("mode: continuous\n"), func(string, string) error {
			os.Exit(7) // the power goes out here
			return nil
		})
		return
	}
	if testing.Short() {
		// Under qemu-user the test binary cannot exec itself (no binfmt); the native run covers it.
		t.Skip("re-executes the test binary; skipped with -short")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "voiced.yaml")
	old := []byte("mode: push_to_talk\n")
	os.WriteFile(path, old, 0o640)

	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashBeforeRename$")
	cmd.Env = append(os.Environ(), "VOICED_CRASH_SAVE="+path)
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("crashing child: %v, want exit status 7", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != string(old) {
		t.Fatalf("after a crash the file reads %q, want the old %q", got, old)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir has %d entries, want the file and the orphaned temp file", len(entries))
	}
	if c, err := Load(path, nil); err != nil || c.Mode != "push_to_talk" {
		t.Fatalf("Load after crash = %v, %v", c.Mode, err)
	}
	if err := Default().Save(path); err != nil {
		t.Fatalf("Save after crash = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("mode: both\n"))
	f.Add([]byte(`{"audio": {"capture": {"rate": 16000}}}`))
	f.Add([]byte("realtime:\n  tools:\n    webhooks:\n      - {name: a, url: 'http://x/', parameters: {type: object}}\n"))
	f.Add([]byte("a: &x [1, *x]\n"))
	f.Add([]byte("gpio:\n  button: 17\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config Validate rejects: %v", err)
		}
		// What was accepted must survive its own save format.
		y, err := c.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		if _, err := Parse(y); err != nil {
			t.Fatalf("re-parse of own output: %v\n%s", err, y)
		}
	})
}
