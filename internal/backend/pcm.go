package backend

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// AppendBase64PCM appends pcm as base64 of PCM16 little-endian, using
// scratch for the raw bytes; both grow once to the largest chunk and are
// returned for reuse.
func AppendBase64PCM(dst, scratch []byte, pcm []int16) (out, scratchOut []byte) {
	raw := scratch[:0]
	for _, s := range pcm {
		raw = binary.LittleEndian.AppendUint16(raw, uint16(s))
	}
	return base64.StdEncoding.AppendEncode(dst, raw), raw
}

// DecodeBase64PCM decodes base64 PCM16 little-endian into dst, reusing
// scratch for the raw bytes; it returns the samples and the grown buffers.
func DecodeBase64PCM(b64, scratch []byte, dst []int16) (pcm []int16, scratchOut []byte, dstOut []int16, err error) {
	raw, err := base64.StdEncoding.AppendDecode(scratch[:0], b64)
	if err != nil {
		return nil, scratch, dst, fmt.Errorf("backend: audio base64: %w", err)
	}
	if len(raw)%2 != 0 {
		return nil, raw, dst, fmt.Errorf("backend: audio of %d bytes: not whole PCM16 samples", len(raw))
	}
	pcm, dst, _ = PCM16(raw, dst)
	return pcm, raw, dst, nil
}

// PCM16 reads PCM16 little-endian into dst, grown when short; it returns
// the samples and the grown dst.
func PCM16(raw []byte, dst []int16) (pcm, dstOut []int16, err error) {
	if len(raw)%2 != 0 {
		return nil, dst, fmt.Errorf("%d bytes of PCM16: not whole samples", len(raw))
	}
	n := len(raw) / 2
	if cap(dst) < n {
		dst = make([]int16, n, n+n/2)
	}
	pcm = dst[:n]
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return pcm, dst, nil
}
