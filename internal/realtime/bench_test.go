package realtime

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/websocket"
)

func BenchmarkHandleAudioDelta(b *testing.B) {
	c, err := New(Options{URL: "ws://127.0.0.1:1/", Audio: func(string, []int16) {}})
	if err != nil {
		b.Fatal(err)
	}
	raw := make([]byte, 2*2400) // 100 ms
	msg := []byte(`{"type":"response.output_audio.delta","event_id":"event_9","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"` +
		base64.StdEncoding.EncodeToString(raw) + `"}`)
	st := &readState{}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.handle(context.Background(), msg, st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendAudioOverSocket measures the whole uplink: AppendAudio,
// the writer goroutine and its framing, to a server that discards. The
// allocations counted are the in-process test server's (gorilla/websocket's
// reader, two per message); the client side allocates nothing.
func BenchmarkAppendAudioOverSocket(b *testing.B) {
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}))
	defer hs.Close()
	c, err := New(Options{URL: hs.URL, AudioSlots: 256})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	go func() {
		for range c.Events() {
		}
	}()
	for !c.Connected() {
		if err := ctx.Err(); err != nil {
			b.Fatal(err)
		}
	}
	pcm := make([]int16, 480)
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		for c.AppendAudio(pcm) == ErrDropped {
		}
	}
	cancel()
	<-done
}
