package realtime

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/voiced-project/voiced/internal/race"
)

// readFrame parses one client frame the simple way, as a server would.
func readFrame(t *testing.T, b []byte) (fin bool, op byte, payload []byte) {
	t.Helper()
	fin, op = b[0]&0x80 != 0, b[0]&0x0F
	if b[1]&0x80 == 0 {
		t.Fatal("client frame not masked")
	}
	n, i := int(b[1]&0x7F), 2
	switch n {
	case 126:
		n, i = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		n, i = int(binary.BigEndian.Uint64(b[2:])), 10
	}
	key := b[i : i+4]
	i += 4
	if len(b)-i != n {
		t.Fatalf("frame says %d payload bytes, has %d", n, len(b)-i)
	}
	payload = make([]byte, n)
	for j := range payload {
		payload[j] = b[i+j] ^ key[j%4]
	}
	return fin, op, payload
}

func TestFrameWriter(t *testing.T) {
	var f frameWriter
	for _, n := range []int{0, 1, 7, 125, 126, 1000, 65535, 65536, 200000} {
		payload := []byte(strings.Repeat("ab3", n)[:n])
		var out bytes.Buffer
		if err := f.writeText(&out, payload); err != nil {
			t.Fatal(err)
		}
		fin, op, got := readFrame(t, out.Bytes())
		if !fin || op != 1 || !bytes.Equal(got, payload) {
			t.Errorf("%d bytes: fin %v op %d, payload equal %v", n, fin, op, bytes.Equal(got, payload))
		}
	}
}

func TestFrameWriterAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts differ under -race")
	}
	var f frameWriter
	payload := bytes.Repeat([]byte("x"), 2600) // 40 ms of audio as base64 JSON
	f.writeText(discard{}, payload)
	if n := testing.AllocsPerRun(100, func() { f.writeText(discard{}, payload) }); n != 0 {
		t.Errorf("writeText allocates %v times per frame, want 0", n)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
