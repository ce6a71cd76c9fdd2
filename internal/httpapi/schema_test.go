package httpapi

import (
	"flag"
	"log/slog"
	"net/http/httptest"
	"os"
	"slices"
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
	want := configSchema(config.Keys)
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

// TestKeyAddedAppears shows that describing a key is all the page and the OpenAPI
// document need: without earcons.volume's Key neither has it, with it both do.
func TestKeyAddedAppears(t *testing.T) {
	vol, _ := config.KeyOf("earcons.volume")
	without := slices.DeleteFunc(slices.Clone(config.Keys), func(k config.Key) bool { return k.Path == vol.Path })
	for _, tc := range []struct {
		keys []config.Key
		want bool
	}{{without, false}, {append(without, vol), true}} {
		srv := httptest.NewServer(New(Options{Keys: tc.keys, Backend: &fakeBackend{}, Config: &fakeStore{cfg: config.Default()}, Log: slog.New(slog.DiscardHandler)}))
		_, body := do(t, "GET", srv.URL+"/", "")
		srv.Close()
		if got := strings.Contains(body, `name="earcons.volume"`); got != tc.want {
			t.Errorf("with %d keys, the form has earcons.volume = %v, want %v", len(tc.keys), got, tc.want)
		}
		var doc struct {
			Config struct {
				Properties map[string]struct {
					Properties map[string]any `yaml:"properties"`
				} `yaml:"properties"`
			} `yaml:"Config"`
		}
		schema := strings.ReplaceAll(configSchema(tc.keys), "\n    ", "\n")
		if err := yaml.Unmarshal([]byte(strings.TrimPrefix(schema, "    ")), &doc); err != nil {
			t.Fatalf("schema of %d keys: %v", len(tc.keys), err)
		}
		if _, got := doc.Config.Properties["earcons"].Properties["volume"]; got != tc.want {
			t.Errorf("with %d keys, the schema has earcons.volume = %v, want %v", len(tc.keys), got, tc.want)
		}
	}
}
