package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/httpapi"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/wav"
)

// Limits of an announcement.
const (
	maxAnnounceText  = 2000     // bytes of text for the model to say
	maxAnnounceAudio = 10 << 20 // bytes of WAV
	maxAnnounceQueue = 8
)

var announceSeq atomic.Uint64

// announcement is one queued announcement: text for the model to say, or audio to
// play as it is (at the reply rate).
type announcement struct {
	id     string
	text   string
	pcm    []int16
	listen bool // start_conversation: a turn opens after it
}

// Announce is POST /v1/announce: it checks a, queues it behind whatever the device
// is saying, and starts it when the conversation is idle.
func (d *Daemon) Announce(_ context.Context, a httpapi.Announcement) (string, error) {
	n := 0
	for _, set := range []bool{a.Text != "", a.WAV != nil, a.URL != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return "", &httpapi.AnnounceError{Msg: "give exactly one of text, wav (base64 WAV) and url (file:PATH)"}
	}
	d.mu.Lock()
	cfg := d.cfg
	d.mu.Unlock()
	an := announcement{id: fmt.Sprintf("announce_%d", announceSeq.Add(1)), text: strings.TrimSpace(a.Text), listen: a.StartConversation}
	switch {
	case a.Text != "":
		if isSocketIO(cfg.Realtime.Profile) {
			return "", &httpapi.AnnounceError{Msg: fmt.Sprintf("realtime.profile %s takes no text to say; give a wav or a url", cfg.Realtime.Profile)}
		}
		if len(an.text) > maxAnnounceText {
			return "", &httpapi.AnnounceError{Msg: fmt.Sprintf("text is %d bytes, at most %d", len(an.text), maxAnnounceText)}
		}
	default:
		b := a.WAV
		if a.URL != "" {
			var err error
			if b, err = readAnnounceFile(a.URL, cfg.Paths.AudioDirs); err != nil {
				return "", &httpapi.AnnounceError{Msg: err.Error()}
			}
		}
		pcm, err := decodeAnnounceWAV(b, cfg.Realtime.OutputRate)
		if err != nil {
			return "", &httpapi.AnnounceError{Msg: err.Error()}
		}
		an.pcm = pcm
	}
	d.mu.Lock()
	if len(d.announceQ) >= maxAnnounceQueue {
		d.mu.Unlock()
		return "", fmt.Errorf("%d announcements wait already", maxAnnounceQueue)
	}
	d.announceQ = append(d.announceQ, an)
	d.mu.Unlock()
	d.hub.publish(httpapi.Event{Type: "announce", Data: map[string]string{"id": an.id, "status": "queued"}})
	d.nextAnnouncement()
	return an.id, nil
}

// nextAnnouncement starts the first queued announcement when the conversation is
// idle (CONNECTED); otherwise the state event that makes it idle calls again.
func (d *Daemon) nextAnnouncement() {
	d.mu.Lock()
	rt := d.rt
	if rt == nil || len(d.announceQ) == 0 || rt.engine.Status().State != engine.StateConnected || rt.announce.id != "" {
		d.mu.Unlock()
		return
	}
	an := d.announceQ[0]
	d.announceQ = d.announceQ[1:]
	a := engine.Announcement{Name: "announcement " + an.id, Listen: an.listen}
	rt.announce = announcing{id: an.id, name: a.Name} // until the engine is done with it
	d.mu.Unlock()
	switch {
	case an.pcm != nil:
		a.LocalItem = engine.LocalItemPrefix + an.id
		a.Send = func() error { rt.playback.WriteItem(a.LocalItem, an.pcm); return nil }
	case rt.client != nil:
		text := an.text
		a.Send = func() error {
			return rt.client.Announce("Say this to the user now, as it is, in the language it is written in, and nothing else: " + text)
		}
	default:
		a.Send = func() error { return errors.New("this backend takes no text to say") }
	}
	// The engine answers at once (or has stopped): it never waits on anyone.
	err := rt.engine.Announce(context.Background(), a)
	var refused *engine.RefusedError
	if errors.As(err, &refused) {
		// The conversation moved on since the check: the announcement waits for the
		// next CONNECTED, first in line.
		d.mu.Lock()
		rt.announce = announcing{}
		d.announceQ = append([]announcement{an}, d.announceQ...)
		d.mu.Unlock()
		return
	}
	status := "started"
	if err != nil {
		status = "failed: " + err.Error()
		d.mu.Lock()
		rt.announce = announcing{}
		d.mu.Unlock()
		d.log.Warn("announcement", "id", an.id, "status", status)
	} else {
		d.log.Info("announcement", "id", an.id, "status", status)
	}
	d.hub.publish(httpapi.Event{Type: "announce", Data: map[string]string{"id": an.id, "status": status}})
	if err != nil {
		d.nextAnnouncement()
	}
}

