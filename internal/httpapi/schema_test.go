package httpapi

import (
	"flag"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/voiced-project/voiced/internal/config"
)

var update = flag.Bool("update", false, "rewrite openapi.yaml's Config schema from config.Keys")

// TestOpenAPIConfigSchema keeps openapi.yaml's Config schema the one config.Keys makes:
// a key added to Keys must be in the document (run with -update to write it).
func TestOpenAPIConfigSchema(t *testing.T) {
	doc, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, schemaBegin), strings.Index(s, schemaEnd)
	if i < 0 || j < i {
		t.Fatalf("openapi.yaml lacks the markers %q ... %q", schemaBegin, schemaEnd)
	}
	got := s[i : j+len(schemaEnd)+1]
	want := configSchema()
	if got != want {
		if *update {
			if err := os.WriteFile("openapi.yaml", []byte(s[:i]+want+s[j+len(schemaEnd)+1:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("openapi.yaml's Config schema is not what config.Keys makes; run go test ./internal/httpapi -run TestOpenAPIConfigSchema -update")
	}
	// And the document parses, with every key where its path says.
	var parsed struct {
		Components struct {
			Schemas map[string]map[string]any `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(doc, &parsed); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	for _, k := range config.Keys {
		var n any = parsed.Components.Schemas["Config"]
		for name := range strings.SplitSeq(k.Path, ".") {
			props, _ := n.(map[string]any)["properties"].(map[string]any)
			n = props[name]
		}
		if _, ok := n.(map[string]any); !ok {
			t.Errorf("openapi.yaml's Config schema lacks %s", k.Path)
		}
	}
}
