package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// secretFields are the write-only fields, as paths into the JSON form.
var secretFields = [][2]string{{"realtime", "api_key"}, {"http", "token"}}

// Patch applies an RFC 7396 JSON merge patch to c and validates the result. A secret sent
// as "***" (how GET shows it) keeps the value in force, as does leaving it out; null
// clears it. On error c is unchanged.
func (c Config) Patch(body []byte) (Config, error) {
	patch, err := jsonObject(body)
	if err != nil {
		return Config{}, err
	}
	for _, f := range secretFields {
		if sub, ok := patch[f[0]].(map[string]any); ok && sub[f[1]] == Redaction {
			delete(sub, f[1])
		}
	}
	base, err := c.JSON()
	if err != nil {
		return Config{}, err
	}
	var doc any
	if err := json.Unmarshal(base, &doc); err != nil {
		return Config{}, err
	}
	merged, err := json.Marshal(mergePatch(doc, patch))
	if err != nil {
		return Config{}, err
	}
	return Parse(merged)
}

// Replace returns the config body describes in full, over the defaults, and validated. A
// secret left out or sent as "***" keeps the value in force; "" or null clears it.
func (c Config) Replace(body []byte) (Config, error) {
	doc, err := jsonObject(body)
	if err != nil {
		return Config{}, err
	}
	cur := map[string]string{"api_key": c.Realtime.APIKey, "token": c.HTTP.Token}
	for _, f := range secretFields {
		sub, ok := doc[f[0]].(map[string]any)
		if !ok {
			if _, present := doc[f[0]]; present {
				continue // not an object: the decoder names the mistake
			}
			sub = map[string]any{}
			doc[f[0]] = sub
		}
		if v, present := sub[f[1]]; !present || v == Redaction {
			sub[f[1]] = cur[f[1]]
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return Config{}, err
	}
	return Parse(b)
}

// jsonObject decodes a request body that must be one JSON object.
func jsonObject(body []byte) (map[string]any, error) {
	if len(body) > MaxFileSize {
		return nil, fmt.Errorf("body is %d bytes, more than the %d allowed", len(body), MaxFileSize)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("body is not JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("body must be a JSON object")
	}
	return m, nil
}

// mergePatch applies an RFC 7396 JSON merge patch.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// Rebase carries a change from cur to next over onto file, the config as saved: every
// field where next differs from cur takes next's value, every other keeps file's. With
// file the saved config and cur the one in force (file plus --set overrides), the result
// is what to save: the change, without the one-run overrides.
func Rebase(file, cur, next Config) (Config, error) {
	var docs [3]map[string]any
	for i, c := range []Config{file, cur, next} {
		b, err := c.JSON()
		if err != nil {
			return Config{}, err
		}
		if err := json.Unmarshal(b, &docs[i]); err != nil {
			return Config{}, err
		}
	}
	carry(docs[0], docs[1], docs[2])
	b, err := json.Marshal(docs[0])
	if err != nil {
		return Config{}, err
	}
	return Parse(b)
}

func carry(dst, from, to map[string]any) {
	for k, tv := range to {
		fv := from[k]
		tm, ok1 := tv.(map[string]any)
		fm, ok2 := fv.(map[string]any)
		dm, ok3 := dst[k].(map[string]any)
		if ok1 && ok2 && ok3 {
			carry(dm, fm, tm)
			continue
		}
		if !reflect.DeepEqual(fv, tv) {
			dst[k] = tv
		}
	}
}
