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

// BenchmarkReadAudioEvent is the client's read path for a 200 ms, 24 kHz
// bot_voice event, the server's write included. Of its 3 allocations, 2 are
// gorilla's server-side writer (the fakes only) and 1 gorilla's reader (its
// messageReader, 8 bytes per message on the client); the framing has none.
func BenchmarkReadAudioEvent(b *testing.B) {
	c, s := pair(b, "/sdk", false)
	msg := AppendEvent(nil, "/sdk", -1, "bot_voice", []byte(`{"audio":"`+strings.Repeat("A", 12800)+`","message_id":"m1"}`))
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.WriteRaw(msg); err != nil {
			b.Fatal(err)
		}
		p, err := c.Read()
		if err != nil || p.Type != TypeEvent {
			b.Fatal(err)
		}
	}
}
