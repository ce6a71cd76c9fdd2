package siotest

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"time"
)

// Rate is the rate of the audio the clients send, 16 kHz for both services.
const Rate = 16000

// maxTurn bounds the audio a Detector keeps (30 s).
const maxTurn = 30 * Rate

// DecodePCM decodes base64 PCM16 little-endian.
func DecodePCM(b64 []byte) ([]int16, error) {
	b, err := base64.StdEncoding.DecodeString(string(b64))
	if err != nil {
		return nil, err
	}
	if len(b)%2 != 0 {
		return nil, errors.New("siotest: odd number of PCM16 bytes")
	}
	return PCM16(b), nil
}

// PCM16 reads PCM16 little-endian (an odd last byte is ignored).
func PCM16(b []byte) []int16 {
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// Chunks cuts pcm into pieces of per samples, as PCM16 little-endian bytes.
func Chunks(pcm []int16, per int) [][]byte {
	var out [][]byte
	for i := 0; i < len(pcm); i += per {
		part := pcm[i:min(i+per, len(pcm))]
		b := make([]byte, 2*len(part))
		for j, v := range part {
			binary.LittleEndian.PutUint16(b[2*j:], uint16(v))
		}
		out = append(out, b)
	}
	return out
}

// Detector finds a user turn in the audio of a connection by its energy.
// Its owner guards it.
type Detector struct {
	// KeepQuiet keeps the audio before the first speech in the turn too.
	KeepQuiet bool
	speaking  bool
	quietMs   int
	turn      []int16
}

// Hear takes one chunk at Rate: it is speech when its RMS is above level.
// It reports whether the chunk starts speech.
func (d *Detector) Hear(pcm []int16, level float64) (first bool) {
	speech := RMS(pcm) > level
	first = speech && !d.speaking
	if speech {
		d.speaking, d.quietMs = true, 0
	} else if d.speaking {
		d.quietMs += len(pcm) * 1000 / Rate
	}
	if (d.speaking || d.KeepQuiet) && len(d.turn) < maxTurn {
		d.turn = append(d.turn, pcm...)
	}
	return first
}

// Ended reports whether silenceMs of quiet followed speech.
func (d *Detector) Ended(silenceMs int) bool { return d.speaking && d.quietMs >= silenceMs }

// Take returns a copy of the turn's audio and starts a new turn.
func (d *Detector) Take() []int16 {
	turn := append([]int16(nil), d.turn...)
	d.Reset()
	return turn
}

// Reset forgets the turn.
func (d *Detector) Reset() { d.turn, d.speaking, d.quietMs = d.turn[:0], false, 0 }

// Reply is one answer under way; Cut stops it.
type Reply struct {
	ID   string
	stop chan struct{}
	once sync.Once
}

// NewReply returns a Reply with id.
func NewReply(id string) *Reply { return &Reply{ID: id, stop: make(chan struct{})} }

// Cut stops the reply; later calls do nothing.
func (r *Reply) Cut() { r.once.Do(func() { close(r.stop) }) }

// Stream calls send for each chunk, one each pace when pace is not 0, and
// reports whether it sent them all before the reply was cut.
func (r *Reply) Stream(chunks [][]byte, pace time.Duration, send func(i int, b []byte)) bool {
	for i, b := range chunks {
		select {
		case <-r.stop:
			return false
		default:
		}
		send(i, b)
		if pace > 0 {
			select {
			case <-r.stop:
				return false
			case <-time.After(pace):
			}
		}
	}
	return true
}

// RMS is the root mean square of p.
func RMS(p []int16) float64 {
	if len(p) == 0 {
		return 0
	}
	var sum float64
	for _, v := range p {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(p)))
}

// Resample converts by linear interpolation: good enough for a parrot.
func Resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 {
		return in
	}
	out := make([]int16, len(in)*to/from)
	for i := range out {
		pos := float64(i) * float64(from) / float64(to)
		j := int(pos)
		f := pos - float64(j)
		a := float64(in[j])
		b := a
		if j+1 < len(in) {
			b = float64(in[j+1])
		}
		out[i] = int16(a + (b-a)*f)
	}
	return out
}
