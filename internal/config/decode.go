package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// FieldError is one mistake, at one field path ("audio.capture.period_ms").
type FieldError struct {
	Path string
	Line int // in the source, when known; 0 otherwise
	Msg  string
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: %s (line %d)", e.Path, e.Msg, e.Line)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// Errors is every mistake found at once. Use errors.As to get it.
type Errors []*FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Fields returns the paths named, in order.
func (es Errors) Fields() []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Path
	}
	return out
}

// decoder overlays a YAML (or JSON) document onto a Config, collecting field errors.
type decoder struct {
	errs Errors
}

func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &FieldError{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// overlay decodes src (YAML or JSON) over dst, which keeps every value src does not name.
func overlay(dst *Config, src []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return errEmpty
	}
	if err := checkShape(&doc); err != nil {
		return err
	}
	d := &decoder{}
	d.value("", doc.Content[0], reflect.ValueOf(dst).Elem())
	if len(d.errs) > 0 {
		return d.errs
	}
	return nil
}

// errEmpty is a document with nothing in it: most likely a file truncated or not yet
// written, never a wish for all the defaults (write "{}" for that).
var errEmpty = errors.New("the document is empty (write {} for all the defaults)")

// Bounds on a document's shape. A real config nests 5 deep and has a few hundred nodes;
// tool schemas add some. Deeper nesting costs quadratic room once saved as indented YAML
// (a 6.6 KB JSON body became a 1.2 MB file), and aliases can expand a small document into
// a huge one, so both are refused before anything is decoded.
const (
	MaxDepth = 32
	MaxNodes = 20000
)

// checkShape walks the document as decoding would, following aliases, and refuses one
// nested deeper than MaxDepth or expanding to more than MaxNodes nodes.
func checkShape(doc *yaml.Node) error {
	nodes := 0
	var walk func(n *yaml.Node, depth int) error
	walk = func(n *yaml.Node, depth int) error {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
			if n == nil {
				return nil
			}
		}
		nodes++
		if nodes > MaxNodes {
			return fmt.Errorf("the document expands to more than %d values (aliases included)", MaxNodes)
		}
		if depth > MaxDepth {
			return fmt.Errorf("the document nests deeper than %d levels (line %d)", MaxDepth, n.Line)
		}
		for _, c := range n.Content {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(doc, 0)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) value(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		// An explicit null leaves the default: "key:" with no value is a common slip.
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[WakeWord]() && n.Kind == yaml.ScalarNode {
			v.Set(reflect.ValueOf(WakeWord{Word: n.Value})) // [okay_nabu] is short for [{word: okay_nabu}]
			return
		}
		d.structure(path, n, v)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(path, n, "want a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, ok := scalarBool(n)
		if !ok {
			d.fail(path, n, "want true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int:
		if n.Kind != yaml.ScalarNode {
			d.fail(path, n, "want a whole number, got %s", kindName(n))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 10, 32)
		if err != nil {
			d.fail(path, n, "want a whole number, got %q", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode {
			d.fail(path, n, "want a number, got %s", kindName(n))
			return
		}
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(path, n, "want a number, got %q", n.Value)
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(path, n, "want a list, got %s", kindName(n))
			return
		}
		if len(n.Content) == 0 {
			v.SetZero() // [] and an absent list mean the same: keep them equal
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.value(fmt.Sprintf("%s[%d]", path, i), c, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		// Free-form objects (tool schemas): any valid YAML/JSON mapping.
		if n.Kind != yaml.MappingNode {
			d.fail(path, n, "want a mapping, got %s", kindName(n))
			return
		}
		m := reflect.New(v.Type())
		if err := n.Decode(m.Interface()); err != nil {
			d.fail(path, n, "%v", err)
			return
		}
		v.Set(m.Elem())
	default:
		d.fail(path, n, "unsupported field type %s", v.Type())
	}
}

func (d *decoder) structure(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		where := path
		if where == "" {
			where = "(top level)"
		}
		d.fail(where, n, "want a mapping of keys, got %s", kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if seen[k.Value] {
			d.fail(p, k, "given twice")
			continue
		}
		seen[k.Value] = true
		idx, ok := fields[k.Value]
		if !ok {
			msg := "unknown key"
			if s := suggest(k.Value, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.fail(p, k, "%s", msg)
			continue
		}
		d.value(p, val, v.Field(idx))
	}
}

// fieldsOf maps yaml names to field indexes.
func fieldsOf(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

func scalarBool(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode {
		return false, false
	}
	switch strings.ToLower(n.Value) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

// suggest returns the known key closest to a mistyped one, if it is close.
func suggest(key string, fields map[string]int) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, name := range names {
		if dist := editDistance(key, name); dist < bestD {
			best, bestD = name, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Set overrides one field by its dotted path, the value written as in YAML
// ("audio.capture.period_ms=20", "realtime.tools.builtin=[time, mute]").
func (c *Config) Set(assignment string) error {
	path, value, ok := strings.Cut(assignment, "=")
	if !ok || path == "" {
		return fmt.Errorf("--set %q: want PATH=VALUE, e.g. audio.capture.device=file:question.wav", assignment)
	}
	keys := strings.Split(path, ".")
	// Build the nested mapping the path names, so the one decoder checks it.
	var val yaml.Node
	if err := yaml.Unmarshal([]byte(value), &val); err != nil || len(val.Content) == 0 {
		val = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}}}
	}
	leaf := val.Content[0]
	// A bare value for a string field stays a string even if YAML reads it as a number.
	if leaf.Kind == yaml.ScalarNode && leaf.Tag != "!!null" {
		leaf.Style = 0
	}
	node := leaf
	for i := len(keys) - 1; i >= 0; i-- {
		node = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Value: keys[i]}, node,
		}}
	}
	if err := checkShape(node); err != nil {
		return fmt.Errorf("--set %s: %w", path, err)
	}
	d := &decoder{}
	d.value("", node, reflect.ValueOf(c).Elem())
	if len(d.errs) > 0 {
		return d.errs
	}
	return nil
}

// asErrors returns err's field errors, or nil.
func asErrors(err error) Errors {
	var es Errors
	if errors.As(err, &es) {
		return es
	}
	return nil
}
