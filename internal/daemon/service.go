package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/voiced-project/voiced/internal/backend"
	"github.com/voiced-project/voiced/internal/backend/estuary"
	"github.com/voiced-project/voiced/internal/backend/selam"
	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/ratelog"
)

// isSocketIO reports whether profile names a Socket.IO voice-agent service
// rather than a server of the Realtime protocol.
func isSocketIO(profile string) bool { return profile == "estuary" || profile == "selam" }

// service is a backend.Backend (Estuary, Selam) as the engine and the
// runtime use it. The engine speaks the Realtime client's verbs; service maps
// them onto the Backend's:
//
//	ClearAudio (a turn opens)     StartTurn
//	CommitAudio                   EndTurn (which also asks for the reply)
//	CreateResponse                nothing
//	CancelResponse, TruncateItem  Interrupt, once per reply
//
// and its events onto engine.RealtimeEvent (see translateBackend). Item and
// response IDs are both the backend's reply ID.
type service struct {
	b   backend.Backend
	log *slog.Logger
	// forward are the /v1/control actions the service carries out itself
	// beside the engine's own (Selam's control events).
	forward map[engine.Action]backend.Action
	// held: the service closed the session and the client waits for a user
	// turn to open a new one (Estuary's session_timeout, session_rejected).
	held atomic.Bool

	mu        sync.Mutex // guards following fields
	reply     string     // reply under way, "" between replies
	cut       string     // reply already interrupted
	heard     string     // reply whose audio reached the player last
	started   string     // reply last reported to the engine as created
	announced string     // reply whose first audio was reported to the engine
	reconnect uint64
}

// backendStatus is what /v1/status says of the service in use.
func backendStatus(r config.Realtime) map[string]string {
	switch r.Profile {
	case "estuary":
		return map[string]string{"profile": r.Profile, "url": ratelog.Clip(r.Estuary.ServerURL, maxURLInStatus), "character_id": r.Estuary.CharacterID, "player_id": r.Estuary.PlayerID}
	case "selam":
		return map[string]string{"profile": r.Profile, "url": ratelog.Clip(r.Selam.ServerURL, maxURLInStatus), "voice": r.Selam.Voice, "language": r.Selam.Language}
	}
	return map[string]string{"profile": r.Profile, "url": ratelog.Clip(r.URL, maxURLInStatus), "model": r.Model}
}

// newService builds the client of profile from the config. sink gets reply
// audio on the client's reader goroutine.
func newService(c config.Config, s config.Secrets, sink backend.AudioSink, log *slog.Logger) (*service, error) {
	r := c.Realtime
	svc := &service{log: log}
	var err error
	switch r.Profile {
	case "estuary":
		svc.b, err = estuary.New(estuary.Options{
			URL:         r.Estuary.ServerURL,
			APIKey:      s.APIKey,
			CharacterID: r.Estuary.CharacterID,
			PlayerID:    r.Estuary.PlayerID,
			OutputRate:  r.OutputRate,
			PushToTalk:  c.Mode == "push_to_talk",
			Audio:       sink,
			Logger:      log,
		})
		// Estuary's start_voice/stop_voice and client_interrupt already follow the
		// engine's turns; pause and resume are not in its protocol.
	case "selam":
		svc.b, err = selam.New(selam.Options{
			URL:                r.Selam.ServerURL,
			APIKey:             s.APIKey,
			Voice:              r.Selam.Voice,
			Language:           r.Selam.Language,
			Instructions:       r.Instructions,
			VADThreshold:       r.Selam.VADThreshold,
			InterruptThreshold: r.Selam.InterruptThreshold,
			PCMRate:            r.OutputRate,
			Audio:              sink,
			Logger:             log,
		})
		// Interrupt goes through the engine's barge-in (Backend.Interrupt); the
		// others are the service's own switches, acknowledged by control_ack.
		svc.forward = map[engine.Action]backend.Action{
			engine.ActionStartListening: backend.ActionStartListening,
			engine.ActionStopListening:  backend.ActionStopListening,
			engine.ActionPause:          backend.ActionPause,
			engine.ActionResume:         backend.ActionResume,
		}
	default:
		return nil, fmt.Errorf("realtime.profile: %q is not a Socket.IO service", r.Profile)
	}
	if err != nil {
		return nil, fmt.Errorf("realtime.profile %s: %w", r.Profile, err)
	}
	return svc, nil
}

// ClearAudio opens a user turn.
func (s *service) ClearAudio() error { return s.b.StartTurn() }

// CommitAudio ends the user turn; the backend asks for the reply itself.
func (s *service) CommitAudio() error { return s.b.EndTurn() }

// CreateResponse does nothing: EndTurn asked for the reply.
func (s *service) CreateResponse() error { return nil }

// CancelResponse stops the reply under way.
func (s *service) CancelResponse() error {
	s.mu.Lock()
	id := s.reply
	s.mu.Unlock()
	return s.interrupt(id, -1)
}

// TruncateItem is barge-in on a reply that is playing: the service hears of
// it once, whether or not it has finished sending the reply.
func (s *service) TruncateItem(itemID string, _, audioEndMs int) error {
	return s.interrupt(itemID, audioEndMs)
}

