package realtime

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/voiced-project/voiced/internal/race"
)

// AppendAudio itself, queue and buffer pool included, allocates nothing
// in steady state. The socket writer is replaced by draining the queue.
func TestAppendAudioZeroAlloc(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	c, err := New(Options{URL: "ws://127.0.0.1:1/v1/realtime"})
	if err != nil {
		t.Fatal(err)
	}
	c.connected.Store(true)
	pcm := make([]int16, 480)
	drain := func() {
		m := <-c.sendq
		c.free <- m.audio
	}
	for range 2 * c.opts.AudioSlots { // warm every pooled buffer
		if err := c.AppendAudio(pcm); err != nil {
			t.Fatal(err)
		}
		drain()
	}
	allocs := testing.AllocsPerRun(500, func() {
		if err := c.AppendAudio(pcm); err != nil {
			panic(err)
		}
		drain()
	})
	if allocs != 0 {
		t.Errorf("AppendAudio allocs = %v, want 0", allocs)
	}
}

// AppendAudio drops and counts instead of blocking when the writer is behind.
func TestAppendAudioDropsWhenBehind(t *testing.T) {
	c, err := New(Options{URL: "ws://127.0.0.1:1/v1/realtime", AudioSlots: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AppendAudio(make([]int16, 10)); err != ErrNotConnected {
		t.Errorf("AppendAudio before connecting = %v, want ErrNotConnected", err)
	}
	c.connected.Store(true)
	var ok, dropped int
	for range 10 {
		switch err := c.AppendAudio(make([]int16, 10)); err {
		case nil:
			ok++
		case ErrDropped:
			dropped++
		default:
			t.Fatalf("AppendAudio = %v", err)
		}
	}
	if ok != 4 || dropped != 6 {
		t.Errorf("queued %d, dropped %d; want 4 and 6", ok, dropped)
	}
	if s := c.Stats(); s.AudioDropped != 7 {
		t.Errorf("Stats().AudioDropped = %d, want 7", s.AudioDropped)
	}
	// Control events still fit after audio filled its share.
	if err := c.CommitAudio(); err != nil {
		t.Errorf("CommitAudio with audio backlog = %v, want nil", err)
	}
}

// The reader's audio delta path, sink call included, allocates nothing.
func TestHandleAudioDeltaZeroAlloc(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	var got int
	c, err := New(Options{URL: "ws://127.0.0.1:1/v1/realtime", Audio: func(item string, pcm []int16) { got += len(pcm) }})
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 2*1200)
	for i := range 1200 {
		binary.LittleEndian.PutUint16(raw[2*i:], uint16(i))
	}
	msg := []byte(`{"type":"response.output_audio.delta","event_id":"event_9","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"` +
		base64.StdEncoding.EncodeToString(raw) + `"}`)
	st := &readState{}
	ctx := context.Background()
	if err := c.handle(ctx, msg, st); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(500, func() {
		if err := c.handle(ctx, msg, st); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Errorf("handle(audio delta) allocs = %v, want 0", allocs)
	}
	if got != 501*1200+1200 {
		t.Errorf("sink got %d samples, want %d", got, 502*1200)
	}
}

func TestBackoff(t *testing.T) {
	for _, r := range []float64{0, 0.999} {
		c, _ := New(Options{URL: "ws://x/", BackoffMin: 100e6, BackoffMax: 2e9, Rand: func() float64 { return r }})
		prev := int64(0)
		for a := range 40 {
			d := c.backoff(a)
			if d < 50e6 || d > 2e9 {
				t.Fatalf("backoff(%d) = %v, want within [50ms, 2s]", a, d)
			}
			if int64(d) < prev {
				t.Fatalf("backoff(%d) = %v < backoff(%d), want non-decreasing for fixed jitter", a, d, a-1)
			}
			prev = int64(d)
		}
		if d := c.backoff(39); d < 1e9 {
			t.Errorf("backoff(39) = %v, want the cap's range [1s, 2s]", d)
		}
	}
}

type offsetClock struct{ d time.Duration }

func (o offsetClock) Now() time.Time                         { return time.Now().Add(o.d) }
func (o offsetClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func TestLocalExpiry(t *testing.T) {
	now := time.Now()
	c, _ := New(Options{URL: "ws://x/", Profile: Yandex, Clock: offsetClock{}})
	start := now.Add(-time.Second)
	cases := []struct {
		name      string
		skew      time.Duration
		expiresAt int64
		want      time.Time
	}{
		{"none", 0, 0, time.Time{}},
		{"plain", 0, now.Add(time.Hour).Unix(), time.Unix(now.Add(time.Hour).Unix(), 0)},
		{"server 3 h ahead", 3 * time.Hour, now.Add(3*time.Hour + time.Hour).Unix(), time.Unix(now.Add(4*time.Hour).Unix(), 0).Add(-3 * time.Hour)},
		{"in the past", 0, now.Add(-time.Hour).Unix(), start.Add(5 * time.Minute)},
		{"years away", 0, now.Add(1000 * time.Hour).Unix(), start.Add(5 * time.Minute)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.localExpiry(&readState{skew: tc.skew, start: start}, tc.expiresAt)
			if !got.Equal(tc.want) {
				t.Errorf("localExpiry = %v, want %v", got, tc.want)
			}
		})
	}
}

// Whatever the server sends, the reader neither panics nor ends the
// connection for a malformed message.
func FuzzHandle(f *testing.F) {
	f.Add([]byte(`{"type":"response.output_audio.delta","item_id":"x","delta":"AAAA"}`))
	f.Add([]byte(`{"type":"response.done","response":{"id":"r","status":"completed","output":[{"type":"message","role":"assistant","content":[{"type":"output_audio","transcript":"hi"}]}]}}`))
	f.Add([]byte(`{"type":"response.function_call_arguments.done","response_id":"r","call_id":"c","name":"t","arguments":"{"}`))
	f.Add([]byte(`{"type":"session.created","session":{"id":"s","expires_at":99999999999}}`))
	f.Add([]byte(`{"type":"error","error":{"code":"invalid_value"}}`))
	f.Add([]byte(`{"type":"conversation.item.input_audio_transcription.completed","item_id":"i","transcript":"x"}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		c, err := New(Options{URL: "ws://x/", Audio: func(string, []int16) {}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // emit returns at once
		st := &readState{sessions: make(chan time.Time, 1), start: time.Now()}
		err = c.handle(ctx, msg, st)
		c.toolWG.Wait()
		var fe *FatalError
		if err != nil && err != errRollover && !errors.As(err, &fe) {
			t.Fatalf("handle(%q) = %v: only rollover and fatal errors end a connection", msg, err)
		}
	})
}
