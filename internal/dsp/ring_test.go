package dsp

import (
	"slices"
	"sync"
	"testing"

	"github.com/voiced-project/voiced/internal/dsp/dsptest"
	"github.com/voiced-project/voiced/internal/race"
)

func TestRingSequential(t *testing.T) {
	type op struct {
		write   []int16 // write these, or read/discard when nil
		read    int     // read up to this many
		discard bool
		want    []int16 // read result, or accepted count as len for writes
		wantN   int
	}
	tests := []struct {
		name        string
		policy      RingPolicy
		ops         []op
		wantDropped uint64
		wantLen     int
	}{
		{
			name:   "fifo with wrap",
			policy: RingOverwrite,
			ops: []op{
				{write: dsptest.Ramp(0, 6), wantN: 6},
				{read: 4, want: dsptest.Ramp(0, 4)},
				{write: dsptest.Ramp(6, 5), wantN: 5}, // wraps around the end
				{read: 10, want: dsptest.Ramp(4, 7)},
				{read: 3, want: []int16{}},
			},
		},
		{
			name:   "overwrite keeps the newest",
			policy: RingOverwrite,
			ops: []op{
				{write: dsptest.Ramp(0, 6), wantN: 6},
				{write: dsptest.Ramp(6, 5), wantN: 5},
				{read: 8, want: dsptest.Ramp(3, 8)},
			},
			wantDropped: 3,
		},
		{
			name:   "overwrite block larger than the ring",
			policy: RingOverwrite,
			ops: []op{
				{write: dsptest.Ramp(0, 3), wantN: 3},
				{write: dsptest.Ramp(3, 20), wantN: 8},
				{read: 9, want: dsptest.Ramp(15, 8)},
			},
			wantDropped: 15,
		},
		{
			name:   "reject keeps the oldest",
			policy: RingReject,
			ops: []op{
				{write: dsptest.Ramp(0, 6), wantN: 6},
				{write: dsptest.Ramp(6, 5), wantN: 2},
				{read: 8, want: dsptest.Ramp(0, 8)},
				{write: dsptest.Ramp(100, 20), wantN: 8},
			},
			wantDropped: 15,
			wantLen:     8,
		},
		{
			name:   "discard",
			policy: RingOverwrite,
			ops: []op{
				{write: dsptest.Ramp(0, 5), wantN: 5},
				{discard: true, wantN: 5},
				{read: 5, want: []int16{}},
				{write: dsptest.Ramp(5, 2), wantN: 2},
			},
			wantLen: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := NewRing(8, tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range tc.ops {
				switch {
				case o.write != nil:
					if n := q.Write(o.write); n != o.wantN {
						t.Fatalf("op %d: Write(%d) = %d, want %d", i, len(o.write), n, o.wantN)
					}
				case o.discard:
					if n := q.Discard(); n != o.wantN {
						t.Fatalf("op %d: Discard = %d, want %d", i, n, o.wantN)
					}
				default:
					buf := make([]int16, o.read)
					n := q.Read(buf)
					if !slices.Equal(buf[:n], o.want) {
						t.Fatalf("op %d: Read = %v, want %v", i, buf[:n], o.want)
					}
				}
			}
			if d := q.Dropped(); d != tc.wantDropped {
				t.Errorf("Dropped = %d, want %d", d, tc.wantDropped)
			}
			if l := q.Len(); l != tc.wantLen {
				t.Errorf("Len = %d, want %d", l, tc.wantLen)
			}
		})
	}
}

func TestRingDiscardTo(t *testing.T) {
	q, err := NewRing(16, RingReject)
	if err != nil {
		t.Fatal(err)
	}
	q.Write(dsptest.Ramp(0, 5))
	pos := q.Written()
	q.Write(dsptest.Ramp(5, 3))
	if n := q.DiscardTo(pos); n != 5 {
		t.Fatalf("DiscardTo(%d) = %d, want 5", pos, n)
	}
	buf := make([]int16, 8)
	if n := q.Read(buf); !slices.Equal(buf[:n], dsptest.Ramp(5, 3)) {
		t.Errorf("Read after DiscardTo = %v, want %v", buf[:n], dsptest.Ramp(5, 3))
	}
	if n := q.DiscardTo(0); n != 0 {
		t.Errorf("DiscardTo(0) after reading = %d, want 0", n)
	}
}

