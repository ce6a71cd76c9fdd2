package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ValidateAt is Validate for the config saved at configPath: on top of every field rule,
// no file: device, api_key_file or token_file may name the config file itself (a
// playback device there would overwrite it with a WAV file).
func (c *Config) ValidateAt(configPath string) error {
	var errs Errors
	if err := c.Validate(); err != nil {
		errs = asErrors(err)
		if errs == nil {
			return err
		}
	}
	errs = append(errs, c.checkWordFiles()...)
	if configPath != "" {
		for _, f := range c.files() {
			if f.value != "" && sameFile(f.value, configPath) {
				errs = append(errs, &FieldError{Path: f.path, Msg: fmt.Sprintf("%q is the config file itself", f.value)})
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// fileField is a field that names a file voiced reads or writes.
type fileField struct {
	path, value string
	dirs        []string // where an HTTP change may point it
}

func (c *Config) files() []fileField {
	dev := func(d string) string {
		if p, ok := strings.CutPrefix(d, "file:"); ok {
			return p
		}
		return ""
	}
	return []fileField{
		{"audio.capture.device", dev(c.Audio.Capture.Device), c.Paths.AudioDirs},
		{"audio.playback.device", dev(c.Audio.Playback.Device), c.Paths.AudioDirs},
		{"realtime.api_key_file", c.Realtime.APIKeyFile, c.Paths.SecretDirs},
		{"http.token_file", c.HTTP.TokenFile, c.Paths.SecretDirs},
	}
}

// CheckRemote checks a change that came over HTTP, from cur to next, against what only
// the config file may do: the paths section never changes, and a file: device,
// realtime.api_key_file or http.token_file may be pointed somewhere new only when
// paths.http_changes is true, and then only under paths.audio_dirs or paths.secret_dirs.
// Fields left as they are always pass, so a config read and sent back is accepted.
func CheckRemote(cur, next Config) error {
	var errs Errors
	if !pathsEqual(cur.Paths, next.Paths) {
		errs = append(errs, &FieldError{Path: "paths", Msg: "can only be changed in the config file"})
	}
	errs = append(errs, checkRemoteWords(cur, next)...)
	old := cur.files()
	for i, f := range next.files() {
		if f.value == "" || f.value == old[i].value {
			continue
		}
		switch {
		case !cur.Paths.HTTPChanges:
			errs = append(errs, &FieldError{Path: f.path, Msg: fmt.Sprintf("%q: files can only be changed in the config file (paths.http_changes is false)", f.value)})
		case !filepath.IsAbs(f.value):
			errs = append(errs, &FieldError{Path: f.path, Msg: fmt.Sprintf("%q is not an absolute path", f.value)})
		case !underAny(f.value, old[i].dirs):
			errs = append(errs, &FieldError{Path: f.path, Msg: fmt.Sprintf("%q is not under %s (paths)", f.value, strings.Join(old[i].dirs, ", "))})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func pathsEqual(a, b Paths) bool {
	eq := func(x, y []string) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return a.HTTPChanges == b.HTTPChanges && a.StateDir == b.StateDir && eq(a.AudioDirs, b.AudioDirs) && eq(a.SecretDirs, b.SecretDirs)
}

// underAny reports whether path, with symbolic links resolved as far as it exists, lies
// strictly inside one of dirs (resolved too): a link in an allowed directory that points
// out of it does not count as inside.
func underAny(path string, dirs []string) bool {
	p := resolve(path)
	for _, d := range dirs {
		rd := resolve(d)
		if rd == "/" || strings.HasPrefix(p, rd+string(filepath.Separator)) {
			return p != rd
		}
	}
	return false
}

// resolve is filepath.EvalSymlinks of the longest part of path that exists, with the
// rest joined on lexically.
func resolve(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	rest := ""
	for {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(p, rest)
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// sameFile reports whether a and b name one file: the same inode when both exist, else
// the same resolved path.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	if (errA != nil && !errors.Is(errA, fs.ErrNotExist)) || (errB != nil && !errors.Is(errB, fs.ErrNotExist)) {
		return false
	}
	return resolve(a) == resolve(b)
}
