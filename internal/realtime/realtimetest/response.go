package realtimetest

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/voiced-project/voiced/internal/realtime"
)

// A session's turns: committing input, conversation items, and the responses it streams.

// commit commits the input buffer: by the client (vadItem "") or by VAD.
func (c *session) commit(eventID, vadItem string) {
	c.mu.Lock()
	itemID := vadItem
	if vadItem == "" {
		if ms := float64(len(c.input)) * 1000 / inputRate; ms < 100 {
			c.mu.Unlock()
			c.sendError(realtime.CodeCommitEmpty, "", fmt.Sprintf("Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has %.2fms of audio.", ms), eventID)
			return
		}
		itemID = c.srv.id("item")
		c.lastUser = append([]int16(nil), c.input...)
		c.speaking = false
	}
	secs := float64(len(c.lastUser)) / inputRate
	prev := c.lastItem
	c.lastItem = itemID
	c.items[itemID] = &simItem{role: "user"}
	c.inputStart += len(c.input)
	c.input = c.input[:0]
	transcription := c.transcription
	respond := vadItem != "" && c.td != nil && c.td.createResponse
	c.mu.Unlock()

	_ = c.send(obj{"type": "input_audio_buffer.committed", "previous_item_id": c.prevID(prev), "item_id": itemID})
	item := obj{"id": itemID, "object": "realtime.item", "type": "message", "status": "completed", "role": "user",
		"content": []obj{{"type": "input_audio", "transcript": nil}}}
	c.itemEvents(prev, item)
	if transcription != "" {
		text := fmt.Sprintf("(%.1f s of audio)", secs)
		_ = c.send(obj{"type": "conversation.item.input_audio_transcription.delta", "item_id": itemID, "content_index": 0, "delta": text})
		done := obj{"type": "conversation.item.input_audio_transcription.completed", "item_id": itemID, "content_index": 0, "transcript": text}
		if c.ga() {
			done["usage"] = obj{"type": "duration", "seconds": secs}
		}
		_ = c.send(done)
	}
	if respond {
		c.startResponse("")
	}
}

// prevID is previous_item_id: null for the first item in GA; beta
// declares it a required string.
func (c *session) prevID(s string) any {
	if s == "" && c.ga() {
		return nil
	}
	return s
}

// itemEvents announces an item: added and done in GA, created in beta.
func (c *session) itemEvents(prev string, item obj) {
	if c.ga() {
		_ = c.send(obj{"type": "conversation.item.added", "previous_item_id": c.prevID(prev), "item": item})
		_ = c.send(obj{"type": "conversation.item.done", "previous_item_id": c.prevID(prev), "item": item})
		return
	}
	_ = c.send(obj{"type": "conversation.item.created", "previous_item_id": c.prevID(prev), "item": item})
}