// announcing is the announcement the engine is busy with.
type announcing struct {
	id, name string // "" when none
	begun    bool   // the engine's state event that starts it was seen
	failed   string // the engine gave up on its reply: why
}

// announceEvent follows the engine through an announcement: the state event that
// starts it (its reason begins with the announcement's name), a reply timeout that
// names it, and the state event that ends it (back to CONNECTED, or a turn, or the
// connection lost). Then the next one may start.
func (d *Daemon) announceEvent(ev engine.Event) {
	d.mu.Lock()
	rt := d.rt
	var ended announcing
	status := ""
	if rt != nil && rt.announce.id != "" {
		a := &rt.announce
		switch {
		case ev.Kind == engine.EventError && ev.Code == "reply_timeout" && strings.HasPrefix(ev.Message, a.name+":"):
			a.failed = ev.Message
		case ev.Kind != engine.EventState:
		case !a.begun:
			// Earlier state events may still be on their way: only the one the
			// announcement caused counts.
			a.begun = ev.Reason == a.name || strings.HasPrefix(ev.Reason, a.name+":")
		case ev.State != engine.StateProcessing && ev.State != engine.StateSpeaking:
			ended = *a
			rt.announce = announcing{}
			switch {
			case ended.failed != "":
				status = "failed: " + ended.failed
			case ev.Reason == "reply played":
				status = "played"
			default:
				status = "stopped: " + ev.Reason
			}
		}
	}
	d.mu.Unlock()
	if ended.id != "" {
		if ended.failed != "" {
			d.log.Warn("announcement", "id", ended.id, "status", status)
		} else {
			d.log.Info("announcement", "id", ended.id, "status", status)
		}
		d.hub.publish(httpapi.Event{Type: "announce", Data: map[string]string{"id": ended.id, "status": status}})
	}
	if ev.Kind == engine.EventState && ev.State == engine.StateConnected {
		d.nextAnnouncement()
	}
}

// readAnnounceFile reads url (file:PATH) if PATH lies under one of dirs.
func readAnnounceFile(url string, dirs []string) ([]byte, error) {
	p, ok := strings.CutPrefix(url, "file:")
	if !ok || !filepath.IsAbs(p) {
		return nil, fmt.Errorf("url %q: want file:/absolute/path.wav", url)
	}
	real, err := filepath.EvalSymlinks(filepath.Clean(p))
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", url, err)
	}
	allowed := false
	for _, d := range dirs {
		if rd, err := filepath.EvalSymlinks(d); err == nil {
			if rel, err := filepath.Rel(rd, real); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				allowed = true
			}
		}
	}
	if !allowed {
		return nil, fmt.Errorf("url %q is not under paths.audio_dirs (%s)", url, strings.Join(dirs, ", "))
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", url, err)
	}
	defer f.Close()
	b := make([]byte, maxAnnounceAudio+1)
	n, err := f.Read(b)
	for err == nil && n < len(b) {
		var m int
		m, err = f.Read(b[n:])
		n += m
	}
	if n > maxAnnounceAudio {
		return nil, fmt.Errorf("url %q: larger than %d bytes", url, maxAnnounceAudio)
	}
	return b[:n], nil
}

// decodeAnnounceWAV reads a 16-bit PCM WAV, mono or not, at the reply rate.
func decodeAnnounceWAV(b []byte, rate int) ([]int16, error) {
	if len(b) > maxAnnounceAudio {
		return nil, fmt.Errorf("wav is larger than %d bytes", maxAnnounceAudio)
	}
	pcm, h, err := wav.ReadMono16(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	if len(pcm) == 0 {
		return nil, errors.New("wav: no audio")
	}
	// The playback ring holds the whole of it: what does not fit would be cut.
	if limit := int64(pipeline.DefaultPlaybackBufferMs) * int64(h.Rate) / 1000; int64(len(pcm)) > limit {
		return nil, fmt.Errorf("wav is %.1f s long, at most %d s", float64(len(pcm))/float64(h.Rate), pipeline.DefaultPlaybackBufferMs/1000)
	}
	if h.Rate == rate {
		return pcm, nil
	}
	rs, err := dsp.NewResampler(h.Rate, rate)
	if err != nil {
		return nil, fmt.Errorf("wav: %d Hz: %w", h.Rate, err)
	}
	out := make([]int16, rs.MaxOutput(len(pcm))+rs.Taps())
	used, made := rs.Process(pcm, out)
	for used < len(pcm) {
		u, m := rs.Process(pcm[used:], out[made:])
		if u == 0 && m == 0 {
			break
		}
		used, made = used+u, made+m
	}
	return out[:made], nil
}
