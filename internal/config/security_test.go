package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmptyConfigIsAnError (issue 20, point 8): an empty file is a truncated one, not a
// wish for the defaults.
func TestEmptyConfigIsAnError(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"empty": "", "blank": "\n  \n", "comments only": "# mode: both\n"} {
		path := filepath.Join(dir, "voiced.yaml")
		os.WriteFile(path, []byte(text), 0o600)
		if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("Load(%s) = %v, want an error saying it is empty", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "absent.yaml"), nil); err == nil {
		t.Errorf("Load(absent) = nil, want an error")
	}
	os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte("{}\n"), 0o600)
	if _, err := Load(filepath.Join(dir, "ok.yaml"), nil); err != nil {
		t.Errorf("Load({}) = %v, want the defaults", err)
	}
}

// TestShapeLimits (point 4): deep nesting and alias bombs are refused before decoding.
func TestShapeLimits(t *testing.T) {
	deep := "realtime:\n  tools:\n    server:\n      - type: x\n        a: " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n"
	bomb := "realtime:\n  tools:\n    server:\n      - type: x\n        a: &a [1,1,1,1,1,1,1,1,1,1]\n        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n        e: [*d,*d,*d]\n"
	for name, doc := range map[string]string{"deep": deep, "aliases": bomb} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("Parse(%s) = nil, want it refused", name)
		}
	}
	var c Config
	if err := c.Set("realtime.instructions=" + strings.Repeat("[", 40) + strings.Repeat("]", 40)); err == nil {
		t.Errorf("Set of a deep value = nil, want it refused")
	}
}

// TestSaveChecksItLoads (point 4): what cannot load back is never written.
func TestSaveChecksItLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "voiced.yaml")
	os.WriteFile(path, []byte("mode: both\n"), 0o600)
	c := Default()
	big := map[string]any{"type": "x"}
	for i := range 600 {
		big[strings.Repeat("k", 10)+string(rune('a'+i%26))+strings.Repeat("v", i)] = strings.Repeat("x", 1800)
	}
	c.Realtime.Tools.Server = []map[string]any{big}
	if err := c.Save(path); err == nil {
		t.Errorf("Save of a config over %d bytes = nil, want an error", MaxFileSize)
	}
	if b, _ := os.ReadFile(path); string(b) != "mode: both\n" {
		t.Errorf("a refused save changed the file")
	}
}

// TestStaleTemps (point 9): temp files are 0600 while written, and those a crash left
// are removed.
func TestStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "voiced.yaml")
	os.WriteFile(path, []byte("mode: both\n"), 0o644)
	var mode os.FileMode
	writeAtomic(path, []byte("mode: continuous\napi_key: sk\n"), func(old, _ string) error {
		fi, err := os.Stat(old)
		if err != nil {
			return err
		}
		mode = fi.Mode().Perm()
		return errors.New("power cut")
	})
	// The temp file was removed on the error; one a SIGKILL leaves is simulated.
	os.WriteFile(filepath.Join(dir, ".voiced.yaml.tmp-123"), []byte("api_key: sk\n"), 0o600)
	os.WriteFile(filepath.Join(dir, ".other.yaml.tmp-1"), nil, 0o600)
	if mode == 0 {
		t.Fatal("rename not reached")
	}
	n, err := RemoveStaleTemps(path)
	if err != nil || n != 1 {
		t.Errorf("RemoveStaleTemps = %d, %v; want 1, nil", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".other.yaml.tmp-1")); err != nil {
		t.Errorf("another file's temp was removed")
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the config was removed")
	}
}

// TestTempFileMode (point 9): the data is written while only the owner can read it.
func TestTempFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "voiced.yaml")
	os.WriteFile(path, []byte("mode: both\n"), 0o644)
	f, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	f.Close()
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("temp file mode %o, want 600", fi.Mode().Perm())
	}
	if !strings.HasPrefix(filepath.Base(f.Name()), ".voiced.yaml.tmp-") {
		t.Errorf("temp file %s does not match what RemoveStaleTemps removes", f.Name())
	}
}

// TestSecretsNeverPlaceholder (point 1).
func TestSecretsNeverPlaceholder(t *testing.T) {
	cur := Default()
	cur.Realtime.APIKey = "sk-real"
	cur.HTTP.Token = "Xq7vR2mK9pL4wT8z"
	for _, body := range []string{
		`{"realtime":{"api_key":"***"},"http":{"token":"***"}}`,
		`{"realtime":{"voice":"ash"}}`,
	} {
		for name, op := range map[string]func(Config, []byte) (Config, error){"Patch": Config.Patch, "Replace": Config.Replace} {
			next, err := op(cur, []byte(body))
			if err != nil {
				t.Fatalf("%s(%s) = %v", name, body, err)
			}
			if next.Realtime.APIKey != "sk-real" || next.HTTP.Token != cur.HTTP.Token {
				t.Errorf("%s(%s): key %q token %q, want both kept", name, body, next.Realtime.APIKey, next.HTTP.Token)
			}
		}
	}
	if next, err := cur.Patch([]byte(`{"realtime":{"api_key":null}}`)); err != nil || next.Realtime.APIKey != "" {
		t.Errorf("Patch null key = %q, %v; want it cleared", next.Realtime.APIKey, err)
	}
	if _, err := Parse([]byte("realtime: {api_key: '***'}\n")); err == nil {
		t.Errorf("a file with api_key *** loads; want it refused")
	}
	for tok, ok := range map[string]bool{
		"***": false, "short": false, "aaaaaaaaaaaaaaaaaaaaaa": false, "0123456789abcdefghij": false,
		"abababababababababab": false, "Xq7vR2mK9pL4wT8z": true, "3f9c1a7e5b2d8064c1e9f7a3b5d20846": true,
	} {
		if got := TokenProblem(tok) == ""; got != ok {
			t.Errorf("TokenProblem(%q) accepts = %v, want %v", tok, got, ok)
		}
	}
}

