package sio

import (
	"bytes"
	"fmt"
)

// SplitEvent takes an EVENT's data apart: the event name and the raw JSON of
// its first argument (nil when there is none). Neither is copied.
func SplitEvent(data []byte) (name, arg []byte, err error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, nil, fmt.Errorf("sio: event data %.40q: want a JSON array", data)
	}
	i = skipSpace(data, i+1)
	if i >= len(data) || data[i] != '"' {
		return nil, nil, fmt.Errorf("sio: event data %.40q: want the event name first", data)
	}
	end := skipString(data, i)
	if end < 0 {
		return nil, nil, fmt.Errorf("sio: event data %.40q: bad event name", data)
	}
	name = data[i+1 : end-1]
	if bytes.IndexByte(name, '\\') >= 0 {
		return nil, nil, fmt.Errorf("sio: event name %q: escapes are not supported", name)
	}
	i = skipSpace(data, end)
	if i < len(data) && data[i] == ']' {
		return name, nil, nil
	}
	if i >= len(data) || data[i] != ',' {
		return nil, nil, fmt.Errorf("sio: event %s: bad argument list", name)
	}
	i = skipSpace(data, i+1)
	j := skipValue(data, i)
	if j < 0 {
		return nil, nil, fmt.Errorf("sio: event %s: bad argument", name)
	}
	return name, data[i:j], nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string starting at b[i], or -1.
// It jumps from quote to quote: audio strings are long.
func skipString(b []byte, i int) int {
	start := i + 1
	for i = start; ; {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		k := i + j
		n := 0 // backslashes right before the quote
		for p := k - 1; p >= start && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return k + 1
		}
		i = k + 1
	}
}

// skipValue returns the index after the JSON value starting at b[i], or -1.
// It checks nesting and strings only; the value's own decoder checks the rest.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		var open [64]byte // closers expected, innermost last
		depth := 0
		for ; i < len(b); i++ {
			switch c := b[i]; c {
			case '"':
				j := skipString(b, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				if depth == len(open) {
					return -1
				}
				open[depth] = c + 2 // '{'+2 = '}', '['+2 = ']'
				depth++
			case '}', ']':
				if depth == 0 || open[depth-1] != c {
					return -1
				}
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != ']' && b[j] != '}' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}

// Field returns the raw JSON value of key at the top level of the object
// obj, or nil. It does not allocate: the audio fast paths use it.
func Field(obj []byte, key string) []byte {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] != '"' {
			return nil
		}
		end := skipString(obj, i)
		if end < 0 {
			return nil
		}
		k := obj[i+1 : end-1]
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil
		}
		i = skipSpace(obj, i+1)
		j := skipValue(obj, i)
		if j < 0 {
			return nil
		}
		if string(k) == key {
			return obj[i:j]
		}
		i = skipSpace(obj, j)
		if i >= len(obj) || obj[i] != ',' {
			return nil
		}
		i++
	}
}

// Str returns the contents of a raw JSON string without escapes; ok is
// false for anything else (decode those with encoding/json).
func Str(raw []byte) (s []byte, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || bytes.IndexByte(raw, '\\') >= 0 {
		return nil, false
	}
	return raw[1 : len(raw)-1], true
}
