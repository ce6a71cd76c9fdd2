package realtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/gorilla/websocket"
	"github.com/voiced-project/voiced/internal/race"
)

// serverFrame builds one unmasked frame as a server sends it. hdr0 is
// OR-ed into the first byte (reserved bits); a nil key leaves it unmasked.
func serverFrame(fin bool, op byte, payload []byte) []byte {
	return rawFrame(fin, op, 0, uint64(len(payload)), nil, payload)
}

func rawFrame(fin bool, op, hdr0 byte, n uint64, key []byte, payload []byte) []byte {
	b0 := op | hdr0
	if fin {
		b0 |= 0x80
	}
	var mask byte
	if key != nil {
		mask = 0x80
	}
	b := []byte{b0}
	switch {
	case n < 126:
		b = append(b, mask|byte(n))
	case n <= 0xFFFF:
		b = append(b, mask|126, byte(n>>8), byte(n))
	default:
		b = append(b, mask|127)
		b = binary.BigEndian.AppendUint64(b, n)
	}
	b = append(b, key...)
	return append(b, payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func closePayload(code int, text string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), text...)
}

type readResult struct {
	op  byte
	msg string
}

// readAllMessages reads until an error and records the control frames seen.
func readAllMessages(rd io.Reader, pending []byte, limit int64) (msgs []readResult, pings []string, pongs int, err error) {
	f := newFrameReader(rd, pending, limit)
	f.onPing = func(p []byte) { pings = append(pings, string(p)) }
	f.onPong = func() { pongs++ }
	var buf []byte
	for {
		var op byte
		var msg []byte
		op, msg, err = f.readMessage(buf)
		if err != nil {
			return msgs, pings, pongs, err
		}
		msgs = append(msgs, readResult{op, string(msg)})
		buf = msg
	}
}

