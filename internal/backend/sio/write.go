package sio

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/gorilla/websocket"
)

// WriteRaw writes one Engine.IO packet (its type byte first) as a text frame.
// A client masks the frame into a buffer it keeps, so writing allocates
// nothing; b is not changed or kept.
func (c *Conn) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(websocket.TextMessage, b)
}

// writeLocked writes one text or control frame; the first error sticks.
func (c *Conn) writeLocked(op int, b []byte) error {
	if c.werr != nil {
		return c.werr
	}
	var err error
	if c.server {
		err = c.ws.WriteMessage(op, b)
	} else {
		err = c.writeFrameLocked(op, b)
	}
	if err != nil {
		c.werr = err
	}
	return err
}

// writeFrameLocked writes a masked frame (RFC 6455 section 5.2) itself:
// gorilla's client writer allocates per message.
func (c *Conn) writeFrameLocked(op int, b []byte) error {
	n := len(b)
	w := append(c.wbuf[:0], 0x80|byte(op))
	switch {
	case n < 126:
		w = append(w, 0x80|byte(n))
	case n < 1<<16:
		w = append(w, 0x80|126, byte(n>>8), byte(n))
	default:
		w = append(w, 0x80|127)
		w = binary.BigEndian.AppendUint64(w, uint64(n))
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], rand.Uint32())
	w = append(w, key[:]...)
	start := len(w)
	w = append(w, b...)
	mask(w[start:], key)
	c.wbuf = w
	nc := c.ws.UnderlyingConn()
	nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := nc.Write(w)
	return err
}

// mask XORs p with the repeating key, eight bytes at a time where it can.
func mask(p []byte, key [4]byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}

// answerPing answers a WebSocket ping (not an Engine.IO one) through the
// frame writer, so control and data frames never interleave.
func (c *Conn) answerPing(data string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return nil
	}
	var b [125]byte
	n := copy(b[:], data)
	if c.server {
		return c.ws.WriteControl(websocket.PongMessage, b[:n], time.Now().Add(time.Second))
	}
	err := c.writeFrameLocked(websocket.PongMessage, b[:n])
	if err != nil {
		c.werr = err
	}
	return nil
}

// Linger makes Read fail when nothing arrives for d, from now on: for a
// goodbye that waits for the peer's answer without hanging.
func (c *Conn) Linger(d time.Duration) {
	c.idle.Store(int64(d))
	c.ws.SetReadDeadline(time.Now().Add(d))
}

// answerClose echoes a server's close frame through the frame writer (the
// default handler would write it past the lock, maybe into a data frame).
func (c *Conn) answerClose(code int, text string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr == nil {
		c.writeFrameLocked(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""))
		c.werr = errors.New("sio: closed by the peer")
	}
	return nil
}

// Close closes the WebSocket without a goodbye; see [Conn.Leave].
func (c *Conn) Close() error { return c.ws.Close() }

// Leave sends DISCONNECT for nsp and an Engine.IO close, then closes.
func (c *Conn) Leave(nsp string) error {
	err := c.WriteRaw(AppendPacket(nil, TypeDisconnect, nsp, -1))
	if err == nil {
		err = c.WriteRaw([]byte{'1'})
	}
	return errors.Join(err, c.ws.Close())
}

// Server reports whether this is the server side.
func (c *Conn) Server() bool { return c.server }
