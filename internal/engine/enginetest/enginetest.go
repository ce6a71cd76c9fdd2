package enginetest

import (
	"fmt"
	"sync"

	"github.com/voiced-project/voiced/internal/engine"
)

// Log records calls, in order, from any goroutine.
type Log struct {
	mu    sync.Mutex // guards calls
	calls []string
}

// Add appends one call.
func (l *Log) Add(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

// Calls returns a copy of the calls so far.
func (l *Log) Calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// Take returns the calls so far and forgets them.
func (l *Log) Take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

// Conn is a fake realtime connection. Each call is logged as its event type
// ("input_audio_buffer.commit", "conversation.item.truncate item_1 0 1234", ...); Fail
// makes a call return an error.
type Conn struct {
	Log *Log

	mu   sync.Mutex // guards fail
	fail map[string]error
}

// Fail makes calls logged as name (e.g. "response.cancel") return err; nil clears it.
func (c *Conn) Fail(name string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail == nil {
		c.fail = make(map[string]error)
	}
	c.fail[name] = err
}

func (c *Conn) call(name string, format string, args ...any) error {
	c.mu.Lock()
	err := c.fail[name]
	c.mu.Unlock()
	if err != nil {
		c.Log.Add(name+" (failed)"+format, args...)
		return err
	}
	c.Log.Add(name+format, args...)
	return nil
}

// CommitAudio logs "input_audio_buffer.commit".
func (c *Conn) CommitAudio() error { return c.call("input_audio_buffer.commit", "") }

// ClearAudio logs "input_audio_buffer.clear".
func (c *Conn) ClearAudio() error { return c.call("input_audio_buffer.clear", "") }

// CreateResponse logs "response.create".
func (c *Conn) CreateResponse() error { return c.call("response.create", "") }

// CancelResponse logs "response.cancel".
func (c *Conn) CancelResponse() error { return c.call("response.cancel", "") }

// TruncateItem logs "conversation.item.truncate ITEM INDEX MS".
func (c *Conn) TruncateItem(itemID string, contentIndex, audioEndMs int) error {
	return c.call("conversation.item.truncate", " %s %d %d", itemID, contentIndex, audioEndMs)
}

// Connector is a fake on-demand connector; it logs "dial" and "hangup". The test
// answers with realtime events.
type Connector struct{ Log *Log }

// Dial logs the call.
func (c *Connector) Dial() { c.Log.Add("dial") }

// Hangup logs the call.
func (c *Connector) Hangup() { c.Log.Add("hangup") }

// Gate is a fake capture gate; it logs "stream on" and "stream off".
type Gate struct {
	Log *Log

	mu sync.Mutex // guards on
	on bool
}

// SetStreaming logs the call.
func (g *Gate) SetStreaming(on bool) {
	g.mu.Lock()
	g.on = on
	g.mu.Unlock()
	if on {
		g.Log.Add("stream on")
	} else {
		g.Log.Add("stream off")
	}
}

// On reports whether audio is streaming.
func (g *Gate) On() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.on
}

// Player is a fake player whose heard time and idleness the test sets. Stop logs
// "player stop" and makes it idle.
type Player struct {
	Log *Log

	mu    sync.Mutex // guards following fields
	heard int
	busy  bool
}

// Play makes the player busy (audio queued), as the first delta of a reply does.
func (p *Player) Play() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy = true
}

// Finish makes the player idle, as when the queue has played out.
func (p *Player) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy = false
}

// SetHeard sets what Heard returns.
func (p *Player) SetHeard(ms int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.heard = ms
}

// Stop logs "player stop"; the player is idle afterwards.
func (p *Player) Stop() {
	p.mu.Lock()
	p.busy = false
	p.mu.Unlock()
	p.Log.Add("player stop")
}

// Heard returns what SetHeard set.
func (p *Player) Heard() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.heard
}

// Idle reports whether nothing is playing.
func (p *Player) Idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.busy
}

// VAD is a fake echo guard; it logs "echo guard on" and "echo guard off".
type VAD struct {
	Log *Log

	mu sync.Mutex // guards on
	on bool
}

// On reports whether the echo guard is up.
func (v *VAD) On() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.on
}

// SetEchoGuard logs the call.
func (v *VAD) SetEchoGuard(on bool) {
	v.mu.Lock()
	v.on = on
	v.mu.Unlock()
	if on {
		v.Log.Add("echo guard on")
	} else {
		v.Log.Add("echo guard off")
	}
}

// LED is a fake status LED that keeps the patterns it was set to.
type LED struct {
	mu       sync.Mutex // guards patterns
	patterns []engine.LEDPattern
}

// SetPattern records p.
func (l *LED) SetPattern(p engine.LEDPattern) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.patterns = append(l.patterns, p)
}

// Patterns returns the patterns set so far, in order.
func (l *LED) Patterns() []engine.LEDPattern {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]engine.LEDPattern(nil), l.patterns...)
}

// Earcons is a fake earcon player; it logs "earcon NAME".
type Earcons struct{ Log *Log }

// PlayEarcon logs the call.
func (e *Earcons) PlayEarcon(c engine.Cue) { e.Log.Add("earcon %s", c) }