func TestFrameReader(t *testing.T) {
	long16 := strings.Repeat("a", 200)
	long64 := strings.Repeat("b", 70000)
	cases := []struct {
		name    string
		stream  []byte
		limit   int64
		want    []readResult
		pings   []string
		pongs   int
		wantErr error // matched with errors.Is; a *websocket.CloseError by value
	}{
		{name: "empty stream", stream: nil, wantErr: io.EOF},
		{name: "short text", stream: serverFrame(true, opText, []byte(`{"type":"x"}`)),
			want: []readResult{{opText, `{"type":"x"}`}}, wantErr: io.EOF},
		{name: "empty text", stream: serverFrame(true, opText, nil),
			want: []readResult{{opText, ""}}, wantErr: io.EOF},
		{name: "16-bit length", stream: serverFrame(true, opText, []byte(long16)),
			want: []readResult{{opText, long16}}, wantErr: io.EOF},
		{name: "64-bit length", stream: serverFrame(true, opText, []byte(long64)),
			want: []readResult{{opText, long64}}, wantErr: io.EOF},
		{name: "binary", stream: serverFrame(true, opBinary, []byte{0, 1, 2}),
			want: []readResult{{opBinary, "\x00\x01\x02"}}, wantErr: io.EOF},
		{name: "two messages", stream: cat(serverFrame(true, opText, []byte("one")), serverFrame(true, opText, []byte("two"))),
			want: []readResult{{opText, "one"}, {opText, "two"}}, wantErr: io.EOF},
		{name: "fragmented", stream: cat(serverFrame(false, opText, []byte("hel")),
			serverFrame(false, opContinuation, []byte("lo ")), serverFrame(true, opContinuation, []byte(long16))),
			want: []readResult{{opText, "hello " + long16}}, wantErr: io.EOF},
		{name: "control between fragments", stream: cat(serverFrame(false, opText, []byte("a")),
			serverFrame(true, opPing, []byte("are you there")), serverFrame(true, opPong, nil),
			serverFrame(true, opContinuation, []byte("b"))),
			want: []readResult{{opText, "ab"}}, pings: []string{"are you there"}, pongs: 1, wantErr: io.EOF},
		{name: "ping between messages", stream: cat(serverFrame(true, opPing, nil), serverFrame(true, opText, []byte("x"))),
			want: []readResult{{opText, "x"}}, pings: []string{""}, wantErr: io.EOF},
		{name: "masked server frame", stream: rawFrame(true, opText, 0, 2, []byte{1, 2, 3, 4}, []byte("hi")), wantErr: errProtocol},
		{name: "RSV1 set", stream: rawFrame(true, opText, 0x40, 2, nil, []byte("hi")), wantErr: errProtocol},
		{name: "RSV3 set", stream: rawFrame(true, opText, 0x10, 2, nil, []byte("hi")), wantErr: errProtocol},
		{name: "bad opcode", stream: serverFrame(true, 0x3, []byte("hi")), wantErr: errProtocol},
		{name: "bad control opcode", stream: serverFrame(true, 0xB, nil), wantErr: errProtocol},
		{name: "continuation outside a message", stream: serverFrame(true, opContinuation, []byte("x")), wantErr: errProtocol},
		{name: "text inside a fragmented message", stream: cat(serverFrame(false, opText, []byte("a")),
			serverFrame(true, opText, []byte("b"))), wantErr: errProtocol},
		{name: "fragmented ping", stream: serverFrame(false, opPing, nil), wantErr: errProtocol},
		{name: "control over 125 bytes", stream: serverFrame(true, opPing, make([]byte, 126)), wantErr: errProtocol},
		{name: "64-bit length with the top bit", stream: rawFrame(true, opText, 0, 1<<63, nil, nil), wantErr: errProtocol},
		{name: "oversized", limit: 100, stream: serverFrame(true, opText, make([]byte, 101)), wantErr: websocket.ErrReadLimit},
		{name: "at the limit", limit: 100, stream: serverFrame(true, opText, make([]byte, 100)),
			want: []readResult{{opText, string(make([]byte, 100))}}, wantErr: io.EOF},
		{name: "oversized in fragments", limit: 100, stream: cat(serverFrame(false, opText, make([]byte, 60)),
			serverFrame(true, opContinuation, make([]byte, 60))), wantErr: websocket.ErrReadLimit},
		// A length no int holds on 32-bit ARM is refused before conversion.
		{name: "huge 64-bit length", stream: rawFrame(true, opText, 0, 1<<40, nil, nil), wantErr: websocket.ErrReadLimit},
		{name: "close with code", stream: serverFrame(true, opClose, closePayload(1001, "going away")),
			wantErr: &websocket.CloseError{Code: 1001, Text: "going away"}},
		{name: "close without code", stream: serverFrame(true, opClose, nil),
			wantErr: &websocket.CloseError{Code: websocket.CloseNoStatusReceived}},
		{name: "close after a message", stream: cat(serverFrame(true, opText, []byte("x")), serverFrame(true, opClose, closePayload(4000, ""))),
			want: []readResult{{opText, "x"}}, wantErr: &websocket.CloseError{Code: 4000}},
		{name: "close with one byte", stream: serverFrame(true, opClose, []byte{3}), wantErr: errProtocol},
		{name: "close with code 1005", stream: serverFrame(true, opClose, closePayload(1005, "")), wantErr: errProtocol},
		{name: "close reason not UTF-8", stream: serverFrame(true, opClose, closePayload(1000, "\xff")), wantErr: errProtocol},
		{name: "truncated header", stream: serverFrame(true, opText, []byte(long16))[:3], wantErr: io.ErrUnexpectedEOF},
		{name: "truncated payload", stream: serverFrame(true, opText, []byte(long64))[:5000], wantErr: io.ErrUnexpectedEOF},
		{name: "truncated control", stream: serverFrame(true, opPing, []byte("abc"))[:4], wantErr: io.ErrUnexpectedEOF},
		{name: "truncated between fragments", stream: serverFrame(false, opText, []byte("abc")), wantErr: io.ErrUnexpectedEOF},
	}
	type split struct {
		name string
		make func(stream []byte) (io.Reader, []byte)
	}
	splits := []split{
		{"whole", func(s []byte) (io.Reader, []byte) { return bytes.NewReader(s), nil }},
		{"byte by byte", func(s []byte) (io.Reader, []byte) { return iotest.OneByteReader(bytes.NewReader(s)), nil }},
		{"half pending", func(s []byte) (io.Reader, []byte) { return bytes.NewReader(s[len(s)/2:]), s[:len(s)/2] }},
		{"all pending", func(s []byte) (io.Reader, []byte) { return bytes.NewReader(nil), s }},
	}
	for _, tc := range cases {
		for _, sp := range splits {
			t.Run(tc.name+"/"+sp.name, func(t *testing.T) {
				limit := tc.limit
				if limit == 0 {
					limit = 1 << 20
				}
				rd, pending := sp.make(tc.stream)
				msgs, pings, pongs, err := readAllMessages(rd, pending, limit)
				if len(msgs) != len(tc.want) {
					t.Fatalf("read %d messages, want %d", len(msgs), len(tc.want))
				}
				for i := range msgs {
					if msgs[i] != tc.want[i] {
						t.Errorf("message %d = opcode %d, %d bytes; want opcode %d, %d bytes",
							i, msgs[i].op, len(msgs[i].msg), tc.want[i].op, len(tc.want[i].msg))
					}
				}
				if strings.Join(pings, "|") != strings.Join(tc.pings, "|") || len(pings) != len(tc.pings) || pongs != tc.pongs {
					t.Errorf("pings %q, pongs %d; want %q, %d", pings, pongs, tc.pings, tc.pongs)
				}
				if want, ok := tc.wantErr.(*websocket.CloseError); ok {
					var ce *websocket.CloseError
					if !errors.As(err, &ce) || *ce != *want {
						t.Errorf("error = %v, want close error %v", err, want)
					}
					return
				}
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("error = %v, want %v", err, tc.wantErr)
				}
			})
		}
	}
}

