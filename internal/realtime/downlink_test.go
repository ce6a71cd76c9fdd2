package realtime

import (
	"encoding/base64"
	"net"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/race"
)

// audioDeltaFrame is a 100 ms GA audio delta as the server frames it.
func audioDeltaFrame() (frame []byte, samples int) {
	raw := make([]byte, 2*2400)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	msg := `{"type":"response.output_audio.delta","event_id":"event_9","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"` +
		base64.StdEncoding.EncodeToString(raw) + `"}`
	return serverFrame(true, opText, []byte(msg)), 2400
}

// startDownlink runs a client against a raw loopback server that writes one
// audio delta per send on the returned channel; got receives the number of
// samples of each delta the client's sink gets.
func startDownlink(t testing.TB) (send chan<- struct{}, got <-chan int, c *Client) {
	frame, _ := audioDeltaFrame()
	sendc := make(chan struct{})
	stop := make(chan struct{})
	u := startRawServer(t, serverFrame(true, opText, []byte(sessionCreatedJSON)), func(conn net.Conn) {
		for {
			select {
			case <-stop:
				return
			case <-sendc:
				if _, err := conn.Write(frame); err != nil {
					return
				}
			}
		}
	})
	gotc := make(chan int, 1)
	c, err := New(Options{URL: u, PingInterval: time.Hour, Audio: func(_ string, pcm []int16) { gotc <- len(pcm) }})
	if err != nil {
		t.Fatal(err)
	}
	runClient(t, c)
	t.Cleanup(func() { close(stop) }) // runs first: the server stops before the client
	waitConnected(t, c)
	// Events now come only for server events, and this server sends audio.
	return sendc, gotc, c
}

// Reading an audio delta from a real socket and handing its PCM to the
// sink allocates nothing, from the socket read to the sink.
func TestDownlinkZeroAlloc(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	send, got, c := startDownlink(t)
	one := func() {
		send <- struct{}{}
		if n := <-got; n != 2400 {
			panic("short delta")
		}
	}
	for range 10 { // buffers grow on the first messages
		one()
	}
	if allocs := testing.AllocsPerRun(500, one); allocs != 0 {
		t.Errorf("allocations per received audio delta = %v, want 0", allocs)
	}
	if s := c.Stats(); s.AudioReceived != 511*2400 {
		t.Errorf("Stats().AudioReceived = %d, want %d", s.AudioReceived, 511*2400)
	}
}

// BenchmarkDownlinkOverSocket is the whole downlink: one 100 ms audio
// delta written by a server on loopback, read, decoded and handed to the
// sink. The server writes a prepared frame and allocates nothing, so the
// allocations counted are the client's.
func BenchmarkDownlinkOverSocket(b *testing.B) {
	send, got, _ := startDownlink(b)
	frame, samples := audioDeltaFrame()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		send <- struct{}{}
		if n := <-got; n != samples {
			b.Fatalf("sink got %d samples, want %d", n, samples)
		}
	}
}
