package realtime

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Frame opcodes (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxControlPayload is the largest control frame payload (section 5.5).
const maxControlPayload = 125

// errProtocol is a frame the server should not have sent.
var errProtocol = errors.New("realtime: websocket protocol error")

// frameReader reads the server's side of a WebSocket (RFC 6455 sections
// 5.2-5.5) into a buffer the caller owns. gorilla/websocket allocates a
// reader for every received message, and the server sends one message per
// audio delta; this keeps the downlink free of allocation. Only the reader
// goroutine uses it. No extension is negotiated, so the reserved bits must
// be clear.
type frameReader struct {
	rd    io.Reader
	buf   []byte // buffered input is buf[r:w]
	r, w  int
	limit uint64 // largest message, in bytes

	// onPing gets a ping's payload, valid only during the call; onPong is
	// called for every pong. Both run on the reader goroutine.
	onPing func(payload []byte)
	onPong func()
}

// frameReadBuffer is the read buffer's size: several audio deltas, so a
// busy stream costs few system calls.
const frameReadBuffer = 32 << 10

// newFrameReader reads from rd, after the bytes in pending (read from the
// socket before, during the handshake).
func newFrameReader(rd io.Reader, pending []byte, limit int64) *frameReader {
	f := &frameReader{rd: rd, buf: make([]byte, max(frameReadBuffer, len(pending)))}
	f.w = copy(f.buf, pending)
	// A message must fit in an int (32-bit ARM) and in memory.
	f.limit = min(uint64(max(limit, 0)), math.MaxInt/2)
	f.onPing = func([]byte) {}
	f.onPong = func() {}
	return f
}

// fill makes at least n (at most len(f.buf)) bytes available in f.buf[f.r:f.w].
// A stream that ends before them gives io.ErrUnexpectedEOF, or io.EOF when
// it ended with nothing buffered and eofOK is set (between frames).
func (f *frameReader) fill(n int, eofOK bool) error {
	if f.w-f.r >= n {
		return nil
	}
	if f.r+n > len(f.buf) {
		f.w = copy(f.buf, f.buf[f.r:f.w])
		f.r = 0
	}
	for f.w-f.r < n {
		m, err := f.rd.Read(f.buf[f.w:])
		f.w += m
		if f.w-f.r >= n {
			return nil
		}
		if err != nil {
			if err == io.EOF && (!eofOK || f.w > f.r) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// readFull fills p with the next bytes: from the buffer first, then, for a
// short rest, through the buffer (reading ahead whatever else has come),
// else straight from the socket.
func (f *frameReader) readFull(p []byte) error {
	n := copy(p, f.buf[f.r:f.w])
	f.r += n
	p = p[n:]
	if len(p) == 0 {
		return nil
	}
	if len(p) <= len(f.buf)/2 {
		f.r, f.w = 0, 0
		if err := f.fill(len(p), false); err != nil {
			return err
		}
		f.r += copy(p, f.buf[f.r:f.w])
		return nil
	}
	if _, err := io.ReadFull(f.rd, p); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// readMessage reads the next data message into dst[:0], growing it when
// needed, and returns its opcode (opText or opBinary). Control frames in
// between are handled: pings and pongs through onPing and onPong, a close
// frame ends the read with a *websocket.CloseError. The message is returned
// even with an error, so the caller keeps a grown buffer.
func (f *frameReader) readMessage(dst []byte) (op byte, msg []byte, err error) {
	msg = dst[:0]
	for {
		if err := f.fill(2, op == 0); err != nil {
			return 0, msg, err
		}
		b0, b1 := f.buf[f.r], f.buf[f.r+1]
		fin, fop := b0&0x80 != 0, b0&0x0F
		if b0&0x70 != 0 {
			return 0, msg, fmt.Errorf("frame with reserved bits %#x set (no extension was negotiated): %w", b0&0x70, errProtocol)
		}
		if b1&0x80 != 0 {
			return 0, msg, fmt.Errorf("masked frame from the server: %w", errProtocol)
		}
		hdr := 2
		switch b1 & 0x7F {
		case 126:
			hdr = 4
		case 127:
			hdr = 10
		}
		if err := f.fill(hdr, false); err != nil {
			return 0, msg, err
		}
		n := uint64(b1 & 0x7F)
		switch hdr {
		case 4:
			n = uint64(binary.BigEndian.Uint16(f.buf[f.r+2:]))
		case 10:
			n = binary.BigEndian.Uint64(f.buf[f.r+2:])
			if n>>63 != 0 {
				return 0, msg, fmt.Errorf("frame length %#x has the top bit set: %w", n, errProtocol)
			}
		}
		f.r += hdr

		switch fop {
		case opClose, opPing, opPong:
			if !fin {
				return 0, msg, fmt.Errorf("fragmented control frame (opcode %#x): %w", fop, errProtocol)
			}
			if n > maxControlPayload {
				return 0, msg, fmt.Errorf("control frame (opcode %#x) of %d bytes, over %d: %w", fop, n, maxControlPayload, errProtocol)
			}
			if err := f.fill(int(n), false); err != nil {
				return 0, msg, err
			}
			payload := f.buf[f.r : f.r+int(n)]
			f.r += int(n)
			switch fop {
			case opPing:
				f.onPing(payload)
			case opPong:
				f.onPong()
			case opClose:
				return 0, msg, closeError(payload)
			}
			continue
		case opText, opBinary:
			if op != 0 {
				return 0, msg, fmt.Errorf("new message (opcode %#x) inside a fragmented one: %w", fop, errProtocol)
			}
			op = fop
		case opContinuation:
			if op == 0 {
				return 0, msg, fmt.Errorf("continuation frame outside a message: %w", errProtocol)
			}
		default:
			return 0, msg, fmt.Errorf("unknown opcode %#x: %w", fop, errProtocol)
		}

		// Checked before anything is converted or allocated: len(msg) <=
		// f.limit always, and n may be anything up to 2^63-1.
		if n > f.limit-uint64(len(msg)) {
			return 0, msg, fmt.Errorf("message of at least %d bytes is over the limit of %d bytes: %w",
				uint64(len(msg))+n, f.limit, websocket.ErrReadLimit)
		}
		start := len(msg)
		if need := start + int(n); need > cap(msg) {
			grown := make([]byte, start, max(need, 2*cap(msg)))
			copy(grown, msg)
			msg = grown
		}
		msg = msg[:start+int(n)]
		if err := f.readFull(msg[start:]); err != nil {
			return 0, msg[:start], err
		}
		if fin {
			return op, msg, nil
		}
	}
}

// closeError turns a close frame's payload (section 5.5.1) into the error
// gorilla/websocket reports for it.
func closeError(p []byte) error {
	switch {
	case len(p) == 0:
		return &websocket.CloseError{Code: websocket.CloseNoStatusReceived}
	case len(p) == 1:
		return fmt.Errorf("close frame with a 1-byte payload: %w", errProtocol)
	}
	code := int(binary.BigEndian.Uint16(p))
	if !validCloseCode(code) {
		return fmt.Errorf("close frame with code %d, which a peer may not send: %w", code, errProtocol)
	}
	if !utf8.Valid(p[2:]) {
		return fmt.Errorf("close frame (code %d) with a reason that is not UTF-8: %w", code, errProtocol)
	}
	return &websocket.CloseError{Code: code, Text: string(p[2:])}
}

// validCloseCode reports whether a peer may send code (section 7.4): the
// defined codes but 1004-1006 and 1015, which are never on the wire, and the
// ranges for libraries and applications.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
