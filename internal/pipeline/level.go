package pipeline

import (
	"math"
	"sync/atomic"
)

// LevelRate is how many level readings a second the meter makes: enough for a needle
// to move with speech, few enough to cost nothing to send.
const LevelRate = 8

// levelFloor is the reading of digital silence, in dBFS.
const levelFloor = -96.0

// Level is the microphone's level for a meter (the web page's). The capture loop adds
// every period, after the gain, while someone watches (SetActive); it sums squares
// into a window of 1/LevelRate s and, at the window's end, stores the window's RMS in
// dBFS. Nothing allocates and nothing blocks: the reader polls.
type Level struct {
	active atomic.Bool
	// Owned by the capture goroutine.
	sumSq  uint64
	n      int
	window int // samples per reading at the device rate; 0 until the first add

	last atomic.Uint64 // math.Float64bits of the last reading
	seq  atomic.Uint64 // readings made, ever
}

// SetActive turns the meter on or off; off, the capture loop skips it.
func (l *Level) SetActive(on bool) { l.active.Store(on) }

// Read returns the last reading in dBFS and how many readings were made so far (a
// reader that sees the same count again has nothing new).
func (l *Level) Read() (dbfs float64, seq uint64) {
	return math.Float64frombits(l.last.Load()), l.seq.Load()
}

// add takes a period of mono samples at rate; the capture goroutine calls it.
func (l *Level) add(s []int16, rate int) {
	if !l.active.Load() {
		l.n, l.sumSq = 0, 0
		return
	}
	if l.window == 0 {
		l.window = max(rate/LevelRate, 1)
	}
	for _, v := range s {
		x := int64(v)
		l.sumSq += uint64(x * x)
		l.n++
		if l.n == l.window {
			ms := float64(l.sumSq) / float64(l.n)
			db := levelFloor
			if ms > 0 {
				// 10·log10(mean square / full scale²): a full-scale square wave reads 0.
				db = max(10*math.Log10(ms/(32768.0*32768.0)), levelFloor)
			}
			l.last.Store(math.Float64bits(db))
			l.seq.Add(1)
			l.n, l.sumSq = 0, 0
		}
	}
}
