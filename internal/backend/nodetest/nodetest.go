package nodetest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Root finds the module's root directory from the working directory.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/voiced-project/voiced\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("nodetest: module root not found")
		}
		dir = parent
	}
}

// Proc is a running node script.
type Proc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
	err   error

	mu  sync.Mutex // guards following fields
	out []string
}

// Start runs node with script (a path relative to the caller's package) and
// args, with build/node_modules on NODE_PATH. It skips the test when node or
// the modules are missing. The process is killed when the test ends.
func Start(t testing.TB, script string, args ...string) *Proc {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: the Socket.IO interoperability test needs node and scripts/npm-testdeps.sh")
	}
	mods := filepath.Join(Root(t), "build", "node_modules")
	for _, m := range []string{"socket.io", "socket.io-client"} {
		if _, err := os.Stat(filepath.Join(mods, m, "package.json")); err != nil {
			t.Skipf("npm %s not in %s: run scripts/npm-testdeps.sh", m, mods)
		}
	}
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, append([]string{abs}, args...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	cmd.Stderr = &testWriter{t: t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		p.err = cmd.Wait()
		close(p.lines)
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// Line returns the next line the script printed that starts with prefix,
// skipping others, or fails the test after timeout.
func (p *Proc) Line(t testing.TB, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("node script ended (%v) before printing %q", p.err, prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return strings.TrimPrefix(l, prefix)
			}
		case <-deadline:
			t.Fatalf("node script printed no %q within %v", prefix, timeout)
		}
	}
}

// Wait waits for the script to exit and returns its error.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return context.DeadlineExceeded
	}
}

// Output returns every line printed so far.
func (p *Proc) Output() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.out...)
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(b []byte) (int, error) {
	w.t.Logf("node: %s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
