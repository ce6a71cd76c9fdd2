package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The processes of a conversation: the server, the client under test, and their ports.

func startSim(ctx context.Context, bin, record, logPath string) (*exec.Cmd, string, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, bin, "--addr", "127.0.0.1:0", "--speed", "0", "--record", record, "--api-key", apiKey, "--reply", "parrot")
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start %s: %w", bin, err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		stopProcess(cmd)
		return nil, "", fmt.Errorf("%s did not say where it listens (%q, %v); see %s", bin, line, err, logPath)
	}
	return cmd, addr, nil
}

func (s *scenario) startClient(ctx context.Context, simAddr, mic, speaker string, port int) (*exec.Cmd, error) {
	url := "ws://" + simAddr + "/v1/realtime"
	var cmd *exec.Cmd
	switch s.Kind {
	case "voiced":
		cfg := filepath.Join(s.Dir, "voiced.yaml")
		if err := os.WriteFile(cfg, []byte(voicedConfig(s.Mode, url, mic, speaker, port)), 0o644); err != nil {
			return nil, err
		}
		args := []string{"run", "--config", cfg, "--fast-files"}
		if s.Profile {
			args = append(args, "--cpuprofile", filepath.Join(s.Dir, "voiced.pprof"))
		}
		if s.AllocProfile {
			args = append(args, "--allocprofile", filepath.Join(s.Dir, "voiced.allocs.pprof"))
		}
		cmd = exec.CommandContext(ctx, s.Voiced, args...)
	case "reference", "reference-dsp":
		resampler := "linear"
		if s.Kind == "reference-dsp" {
			resampler = "voiced"
		}
		cmd = exec.CommandContext(ctx, s.Reference, "--url", url, "--api-key", apiKey, "--resampler", resampler,
			"--capture", mic, "--playback", speaker, "--mode", s.Mode,
			"--http", fmt.Sprintf("127.0.0.1:%d", port),
			"--playback-rate", fmt.Sprint(playRate), "--playback-channels", fmt.Sprint(playChannels))
	default:
		return nil, fmt.Errorf("client %q: want voiced, reference or reference-dsp", s.Kind)
	}
	logf, err := os.Create(filepath.Join(s.Dir, s.Kind+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	return cmd, nil
}

// voicedConfig is voiced's configuration for the conversation: the FIFO as microphone,
// a FIFO as speaker, no GPIO, the server's parrot as the assistant. The echo guard is
// off because the benchmark's microphone does not hear the speaker; earcons are off so
// that silence after a barge-in is silence.
func voicedConfig(mode, url, mic, speaker string, port int) string {
	return fmt.Sprintf(`mode: %s
realtime:
  profile: custom
  url: %s
  model: voiced-sim
  api_key: %s
  connection: always
  turn_detection:
    type: local
audio:
  capture:
    device: file:%s
    rate: %d
    channels: 1
    period_ms: 20
  playback:
    device: file:%s
    rate: %d
    channels: %d
    period_ms: 20
vad:
  silence_ms: 600
barge_in:
  echo_guard_ms: 0
turn:
  follow_up_ms: 0
earcons:
  enabled: false
gpio:
  enabled: false
http:
  listen: 127.0.0.1:%d
log:
  level: warn
`, mode, url, apiKey, mic, micRate, speaker, playRate, playChannels, port)
}

func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
