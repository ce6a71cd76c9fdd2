package vm

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadResult(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    result
		wantErr string
	}{
		{
			name:  "pass",
			files: map[string]string{"s/rc": "0\n", "s/log": "ok: x\nPASS\n", "s/seconds": "1.25\n"},
			want:  result{name: "s", status: 0, log: "ok: x\nPASS\n", seconds: "1.25"},
		},
		{
			name:  "skip",
			files: map[string]string{"s/rc": "77\n", "s/log": "SKIP: no binary\n"},
			want:  result{name: "s", status: skipStatus, log: "SKIP: no binary\n"},
		},
		{
			name:  "fail",
			files: map[string]string{"s/rc": "1", "s/log": "FAIL: y\n"},
			want:  result{name: "s", status: 1, log: "FAIL: y\n"},
		},
		{
			name:  "killed mid-run: log but no status",
			files: map[string]string{"s/log": "half a log"},
			want:  result{name: "s", status: -1, log: "half a log"},
		},
		{
			name:  "never started",
			files: map[string]string{"other/rc": "0"},
			want:  result{name: "s", status: -1},
		},
		{
			name:    "garbled status",
			files:   map[string]string{"s/rc": "zero"},
			wantErr: `status of scenario s: "zero" is not a number`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			got, err := readResult(dir, "s")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("readResult error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("readResult = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestScenarioNames(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		want    []string
		wantErr string
	}{
		{
			name:  "ordered by file name, helpers and data left out",
			files: []string{"30-gpio.sh", "10-kernel.sh", "20-alsa.sh", "README", "lib.sh", "data/tone.wav"},
			want:  []string{"kernel", "alsa", "gpio"},
		},
		{
			name:  "dashes inside the name",
			files: []string{"40-ptt-conversation.sh"},
			want:  []string{"ptt-conversation"},
		},
		{name: "no number prefix", files: []string{"10.sh"}, wantErr: "want NN-name.sh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{}
			for _, f := range tc.files {
				files[f] = "#"
			}
			writeFiles(t, dir, files)
			got, err := scenarioNames(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("scenarioNames error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("scenarioNames = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadBoot(t *testing.T) {
	dir := t.TempDir()
	if got := readBoot(dir); got.complete {
		t.Errorf("readBoot of an empty directory = %+v, want not complete", got)
	}
	writeFiles(t, dir, map[string]string{"_boot/init_uptime": "4.40\n", "_boot/done_uptime": "8.46\n", "_boot/complete": "done\n"})
	want := bootInfo{initUptime: "4.40", doneUptime: "8.46", complete: true}
	if got := readBoot(dir); got != want {
		t.Errorf("readBoot = %+v, want %+v", got, want)
	}
	writeFiles(t, dir, map[string]string{"_boot/systemd-analyze": "Startup finished in 5.0s (kernel) + 38.3s (userspace) = 43.3s \ngraphical.target was never reached.\n"})
	want.startup = "Startup finished in 5.0s (kernel) + 38.3s (userspace) = 43.3s "
	if got := readBoot(dir); got != want {
		t.Errorf("readBoot with systemd-analyze = %+v, want %+v", got, want)
	}
}

func TestBoots(t *testing.T) {
	names := []string{"kernel", "alsa", "ptt"}
	tests := []struct {
		name string
		arch string
		only string
		want []guestBoot
	}{
		{
			name: "amd64 boots the initramfs guest, then the systemd guest",
			arch: "amd64",
			want: []guestBoot{{guest: "amd64", names: names}, {guest: "systemd", names: []string{"systemd"}}},
		},
		{
			name: "arm64 has no systemd guest",
			arch: "arm64",
			want: []guestBoot{{guest: "arm64", names: names}},
		},
		{
			name: "only systemd: no initramfs boot",
			arch: "amd64", only: "systemd",
			want: []guestBoot{{guest: "systemd", names: []string{"systemd"}}},
		},
		{
			name: "only initramfs scenarios: no systemd boot",
			arch: "amd64", only: "alsa,ptt",
			want: []guestBoot{{guest: "amd64", names: []string{"alsa", "ptt"}}},
		},
		{
			name: "only systemd on arm64: nothing to boot",
			arch: "arm64", only: "systemd",
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("VOICED_VM_ONLY", tc.only)
			if got := boots(tc.arch, names); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("boots(%q) with VOICED_VM_ONLY=%q = %+v, want %+v", tc.arch, tc.only, got, tc.want)
			}
		})
	}
}

func TestTail(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb\n", 5, "a\nb"},
		{"", 3, ""},
	}
	for _, tc := range tests {
		if got := tail(tc.in, tc.n); got != tc.want {
			t.Errorf("tail(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
