// Package schematest validates Realtime protocol events against the JSON schemas in
// internal/realtime/testdata, for tests outside package realtime (the daemon's
// end-to-end test, voiced-sim's recording). It is only linked into test binaries.
package schematest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validator checks events of one side of one schema file.
type Validator struct {
	c     *jsonschema.Compiler
	url   string
	index map[string]string // event type -> $defs name

	mu    sync.Mutex // guards cache
	cache map[string]*jsonschema.Schema
}

// testdata is the directory of the schema files, found from this source file so any
// package's test can use it.
func testdata() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata")
}

// Client returns the validator of client events for file, e.g. "realtime-ga.schema.json"
// (strict) or "realtime-beta.schema.json".
func Client(file string) (*Validator, error) { return load(file, "client") }

// Server returns the validator of server events for file, e.g.
// "realtime-ga.lenient.schema.json".
func Server(file string) (*Validator, error) { return load(file, "server") }

func load(file, side string) (*Validator, error) {
	raw, err := os.ReadFile(filepath.Join(testdata(), file))
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var idx struct {
		Index map[string]map[string]string `json:"x-event-index"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	url := "file:///" + file
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return &Validator{c: c, url: url, index: idx.Index[side], cache: map[string]*jsonschema.Schema{}}, nil
}

// Validate checks one event message; the error names its type and what is wrong.
func (v *Validator) Validate(msg []byte) error {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(msg, &head); err != nil {
		return fmt.Errorf("not a JSON event: %w", err)
	}
	def, ok := v.index[head.Type]
	if !ok {
		return fmt.Errorf("event type %q is not in the schema", head.Type)
	}
	v.mu.Lock()
	sch, ok := v.cache[def]
	if !ok {
		var err error
		if sch, err = v.c.Compile(v.url + "#/$defs/" + def); err != nil {
			v.mu.Unlock()
			return err
		}
		v.cache[def] = sch
	}
	v.mu.Unlock()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s: %w", head.Type, err)
	}
	return nil
}

// ValidateLines checks a file of one event per line (voiced-sim --record) and returns
// the count of events per type.
func (v *Validator) ValidateLines(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 32<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if err := v.Validate(b); err != nil {
			return counts, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		var head struct {
			Type string `json:"type"`
		}
		json.Unmarshal(b, &head)
		counts[head.Type]++
	}
	return counts, sc.Err()
}