func TestRingReady(t *testing.T) {
	q, err := NewRing(16, RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-q.Ready():
		t.Fatal("Ready fired before any write")
	default:
	}
	q.Write(dsptest.Ramp(0, 2))
	q.Write(dsptest.Ramp(2, 2))
	select {
	case <-q.Ready():
	default:
		t.Fatal("Ready did not fire after a write")
	}
	q.Write(nil)
	select {
	case <-q.Ready():
		t.Fatal("Ready fired for an empty write")
	default:
	}
}

func TestNewRingErrors(t *testing.T) {
	for _, tc := range []struct {
		cap    int
		policy RingPolicy
	}{{0, RingOverwrite}, {-1, RingReject}, {1<<30 + 1, RingOverwrite}, {8, RingPolicy(7)}} {
		if _, err := NewRing(tc.cap, tc.policy); err == nil {
			t.Errorf("NewRing(%d, %d) = nil error, want error", tc.cap, tc.policy)
		}
	}
	q, err := NewRing(1000, RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	if q.Cap() != 1024 {
		t.Errorf("NewRing(1000).Cap() = %d, want 1024", q.Cap())
	}
}

// TestRingConcurrent runs a producer and a consumer flat out (run it with
// -race). Whatever the consumer sees must be an increasing run of the
// producer's sequence with gaps only where samples were dropped, and
// every sample must be either read or counted as dropped.
func TestRingConcurrent(t *testing.T) {
	for _, policy := range []RingPolicy{RingOverwrite, RingReject} {
		t.Run([]string{"overwrite", "reject"}[policy], func(t *testing.T) {
			for range 8 {
				ringConcurrentRound(t, policy)
			}
		})
	}
}

// ringConcurrentRound writes fewer than 2^15 samples, so that even a gap
// across everything is recognisable in 16-bit sample values.
func ringConcurrentRound(t *testing.T, policy RingPolicy) {
	const total = 30000
	q, err := NewRing(256, policy)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	done := make(chan struct{})
	go func() {
		defer wg.Done()
		defer close(done)
		blk := make([]int16, 37)
		for i := 0; i < total; i += len(blk) {
			for j := range blk {
				blk[j] = int16(i + j)
			}
			q.Write(blk[:min(len(blk), total-i)])
		}
	}()
	var read uint64
	last := int16(-1)
	buf := make([]int16, 61)
	ok := true
	check := func(n int) {
		for _, v := range buf[:n] {
			if v <= last {
				ok = false
			}
			last = v
		}
		read += uint64(n)
	}
loop:
	for i := 0; ; i++ {
		select {
		case <-done:
			break loop
		default:
		}
		check(q.Read(buf))
		if i%7 == 0 {
			q.Len() // a third view of the indices, for the race detector
		}
	}
	for n := q.Read(buf); n > 0; n = q.Read(buf) {
		check(n)
	}
	wg.Wait()
	if !ok {
		t.Errorf("consumer saw samples out of order")
	}
	if got := read + q.Dropped(); got != total {
		t.Errorf("read %d + dropped %d = %d, want %d", read, q.Dropped(), got, total)
	}
}

func TestRingAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	q, err := NewRing(4096, RingOverwrite)
	if err != nil {
		t.Fatal(err)
	}
	blk := make([]int16, 240)
	out := make([]int16, 960)
	a := testing.AllocsPerRun(100, func() {
		q.Write(blk)
		q.Read(out)
	})
	if a != 0 {
		t.Errorf("Write+Read allocates %v times, want 0", a)
	}
}

func BenchmarkRing(b *testing.B) {
	q, err := NewRing(4096, RingOverwrite)
	if err != nil {
		b.Fatal(err)
	}
	blk := make([]int16, 240)
	b.SetBytes(int64(2 * len(blk)))
	b.ReportAllocs()
	for b.Loop() {
		q.Write(blk)
		q.Read(blk)
	}
}

func BenchmarkRingConcurrent(b *testing.B) {
	q, err := NewRing(1<<14, RingOverwrite)
	if err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		out := make([]int16, 480)
		for {
			select {
			case <-stop:
				return
			default:
				q.Read(out)
			}
		}
	}()
	blk := make([]int16, 240)
	b.SetBytes(int64(2 * len(blk)))
	b.ReportAllocs()
	for b.Loop() {
		q.Write(blk)
	}
	close(stop)
	wg.Wait()
}
