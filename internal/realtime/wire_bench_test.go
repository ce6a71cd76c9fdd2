package realtime_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/voiced-project/voiced/internal/realtime"
)

// benchPCM is ms of a 24 kHz tone, the rate the wire carries.
func benchPCM(ms int) []int16 {
	pcm := make([]int16, 24*ms)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(float64(i)*2*math.Pi*440/24000))
	}
	return pcm
}

// deltaMessage is a GA audio delta as a server sends it.
func deltaMessage(pcm []int16) []byte {
	raw := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(s))
	}
	return []byte(`{"type":"response.output_audio.delta","event_id":"event_123","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"` +
		base64.StdEncoding.EncodeToString(raw) + `"}`)
}

// The periods the uplink sends (a capture period) and the server's delta
// sizes (voiced-sim sends 50 ms, OpenAI about 100 ms).
var (
	appendSizesMs = []int{20, 100}
	deltaSizesMs  = []int{50, 100}
)

// BenchmarkAppendEncode is the uplink's per-period work: PCM to an
// input_audio_buffer.append message in reused buffers.
func BenchmarkAppendEncode(b *testing.B) {
	for _, ms := range appendSizesMs {
		b.Run(fmt.Sprintf("%dms", ms), func(b *testing.B) {
			pcm := benchPCM(ms)
			msg, scratch := realtime.AppendAudioEvent(nil, nil, pcm)
			b.SetBytes(int64(2 * len(pcm)))
			b.ReportAllocs()
			for b.Loop() {
				msg, scratch = realtime.AppendAudioEvent(msg, scratch, pcm)
			}
		})
	}
}

// BenchmarkAppendEncodeJSON is the same message written the plain way
// (encoding/json, a new buffer per message), for comparison.
func BenchmarkAppendEncodeJSON(b *testing.B) {
	type appendEvent struct {
		Type  string `json:"type"`
		Audio string `json:"audio"`
	}
	for _, ms := range appendSizesMs {
		b.Run(fmt.Sprintf("%dms", ms), func(b *testing.B) {
			pcm := benchPCM(ms)
			b.SetBytes(int64(2 * len(pcm)))
			b.ReportAllocs()
			for b.Loop() {
				raw := make([]byte, 2*len(pcm))
				for i, s := range pcm {
					binary.LittleEndian.PutUint16(raw[2*i:], uint16(s))
				}
				if _, err := json.Marshal(appendEvent{Type: "input_audio_buffer.append", Audio: base64.StdEncoding.EncodeToString(raw)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDeltaDecode is the downlink's per-message work: recognise an
// audio delta without encoding/json and decode it to PCM in reused buffers.
func BenchmarkDeltaDecode(b *testing.B) {
	for _, ms := range deltaSizesMs {
		b.Run(fmt.Sprintf("%dms", ms), func(b *testing.B) {
			pcm := benchPCM(ms)
			msg := deltaMessage(pcm)
			var scratch []byte
			var dst []int16
			b.SetBytes(int64(2 * len(pcm)))
			b.ReportAllocs()
			for b.Loop() {
				_, delta, ok := realtime.ScanAudioDelta(msg)
				if !ok {
					b.Fatal("ScanAudioDelta did not recognise the delta")
				}
				var err error
				var out []int16
				out, scratch, dst, err = realtime.DecodePCM(delta, scratch, dst)
				if err != nil || len(out) != len(pcm) {
					b.Fatalf("DecodePCM = %d samples, %v; want %d", len(out), err, len(pcm))
				}
			}
		})
	}
}

// BenchmarkDeltaDecodeJSON is the same delta read the plain way
// (encoding/json into a struct, new buffers per message), for comparison.
func BenchmarkDeltaDecodeJSON(b *testing.B) {
	type serverEvent struct {
		Type   string `json:"type"`
		ItemID string `json:"item_id"`
		Delta  string `json:"delta"`
	}
	for _, ms := range deltaSizesMs {
		b.Run(fmt.Sprintf("%dms", ms), func(b *testing.B) {
			pcm := benchPCM(ms)
			msg := deltaMessage(pcm)
			b.SetBytes(int64(2 * len(pcm)))
			b.ReportAllocs()
			for b.Loop() {
				var ev serverEvent
				if err := json.Unmarshal(msg, &ev); err != nil {
					b.Fatal(err)
				}
				raw, err := base64.StdEncoding.DecodeString(ev.Delta)
				if err != nil {
					b.Fatal(err)
				}
				out := make([]int16, len(raw)/2)
				for i := range out {
					out[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
				}
				if len(out) != len(pcm) {
					b.Fatalf("decoded %d samples, want %d", len(out), len(pcm))
				}
			}
		})
	}
}
