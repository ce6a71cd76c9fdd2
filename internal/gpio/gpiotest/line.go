package gpiotest

import (
	"errors"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/gpio"
	pgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
)

// Sample is a level driven on a Line and when.
type Sample struct {
	Time  time.Time
	Level pgpio.Level
}

// Line is a fake GPIO line (periph's gpio.PinIO). As an input it plays edges queued
// with Edge: each WaitForEdge takes one and the line then reads its level. As an
// output it records every level written, stamped with the clock's time.
type Line struct {
	name  string
	clock gpio.Clock
	edges chan pgpio.Level
	halt  chan struct{}

	mu      sync.Mutex // guards following fields
	level   pgpio.Level
	pull    pgpio.Pull
	edge    pgpio.Edge
	samples []Sample
	closed  bool
	inErr   error
	outErr  error
}

var _ pgpio.PinIO = (*Line)(nil)

// NewLine returns a line reading level; Out samples are stamped with clock's time.
func NewLine(name string, clock gpio.Clock, level pgpio.Level) *Line {
	return &Line{
		name:  name,
		clock: clock,
		edges: make(chan pgpio.Level, 1024),
		halt:  make(chan struct{}, 1),
		level: level,
	}
}

// Edge queues an edge after which the line reads level.
func (l *Line) Edge(level pgpio.Level) { l.edges <- level }

// Queued returns how many edges WaitForEdge has not taken yet.
func (l *Line) Queued() int { return len(l.edges) }

// FailIn makes In return err (nil clears it); FailOut does the same for Out.
func (l *Line) FailIn(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inErr = err
}

// FailOut makes Out return err (nil clears it).
func (l *Line) FailOut(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outErr = err
}

// Samples returns the levels written so far.
func (l *Line) Samples() []Sample {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Sample(nil), l.samples...)
}

// Level returns the line's level now.
func (l *Line) Level() pgpio.Level {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.level
}

// Closed reports whether Close was called.
func (l *Line) Closed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Config returns the bias and edges last requested with In.
func (l *Line) Config() (pgpio.Pull, pgpio.Edge) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pull, l.edge
}

// Close marks the line released, as periph's GPIOLine.Close does.
func (l *Line) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
}

func (l *Line) String() string   { return l.name }
func (l *Line) Name() string     { return l.name }
func (l *Line) Number() int      { return -1 }
func (l *Line) Function() string { return "" }

// Halt interrupts one WaitForEdge, now or the next one.
func (l *Line) Halt() error {
	select {
	case l.halt <- struct{}{}:
	default:
	}
	return nil
}

// In records the configuration, or fails as FailIn said.
func (l *Line) In(pull pgpio.Pull, edge pgpio.Edge) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inErr != nil {
		return l.inErr
	}
	l.pull, l.edge = pull, edge
	return nil
}

// Read returns the level after the last edge taken (or the last level written).
func (l *Line) Read() pgpio.Level { return l.Level() }

// WaitForEdge takes the next queued edge, waiting up to timeout (real time).
func (l *Line) WaitForEdge(timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case v := <-l.edges:
		l.mu.Lock()
		l.level = v
		l.mu.Unlock()
		return true
	case <-l.halt:
		return false
	case <-t.C:
		return false
	}
}

// Pull returns the bias last requested with In.
func (l *Line) Pull() pgpio.Pull {
	p, _ := l.Config()
	return p
}

// DefaultPull is PullNoChange, as for periph's GPIO character device lines.
func (l *Line) DefaultPull() pgpio.Pull { return pgpio.PullNoChange }

// Out records level with the clock's time, or fails as FailOut said.
func (l *Line) Out(level pgpio.Level) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.outErr != nil {
		return l.outErr
	}
	if l.closed {
		return errors.New("gpiotest: out on closed line " + l.name)
	}
	l.level = level
	l.samples = append(l.samples, Sample{Time: l.clock.Now(), Level: level})
	return nil
}

// PWM is not supported by the fake.
func (l *Line) PWM(pgpio.Duty, physic.Frequency) error {
	return errors.New("gpiotest: no PWM on " + l.name)
}
