package realtime

import (
	"crypto/rand"
	"encoding/binary"
	"io"
)

// frameWriter writes client text frames (RFC 6455 section 5) straight to the
// connection, into one reused buffer. gorilla/websocket allocates a writer for
// every message a client sends (its allocation-free path is the server's), and the
// uplink sends one message per 20-100 ms of speech; this keeps the audio path free of
// allocation. Only the writer goroutine uses it; control frames (ping, close) still
// go through gorilla, from the same goroutine, so frames never interleave.
type frameWriter struct {
	buf []byte
	key [4]byte
}

// writeText writes payload as one masked, final text frame.
func (f *frameWriter) writeText(w io.Writer, payload []byte) error {
	n := len(payload)
	b := f.buf[:0]
	b = append(b, 0x80|0x1) // FIN, opcode text
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n)) // mask bit: a client masks every frame
	case n <= 0xFFFF:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	// The key must be unpredictable (section 10.3): it keeps a hostile page from
	// steering the bytes a proxy sees.
	rand.Read(f.key[:])
	b = append(b, f.key[:]...)
	start := len(b)
	b = append(b, payload...)
	maskBytes(b[start:], f.key)
	f.buf = b
	_, err := w.Write(b)
	return err
}

// maskBytes XORs p with the key, repeating (section 5.3).
func maskBytes(p []byte, key [4]byte) {
	k := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k) | uint64(k)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		v := binary.LittleEndian.Uint64(p[i:])
		binary.LittleEndian.PutUint64(p[i:], v^k64)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}
