package estuary

import (
	"testing"

	"github.com/voiced-project/voiced/internal/backend/sio"
)

// FuzzPacket feeds arbitrary server packets to the event decoders: they
// may report errors but must not panic, and audio reaches the sink whole.
func FuzzPacket(f *testing.F) {
	for _, s := range []string{
		`2/sdk,["bot_voice",{"audio":"AAEAAg==","message_id":"m1","is_final":true,"sample_rate":24000}]`,
		`2/sdk,["bot_response",{"text":"hi","is_final":true,"partial":"hi","message_id":"m1"}]`,
		`2/sdk,["stt_response",{"text":"a","is_final":false}]`,
		`2/sdk,["interrupt",{"message_id":"m1","interrupted_at":1.5}]`,
		`2/sdk,["quota_exceeded",{"error":"quota_exceeded","current":1}]`,
		`2/sdk,["session_timeout",{"idle_seconds":3}]`,
		`3/sdk,4[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := New(Options{APIKey: "k", CharacterID: "c", PlayerID: "p", Audio: func(_ string, pcm []int16, rate int) {
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
