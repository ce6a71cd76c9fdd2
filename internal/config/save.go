package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

const fileHeader = "# voiced configuration, saved by voiced. See /usr/share/doc/voiced/examples/voiced.yaml\n# for every field with its meaning. A syntax error here keeps the daemon on its last good config.\n"

// Save writes c to path atomically: a crash or power cut leaves either the old file or the
// new one, never a mix. The file keeps its mode and owner (0640 for a new file: it may
// hold the API key). What is written is first checked to load back as c under the rules
// of a file read at start (size, nesting, every field), so a save never leaves a file
// voiced would refuse.
func (c Config) Save(path string) error {
	data, err := c.Encode()
	if err != nil {
		return fmt.Errorf("save config %s: %w", path, err)
	}
	return writeAtomic(path, data, os.Rename)
}

// Encode is the file form of c with its header, checked to load back as c.
func (c Config) Encode() ([]byte, error) {
	y, err := c.YAML()
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	data := append([]byte(fileHeader), y...)
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("the config would be %d bytes, more than the %d a file may have", len(data), MaxFileSize)
	}
	back, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("the config would not load back: %w", err)
	}
	a, errA := json.Marshal(c)
	b, errB := json.Marshal(back)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		return nil, errors.New("the config would not load back the same")
	}
	return data, nil
}

// tempPattern names save's temp files, next to the config.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".tmp-*" }

// RemoveStaleTemps removes the temp files a save killed half way left next to the config
// at path (they may hold the API key), and returns how many it removed.
func RemoveStaleTemps(path string) (int, error) {
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), tempPattern(path)))
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// writeAtomic is temp file in the same directory, write, fsync, rename over, fsync the
// directory. rename is injected so a test can stop it half way.
func writeAtomic(path string, data []byte, rename func(oldpath, newpath string) error) (err error) {
	dir := filepath.Dir(path)
	mode := fs.FileMode(0o640)
	uid, gid := -1, -1
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("save config %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return fmt.Errorf("save config %s: %w", path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(tmp.Name())
		}
	}()
	// The temp file stays 0600 (as CreateTemp makes it) while it is written and synced,
	// so one a crash leaves behind is readable by its owner only.
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save config %s: write: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save config %s: fsync: %w", path, err)
	}
	if uid >= 0 {
		// Keep root:voiced. Only root may give a file away; as the owner it is a no-op.
		if err := tmp.Chown(uid, gid); err != nil && !errors.Is(err, fs.ErrPermission) {
			tmp.Close()
			return fmt.Errorf("save config %s: chown: %w", path, err)
		}
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("save config %s: chmod: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save config %s: %w", path, err)
	}
	if err := rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save config %s: rename: %w", path, err)
	}
	renamed = true
	if d, err := os.Open(dir); err == nil {
		// The rename is durable only once the directory is synced.
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("save config %s: fsync dir: %w", path, err)
		}
	}
	return nil
}
