package httpapi

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/voiced-project/voiced/internal/config"
)

// The Config schema of openapi.yaml lies between these lines, made from config.Keys.
const (
	schemaBegin = "    # Config: made from config.Keys (go test ./internal/httpapi -run TestOpenAPIConfigSchema -update); do not edit by hand."
	schemaEnd   = "    # end of Config"
)

// configSchema is the Config schema of keys in openapi.yaml's indentation, between the
// markers.
func configSchema(keys []config.Key) string {
	type node struct {
		key      *config.Key
		names    []string // children in order
		children map[string]*node
	}
	root := &node{children: map[string]*node{}}
	for i := range keys {
		k := &keys[i]
		n := root
		for name := range strings.SplitSeq(k.Path, ".") {
			c, ok := n.children[name]
			if !ok {
				c = &node{children: map[string]*node{}}
				n.children[name] = c
				n.names = append(n.names, name)
			}
			n = c
		}
		n.key = k
	}
	var b strings.Builder
	b.WriteString(schemaBegin + "\n")
	b.WriteString("    Config:\n      type: object\n")
	b.WriteString("      description: The configuration, with the field names of /etc/voiced/voiced.yaml (see examples/voiced.yaml). Secrets (realtime.api_key, http.token) read as \"***\"; sending \"***\" back, or leaving them out, keeps them. The paths section, file devices, realtime.api_key_file and http.token_file change over HTTP only as paths allows (403 otherwise).\n")
	var walk func(n *node, indent string)
	walk = func(n *node, indent string) {
		b.WriteString(indent + "properties:\n")
		for _, name := range n.names {
			c := n.children[name]
			if c.key == nil {
				b.WriteString(indent + "  " + name + ":\n" + indent + "    type: object\n")
				walk(c, indent+"    ")
				continue
			}
			b.WriteString(indent + "  " + name + ": " + keySchema(*c.key) + "\n")
		}
	}
	walk(root, "      ")
	b.WriteString(schemaEnd + "\n")
	return b.String()
}

// keySchema is one key's schema in YAML flow style.
func keySchema(k config.Key) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var parts []string
	item := ""
	switch k.Kind {
	case config.List:
		parts = append(parts, "type: array")
		item = "type: string"
		if k.Choices != nil {
			item += ", enum: [" + strings.Join(k.Choices, ", ") + "]"
		}
		parts = append(parts, "items: {"+item+"}")
	case config.Objects:
		parts = append(parts, "type: array", "items: {type: object}")
	default:
		parts = append(parts, "type: "+string(k.Kind))
		if k.Choices != nil {
			cs := make([]string, len(k.Choices))
			for i, c := range k.Choices {
				cs[i] = c
				if k.Kind == config.String {
					cs[i] = q(c)
				}
			}
			parts = append(parts, "enum: ["+strings.Join(cs, ", ")+"]")
		}
		if k.Ranged && !k.ZeroOff {
			parts = append(parts, "minimum: "+strconv.FormatFloat(k.Min, 'g', -1, 64), "maximum: "+strconv.FormatFloat(k.Max, 'g', -1, 64))
		}
	}
	if k.Kind != config.Objects {
		d := k.Default()
		switch k.Kind {
		case config.String:
			d = q(d)
		case config.List:
			d = "[" + strings.ReplaceAll(d, "\n", ", ") + "]"
		}
		parts = append(parts, "default: "+d)
	}
	if k.Secret {
		parts = append(parts, "writeOnly: true")
	}
	desc := k.Help
	if k.ZeroOff {
		desc += " Range " + k.RangeText() + "."
	}
	if k.Unit != "" {
		desc += " Unit: " + k.Unit + "."
	}
	parts = append(parts, "description: "+q(desc))
	return "{" + strings.Join(parts, ", ") + "}"
}
