package selam

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/hajimehoshi/go-mp3"
	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/sio"
)

// Format is what a received audio chunk holds.
type Format int

// Formats of received audio.
const (
	FormatPCM Format = iota // raw PCM16 LE mono
	FormatMP3
	FormatWAV
	FormatOgg
)

// Sniff tells the format of a decoded audio chunk by its first bytes.
func Sniff(b []byte) Format {
	switch {
	case len(b) >= 3 && string(b[:3]) == "ID3":
		return FormatMP3
	case len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0 && b[1]&0x06 != 0: // frame sync, layer not reserved
		return FormatMP3
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return FormatWAV
	case len(b) >= 4 && string(b[:4]) == "OggS":
		return FormatOgg
	}
	return FormatPCM
}

// audio handles one received audio_chunk.
func (c *Client) audio(arg []byte) {
	if c.dropping.Load() {
		return
	}
	raw := sio.Field(arg, "audio")
	b64, ok := sio.Str(raw)
	if !ok {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			c.log.Warn("selam: audio_chunk without audio")
			return
		}
		b64 = []byte(s)
	}
	if c.reply == "" {
		c.startReply()
	}
	c.chunks++
	var err error
	c.scratch, err = base64.StdEncoding.AppendDecode(c.scratch[:0], b64)
	if err != nil {
		c.audioError(fmt.Errorf("base64: %w", err))
		return
	}
	rate := c.o.PCMRate
	if r := sio.Field(arg, "sample_rate"); len(r) > 0 { // Atoi's error would allocate
		if n, err := strconv.Atoi(string(r)); err == nil && n >= 8000 && n <= 48000 {
			rate = n
		}
	}
	var pcm []int16
	// The first chunk of a link decides: raw PCM can start with bytes
	// that look like an MPEG frame sync.
	if !c.formatKnown {
		c.format, c.formatKnown = Sniff(c.scratch), true
	}
	switch c.format {
	case FormatPCM:
		pcm, c.pcm, err = backend.PCM16(c.scratch, c.pcm)
	case FormatMP3:
		pcm, rate, err = c.decodeMP3(c.scratch)
	case FormatWAV:
		pcm, rate, err = c.decodeWAV(c.scratch)
	case FormatOgg:
		err = errors.New("ogg audio is not supported; ask for mp3 or pcm")
	}
	if err != nil {
		c.audioError(err)
		return
	}
	if len(pcm) > 0 {
		c.o.Audio(c.reply, pcm, rate)
	}
}

func (c *Client) audioError(err error) {
	c.link.Emit(backend.Event{Kind: backend.Error, Err: &Error{Type: TypeAudio, Message: "reply audio: " + err.Error()}})
}

// decodeMP3 decodes a self-contained MP3 segment to mono. go-mp3 v0.3.4
// panics on some damaged frames (index out of range in its scale factor
// reader, found by FuzzDecodeMP3): that is turned into an error, since the
// bytes come from the network.
func (c *Client) decodeMP3(b []byte) (pcm []int16, rate int, err error) {
	defer func() {
		if r := recover(); r != nil {
			pcm, rate, err = nil, 0, fmt.Errorf("mp3: damaged segment: %v", r)
		}
	}()
	if err := checkID3(b); err != nil {
		return nil, 0, err
	}
	d, err := mp3.NewDecoder(bytes.NewReader(b))
	if err != nil {
		return nil, 0, fmt.Errorf("mp3: %w", err)
	}
	st := c.stereo[:0]
	for {
		if len(st) == cap(st) {
			st = append(st, 0)[:len(st)]
		}
		n, err := d.Read(st[len(st):cap(st)])
		st = st[:len(st)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("mp3: %w", err)
		}
	}
	c.stereo = st
	// go-mp3 always writes 16-bit stereo: average the channels.
	n := len(st) / 4
	if cap(c.pcm) < n {
		c.pcm = make([]int16, n, n+n/2)
	}
	pcm = c.pcm[:n]
	for i := range pcm {
		l := int32(int16(binary.LittleEndian.Uint16(st[4*i:])))
		r := int32(int16(binary.LittleEndian.Uint16(st[4*i+2:])))
		pcm[i] = int16((l + r) / 2)
	}
	return pcm, d.SampleRate(), nil
}

// decodeWAV reads a PCM16 WAV (mono or stereo) to mono.
func (c *Client) decodeWAV(b []byte) ([]int16, int, error) {
	var channels, rate, bits int
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:]))
		body := b[i+8:]
		if size > len(body) {
			size = len(body) // streamed WAVs leave the data size open
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, 0, errors.New("wav: short fmt chunk")
			}
			if f := binary.LittleEndian.Uint16(body); f != 1 {
				return nil, 0, fmt.Errorf("wav: format %d, want PCM", f)
			}
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if rate < 8000 || rate > 48000 {
				return nil, 0, fmt.Errorf("wav: rate %d Hz, want 8000 to 48000", rate)
			}
			if bits != 16 || channels < 1 || channels > 2 {
				return nil, 0, fmt.Errorf("wav: %d channels of %d bits, want PCM16 mono or stereo", channels, bits)
			}
			frames := size / (2 * channels)
			if cap(c.pcm) < frames {
				c.pcm = make([]int16, frames, frames+frames/2)
			}
			pcm := c.pcm[:frames]
			for f := range pcm {
				var sum int32
				for ch := range channels {
					sum += int32(int16(binary.LittleEndian.Uint16(body[2*(f*channels+ch):])))
				}
				pcm[f] = int16(sum / int32(channels))
			}
			return pcm, rate, nil
		}
		i += 8 + size + size&1
	}
	return nil, 0, errors.New("wav: no data chunk")
}

// checkID3 refuses an ID3v2 tag that claims more bytes than the chunk has:
// go-mp3 would allocate what it claims (up to 256 MB, found by
// FuzzDecodeMP3) before finding out.
func checkID3(b []byte) error {
	if len(b) < 10 || string(b[:3]) != "ID3" {
		return nil
	}
	size := 0
	for _, x := range b[6:10] {
		if x&0x80 != 0 {
			return errors.New("mp3: bad ID3 tag size")
		}
		size = size<<7 | int(x)
	}
	if size+10 > len(b) {
		return fmt.Errorf("mp3: ID3 tag of %d bytes in a chunk of %d", size, len(b))
	}
	return nil
}