func (c *session) createItem(m *clientMsg) {
	var it struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Role    string `json:"role"`
		CallID  string `json:"call_id"`
		Output  string `json:"output"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	}
	if len(m.Item) == 0 || json.Unmarshal(m.Item, &it) != nil || it.Type == "" {
		c.sendError("missing_required_parameter", "item.type", "Missing required parameter: 'item.type'.", m.EventID)
		return
	}
	item := obj{"object": "realtime.item", "type": it.Type, "status": "completed"}
	switch it.Type {
	case "message":
		if it.Role != "user" && it.Role != "assistant" && it.Role != "system" {
			c.sendError(realtime.CodeInvalidValue, "item.role", fmt.Sprintf("Invalid value: '%s'. Supported values are: 'user', 'assistant' and 'system'.", it.Role), m.EventID)
			return
		}
		var content []obj
		for _, p := range it.Content {
			content = append(content, obj{"type": p.Type, "text": p.Text})
		}
		item["role"], item["content"] = it.Role, content
	case "function_call_output":
		item["call_id"], item["output"] = it.CallID, it.Output
	case "function_call":
	default:
		c.sendError(realtime.CodeInvalidValue, "item.type", fmt.Sprintf("Invalid value: '%s'.", it.Type), m.EventID)
		return
	}
	c.mu.Lock()
	id := it.ID
	if id == "" {
		id = c.srv.id("item")
	}
	item["id"] = id
	prev := c.lastItem
	c.lastItem = id
	c.items[id] = &simItem{role: it.Role}
	if it.Type == "function_call_output" && c.toolState == 1 {
		c.toolState = 2
		c.toolOutput = it.Output
	}
	c.mu.Unlock()
	c.itemEvents(prev, item)
}

func (c *session) truncate(m *clientMsg) {
	if m.AudioEndMs == nil || m.ContentIndex == nil {
		c.sendError("missing_required_parameter", "audio_end_ms", "Missing required parameter: 'audio_end_ms' and 'content_index' are required.", m.EventID)
		return
	}
	c.mu.Lock()
	it, ok := c.items[m.ItemID]
	var errMsg, param string
	switch {
	case !ok:
		param, errMsg = "item_id", fmt.Sprintf("Item with item_id not found: %s", m.ItemID)
	case it.role != "assistant" || it.rate == 0:
		param, errMsg = "item_id", "Only assistant messages with audio can be truncated."
	case *m.AudioEndMs < 0:
		param, errMsg = "audio_end_ms", "audio_end_ms must not be negative."
	default:
		if sent := it.samples * 1000 / it.rate; *m.AudioEndMs > sent {
			param, errMsg = "audio_end_ms", fmt.Sprintf("Audio content of %dms is already shorter than %dms", sent, *m.AudioEndMs)
		} else {
			it.samples = *m.AudioEndMs * it.rate / 1000
		}
	}
	c.mu.Unlock()
	if errMsg != "" {
		c.sendError(realtime.CodeInvalidValue, param, errMsg, m.EventID)
		return
	}
	_ = c.send(obj{"type": "conversation.item.truncated", "item_id": m.ItemID, "content_index": *m.ContentIndex, "audio_end_ms": *m.AudioEndMs})
}

func (c *session) cancelResponse(eventID, reason string) {
	c.mu.Lock()
	r := c.resp
	if r != nil && r.reason == "" {
		r.reason = reason
	}
	c.mu.Unlock()
	if r == nil {
		if eventID != "" || reason == "client_cancelled" {
			c.sendError(realtime.CodeCancelNotActive, "", "Cancellation failed: no active response found", eventID)
		}
		return
	}
	r.cancel()
}

func (c *session) startResponse(eventID string) {
	c.mu.Lock()
	if c.resp != nil {
		id := c.resp.id
		c.mu.Unlock()
		c.sendError(realtime.CodeActiveResponse, "", fmt.Sprintf("Conversation already has an active response in progress: %s. Wait until the response is finished before creating a new one.", id), eventID)
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	r := &response{id: c.srv.id("resp"), cancel: cancel}
	c.resp = r
	c.setIdleLocked(time.Time{})
	toolCall := c.srv.cfg.ToolCall != "" && c.toolState == 0
	if toolCall {
		c.toolState = 1
	}
	c.mu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		if toolCall {
			c.streamToolCall(r)
		} else {
			c.streamAudio(ctx, r)
		}
	}()
}

func (c *session) responseObj(r *response, status string, details any, output []obj, usage any) obj {
	if output == nil {
		output = []obj{}
	}
	c.mu.Lock()
	rate, voice := c.outRate, c.voice
	c.mu.Unlock()
	if !c.ga() {
		return obj{"object": "realtime.response", "id": r.id, "status": status, "status_details": details,
			"output": output, "usage": usage}
	}
	return obj{"object": "realtime.response", "id": r.id, "status": status, "status_details": details,
		"output": output, "conversation_id": nil, "output_modalities": []string{"audio"}, "max_output_tokens": "inf",
		"audio": obj{"output": obj{"format": obj{"type": "audio/pcm", "rate": rate}, "voice": voice}},
		"usage": usage, "metadata": nil}
}

func usage(inAudio, outAudio, outText int) obj {
	return obj{"total_tokens": inAudio + outAudio + outText, "input_tokens": inAudio, "output_tokens": outAudio + outText,
		"input_token_details":  obj{"text_tokens": 0, "audio_tokens": inAudio, "cached_tokens": 0},
		"output_token_details": obj{"text_tokens": outText, "audio_tokens": outAudio}}
}

// finish clears the active response, then sends response.done: a client
// may create the next response as soon as it sees it.
func (c *session) finish(r *response, status string, details any, output []obj, u any, played time.Duration) {
	c.mu.Lock()
	if c.resp == r {
		c.resp = nil
	}
	// idle_timeout_ms counts from the end of the reply's playback.
	if c.td != nil && c.td.idleTimeoutMs > 0 && c.resp == nil {
		c.setIdleLocked(time.Now().Add(played + time.Duration(c.td.idleTimeoutMs)*time.Millisecond))
	}
	c.mu.Unlock()
	_ = c.send(obj{"type": "response.done", "response": c.responseObj(r, status, details, output, u)})
	if c.ga() {
		_ = c.send(obj{"type": "rate_limits.updated", "rate_limits": []obj{
			{"name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 60},
			{"name": "tokens", "limit": 50000, "remaining": 49000, "reset_seconds": 60},
		}})
	}
}

func (c *session) streamToolCall(r *response) {
	name, args := c.srv.cfg.ToolCall, c.srv.cfg.ToolArguments
	itemID, callID := c.srv.id("item"), c.srv.id("call")
	_ = c.send(obj{"type": "response.created", "response": c.responseObj(r, "in_progress", nil, nil, nil)})
	item := obj{"id": itemID, "object": "realtime.item", "type": "function_call", "status": "in_progress",
		"call_id": callID, "name": name, "arguments": ""}
	_ = c.send(obj{"type": "response.output_item.added", "response_id": r.id, "output_index": 0, "item": item})
	c.mu.Lock()
	prev := c.lastItem
	c.lastItem = itemID
	c.items[itemID] = &simItem{role: "assistant"}
	c.mu.Unlock()
	if c.ga() {
		_ = c.send(obj{"type": "conversation.item.added", "previous_item_id": c.prevID(prev), "item": item})
	} else {
		_ = c.send(obj{"type": "conversation.item.created", "previous_item_id": c.prevID(prev), "item": item})
	}
	_ = c.send(obj{"type": "response.function_call_arguments.delta", "response_id": r.id, "item_id": itemID,
		"output_index": 0, "call_id": callID, "delta": args})
	_ = c.send(obj{"type": "response.function_call_arguments.done", "response_id": r.id, "item_id": itemID,
		"output_index": 0, "call_id": callID, "name": name, "arguments": args})
	done := obj{"id": itemID, "object": "realtime.item", "type": "function_call", "status": "completed",
		"call_id": callID, "name": name, "arguments": args}
	_ = c.send(obj{"type": "response.output_item.done", "response_id": r.id, "output_index": 0, "item": done})
	if c.ga() {
		_ = c.send(obj{"type": "conversation.item.done", "previous_item_id": c.prevID(prev), "item": done})
	}
	c.finish(r, "completed", nil, []obj{done}, usage(0, 0, 12), 0)
}

// replyAudio is what the assistant says, at the output rate, and its
// placeholder transcript.
func (c *session) replyAudio() ([]int16, string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rate := c.outRate
	var pcm []int16
	var text string
	cfg := &c.srv.cfg
	switch {
	case cfg.ReplyAudio != nil:
		pcm = Resample(cfg.ReplyAudio, max(cfg.ReplyRate, 1), rate)
		text = fmt.Sprintf("(a recorded reply, %.1f s)", float64(len(pcm))/float64(rate))
	case cfg.Reply == ReplyTone || len(c.lastUser) == 0:
		pcm = Tone(440, 1000, rate, 8000)
		text = "(a one second tone)"
	default:
		pcm = Resample(c.lastUser, inputRate, rate)
		text = fmt.Sprintf("(echo of %.1f s of your audio)", float64(len(c.lastUser))/inputRate)
	}
	if cfg.Question {
		text += " Anything else?"
	}
	if c.toolState == 2 {
		text = fmt.Sprintf("(tool %s said: %s) %s", cfg.ToolCall, c.toolOutput, text)
		c.toolState = 3
	}
	return pcm, text, rate
}

func (c *session) streamAudio(ctx context.Context, r *response) {
	ga := c.ga()
	names := map[bool][4]string{
		true:  {"response.output_audio.delta", "response.output_audio_transcript.delta", "response.output_audio.done", "response.output_audio_transcript.done"},
		false: {"response.audio.delta", "response.audio_transcript.delta", "response.audio.done", "response.audio_transcript.done"},
	}[ga]
	contentType := "output_audio"
	if !ga {
		contentType = "audio"
	}
	pcm, text, rate := c.replyAudio()
	itemID := c.srv.id("item")
	_ = c.send(obj{"type": "response.created", "response": c.responseObj(r, "in_progress", nil, nil, nil)})
	item := obj{"id": itemID, "object": "realtime.item", "type": "message", "status": "in_progress", "role": "assistant", "content": []obj{}}
	_ = c.send(obj{"type": "response.output_item.added", "response_id": r.id, "output_index": 0, "item": item})
	c.mu.Lock()
	prev := c.lastItem
	c.lastItem = itemID
	si := &simItem{role: "assistant", rate: rate}
	c.items[itemID] = si
	c.mu.Unlock()
	if ga {
		_ = c.send(obj{"type": "conversation.item.added", "previous_item_id": c.prevID(prev), "item": item})
	} else {
		_ = c.send(obj{"type": "conversation.item.created", "previous_item_id": c.prevID(prev), "item": item})
	}
	ids := obj{"response_id": r.id, "item_id": itemID, "output_index": 0, "content_index": 0}
	with := func(o obj) obj {
		for k, v := range ids {
			o[k] = v
		}
		return o
	}
	_ = c.send(with(obj{"type": "response.content_part.added", "part": obj{"type": "audio", "transcript": ""}}))

	chunk := max(rate*c.srv.cfg.ChunkMs/1000, 1)
	nChunks := (len(pcm) + chunk - 1) / chunk
	allWords := strings.Fields(text)
	nWords := 0
	said := ""
	buf := make([]byte, 2*chunk)
	cancelled := false
	for i := 0; i < nChunks; i++ {
		if ctx.Err() != nil {
			cancelled = true
			break
		}
		part := pcm[i*chunk : min(len(pcm), (i+1)*chunk)]
		b := buf[:2*len(part)]
		for j, s := range part {
			binary.LittleEndian.PutUint16(b[2*j:], uint16(s))
		}
		// Count the audio before sending it: the client may truncate as
		// soon as it arrives.
		c.mu.Lock()
		si.samples += len(part)
		c.mu.Unlock()
		if c.send(with(obj{"type": names[0], "delta": base64.StdEncoding.EncodeToString(b)})) != nil {
			return
		}
		// Spread the transcript over the audio, as the service does.
		for target := (len(allWords)*(i+1) + nChunks - 1) / nChunks; nWords < target; nWords++ {
			w := allWords[nWords]
			if nWords > 0 {
				w = " " + w
			}
			said += w
			_ = c.send(with(obj{"type": names[1], "delta": w}))
		}
		if sp := c.srv.cfg.Speed; sp > 0 {
			if !sleep(ctx, time.Duration(float64(len(part))/float64(rate)/sp*float64(time.Second))) {
				cancelled = true
				break
			}
		}
	}
	outTokens := len(pcm) * 10 / rate // about 10 audio tokens a second
	if cancelled {
		c.mu.Lock()
		reason := r.reason
		c.mu.Unlock()
		if reason == "" {
			reason = "client_cancelled"
		}
		done := obj{"id": itemID, "object": "realtime.item", "type": "message", "status": "incomplete", "role": "assistant",
			"content": []obj{{"type": contentType, "transcript": said}}}
		_ = c.send(obj{"type": "response.output_item.done", "response_id": r.id, "output_index": 0, "item": done})
		if ga {
			_ = c.send(obj{"type": "conversation.item.done", "previous_item_id": c.prevID(prev), "item": done})
		}
		c.finish(r, "cancelled", obj{"type": "cancelled", "reason": reason}, []obj{done}, usage(len(pcm)*10/rate, outTokens/2, 0), 0)
		return
	}
	_ = c.send(with(obj{"type": names[2]}))
	_ = c.send(with(obj{"type": names[3], "transcript": text}))
	_ = c.send(with(obj{"type": "response.content_part.done", "part": obj{"type": "audio", "transcript": text}}))
	done := obj{"id": itemID, "object": "realtime.item", "type": "message", "status": "completed", "role": "assistant",
		"content": []obj{{"type": contentType, "transcript": text}}}
	_ = c.send(obj{"type": "response.output_item.done", "response_id": r.id, "output_index": 0, "item": done})
	if ga {
		_ = c.send(obj{"type": "conversation.item.done", "previous_item_id": c.prevID(prev), "item": done})
	}
	c.finish(r, "completed", nil, []obj{done}, usage(len(pcm)*10/rate, outTokens, len(allWords)),
		time.Duration(len(pcm))*time.Second/time.Duration(rate))
}

func (c *session) setIdleLocked(at time.Time) {
	c.idleAt = at
	select {
	case c.idle <- struct{}{}:
	default:
	}
}

// idleLoop fires idle_timeout_ms: timeout_triggered, the (silent) buffer
// committed as a user turn, and a response that prompts the user.
func (c *session) idleLoop() {
	defer c.wg.Done()
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.idle:
			c.mu.Lock()
			at := c.idleAt
			c.mu.Unlock()
			t.Stop()
			if !at.IsZero() {
				t.Reset(time.Until(at))
			}
		case <-t.C:
			c.mu.Lock()
			if c.idleAt.IsZero() || c.resp != nil || c.speaking {
				c.mu.Unlock()
				continue
			}
			c.idleAt = time.Time{}
			startMs := c.inputStart * 1000 / inputRate
			endMs := (c.inputStart + len(c.input)) * 1000 / inputRate
			item := c.srv.id("item")
			c.lastUser = nil // nothing to parrot: the reply is a prompt tone
			c.mu.Unlock()
			_ = c.send(obj{"type": "input_audio_buffer.timeout_triggered", "audio_start_ms": startMs, "audio_end_ms": endMs, "item_id": item})
			c.commit("", item)
		}
	}
}