func (s *service) interrupt(id string, heardMs int) error {
	s.mu.Lock()
	if id != "" && id == s.cut {
		s.mu.Unlock()
		return nil
	}
	s.cut = id
	s.mu.Unlock()
	return s.b.Interrupt(id, heardMs)
}

// control forwards an action the engine accepted, where the service has it.
func (s *service) control(a engine.Action) error {
	ba, ok := s.forward[a]
	if !ok {
		return nil
	}
	err := s.b.Control(ba)
	if errors.Is(err, backend.ErrUnsupported) {
		return nil
	}
	return err
}

// heardReply notes the reply whose audio the player got last, and reports
// whether the engine should now hear that its audio started. Audio comes on
// the reader goroutine and the reply's start through Events, so either may
// reach the engine first; the audio start is reported once, after the start
// of its reply.
func (s *service) heardReply(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heard = id
	return s.announceLocked()
}

// replyStarted notes that the engine was told reply id began, and reports
// whether its audio start is now due.
func (s *service) replyStarted(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = id
	return s.announceLocked()
}

func (s *service) announceLocked() bool {
	if s.heard == "" || s.heard != s.started || s.announced == s.heard {
		return false
	}
	s.announced = s.heard
	return true
}

// played says the speaker has played the last reply to its end.
func (s *service) played() {
	s.mu.Lock()
	id := s.heard
	s.mu.Unlock()
	if id == "" {
		return
	}
	if err := s.b.PlaybackDone(id); err != nil && !errors.Is(err, backend.ErrNotConnected) {
		s.log.Warn("playback-complete notice not sent", "reply", id, "err", err)
	}
}

// dropped is how many appends the service's socket refused.
func (s *service) dropped() uint64 {
	if d, ok := s.b.(interface{ Dropped() uint64 }); ok {
		return d.Dropped()
	}
	return 0
}

// note keeps the reply bookkeeping the mapping needs.
func (s *service) note(ev backend.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev.Kind {
	case backend.ReplyStarted:
		s.reply = ev.ReplyID
	case backend.ReplyDone, backend.Interrupted:
		if ev.ReplyID == "" || ev.ReplyID == s.reply {
			s.reply = ""
		}
	case backend.Disconnected:
		s.reply = ""
		s.reconnect++
	case backend.Fatal:
		s.reply = ""
		// Not the key: a session closed for idleness or a limit, reopened by the
		// next user turn, which the engine cannot start while the link is down.
		k := backend.KindOf(ev.Err)
		s.held.Store(ev.RetryIn == 0 && (k == backend.KindTimeout || k == backend.KindSession))
	case backend.Connected:
		s.held.Store(false)
	}
}

// wake is a sign of a user turn (a press, start_listening, speech): a session
// the service closed is opened again. It does not block or allocate (it runs
// on the capture goroutine too).
func (s *service) wake() {
	if s.held.Load() {
		s.b.StartTurn() // while not connected: redials, and says so
	}
}

// errorCode names an ErrorKind in RealtimeError.Code (and last_error).
func errorCode(k backend.ErrorKind) string {
	return [...]string{
		backend.KindOther: "service_error", backend.KindAuth: "authentication_error",
		backend.KindPermission: "permission_error", backend.KindQuota: "quota_exceeded",
		backend.KindInvalid: "invalid_request", backend.KindSession: "session_error",
		backend.KindAudio: "audio_error", backend.KindTimeout: "session_timeout",
	}[min(max(int(k), 0), int(backend.KindTimeout))]
}

// translateBackend maps a backend event onto the engine's vocabulary: up to
// two events (a reply's end is the end of its audio, then of the response).
func translateBackend(ev backend.Event) (out [2]engine.RealtimeEvent, n int) {
	role := engine.RoleUser
	if ev.Role == backend.Assistant {
		role = engine.RoleAssistant
	}
	one := func(e engine.RealtimeEvent) ([2]engine.RealtimeEvent, int) {
		return [2]engine.RealtimeEvent{e}, 1
	}
	switch ev.Kind {
	case backend.Connecting:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeConnecting})
	case backend.Connected:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeConnected, SessionID: ev.SessionID})
	case backend.Disconnected:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeDisconnected, Err: ev.Err})
	case backend.Fatal:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeFatal, Err: ev.Err})
	case backend.SpeechStarted:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeSpeechStarted})
	case backend.SpeechStopped:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeSpeechStopped})
	case backend.Committed:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeCommitted})
	case backend.Transcript:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeTranscript, Role: role, Text: ev.Text, Final: ev.Final, ItemID: ev.ReplyID, ResponseID: ev.ReplyID})
	case backend.ReplyStarted:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeResponseCreated, ResponseID: ev.ReplyID})
	case backend.ReplyDone:
		return [2]engine.RealtimeEvent{
			{Kind: engine.RealtimeAudioDone, ItemID: ev.ReplyID, ResponseID: ev.ReplyID},
			{Kind: engine.RealtimeResponseDone, ResponseID: ev.ReplyID, Status: "completed"},
		}, 2
	case backend.Interrupted:
		return one(engine.RealtimeEvent{Kind: engine.RealtimeResponseDone, ResponseID: ev.ReplyID, Status: "cancelled"})
	case backend.Error:
		msg := "unknown"
		if ev.Err != nil {
			msg = ev.Err.Error()
		}
		return one(engine.RealtimeEvent{Kind: engine.RealtimeError, Code: errorCode(backend.KindOf(ev.Err)), Message: msg})
	}
	return out, 0
}

