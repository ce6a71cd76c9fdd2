package selam

import (
	"os"
	"testing"

	"github.com/voiced-project/voiced/internal/backend/sio"
)

// FuzzPacket feeds arbitrary server packets to the event and audio
// decoders (PCM, WAV and MP3 sniffing included): no panics.
func FuzzPacket(f *testing.F) {
	for _, s := range []string{
		`2/v1/audio/agent,["audio_chunk",{"audio":"AAEAAg=="}]`,
		`2/v1/audio/agent,["audio_chunk",{"audio":"//NExAAAAAAAAAAAAA=="}]`,
		`2/v1/audio/agent,["audio_chunk",{"audio":"UklGRgAAAABXQVZFZm10IBAAAAABAAEAgD4AAAB9AAACABAAZGF0YQQAAAABAAIA"}]`,
		`2/v1/audio/agent,["transcription",{"text":"a","is_final":true}]`,
		`2/v1/audio/agent,["response",{"text":"b"}]`,
		`2/v1/audio/agent,["audio_end",{"total_chunks":2}]`,
		`2/v1/audio/agent,["control_ack",{"action":"pause","status":"executed"}]`,
		`2/v1/audio/agent,["error",{"error":{"type":"audio_error","message":"x"}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := New(Options{APIKey: "k", Voice: "mekdes", Audio: func(_ string, pcm []int16, rate int) {
			if rate < 8000 || rate > 48000 {
				t.Fatalf("sink got rate %d", rate)
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		p, err := sio.ParsePacket(b)
		if err != nil {
			return
		}
		c.link.Packet(p) // a fresh Events has room for what one packet reports
	})
}

// FuzzDecodeMP3 feeds damaged MP3 segments to the decoder: an error, never
// a panic or a rate the player cannot take.
func FuzzDecodeMP3(f *testing.F) {
	if b, err := os.ReadFile("testdata/tone-24k.mp3"); err == nil {
		f.Add(b)
		f.Add(b[:417])
	}
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &Client{}
		pcm, rate, err := c.decodeMP3(b)
		if err == nil && len(pcm) > 0 && (rate < 8000 || rate > 48000) {
			t.Fatalf("decodeMP3 rate %d", rate)
		}
	})
}
