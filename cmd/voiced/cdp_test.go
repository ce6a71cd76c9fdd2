package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// browser is a headless Chromium driven over the Chrome DevTools Protocol: one page,
// one WebSocket, commands matched to replies by id, events handed to a callback.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	profile string // the fresh --user-data-dir
	conn    *websocket.Conn

	mu      sync.Mutex // guards following fields
	nextID  int
	pending map[int]chan cdpReply
	onEvent func(method string, params json.RawMessage)
	closed  bool

	writeMu sync.Mutex // one writer at a time (gorilla/websocket)
	done    chan struct{}
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// chromium finds the browser, or skips the test saying how to get one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("VOICED_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("the browser tests need Chromium: apt-get install chromium (CI installs it from .ci/apt-packages.txt), or set VOICED_CHROMIUM")
	return ""
}

// startBrowser runs headless Chromium with a fresh profile and opens one page of width
// by height CSS pixels, as a phone's.
func startBrowser(t *testing.T, width, height int) *browser {
	t.Helper()
	bin := chromium(t)
	// Not t.TempDir: the browser's helper processes may still write there as it stops.
	profile, err := os.MkdirTemp("", "voiced-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--remote-debugging-port=0", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio",
		"--user-data-dir="+profile, "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers go with it
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, cmd: cmd, profile: profile, pending: map[int]chan cdpReply{}, done: make(chan struct{})}
	t.Cleanup(b.close)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := devtoolsRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var wsURL string
	select {
	case wsURL = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not say where DevTools listens within 30 s")
	}
	// The browser endpoint makes a page; the page has its own endpoint.
	bc, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL, err)
	}
	if err := bc.WriteJSON(map[string]any{"id": 1, "method": "Target.createTarget", "params": map[string]any{"url": "about:blank"}}); err != nil {
		t.Fatal(err)
	}
	var created struct {
		ID     int `json:"id"`
		Result struct {
			TargetID string `json:"targetId"`
		} `json:"result"`
	}
	for created.ID != 1 {
		if err := bc.ReadJSON(&created); err != nil {
			t.Fatalf("Target.createTarget: %v", err)
		}
	}
	bc.Close()
	host := strings.SplitN(strings.TrimPrefix(wsURL, "ws://"), "/", 2)[0]
	b.conn, _, err = websocket.DefaultDialer.Dial("ws://"+host+"/devtools/page/"+created.Result.TargetID, nil)
	if err != nil {
		t.Fatalf("dial the page: %v", err)
	}
	go b.read()
	b.call("Page.enable", nil)
	b.call("Runtime.enable", nil)
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": width, "height": height, "deviceScaleFactor": 2, "mobile": true})
	return b
}

