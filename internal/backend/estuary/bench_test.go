package estuary

import (
	"strings"
	"testing"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
)

// BenchmarkFrameAudio is the uplink's work per 100 ms chunk: base64 and
// framing into a reused buffer.
func BenchmarkFrameAudio(b *testing.B) {
	pcm := speech(100)
	var buf, scratch []byte
	b.ReportAllocs()
	for b.Loop() {
		m := sio.AppendEventHead(buf[:0], Namespace, -1, "stream_audio")
		m = append(m, `,{"audio":"`...)
		m, scratch = backend.AppendBase64PCM(m, scratch, pcm)
		buf = append(m, `"}]`...)
	}
}

// BenchmarkBotVoice is the downlink's work per 200 ms chunk at 24 kHz:
// find the fields, decode base64 to PCM, hand it to the sink.
func BenchmarkBotVoice(b *testing.B) {
	c := &Client{o: Options{Audio: func(string, []int16, int) {}}, sessionRate: 16000, curMsg: "m1"}
	msg := []byte(`2/sdk,["bot_voice",{"audio":"` + strings.Repeat("AAEA", 3200) + `","message_id":"m1","chunk_index":3,"is_final":false,"sample_rate":24000}]`)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		p, _ := sio.ParsePacket(msg)
		_, arg, _ := sio.SplitEvent(p.Data)
		c.voice(arg)
	}
}
