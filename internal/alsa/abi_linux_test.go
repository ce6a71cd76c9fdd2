package alsa

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

var updateABI = flag.Bool("update-abi", false, "rewrite testdata/abi_<GOARCH>.txt from testdata/abicheck.c")

// goABI prints what testdata/abicheck.c prints, from the Go mirrors.
func goABI() string {
	var b strings.Builder
	structure := func(cname string, v any) {
		t := reflect.TypeOf(v)
		fmt.Fprintf(&b, "size %s %d\n", cname, t.Size())
		for i := range t.NumField() {
			if tag := t.Field(i).Tag.Get("c"); tag != "" {
				fmt.Fprintf(&b, "offset %s.%s %d\n", cname, tag, t.Field(i).Offset)
			}
		}
	}
	bit := func(name string, v uint32) {
		for i := range 32 {
			if v == 1<<i {
				fmt.Fprintf(&b, "bit snd_interval.%s %d\n", name, i)
			}
		}
	}
	structure("snd_interval", sndInterval{})
	bit("openmin", intervalOpenMin)
	bit("openmax", intervalOpenMax)
	bit("integer", intervalInteger)
	bit("empty", intervalEmpty)
	structure("snd_mask", sndMask{})
	structure("snd_pcm_hw_params", hwParams{})
	structure("snd_pcm_sw_params", swParams{})
	structure("snd_pcm_status", pcmStatus{})
	structure("snd_xferi", xferi{})
	structure("snd_pcm_info", pcmInfo{})
	structure("snd_ctl_card_info", ctlCardInfo{})
	for _, c := range []struct {
		name string
		v    int
	}{
		{"SNDRV_PCM_VERSION", pcmVersion},
		{"SNDRV_PCM_STREAM_PLAYBACK", streamPlayback},
		{"SNDRV_PCM_STREAM_CAPTURE", streamCapture},
		{"SNDRV_PCM_ACCESS_RW_INTERLEAVED", accessRWInterleaved},
		{"SNDRV_PCM_FORMAT_S16_LE", fmtS16LE},
		{"SNDRV_PCM_FORMAT_S24_LE", fmtS24LE},
		{"SNDRV_PCM_FORMAT_S32_LE", fmtS32LE},
		{"SNDRV_PCM_FORMAT_S24_3LE", fmtS24_3LE},
		{"SNDRV_PCM_SUBFORMAT_STD", subformatStd},
		{"SNDRV_PCM_HW_PARAM_ACCESS", paramAccess},
		{"SNDRV_PCM_HW_PARAM_FORMAT", paramFormat},
		{"SNDRV_PCM_HW_PARAM_SUBFORMAT", paramSubformat},
		{"SNDRV_PCM_HW_PARAM_SAMPLE_BITS", paramSampleBits},
		{"SNDRV_PCM_HW_PARAM_FRAME_BITS", paramFrameBits},
		{"SNDRV_PCM_HW_PARAM_CHANNELS", paramChannels},
		{"SNDRV_PCM_HW_PARAM_RATE", paramRate},
		{"SNDRV_PCM_HW_PARAM_PERIOD_TIME", paramPeriodTime},
		{"SNDRV_PCM_HW_PARAM_PERIOD_SIZE", paramPeriodSize},
		{"SNDRV_PCM_HW_PARAM_PERIOD_BYTES", paramPeriodBytes},
		{"SNDRV_PCM_HW_PARAM_PERIODS", paramPeriods},
		{"SNDRV_PCM_HW_PARAM_BUFFER_TIME", paramBufferTime},
		{"SNDRV_PCM_HW_PARAM_BUFFER_SIZE", paramBufferSize},
		{"SNDRV_PCM_HW_PARAM_BUFFER_BYTES", paramBufferBytes},
		{"SNDRV_PCM_HW_PARAM_TICK_TIME", paramTickTime},
		{"SNDRV_PCM_STATE_OPEN", stateOpen},
		{"SNDRV_PCM_STATE_SETUP", stateSetup},
		{"SNDRV_PCM_STATE_PREPARED", statePrepared},
		{"SNDRV_PCM_STATE_RUNNING", stateRunning},
		{"SNDRV_PCM_STATE_XRUN", stateXrun},
		{"SNDRV_PCM_STATE_DRAINING", stateDraining},
		{"SNDRV_PCM_STATE_PAUSED", statePaused},
		{"SNDRV_PCM_STATE_SUSPENDED", stateSuspended},
		{"SNDRV_PCM_STATE_DISCONNECTED", stateDisconnected},
		{"SNDRV_PCM_TSTAMP_TYPE_MONOTONIC", tstampTypeMonotonic},
	} {
		fmt.Fprintf(&b, "const %s %d\n", c.name, c.v)
	}
	for _, c := range []struct {
		name string
		v    uintptr
	}{
		{"SNDRV_PCM_IOCTL_PVERSION", ioctlPCMPVersion},
		{"SNDRV_PCM_IOCTL_INFO", ioctlPCMInfo},
		{"SNDRV_PCM_IOCTL_USER_PVERSION", ioctlPCMUserPVersion},
		{"SNDRV_PCM_IOCTL_HW_REFINE", ioctlHWRefine},
		{"SNDRV_PCM_IOCTL_HW_PARAMS", ioctlHWParams},
		{"SNDRV_PCM_IOCTL_HW_FREE", ioctlHWFree},
		{"SNDRV_PCM_IOCTL_SW_PARAMS", ioctlSWParams},
		{"SNDRV_PCM_IOCTL_STATUS", ioctlStatus},
		{"SNDRV_PCM_IOCTL_DELAY", ioctlDelay},
		{"SNDRV_PCM_IOCTL_HWSYNC", ioctlHWSync},
		{"SNDRV_PCM_IOCTL_PREPARE", ioctlPrepare},
		{"SNDRV_PCM_IOCTL_RESET", ioctlReset},
		{"SNDRV_PCM_IOCTL_START", ioctlStart},
		{"SNDRV_PCM_IOCTL_DROP", ioctlDrop},
		{"SNDRV_PCM_IOCTL_DRAIN", ioctlDrain},
		{"SNDRV_PCM_IOCTL_PAUSE", ioctlPause},
		{"SNDRV_PCM_IOCTL_RESUME", ioctlResume},
		{"SNDRV_PCM_IOCTL_FORWARD", ioctlForward},
		{"SNDRV_PCM_IOCTL_WRITEI_FRAMES", ioctlWriteIFrames},
		{"SNDRV_PCM_IOCTL_READI_FRAMES", ioctlReadIFrames},
		{"SNDRV_CTL_IOCTL_PVERSION", ioctlCtlPVersion},
		{"SNDRV_CTL_IOCTL_CARD_INFO", ioctlCtlCardInfo},
		{"SNDRV_CTL_IOCTL_PCM_NEXT_DEVICE", ioctlCtlPCMNextDevice},
		{"SNDRV_CTL_IOCTL_PCM_INFO", ioctlCtlPCMInfo},
		{"SNDRV_CTL_IOCTL_PCM_PREFER_SUBDEVICE", ioctlCtlPCMPreferSubdevice},
	} {
		fmt.Fprintf(&b, "ioctl %s 0x%08x\n", c.name, c.v)
	}
	return b.String()
}

