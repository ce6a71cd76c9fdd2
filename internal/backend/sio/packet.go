package sio

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// AppendPacket appends the head of a Socket.IO packet inside an Engine.IO
// message: "4", the type, the namespace and comma unless it is "/", and the
// ack id unless it is negative. The caller appends the JSON data.
func AppendPacket(dst []byte, typ byte, nsp string, id int) []byte {
	dst = append(dst, '4', typ)
	if nsp != "" && nsp != "/" {
		dst = append(dst, nsp...)
		dst = append(dst, ',')
	}
	if id >= 0 {
		dst = strconv.AppendInt(dst, int64(id), 10)
	}
	return dst
}

// AppendConnect appends a CONNECT packet with an optional payload.
func AppendConnect(dst []byte, nsp string, payload []byte) []byte {
	return append(AppendPacket(dst, TypeConnect, nsp, -1), payload...)
}

// AppendEventHead appends an EVENT packet up to and including its name:
// `42/nsp,ID["name"`. The caller appends `,` and the arguments, then `]`.
// name must be plain ASCII without quotes or backslashes (event names are).
func AppendEventHead(dst []byte, nsp string, id int, name string) []byte {
	dst = AppendPacket(dst, TypeEvent, nsp, id)
	dst = append(dst, '[', '"')
	dst = append(dst, name...)
	return append(dst, '"')
}

// AppendEvent appends a whole EVENT packet with one JSON argument, or none
// when arg is empty.
func AppendEvent(dst []byte, nsp string, id int, name string, arg []byte) []byte {
	dst = AppendEventHead(dst, nsp, id, name)
	if len(arg) > 0 {
		dst = append(dst, ',')
		dst = append(dst, arg...)
	}
	return append(dst, ']')
}

// AppendAck appends an ACK packet whose arguments are args (a JSON array).
func AppendAck(dst []byte, nsp string, id int, args []byte) []byte {
	if len(args) == 0 {
		args = []byte("[]")
	}
	return append(AppendPacket(dst, TypeAck, nsp, id), args...)
}

// Emit writes an EVENT with one argument marshalled by encoding/json (nil
// for none): for control events, off the audio path.
func (c *Conn) Emit(nsp string, id int, name string, arg any) error {
	var a []byte
	if arg != nil {
		var err error
		if a, err = json.Marshal(arg); err != nil {
			return fmt.Errorf("sio: emit %s: %w", name, err)
		}
	}
	return c.WriteRaw(AppendEvent(nil, nsp, id, name, a))
}
