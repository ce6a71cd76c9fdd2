package realtime

import (
	"errors"
	"fmt"
)

func (c *Client) sendOrLog(ev clientEvent) {
	if err := c.send(ev); err != nil {
		c.log.Warn("realtime send", "type", ev.Type, "err", err)
	}
}

// send queues a control event; it never blocks.
func (c *Client) send(ev clientEvent) error {
	if !c.connected.Load() {
		return ErrNotConnected
	}
	b, err := encodeEvent(ev)
	if err != nil {
		return err
	}
	select {
	case c.sendq <- outMsg{data: b, typ: ev.Type}:
		return nil
	default:
		return fmt.Errorf("send %s: %w", ev.Type, ErrQueueFull)
	}
}

// AppendAudio queues 24 kHz mono PCM16 for input_audio_buffer.append. It
// never blocks and does not allocate in steady state: when the socket is
// behind (or down) the audio is dropped, counted, and ErrDropped (or
// ErrNotConnected) returned. pcm may be reused once it returns.
func (c *Client) AppendAudio(pcm []int16) error { return c.AppendAudioAt(pcm, 0) }

// AppendAudioAt is AppendAudio for audio whose newest sample was captured at
// captured (unix nanoseconds, 0 for unknown): once the append is on the socket,
// Options.OnAudioWritten hears how long that took.
func (c *Client) AppendAudioAt(pcm []int16, captured int64) error {
	if len(pcm) == 0 {
		return nil
	}
	// Held first, under the hold's lock: a rollover's new connection sends
	// what is held and goes live under it, so each sample is sent once, in
	// order, either from the hold or from here.
	c.hold.mu.Lock()
	c.hold.add(pcm)
	live, rolling := c.connected.Load(), c.hold.rolling
	c.hold.mu.Unlock()
	if !live {
		if rolling {
			c.lastAppend.Store(c.clock.Now().UnixNano())
			return nil // sent when the new session opens
		}
		c.audioDropped.Add(1)
		return ErrNotConnected
	}
	if len(c.sendq) >= cap(c.sendq)-controlHeadroom {
		c.audioDropped.Add(1)
		return ErrDropped
	}
	var b *audioBuf
	select {
	case b = <-c.free:
	default:
		c.audioDropped.Add(1)
		return ErrDropped
	}
	b.msg, b.scratch = appendAudioEvent(b.msg, b.scratch, pcm)
	select {
	case c.sendq <- outMsg{data: b.msg, typ: typeAppend, audio: b, captured: captured}:
	default:
		c.free <- b
		c.audioDropped.Add(1)
		return ErrDropped
	}
	c.lastAppend.Store(c.clock.Now().UnixNano())
	c.audioQueued.Add(uint64(len(pcm)))
	return nil
}

// CommitAudio sends input_audio_buffer.commit.
func (c *Client) CommitAudio() error {
	c.hold.commit()
	return c.send(clientEvent{Type: typeCommit})
}

// ClearAudio sends input_audio_buffer.clear.
func (c *Client) ClearAudio() error {
	c.hold.reset()
	return c.send(clientEvent{Type: typeClear})
}

// CreateResponse sends response.create.
func (c *Client) CreateResponse() error { return c.send(clientEvent{Type: typeResponseCreate}) }

// CancelResponse sends response.cancel.
func (c *Client) CancelResponse() error { return c.send(clientEvent{Type: typeResponseCancel}) }

// TruncateItem sends conversation.item.truncate: audioEndMs is the audio
// the user actually heard of the item.
func (c *Client) TruncateItem(itemID string, contentIndex, audioEndMs int) error {
	if itemID == "" {
		return errors.New("realtime: truncate: item id is empty")
	}
	if contentIndex < 0 || audioEndMs < 0 {
		return fmt.Errorf("realtime: truncate %s: content index %d and audio_end_ms %d must not be negative", itemID, contentIndex, audioEndMs)
	}
	return c.send(truncateEvent(itemID, contentIndex, audioEndMs))
}

// Announce asks for a spoken reply without a user turn (response.create with
// instructions for this reply only): the model says what instructions ask. The
// reply's events come as any reply's do, and it joins the conversation, so the
// model knows what it said: conversation "none" would keep it out, but both
// published schemas declare that field as a free string or "auto"/"none", which
// "none" matches twice, and a strict validator refuses it.
func (c *Client) Announce(instructions string) error {
	return c.send(announceEvent(instructions))
}

func announceEvent(instructions string) clientEvent {
	return clientEvent{Type: typeResponseCreate, Response: &wireResp{Instructions: instructions}}
}

// SendText adds a user text message to the conversation (follow with
// CreateResponse for a reply).
func (c *Client) SendText(text string) error {
	if err := c.send(clientEvent{Type: typeItemCreate, Item: messageItem(c.opts.Dialect, roleUser, text)}); err != nil {
		return err
	}
	// Recorded here rather than from the server's echo, which would also
	// echo replayed history.
	c.mu.Lock()
	c.hist.add("", roleUser, text)
	c.mu.Unlock()
	return nil
}

// UpdateSession replaces the session configuration; it is sent now when
// connected and used for every later session.
func (c *Client) UpdateSession(s Session) error {
	if err := s.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	c.session = s
	full := c.sessionLocked()
	c.mu.Unlock()
	if !c.connected.Load() {
		return nil
	}
	ev, err := sessionUpdateEvent(c.opts.Dialect, &full)
	if err != nil {
		return err
	}
	return c.send(ev)
}