// diffLines reports the first few lines that differ, as "name: got X, want Y".
func diffLines(t *testing.T, what, got, want string) {
	t.Helper()
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(g) != len(w) {
		t.Errorf("%s: %d lines, want %d", what, len(g), len(w))
	}
	bad := 0
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			t.Errorf("%s line %d: got %q, want %q", what, i+1, g[i], w[i])
			if bad++; bad == 10 {
				return
			}
		}
	}
}

// TestABIMatchesHeader compares the Go mirrors for the running GOARCH with what the C
// compiler made of <sound/asound.h> for it. Under qemu-user this covers arm and arm64.
func TestABIMatchesHeader(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "abi_"+runtime.GOARCH+".txt"))
	if os.IsNotExist(err) {
		t.Skipf("no ABI table for GOARCH=%s; generate one with testdata/abicheck.c", runtime.GOARCH)
	}
	if err != nil {
		t.Fatal(err)
	}
	diffLines(t, "abi_"+runtime.GOARCH+".txt", goABI(), string(want))
}

// TestABITablesFromCompilers rebuilds testdata/abicheck.c with each cross compiler that is
// installed and checks that the checked-in tables are what the header says today.
func TestABITablesFromCompilers(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the tables are regenerated on amd64 hosts, where the cross compilers run")
	}
	for _, tc := range []struct{ goarch, cc, qemu string }{
		{"amd64", "gcc", ""},
		{"arm64", "aarch64-linux-gnu-gcc", "qemu-aarch64-static"},
		{"arm", "arm-linux-gnueabihf-gcc", "qemu-arm-static"},
	} {
		t.Run(tc.goarch, func(t *testing.T) {
			cc, err := exec.LookPath(tc.cc)
			if err != nil {
				t.Skipf("%s not installed (apt-get install gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross)", tc.cc)
			}
			bin := filepath.Join(t.TempDir(), "abicheck")
			if out, err := exec.Command(cc, "-static", "-Wall", "-o", bin, filepath.Join("testdata", "abicheck.c")).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", tc.cc, err, out)
			}
			run := exec.Command(bin)
			if tc.qemu != "" {
				q, err := exec.LookPath(tc.qemu)
				if err != nil {
					t.Skipf("%s not installed (apt-get install qemu-user-static)", tc.qemu)
				}
				run = exec.Command(q, bin)
			}
			var out bytes.Buffer
			run.Stdout, run.Stderr = &out, os.Stderr
			if err := run.Run(); err != nil {
				t.Fatalf("run abicheck for %s: %v", tc.goarch, err)
			}
			path := filepath.Join("testdata", "abi_"+tc.goarch+".txt")
			if *updateABI {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			diffLines(t, path+" vs abicheck.c", out.String(), string(want))
			if tc.goarch == runtime.GOARCH {
				diffLines(t, "Go mirrors vs abicheck.c", goABI(), out.String())
			}
		})
	}
}
