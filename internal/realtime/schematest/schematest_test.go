package schematest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	v, err := Client("realtime-ga.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	good := `{"type":"input_audio_buffer.commit"}`
	if err := v.Validate([]byte(good)); err != nil {
		t.Errorf("Validate(%s) = %v", good, err)
	}
	bad := []string{
		`{"type":"input_audio_buffer.append","audio":7}`,
		`{"type":"no.such.event"}`,
		`{"type":`,
	}
	for _, b := range bad {
		if err := v.Validate([]byte(b)); err == nil {
			t.Errorf("Validate(%s) = nil, want an error", b)
		}
	}
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	os.WriteFile(path, []byte(good+"\n"+good+"\n"), 0o600)
	counts, err := v.ValidateLines(path)
	if err != nil || counts["input_audio_buffer.commit"] != 2 {
		t.Errorf("ValidateLines = %v, %v", counts, err)
	}
	os.WriteFile(path, []byte(good+"\n"+bad[0]+"\n"), 0o600)
	if _, err := v.ValidateLines(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ValidateLines with a bad line = %v, want an error at line 2", err)
	}
}
