package sio

import (
	"strings"
	"testing"
)

// BenchmarkWriteAudioEvent writes a 100 ms, 16 kHz audio event (4.3 kB of
// base64) from the client side to a server that reads and drops it: the
// framing cost per audio message. Compare with the numbers in doc.go.
func BenchmarkWriteAudioEvent(b *testing.B) {
	c, s := pair(b, "/sdk", false)
	go func() {
		for {
			if _, err := s.Read(); err != nil {
				return
			}
		}
	}()
	msg := AppendEvent(nil, "/sdk", -1, "stream_audio", []byte(`{"audio":"`+strings.Repeat("A", 4268)+`"}`))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteRaw(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplitEvent parses and splits a received bot_voice-sized event.
func BenchmarkSplitEvent(b *testing.B) {
	msg := []byte(`2/sdk,["bot_voice",{"audio":"` + strings.Repeat("A", 6400) + `","message_id":"m1","chunk_index":3,"is_final":false}]`)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		p, _ := ParsePacket(msg)
		_, arg, _ := SplitEvent(p.Data)
		Field(arg, "is_final")
	}
}