func (b *browser) read() {
	defer close(b.done)
	for {
		var m struct {
			ID     int             `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			cdpReply
		}
		if err := b.conn.ReadJSON(&m); err != nil {
			b.mu.Lock()
			b.closed = true
			for id, ch := range b.pending {
				close(ch)
				delete(b.pending, id)
			}
			b.mu.Unlock()
			return
		}
		b.mu.Lock()
		if m.Method != "" {
			f := b.onEvent
			b.mu.Unlock()
			if f != nil {
				f(m.Method, m.Params)
			}
			continue
		}
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m.cdpReply
		}
	}
}

// call runs a command and returns its result; an error fails the test.
func (b *browser) call(method string, params any) json.RawMessage {
	b.t.Helper()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.t.Fatalf("%s: the browser is gone", method)
	}
	b.nextID++
	id := b.nextID
	ch := make(chan cdpReply, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	if params == nil {
		params = map[string]any{}
	}
	b.writeMu.Lock()
	err := b.conn.WriteJSON(map[string]any{"id": id, "method": method, "params": params})
	b.writeMu.Unlock()
	if err != nil {
		b.t.Fatalf("%s: %v", method, err)
	}
	select {
	case r, ok := <-ch:
		if !ok {
			b.t.Fatalf("%s: the browser closed the connection", method)
		}
		if r.Error != nil {
			b.t.Fatalf("%s: %s", method, r.Error.Message)
		}
		return r.Result
	case <-time.After(30 * time.Second):
		b.t.Fatalf("%s: no answer within 30 s", method)
	}
	return nil
}

// events sets the callback for the browser's events (called on the reading goroutine).
func (b *browser) events(f func(method string, params json.RawMessage)) {
	b.mu.Lock()
	b.onEvent = f
	b.mu.Unlock()
}

// eval evaluates a JavaScript expression in the page (awaiting a promise) into v.
func (b *browser) eval(expr string, v any) {
	b.t.Helper()
	res := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
	if r.ExceptionDetails != nil {
		b.t.Fatalf("eval %s: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	if v != nil && len(r.Result.Value) > 0 {
		if err := json.Unmarshal(r.Result.Value, v); err != nil {
			b.t.Fatalf("eval %s = %s: %v", expr, r.Result.Value, err)
		}
	}
}

// waitJS polls a JavaScript condition until it is true, failing after limit.
func (b *browser) waitJS(expr string, limit time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var ok bool
		b.eval("!!("+expr+")", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var page string
			b.eval("document.body.innerText", &page)
			b.t.Fatalf("%s not true within %v; the page reads:\n%s", expr, limit, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// navigate loads url and waits for its load event.
func (b *browser) navigate(url string) {
	b.t.Helper()
	loaded := make(chan struct{}, 1)
	b.mu.Lock()
	prev := b.onEvent
	b.onEvent = func(method string, params json.RawMessage) {
		if method == "Page.loadEventFired" {
			select {
			case loaded <- struct{}{}:
			default:
			}
		}
		if prev != nil {
			prev(method, params)
		}
	}
	b.mu.Unlock()
	defer b.events(prev)
	b.call("Page.navigate", map[string]any{"url": url})
	select {
	case <-loaded:
	case <-time.After(30 * time.Second):
		b.t.Fatalf("%s did not load within 30 s", url)
	}
}

// center is the middle of the element sel, in CSS pixels of the viewport.
func (b *browser) center(sel string) (x, y float64) {
	b.t.Helper()
	var r struct{ X, Y float64 }
	b.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect(); return {X: r.x + r.width/2, Y: r.y + r.height/2}; })()`, sel), &r)
	return r.X, r.Y
}

// mouse sends one mouse event (mousePressed, mouseReleased) at x, y.
func (b *browser) mouse(kind string, x, y float64) {
	b.t.Helper()
	b.call("Input.dispatchMouseEvent", map[string]any{"type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1, "pointerType": "mouse"})
}

// screenshot writes a PNG of the element sel (the whole page for "") to path.
func (b *browser) screenshot(sel, path string) {
	b.t.Helper()
	var clip struct{ X, Y, W, H float64 }
	if sel == "" {
		b.eval(`({X: 0, Y: 0, W: document.documentElement.scrollWidth, H: document.documentElement.scrollHeight})`, &clip)
	} else {
		b.eval(fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return {X: r.x + scrollX, Y: r.y + scrollY, W: r.width, H: r.height}; })()`, sel), &clip)
	}
	res := b.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": clip.X, "y": clip.Y, "width": clip.W, "height": clip.H, "scale": 1}})
	var shot struct {
		Data string `json:"data"`
	}
	json.Unmarshal(res, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		b.t.Fatalf("screenshot of %q: not a PNG (%v)", sel, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) close() {
	if b.conn != nil {
		b.writeMu.Lock()
		b.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		b.writeMu.Unlock()
		b.conn.Close()
		<-b.done
	}
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	b.cmd.Wait()
	for i := 0; i < 50 && os.RemoveAll(b.profile) != nil; i++ {
		time.Sleep(20 * time.Millisecond) // a helper still exiting
	}
}
