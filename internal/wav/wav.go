package wav

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Header describes the PCM data of a WAVE file.
type Header struct {
	Channels   int
	Rate       int // frames per second
	Bits       int // valid bits per sample
	Container  int // bytes per sample in the data (Bits rounded up, or more)
	DataFrames int // frames in the data chunk; -1 when unknown (streamed file)
}

// FrameBytes is the size of one interleaved frame in bytes.
func (h Header) FrameBytes() int { return h.Channels * h.Container }

// Validate reports the first thing wrong with h.
func (h Header) Validate() error {
	switch {
	case h.Channels < 1 || h.Channels > 32:
		return fmt.Errorf("wav: %d channels, want 1..32", h.Channels)
	case h.Rate < 1 || h.Rate > 1_000_000:
		return fmt.Errorf("wav: rate %d, want 1..1000000", h.Rate)
	case h.Container < 1 || h.Container > 4:
		return fmt.Errorf("wav: %d-byte samples, want 1..4", h.Container)
	case h.Bits < 8 || h.Bits > 8*h.Container:
		return fmt.Errorf("wav: %d valid bits in %d-byte samples", h.Bits, h.Container)
	}
	return nil
}

const (
	formatPCM        = 1
	formatExtensible = 0xFFFE
	maxChunkSkip     = 1 << 30
)

// ErrFormat marks a file that is not a WAVE file voiced can read.
var ErrFormat = errors.New("wav: unsupported file")

// pcmGUIDTail is the KSDATAFORMAT_SUBTYPE_PCM GUID after its first two bytes (the format tag).
var pcmGUIDTail = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// Reader reads the sample data of a WAVE file.
type Reader struct {
	r      io.Reader
	h      Header
	remain int64 // bytes left in the data chunk; -1 means until EOF
}

// NewReader parses the header of a WAVE file and positions r at the first sample.
func NewReader(r io.Reader) (*Reader, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("wav: read RIFF header: %w", eofIsFormat(err))
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE signature", ErrFormat)
	}
	var h Header
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fmt.Errorf("wav: read chunk header: %w", eofIsFormat(err))
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes", ErrFormat, size)
			}
			buf := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, fmt.Errorf("wav: read fmt chunk: %w", eofIsFormat(err))
			}
			var err error
			if h, err = parseFmt(buf[:size]); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrFormat)
			}
			rd := &Reader{r: r, h: h, remain: size}
			if size == 0 || size == 0xFFFFFFFF {
				rd.remain = -1
				rd.h.DataFrames = -1
			} else {
				rd.h.DataFrames = int(size / int64(h.FrameBytes()))
			}
			return rd, nil
		default:
			if size > maxChunkSkip {
				return nil, fmt.Errorf("%w: %q chunk of %d bytes", ErrFormat, id, size)
			}
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return nil, fmt.Errorf("wav: skip %q chunk: %w", id, eofIsFormat(err))
			}
		}
	}
}

func eofIsFormat(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated (%v)", ErrFormat, err)
	}
	return err
}

func parseFmt(b []byte) (Header, error) {
	le := binary.LittleEndian
	tag := le.Uint16(b[0:2])
	h := Header{
		Channels: int(le.Uint16(b[2:4])),
		Rate:     int(le.Uint32(b[4:8])),
		Bits:     int(le.Uint16(b[14:16])),
	}
	align := int(le.Uint16(b[12:14]))
	switch tag {
	case formatPCM:
	case formatExtensible:
		if len(b) < 40 {
			return h, fmt.Errorf("%w: extensible fmt chunk of %d bytes", ErrFormat, len(b))
		}
		if valid := int(le.Uint16(b[18:20])); valid != 0 {
			if valid > h.Bits {
				return h, fmt.Errorf("%w: %d valid bits in %d-bit samples", ErrFormat, valid, h.Bits)
			}
			h.Bits = valid
		}
		if le.Uint16(b[24:26]) != formatPCM || [14]byte(b[26:40]) != pcmGUIDTail {
			return h, fmt.Errorf("%w: extensible sub-format is not integer PCM", ErrFormat)
		}
	default:
		return h, fmt.Errorf("%w: format tag 0x%04x, want integer PCM", ErrFormat, tag)
	}
	if h.Channels < 1 || align%h.Channels != 0 {
		return h, fmt.Errorf("%w: block align %d for %d channels", ErrFormat, align, h.Channels)
	}
	h.Container = align / h.Channels
	if err := h.Validate(); err != nil {
		return h, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return h, nil
}

// Header returns what the file's fmt chunk says.
func (r *Reader) Header() Header { return r.h }

// Read reads sample bytes. At the end of the data chunk it returns io.EOF; a trailing
// partial frame is returned as is.
func (r *Reader) Read(p []byte) (int, error) {
	if r.remain == 0 {
		return 0, io.EOF
	}
	if r.remain > 0 && int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	n, err := r.r.Read(p)
	if r.remain > 0 {
		r.remain -= int64(n)
		if r.remain == 0 && err == nil {
			err = io.EOF
		}
	}
	if err == io.EOF && r.remain > 0 {
		// The file ends before its data chunk says: keep what is there.
		r.remain = 0
	}
	return n, err
}

// Writer writes a WAVE file. Close writes the final sizes when the destination can seek.
type Writer struct {
	w       io.Writer
	h       Header
	written int64
	closed  bool
}

// headerBytes is the size of what NewWriter writes before the first sample.
const headerBytes = 68

// NewWriter writes a WAVE header for h to w. Samples wider than 16 bits, or with fewer
// valid bits than their container, or with more than two channels, use WAVE_FORMAT_EXTENSIBLE.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	h.DataFrames = -1
	wr := &Writer{w: w, h: h}
	if _, err := w.Write(wr.header(0xFFFFFFFF)); err != nil {
		return nil, fmt.Errorf("wav: write header: %w", err)
	}
	return wr, nil
}

