package realtime

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// The append event is written by hand: it is the only client event sent
// many times a second, and encoding/json would allocate for each.
const (
	appendPrefix = `{"type":"input_audio_buffer.append","audio":"`
	appendSuffix = `"}`
)

// appendAudioEvent writes input_audio_buffer.append for pcm into dst[:0],
// using scratch for the little-endian bytes. Both grow only when too small.
func appendAudioEvent(dst, scratch []byte, pcm []int16) (msg, scratchOut []byte) {
	nb := 2 * len(pcm)
	if cap(scratch) < nb {
		scratch = make([]byte, nb)
	}
	scratch = scratch[:nb]
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(scratch[2*i:], uint16(s))
	}
	n := len(appendPrefix) + base64.StdEncoding.EncodedLen(nb) + len(appendSuffix)
	if cap(dst) < n {
		dst = make([]byte, 0, n+n/4)
	}
	dst = append(dst[:0], appendPrefix...)
	off := len(dst)
	dst = dst[:off+base64.StdEncoding.EncodedLen(nb)]
	base64.StdEncoding.Encode(dst[off:], scratch)
	dst = append(dst, appendSuffix...)
	return dst, scratch
}

// audioDelta is what the fast path finds in an audio delta event; the
// slices point into the message.
type audioDelta struct {
	itemID []byte
	delta  []byte
}

// scanAudioDelta recognises response.output_audio.delta (GA) and
// response.audio.delta (beta) without encoding/json. It returns ok=false
// for anything else, and for deltas it cannot read plainly (strings with
// escapes, control bytes or non-ASCII bytes), which then take the
// encoding/json path: it unescapes, replaces invalid UTF-8 and rejects raw
// control bytes, and the item ids of both paths must compare equal.
func scanAudioDelta(b []byte) (d audioDelta, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return d, false
	}
	i++
	isAudio := false
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return d, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		key, next, slow := scanString(b, i)
		if next < 0 || slow {
			return d, false
		}
		i = skipSpace(b, next)
		if i >= len(b) || b[i] != ':' {
			return d, false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return d, false
		}
		if b[i] != '"' {
			next = skipValue(b, i)
			if next < 0 {
				return d, false
			}
			i = next
			continue
		}
		val, next, slow := scanString(b, i)
		if next < 0 {
			return d, false
		}
		i = next
		switch string(key) {
		case "type":
			if slow {
				return d, false
			}
			s := string(val)
			if s != typeOutputAudioDeltaGA && s != typeOutputAudioDeltaBeta {
				return d, false
			}
			isAudio = true
		case "item_id":
			if slow {
				return d, false
			}
			d.itemID = val
		case "delta":
			if slow {
				return d, false
			}
			d.delta = val
		}
	}
	return d, isAudio && d.delta != nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the JSON string at b[i] ('"'); it returns the raw
// contents, the index after the closing quote (-1 if malformed) and
// whether it is slow: it holds escapes, control bytes or non-ASCII bytes,
// whose meaning encoding/json decides.
func scanString(b []byte, i int) (s []byte, next int, slow bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, -1, false
	}
	start := i + 1
	for j := start; j < len(b); j++ {
		switch b[j] {
		case '\\':
			slow = true
			j++
		case '"':
			return b[start:j], j + 1, slow
		default:
			if b[j] < 0x20 || b[j] >= 0x80 {
				slow = true
			}
		}
	}
	return nil, -1, false
}

// skipValue skips a non-string JSON value (number, literal, object,
// array) and returns the index after it, or -1.
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			_, next, _ := scanString(b, i)
			if next < 0 {
				return -1
			}
			i = next
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	if depth == 0 {
		return i
	}
	return -1
}

// ErrOddAudio: an audio delta decoded to an odd number of bytes.
var ErrOddAudio = errors.New("realtime: audio delta has an odd number of bytes")

// decodePCM base64-decodes src into scratch and converts it to samples in
// dst. Both buffers grow only when too small; it returns the samples and
// the buffers for reuse.
func decodePCM(src, scratch []byte, dst []int16) (pcm []int16, scratchOut []byte, dstOut []int16, err error) {
	n := base64.StdEncoding.DecodedLen(len(src))
	if cap(scratch) < n {
		scratch = make([]byte, n)
	}
	scratch = scratch[:n]
	m, err := base64.StdEncoding.Decode(scratch, src)
	if err != nil {
		return nil, scratch, dst, fmt.Errorf("decode audio delta: %w", err)
	}
	if m%2 != 0 {
		return nil, scratch, dst, ErrOddAudio
	}
	ns := m / 2
	if cap(dst) < ns {
		dst = make([]int16, ns)
	}
	dst = dst[:ns]
	for i := range dst {
		dst[i] = int16(binary.LittleEndian.Uint16(scratch[2*i:]))
	}
	return dst, scratch, dst, nil
}

// clientEvent is every client event but append, for encoding/json.
type clientEvent struct {
	Type           string    `json:"type"`
	EventID        string    `json:"event_id,omitempty"`
	Session        any       `json:"session,omitempty"`
	PreviousItemID string    `json:"previous_item_id,omitempty"`
	Item           *wireItem `json:"item,omitempty"`
	ItemID         string    `json:"item_id,omitempty"`
	ContentIndex   *int      `json:"content_index,omitempty"`
	AudioEndMs     *int      `json:"audio_end_ms,omitempty"`
	Response       *wireResp `json:"response,omitempty"`
}

// wireResp is response.create's response: a reply made as these parameters say.
type wireResp struct {
	Instructions string `json:"instructions,omitempty"`
}

type wireContent struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type wireItem struct {
	Type    string        `json:"type"`
	Role    string        `json:"role,omitempty"`
	Content []wireContent `json:"content,omitempty"`
	CallID  string        `json:"call_id,omitempty"`
	Output  *string       `json:"output,omitempty"`
}

func encodeEvent(ev clientEvent) ([]byte, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ev.Type, err)
	}
	return b, nil
}

func sessionUpdateEvent(d Dialect, s *Session) (clientEvent, error) {
	w, err := s.wire(d)
	if err != nil {
		return clientEvent{}, err
	}
	return clientEvent{Type: typeSessionUpdate, Session: w}, nil
}

func truncateEvent(itemID string, contentIndex, audioEndMs int) clientEvent {
	return clientEvent{Type: typeItemTruncate, ItemID: itemID, ContentIndex: &contentIndex, AudioEndMs: &audioEndMs}
}

// messageItem is a text message for conversation.item.create; assistant
// text is "output_text" in GA and "text" in beta.
func messageItem(d Dialect, role, text string) *wireItem {
	typ := contentInputText
	if role == roleAssistant {
		typ = contentOutputText
		if d == Beta {
			typ = contentBetaText
		}
	}
	return &wireItem{Type: itemMessage, Role: role, Content: []wireContent{{Type: typ, Text: text}}}
}

func functionOutputItem(callID, output string) *wireItem {
	return &wireItem{Type: itemFunctionCallOutput, CallID: callID, Output: &output}
}