// forwardService is forwardRealtime for a Socket.IO service.
func (rt *runtime) forwardService(ctx context.Context) error {
	evs := rt.svc.b.Events()
	lost := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-evs:
			if !ok {
				return nil
			}
			rt.svc.note(ev)
			rt.noteService(ev)
			switch ev.Kind {
			case backend.Disconnected:
				lost = true
			case backend.Connected:
				lost = false
			case backend.Connecting:
				if lost {
					rt.uplink.SetHold(true)
					continue // the LED keeps saying DISCONNECTED until a session is back
				}
			}
			switch ev.Kind {
			case backend.Connecting, backend.Disconnected, backend.Fatal:
				rt.uplink.SetHold(true)
			case backend.Connected:
				rt.uplink.SetHold(false)
			}
			out, n := translateBackend(ev)
			for _, pe := range out[:n] {
				rt.engine.HandleRealtime(pe)
			}
			if ev.Kind == backend.ReplyStarted && rt.svc.replyStarted(ev.ReplyID) {
				rt.engine.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: ev.ReplyID})
			}
		}
	}
}

// noteService logs and counts what the engine does not see.
func (rt *runtime) noteService(ev backend.Event) {
	log := rt.rlog
	switch ev.Kind {
	case backend.Connected:
		log.Info("connected", "service", rt.cfg.Realtime.Profile, "session", ev.SessionID)
	case backend.Disconnected:
		rt.d.metrics.disconnects.Inc()
		rt.noteConnError(ev.Err)
		log.Warn("connection lost; reconnecting", "err", ev.Err, "retry_in", ev.RetryIn)
	case backend.Fatal:
		rt.noteConnError(ev.Err)
		log.Error("the service refused voiced; not retrying soon", "err", ev.Err, "retry_in", ev.RetryIn)
	case backend.Error:
		log.Warn("service error", "kind", errorCode(backend.KindOf(ev.Err)), "err", ev.Err)
	case backend.ControlAck:
		log.Info("control acknowledged", "action", string(ev.Action))
	}
}

// rateSink hands reply audio to the player at its input rate, converting
// chunks that come at another: the services say the rate with each chunk.
// It runs on the backend's reader goroutine only; it allocates when the
// rate changes or a chunk is longer than any before, not per chunk.
type rateSink struct {
	rate  int // the player's input rate
	write func(replyID string, pcm []int16)
	log   *slog.Logger

	res *dsp.Resampler
	out []int16
	bad int // a rate last refused, so it is logged once
}

func (k *rateSink) sink(replyID string, pcm []int16, rate int) {
	if rate == k.rate || rate == 0 {
		k.write(replyID, pcm)
		return
	}
	if k.res == nil || k.res.InRate() != rate {
		r, err := dsp.NewResampler(rate, k.rate)
		if err != nil {
			if k.bad != rate {
				k.bad = rate
				k.log.Warn("reply audio dropped: its rate cannot be played", "rate", rate, "err", err)
			}
			return
		}
		k.res = r
	}
	if need := k.res.MaxOutput(len(pcm)) + 1; cap(k.out) < need {
		k.out = make([]int16, need)
	}
	out := k.out[:cap(k.out)]
	made := 0
	for len(pcm) > 0 {
		used, n := k.res.Process(pcm, out[made:])
		pcm, made = pcm[used:], made+n
		if used == 0 && n == 0 {
			break
		}
	}
	k.write(replyID, out[:made])
}

// rateUplink resamples captured audio to the service's input rate on the
// uplink goroutine, into a preallocated buffer: no allocation per chunk.
type rateUplink struct {
	b   backend.Backend
	res *dsp.Resampler
	out []int16
}

func newRateUplink(b backend.Backend) (*rateUplink, error) {
	res, err := dsp.NewResampler(pipeline.CaptureRate, b.InputRate())
	if err != nil {
		return nil, fmt.Errorf("uplink to %d Hz: %w", b.InputRate(), err)
	}
	// The largest append the uplink makes is 100 ms.
	return &rateUplink{b: b, res: res, out: make([]int16, res.MaxOutput(pipeline.CaptureRate/10)+1)}, nil
}

// AppendAudio implements the uplink's sink.
func (u *rateUplink) AppendAudio(pcm []int16) error {
	if u.res.InRate() == u.res.OutRate() {
		return u.b.AppendAudio(pcm)
	}
	made := 0
	for len(pcm) > 0 && made < len(u.out) {
		used, n := u.res.Process(pcm, u.out[made:])
		pcm, made = pcm[used:], made+n
		if used == 0 && n == 0 {
			break
		}
	}
	if made == 0 {
		return nil
	}
	return u.b.AppendAudio(u.out[:made])
}
