package config

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// TestKeysCoverConfig checks that Keys describes every leaf of Config, once, with a
// kind that fits its Go type: a field added to Config without a Key fails here.
func TestKeysCoverConfig(t *testing.T) {
	leaves := LeafPaths()
	var described []string
	for _, k := range Keys {
		if slices.Contains(described, k.Path) {
			t.Errorf("Keys lists %s twice", k.Path)
		}
		described = append(described, k.Path)
		var c Config
		f, ok := c.Field(k.Path)
		if !ok {
			t.Errorf("Keys lists %s, which Config does not have", k.Path)
			continue
		}
		want := map[reflect.Kind]Kind{reflect.String: String, reflect.Int: Int, reflect.Float64: Float, reflect.Bool: Bool}[f.Kind()]
		if f.Kind() == reflect.Slice {
			want = Objects
			if f.Type().Elem().Kind() == reflect.String {
				want = List
			}
		}
		if k.Kind != want {
			t.Errorf("Keys: %s is %s, want %s for its Go type %s", k.Path, k.Kind, want, f.Type())
		}
		if k.Help == "" {
			t.Errorf("Keys: %s has no help text", k.Path)
		}
	}
	for _, p := range leaves {
		if !slices.Contains(described, p) {
			t.Errorf("Config has %s, which Keys does not describe", p)
		}
	}
}

// TestKeysDriveValidator checks that every range and choice in Keys is enforced by
// Validate without code of its own: a value outside it is refused by that key's path, and
// the default is inside it.
func TestKeysDriveValidator(t *testing.T) {
	for _, k := range Keys {
		if !k.Ranged && k.Choices == nil {
			continue
		}
		t.Run(k.Path, func(t *testing.T) {
			c := Default()
			f, _ := c.Field(k.Path)
			switch {
			case k.Kind == List:
				f.Set(reflect.ValueOf([]string{"no-such-choice"}))
			case k.Kind == String:
				f.SetString("no-such-choice")
			case k.Choices != nil: // a number from a list
				f.SetInt(7)
			case k.Kind == Int:
				f.SetInt(int64(k.Max) + 1)
			case k.Kind == Float:
				f.SetFloat(k.Max + 0.5)
			}
			var es Errors
			if err := c.Validate(); !errors.As(err, &es) {
				t.Fatalf("Validate with %s out of bounds = %v, want an Errors", k.Path, err)
			}
			if fields := es.Fields(); !slices.ContainsFunc(fields, func(p string) bool { return p == k.Path || p == k.Path+"[0]" }) {
				t.Errorf("Validate with %s out of bounds names %v, want %s", k.Path, fields, k.Path)
			}
		})
	}
	if err := new(Default()).Validate(); err != nil {
		t.Errorf("Default().Validate() = %v, want nil", err)
	}
}

// TestKeyAddedIsValidated shows that describing a key is all its range check needs:
// without earcons.volume's Key nothing checks it, with it 500 is refused.
func TestKeyAddedIsValidated(t *testing.T) {
	vol, _ := KeyOf("earcons.volume")
	without := slices.DeleteFunc(slices.Clone(Keys), func(k Key) bool { return k.Path == vol.Path })
	c := Default()
	c.Earcons.Volume = 500
	for _, tc := range []struct {
		keys []Key
		want bool
	}{{without, false}, {append(without, vol), true}} {
		v := &validator{}
		v.checkKeys(&c, tc.keys)
		if got := slices.Contains(v.errs.Fields(), vol.Path); got != tc.want {
			t.Errorf("with %d keys, earcons.volume 500 refused = %v, want %v", len(tc.keys), got, tc.want)
		}
	}
}
