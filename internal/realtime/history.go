package realtime

import "slices"

// turn is one user or assistant message kept for replay into a new
// session.
type turn struct {
	itemID string
	role   string
	text   string
}

// history is a bounded tail of the conversation; the client holds it
// under its lock.
type history struct {
	maxTurns int
	maxChars int
	turns    []turn
	partial  map[string]string // assistant items streaming: their transcript so far
	order    []string          // partial's items in the order they began
	played   map[string]bool   // partial's items whose audio has begun to come
}

// add records a turn, or fills the text of one seen before (a user item
// is known at commit, its transcript comes later).
func (h *history) add(itemID, role, text string) {
	for i := len(h.turns) - 1; i >= 0; i-- {
		if itemID != "" && h.turns[i].itemID == itemID {
			if text != "" {
				h.turns[i].text = text
			}
			return
		}
	}
	h.turns = append(h.turns, turn{itemID: itemID, role: role, text: text})
	if over := len(h.turns) - 4*h.maxTurns; over > 0 {
		h.turns = append(h.turns[:0], h.turns[over:]...)
	}
}

// said adds a piece of an assistant item's transcript as it streams: a reply
// cut short by the end of its session never gets to response.done, and
// without what it said so far the next session's history would hold the
// user's question twice in a row, unanswered.
func (h *history) said(itemID, delta string) {
	if itemID == "" || delta == "" {
		return
	}
	if h.partial == nil {
		h.partial = map[string]string{}
	}
	if _, ok := h.partial[itemID]; !ok {
		h.order = append(h.order, itemID)
	}
	h.partial[itemID] += delta
}

// audio notes that an assistant item's audio has begun to come: the user
// may have heard it.
func (h *history) audio(itemID string) {
	if itemID == "" {
		return
	}
	if h.played == nil {
		h.played = map[string]bool{}
	}
	h.played[itemID] = true
}

// settle records the assistant items still streaming as they stand, when
// their session has ended. An item none of whose audio came was never heard:
// it is forgotten, for the question is asked again in the next session, and
// keeping it would put two answers in a row.
func (h *history) settle() {
	for _, id := range h.order {
		if text, ok := h.partial[id]; ok && h.played[id] {
			h.add(id, roleAssistant, text)
		}
	}
	h.partial, h.order, h.played = nil, nil, nil
}

// drop forgets the items of a user turn whose audio is sent again.
func (h *history) drop(ids []string) {
	h.turns = slices.DeleteFunc(h.turns, func(t turn) bool { return t.itemID != "" && slices.Contains(ids, t.itemID) })
}

// done forgets the streamed text of an item the server finished.
func (h *history) done(itemID string) {
	delete(h.partial, itemID)
	delete(h.played, itemID)
}

// tail returns the last turns with text, oldest first, within the bounds.
func (h *history) tail() []turn {
	var out []turn
	chars := 0
	for i := len(h.turns) - 1; i >= 0 && len(out) < h.maxTurns; i-- {
		t := h.turns[i]
		if t.text == "" {
			continue
		}
		if chars+len(t.text) > h.maxChars {
			break
		}
		chars += len(t.text)
		out = append(out, t)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
