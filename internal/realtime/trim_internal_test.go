package realtime

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"testing"

	"github.com/gorilla/websocket"
)

// listSource gives its messages, then errDone.
type listSource struct{ msgs [][]byte }

var errDone = errors.New("no more messages")

func (l *listSource) next(buf []byte) (int, []byte, error) {
	if len(l.msgs) == 0 {
		return 0, buf[:0], errDone
	}
	m := l.msgs[0]
	l.msgs = l.msgs[1:]
	return websocket.TextMessage, append(buf[:0], m...), nil
}

func delta(samples int) []byte {
	return []byte(`{"type":"response.output_audio.delta","event_id":"e","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"` +
		base64.StdEncoding.EncodeToString(make([]byte, 2*samples)) + `"}`)
}

// A large message the limit lets through grows the reader's buffers for
// that message only: afterwards they are back to their usual size.
func TestTrimBuffers(t *testing.T) {
	got := 0
	c, err := New(Options{URL: "ws://127.0.0.1:1/v1/realtime", Audio: func(_ string, pcm []int16) { got += len(pcm) }})
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	big := 150_000 // 300 KB of audio, 400 KB of base64: under the limit
	src := &listSource{msgs: [][]byte{delta(1200), delta(big)}}
	if err := c.readLoop(context.Background(), src, a, &readState{}); !errors.Is(err, errDone) {
		t.Fatalf("readLoop = %v, want the source's end", err)
	}
	if got != 1200+big {
		t.Errorf("sink got %d samples, want %d", got, 1200+big)
	}
	if cap(c.rbuf) > maxKeptBuffer || cap(c.b64) > maxKeptBuffer || 2*cap(c.pcm) > maxKeptBuffer {
		t.Errorf("after a %d-sample delta the buffers hold %d, %d and %d bytes, want each at most %d",
			big, cap(c.rbuf), cap(c.b64), 2*cap(c.pcm), maxKeptBuffer)
	}

	// Ordinary deltas keep their buffers: no allocation per message.
	src.msgs = [][]byte{delta(1200), delta(2400)}
	_ = c.readLoop(context.Background(), src, a, &readState{})
	if cap(c.b64) == 0 || cap(c.pcm) == 0 {
		t.Errorf("the buffers of ordinary deltas were dropped")
	}
}