// The read limit error names the size and the limit.
func TestFrameReaderLimitMessage(t *testing.T) {
	_, _, _, err := readAllMessages(bytes.NewReader(serverFrame(true, opText, make([]byte, 5000))), nil, 4096)
	if !errors.Is(err, websocket.ErrReadLimit) || !strings.Contains(err.Error(), "5000") || !strings.Contains(err.Error(), "4096") {
		t.Errorf("error = %v, want ErrReadLimit naming 5000 and 4096", err)
	}
}

// refMessages parses a stream the plain way, one rule at a time, for the
// fuzz test to compare against: the messages, and whether the stream ended
// cleanly (EOF between messages).
func refMessages(s []byte, limit uint64) (msgs []readResult, clean bool) {
	var cur []byte
	var op byte
	for {
		if len(s) == 0 {
			return msgs, op == 0
		}
		if len(s) < 2 {
			return msgs, false
		}
		fin, fop, rsv, masked := s[0]&0x80 != 0, s[0]&0x0F, s[0]&0x70, s[1]&0x80 != 0
		n, h := uint64(s[1]&0x7F), 2
		if n == 126 {
			if len(s) < 4 {
				return msgs, false
			}
			n, h = uint64(binary.BigEndian.Uint16(s[2:])), 4
		} else if n == 127 {
			if len(s) < 10 {
				return msgs, false
			}
			n, h = binary.BigEndian.Uint64(s[2:]), 10
		}
		if rsv != 0 || masked || n >= 1<<63 {
			return msgs, false
		}
		s = s[h:]
		control := fop >= 8
		switch {
		case control && (fop > opPong || !fin || n > 125):
			return msgs, false
		case !control && fop > opBinary:
			return msgs, false
		case fop == opContinuation && op == 0, (fop == opText || fop == opBinary) && op != 0:
			return msgs, false
		}
		if n > uint64(len(s)) {
			return msgs, false
		}
		payload := s[:n]
		s = s[n:]
		if control {
			if fop == opClose {
				return msgs, false
			}
			continue
		}
		if fop != opContinuation {
			op = fop
		}
		if uint64(len(cur))+n > limit {
			return msgs, false
		}
		cur = append(cur, payload...)
		if fin {
			msgs = append(msgs, readResult{op, string(cur)})
			cur, op = nil, 0
		}
	}
}

// Whatever the server sends, the reader neither panics nor returns a
// message the plain parser does not, nor one over the limit.
func FuzzFrameReader(f *testing.F) {
	f.Add(serverFrame(true, opText, []byte("hi")), uint16(0))
	f.Add(cat(serverFrame(false, opText, []byte("a")), serverFrame(true, opPing, []byte("p")),
		serverFrame(true, opContinuation, []byte("b"))), uint16(1))
	f.Add(serverFrame(true, opText, make([]byte, 300)), uint16(5))
	f.Add(serverFrame(true, opClose, closePayload(1000, "bye")), uint16(0))
	f.Add(rawFrame(true, opText, 0, 1<<40, nil, nil), uint16(2))
	f.Fuzz(func(t *testing.T, stream []byte, split uint16) {
		const limit = 1024
		at := int(split) % (len(stream) + 1)
		msgs, _, _, err := readAllMessages(iotest.HalfReader(bytes.NewReader(stream[at:])), stream[:at], limit)
		if err == nil {
			t.Fatal("readMessage returned no error at the end of the stream")
		}
		want, clean := refMessages(stream, limit)
		if len(msgs) != len(want) {
			t.Fatalf("read %d messages, the plain parser %d (err %v)", len(msgs), len(want), err)
		}
		for i := range msgs {
			if msgs[i] != want[i] {
				t.Fatalf("message %d = %q, the plain parser %q", i, msgs[i].msg, want[i].msg)
			}
		}
		if clean != (err == io.EOF) {
			t.Fatalf("error %v; the plain parser says the stream ended cleanly: %v", err, clean)
		}
	})
}

// Reading a message into a buffer that fits allocates nothing.
func TestFrameReaderZeroAlloc(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	one := cat(serverFrame(false, opText, make([]byte, 3000)), serverFrame(true, opPing, []byte("x")),
		serverFrame(true, opContinuation, make([]byte, 3000)))
	src := &loopReader{b: one}
	f := newFrameReader(src, nil, 1<<20)
	buf := make([]byte, 0, 8000)
	allocs := testing.AllocsPerRun(500, func() {
		_, msg, err := f.readMessage(buf)
		if err != nil || len(msg) != 6000 {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Errorf("readMessage allocs = %v, want 0", allocs)
	}
}

// loopReader repeats b forever, in reads of at most 4000 bytes.
type loopReader struct {
	b   []byte
	off int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p[:min(len(p), 4000)], l.b[l.off:])
	l.off = (l.off + n) % len(l.b)
	return n, nil
}
