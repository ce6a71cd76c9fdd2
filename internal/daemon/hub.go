package daemon

import (
	"sync"

	"github.com/voiced-project/voiced/internal/httpapi"
)

// hub fans events out to HTTP subscribers. It outlives runtime rebuilds, so an event
// stream stays open across a configuration change. A slow subscriber loses events
// rather than stalling the others.
type hub struct {
	mu     sync.Mutex // guards following fields
	subs   map[chan httpapi.Event]struct{}
	closed bool
}

func newHub() *hub { return &hub{subs: map[chan httpapi.Event]struct{}{}} }

func (h *hub) Subscribe() (<-chan httpapi.Event, func()) {
	ch := make(chan httpapi.Event, 64)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	h.subs[ch] = struct{}{}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if _, ok := h.subs[ch]; ok {
				delete(h.subs, ch)
				close(ch)
			}
		})
	}
}

func (h *hub) publish(e httpapi.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// close ends every stream (shutdown).
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		close(ch)
		delete(h.subs, ch)
	}
}

// watched reports whether anyone subscribes.
func (h *hub) watched() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}