// header builds the 68-byte header: RIFF, an extensible fmt chunk (40 bytes) and the data
// chunk header. The fixed size keeps Close's patching simple. dataBytes 0xFFFFFFFF marks
// a length not known yet.
func (w *Writer) header(dataBytes uint32) []byte {
	le := binary.LittleEndian
	b := make([]byte, headerBytes)
	copy(b[0:], "RIFF")
	riff := uint32(0xFFFFFFFF) // unknown length, as streaming writers mark it
	if dataBytes != 0xFFFFFFFF {
		riff = dataBytes + dataBytes&1 + headerBytes - 8
	}
	le.PutUint32(b[4:], riff)
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 40)
	le.PutUint16(b[20:], formatExtensible)
	le.PutUint16(b[22:], uint16(w.h.Channels))
	le.PutUint32(b[24:], uint32(w.h.Rate))
	le.PutUint32(b[28:], uint32(w.h.Rate*w.h.FrameBytes()))
	le.PutUint16(b[32:], uint16(w.h.FrameBytes()))
	le.PutUint16(b[34:], uint16(8*w.h.Container))
	le.PutUint16(b[36:], 22)
	le.PutUint16(b[38:], uint16(w.h.Bits))
	le.PutUint32(b[40:], 0) // channel mask: unspecified
	le.PutUint16(b[44:], formatPCM)
	copy(b[46:60], pcmGUIDTail[:])
	copy(b[60:], "data")
	le.PutUint32(b[64:], dataBytes)
	return b
}

// Write appends sample bytes.
func (w *Writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errors.New("wav: write after close")
	}
	n, err := w.w.Write(p)
	w.written += int64(n)
	return n, err
}

// Frames is the number of whole frames written so far.
func (w *Writer) Frames() int { return int(w.written / int64(w.h.FrameBytes())) }

// Close pads the data chunk to an even length and, if the destination is an
// io.WriteSeeker, rewrites the header with the real sizes. It does not close the destination.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.written&1 == 1 {
		if _, err := w.w.Write([]byte{0}); err != nil {
			return fmt.Errorf("wav: pad data chunk: %w", err)
		}
	}
	ws, ok := w.w.(io.WriteSeeker)
	if !ok {
		return nil
	}
	if w.written > 0xFFFFFFFF-headerBytes {
		return fmt.Errorf("wav: %d bytes of data do not fit a WAVE file", w.written)
	}
	end, err := ws.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("wav: seek: %w", err)
	}
	if _, err := ws.Seek(end-w.written-int64(w.written&1)-headerBytes, io.SeekStart); err != nil {
		return fmt.Errorf("wav: seek to header: %w", err)
	}
	if _, err := ws.Write(w.header(uint32(w.written))); err != nil {
		return fmt.Errorf("wav: rewrite header: %w", err)
	}
	if _, err := ws.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("wav: seek to end: %w", err)
	}
	return nil
}

// ReadMono16 reads a whole 16-bit PCM file, averaging its channels to mono, for test
// fixtures, evaluation sets and reply files. h keeps the file's own channel count.
func ReadMono16(r io.Reader) (pcm []int16, h Header, err error) {
	wr, err := NewReader(r)
	if err != nil {
		return nil, Header{}, err
	}
	h = wr.Header()
	if h.Bits != 16 || h.Container != 2 {
		return nil, h, fmt.Errorf("%w: %d-bit samples; want 16-bit PCM", ErrFormat, h.Bits)
	}
	b, err := io.ReadAll(wr)
	if err != nil {
		return nil, h, fmt.Errorf("read data: %w", err)
	}
	ch := h.Channels
	pcm = make([]int16, len(b)/2/ch)
	for i := range pcm {
		sum := 0
		for c := range ch {
			sum += int(int16(binary.LittleEndian.Uint16(b[2*(i*ch+c):])))
		}
		pcm[i] = int16(sum / ch)
	}
	return pcm, h, nil
}