// TestValidateAtConfigFile (point 2): nothing may name the config file itself.
func TestValidateAtConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "voiced.yaml")
	os.WriteFile(path, []byte("{}\n"), 0o600)
	os.Symlink(path, filepath.Join(dir, "link.wav"))
	for _, set := range []string{
		"audio.playback.device=file:" + path,
		"audio.capture.device=file:" + filepath.Join(dir, "link.wav"),
		"realtime.api_key_file=" + filepath.Join(dir, ".", "voiced.yaml"),
	} {
		c := Default()
		if err := c.Set(set); err != nil {
			t.Fatal(err)
		}
		if err := c.ValidateAt(path); err == nil {
			t.Errorf("ValidateAt with %s = nil, want an error", set)
		}
		if _, err := Load(path, []string{set}); err == nil {
			t.Errorf("Load with --set %s = nil, want an error", set)
		}
	}
}

// TestRebase (point 11): only the fields a change touched reach the file; a --set
// override stays out of it.
func TestRebase(t *testing.T) {
	file := Default()
	file.Realtime.Voice = "marin"
	cur := file.Clone()
	cur.Audio.Playback.Device = "file:/tmp/reply.wav" // --set
	cur.Realtime.APIKey = "sk-from-the-command-line"  // --set
	next := cur.Clone()
	next.Realtime.Voice = "cedar"
	next.Realtime.Tools.Builtin = []string{"time"}
	got, err := Rebase(file, cur, next)
	if err != nil {
		t.Fatal(err)
	}
	if got.Realtime.Voice != "cedar" || len(got.Realtime.Tools.Builtin) != 1 {
		t.Errorf("the change was not carried: voice %q builtin %v", got.Realtime.Voice, got.Realtime.Tools.Builtin)
	}
	if got.Audio.Playback.Device != "default" || got.Realtime.APIKey != "" {
		t.Errorf("--set overrides reached the file: device %q key %q", got.Audio.Playback.Device, got.Realtime.APIKey)
	}
}

// TestCheckRemote (points 2, 3).
func TestCheckRemote(t *testing.T) {
	cur := Default()
	cur.Audio.Playback.Device = "file:/tmp/reply.wav"
	same := cur.Clone()
	same.Realtime.Voice = "ash"
	if err := CheckRemote(cur, same); err != nil {
		t.Errorf("a change leaving the files alone: %v", err)
	}
	back := cur.Clone()
	back.Audio.Playback.Device = "default"
	if err := CheckRemote(cur, back); err != nil {
		t.Errorf("a file device back to a sound card: %v", err)
	}
	moved := cur.Clone()
	moved.Audio.Playback.Device = "file:/var/lib/voiced/other.wav"
	if err := CheckRemote(cur, moved); err == nil {
		t.Errorf("a file device moved with paths.http_changes false: nil, want an error")
	}
	cur.Paths.HTTPChanges = true
	moved.Paths.HTTPChanges = true
	if err := CheckRemote(cur, moved); err != nil {
		t.Errorf("a file device moved under /var/lib/voiced with http_changes: %v", err)
	}
	moved.Audio.Playback.Device = "file:/var/lib/voiced/../../etc/voiced/voiced.yaml"
	if err := CheckRemote(cur, moved); err == nil {
		t.Errorf("a file device moved out through ..: nil, want an error")
	}
}

func TestMergePatch(t *testing.T) {
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[1]}`, `{"a":[2,3]}`, `{"a":[2,3]}`},
		{`{"a":"x"}`, `{"a":{"b":1}}`, `{"a":{"b":1}}`},
	}
	for _, tt := range tests {
		var target, patch any
		json.Unmarshal([]byte(tt.target), &target)
		json.Unmarshal([]byte(tt.patch), &patch)
		got, _ := json.Marshal(mergePatch(target, patch))
		if string(got) != tt.want {
			t.Errorf("mergePatch(%s, %s) = %s, want %s", tt.target, tt.patch, got, tt.want)
		}
	}
}

// TestOddStringsRoundTrip: strings the YAML encoder's block styles lose (a leading line
// break) are saved so they load back the same.
func TestOddStringsRoundTrip(t *testing.T) {
	for _, s := range []string{"\n0", " lead", "trail ", "a\n\n b\n", "tab\there", "true", "12", "null", "#x", "- y", "\u00a0"} {
		c := Default()
		c.Realtime.Instructions = s
		c.Realtime.Tools.Server = []map[string]any{{"type": "x", s: s, "n": 1.0}}
		data, err := c.Encode()
		if err != nil {
			t.Errorf("Encode with %q: %v", s, err)
			continue
		}
		back, err := Parse(data)
		if err != nil || back.Realtime.Instructions != s {
			t.Errorf("instructions %q came back as %q (%v)", s, back.Realtime.Instructions, err)
		}
	}
}
