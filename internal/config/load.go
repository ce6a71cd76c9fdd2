package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds a config file or body: a real one is a few KB.
const MaxFileSize = 1 << 20

// Parse decodes a YAML (or JSON) document over the defaults and validates the result.
// Every mistake is returned at once, as Errors.
func Parse(data []byte) (Config, error) {
	c := Default()
	if err := c.Merge(data); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Merge decodes a YAML or JSON document over c (keys it does not name keep their value)
// and validates the result. On any error c is unchanged.
func (c *Config) Merge(data []byte) error {
	if len(data) > MaxFileSize {
		return fmt.Errorf("config is %d bytes, more than the %d allowed", len(data), MaxFileSize)
	}
	next := c.Clone()
	errs, err := decodeAndValidate(&next, data, nil)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return errs
	}
	*c = next
	return nil
}

// decodeAndValidate overlays data and then the --set assignments on c, and validates what
// it could decode, so one pass reports unknown keys, wrong types and out-of-range values
// together. A non-nil error is a syntax error that stopped decoding.
func decodeAndValidate(c *Config, data []byte, sets []string) (Errors, error) {
	var errs Errors
	if err := overlay(c, data); err != nil {
		if errs = asErrors(err); errs == nil {
			return nil, err
		}
	}
	for _, s := range sets {
		if err := c.Set(s); err != nil {
			fe := asErrors(err)
			if fe == nil {
				return nil, err
			}
			errs = append(errs, fe...)
		}
	}
	// Fields that failed to decode kept their (valid) old value, so validation speaks
	// only of the others.
	if err := c.Validate(); err != nil {
		errs = append(errs, asErrors(err)...)
	}
	return errs, nil
}

// Load reads the file at path (a missing file is an error), applies the --set overrides
// in order, and validates. Secrets are not resolved here: see ResolveSecrets.
func Load(path string, sets []string) (Config, error) {
	c := Default()
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	if len(data) > MaxFileSize {
		return Config{}, fmt.Errorf("config %s is %d bytes, more than the %d allowed", path, len(data), MaxFileSize)
	}
	errs, err := decodeAndValidate(&c, data, sets)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	if len(errs) > 0 {
		return Config{}, errs
	}
	if err := c.ValidateAt(path); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Clone returns a deep copy (slices and maps are not shared).
func (c Config) Clone() Config {
	out := c
	out.Realtime.Tools.Builtin = append([]string(nil), c.Realtime.Tools.Builtin...)
	out.Realtime.Tools.Webhooks = append([]Webhook(nil), c.Realtime.Tools.Webhooks...)
	for i := range out.Realtime.Tools.Webhooks {
		out.Realtime.Tools.Webhooks[i].Parameters = cloneMap(out.Realtime.Tools.Webhooks[i].Parameters)
	}
	out.HTTP.AllowedHosts = slices.Clone(c.HTTP.AllowedHosts)
	out.Wake.Words = slices.Clone(c.Wake.Words)
	out.Paths.AudioDirs = slices.Clone(c.Paths.AudioDirs)
	out.Paths.SecretDirs = slices.Clone(c.Paths.SecretDirs)
	out.Realtime.Tools.Server = nil
	for _, s := range c.Realtime.Tools.Server {
		out.Realtime.Tools.Server = append(out.Realtime.Tools.Server, cloneMap(s))
	}
	return out
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	// A JSON round trip is a deep copy of a free-form document.
	b, err := json.Marshal(m)
	if err != nil {
		return m
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil {
		return m
	}
	return out
}

// Secrets are the resolved credentials, kept apart from Config so they never get saved
// or served by accident.
type Secrets struct {
	APIKey    string
	APIKeySrc string // where it came from, for messages: "realtime.api_key_file /etc/..." etc.
	HTTPToken string
}

// ResolveSecrets finds the API key (realtime.api_key, realtime.api_key_file, then
// $VOICED_API_KEY, then $OPENAI_API_KEY) and the HTTP token. A missing API key is not an
// error: the daemon runs and says what is missing. getenv is os.Getenv in production.
func (c *Config) ResolveSecrets(getenv func(string) string) (Secrets, error) {
	var s Secrets
	var errs []error
	switch {
	case c.Realtime.APIKey != "":
		s.APIKey, s.APIKeySrc = c.Realtime.APIKey, "realtime.api_key"
	case c.Realtime.APIKeyFile != "":
		k, err := readSecret(c.Realtime.APIKeyFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("realtime.api_key_file: %w", err))
		}
		s.APIKey, s.APIKeySrc = k, "realtime.api_key_file "+c.Realtime.APIKeyFile
	case getenv("VOICED_API_KEY") != "":
		s.APIKey, s.APIKeySrc = strings.TrimSpace(getenv("VOICED_API_KEY")), "$VOICED_API_KEY"
	case getenv("OPENAI_API_KEY") != "":
		s.APIKey, s.APIKeySrc = strings.TrimSpace(getenv("OPENAI_API_KEY")), "$OPENAI_API_KEY"
	}
	switch {
	case c.HTTP.Token != "":
		s.HTTPToken = c.HTTP.Token
	case c.HTTP.TokenFile != "":
		t, err := readSecret(c.HTTP.TokenFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("http.token_file: %w", err))
		} else if p := TokenProblem(t); p != "" {
			errs = append(errs, fmt.Errorf("http.token_file: the token in %s %s", c.HTTP.TokenFile, p))
		}
		s.HTTPToken = t
	}
	return s, errors.Join(errs...)
}

func readSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	k := strings.TrimSpace(string(b))
	if k == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return k, nil
}

// Redacted returns a copy safe to print or serve: secrets read as "***".
func (c Config) Redacted() Config {
	out := c.Clone()
	if out.Realtime.APIKey != "" {
		out.Realtime.APIKey = Redaction
	}
	if out.HTTP.Token != "" {
		out.HTTP.Token = Redaction
	}
	return out
}

// KeepSecrets puts back, in next, the secrets a client sent as "***" (it read them
// redacted and sent them back unchanged).
func (c Config) KeepSecrets(next *Config) {
	if next.Realtime.APIKey == Redaction {
		next.Realtime.APIKey = c.Realtime.APIKey
	}
	if next.HTTP.Token == Redaction {
		next.HTTP.Token = c.HTTP.Token
	}
}

// JSON is the HTTP form: the same field names as the file.
func (c Config) JSON() ([]byte, error) {
	return json.MarshalIndent(c, "", "  ")
}

// YAML is the file form.
func (c Config) YAML() ([]byte, error) {
	doc, err := toNode(reflect.ValueOf(c))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// toNode builds the YAML node of a config value: struct fields in their order, map keys
// sorted. It is built by hand rather than by yaml.Marshal because the encoder picks a
// block style for some strings that does not read back the same ("\n0" came back as
// "0"); such strings are written double-quoted here.
func toNode(v reflect.Value) (*yaml.Node, error) {
	scalar := func(tag, value string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value} }
	switch v.Kind() {
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i < v.NumField(); i++ {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			fv, err := toNode(v.Field(i))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, scalar("!!str", name), fv)
		}
		return n, nil
	case reflect.Map:
		if v.IsNil() {
			return scalar("!!null", "null"), nil
		}
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			if k.Kind() != reflect.String {
				return nil, fmt.Errorf("encode config: map key of type %s", k.Type())
			}
			fv, err := toNode(v.MapIndex(k))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, toStr(k.String()), fv)
		}
		return n, nil
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle
		}
		for i := 0; i < v.Len(); i++ {
			e, err := toNode(v.Index(i))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, e)
		}
		return n, nil
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return scalar("!!null", "null"), nil
		}
		return toNode(v.Elem())
	case reflect.String:
		return toStr(v.String()), nil
	case reflect.Bool:
		return scalar("!!bool", strconv.FormatBool(v.Bool())), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return scalar("!!int", strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return scalar("!!int", strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("encode config: %v is not a number a file can hold", f)
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0" // reads back as a number with a fraction, without a !!float tag
		}
		return scalar("!!float", s), nil
	}
	return nil, fmt.Errorf("encode config: unsupported type %s", v.Type())
}

// toStr is a string's node: double-quoted when it has line breaks, other control
// characters or white space at either end; otherwise the encoder quotes it only if it
// would read as something else (true, 12, null).
func toStr(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if s != strings.TrimSpace(s) || strings.ContainsFunc(s, unicode.IsControl) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}
