package daemon

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/alsa"
)

// quietAfterEOF makes a file: microphone behave like a real one in a quiet room once
// the file ends: silence, one period per read, at the device's pace. Without it the
// capture loop would stop at the end of the question, before the turn could end.
type quietAfterEOF struct {
	pcm      *alsa.PCM
	period   int // frames per read
	frameLen int // bytes per frame
	rate     int
	paced    bool

	eof  bool
	next time.Time

	once sync.Once
	stop chan struct{} // closed by Close
}

func newQuietAfterEOF(p *alsa.PCM, paced bool) *quietAfterEOF {
	par := p.Params()
	return &quietAfterEOF{pcm: p, period: par.PeriodFrames, frameLen: par.FrameBytes(), rate: par.Rate, paced: paced, stop: make(chan struct{})}
}

func (q *quietAfterEOF) ReadFrames(buf []byte) (int, error) {
	if !q.eof {
		n, err := q.pcm.ReadFrames(buf)
		if !errors.Is(err, io.EOF) {
			return n, err
		}
		q.eof, q.next = true, time.Now()
	}
	frames := min(len(buf)/q.frameLen, q.period)
	clear(buf[:frames*q.frameLen])
	if q.paced {
		q.next = q.next.Add(time.Duration(frames) * time.Second / time.Duration(q.rate))
		if d := time.Until(q.next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-q.stop:
				t.Stop()
				return 0, alsa.ErrClosed
			}
		}
	} else {
		select {
		case <-q.stop:
			return 0, alsa.ErrClosed
		default:
		}
	}
	return frames, nil
}

func (q *quietAfterEOF) Close() error {
	q.once.Do(func() { close(q.stop) })
	return q.pcm.Close()
}
