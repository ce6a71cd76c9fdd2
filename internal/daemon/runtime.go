package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voiced-project/voiced/internal/alsa"
	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/dsp"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/gpio"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/ratelog"
	"github.com/voiced-project/voiced/internal/realtime"
	"github.com/voiced-project/voiced/internal/vad"
)

var errNoKey = errors.New("no API key: set realtime.api_key_file in /etc/voiced/voiced.yaml (then systemctl reload voiced) or VOICED_API_KEY in /etc/default/voiced (then systemctl restart voiced)")

// micDevice is what the capture loop reads.
type micDevice interface {
	ReadFrames(buf []byte) (int, error)
	Close() error
}

// frameMs is the VAD decision length the endpointer counts in.
const frameMs = 10

// runtime is everything built from one configuration: devices, pipeline, engine and
// connection. It runs until its context ends or a part fails.
type runtime struct {
	cfg     config.Config
	secrets config.Secrets
	d       *Daemon
	log     *slog.Logger
	// rlog logs what the server makes happen, as often as it likes: the
	// realtime client writes to it too, so each kind of line is throttled
	// once for both.
	rlog *slog.Logger

	capDev, playDev *alsa.PCM
	led             *gpio.LED // the daemon's; nil without one
	mic             micDevice // capDev, or capDev made endless for a file
	ring            *dsp.Ring
	vad             voiceDetector
	capture         *pipeline.Capture
	uplink          *pipeline.Uplink
	playback        *pipeline.Playback
	client          *realtime.Client
	engine          *engine.Engine

	mu       sync.Mutex // guards following fields
	lastItem string
	// connErr is why the last connection or attempt ended; the engine only
	// records the end of a session, not attempts that never got one.
	connErr   string
	connErrAt time.Time
}

// openAudio opens both devices; a failure names the device and what to do.
func openAudio(c config.Config, d *Daemon) (capDev, playDev *alsa.PCM, err error) {
	opts := []alsa.Option{alsa.WithLogger(d.log), alsa.WithReopen(500*time.Millisecond, 5*time.Second), alsa.WithFileRealtime(!d.opts.FastFiles)}
	cc := c.Audio.Capture
	capDev, err = alsa.Open(cc.Device, alsa.Capture, alsa.Config{Rate: cc.Rate, Channels: cc.Channels, PeriodMs: cc.PeriodMs, BufferMs: cc.BufferMs}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("microphone (audio.capture.device %s): %w; `voiced devices` lists what there is", cc.Device, err)
	}
	pc := c.Audio.Playback
	playDev, err = alsa.Open(pc.Device, alsa.Playback, alsa.Config{Rate: pc.Rate, Channels: pc.Channels, PeriodMs: pc.PeriodMs, BufferMs: pc.BufferMs}, opts...)
	if err != nil {
		capDev.Close()
		return nil, nil, fmt.Errorf("speaker (audio.playback.device %s): %w; `voiced devices` lists what there is", pc.Device, err)
	}
	return capDev, playDev, nil
}

// PipelineFormat is the pipeline's description of a device (or file) format.
func PipelineFormat(f alsa.Format, channels, rate int) (dsp.Format, error) {
	enc, ok := map[alsa.Format]dsp.Encoding{
		alsa.S16LE: dsp.S16LE, alsa.S24LE: dsp.S24LE, alsa.S24_3LE: dsp.S24_3LE, alsa.S32LE: dsp.S32LE,
	}[f]
	if !ok {
		return dsp.Format{}, fmt.Errorf("sample format %v is not supported", f)
	}
	return dsp.Format{Encoding: enc, Channels: channels, Rate: rate}, nil
}

func pipelineFormat(p alsa.Params) (dsp.Format, error) {
	return PipelineFormat(p.Format, p.Channels, p.Rate)
}

// engineOptions maps the config onto the engine's behaviour.
func engineOptions(c config.Config) (engine.Options, error) {
	mode, err := engine.ParseMode(c.Mode)
	if err != nil {
		return engine.Options{}, err
	}
	te, err := engine.ParseTurnEnd(c.Realtime.TurnDetection.Type)
	if err != nil {
		return engine.Options{}, err
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	return engine.Options{
		Mode:          mode,
		TurnEnd:       te,
		VoiceBargeIn:  c.BargeIn.Voice,
		EchoGuard:     ms(c.BargeIn.EchoGuardMs),
		FollowUp:      ms(c.Turn.FollowUpMs),
		ListenTimeout: ms(c.Turn.ListenTimeoutMs),
		MaxTurn:       ms(c.Turn.MaxTurnMs),
		ReplyTimeout:  ms(c.Turn.ReplyTimeoutMs),
	}, nil
}

// sessionFor is the session voiced asks the server for.
func sessionFor(c config.Config) realtime.Session {
	r := c.Realtime
	s := realtime.Session{
		Model:          r.Model,
		Instructions:   r.Instructions,
		Voice:          r.Voice,
		InputRate:      pipeline.CaptureRate,
		OutputRate:     r.OutputRate,
		NoiseReduction: r.NoiseReduction,
	}
	if s.NoiseReduction == "none" {
		s.NoiseReduction = ""
	}
	if r.Transcription.Enabled {
		s.Transcription = &realtime.Transcription{Model: r.Transcription.Model, Language: r.Language}
	}
	td := r.TurnDetection
	// Push-to-talk and local end of turn: the device commits (turn_detection null).
	if c.Mode != "push_to_talk" && (td.Type == "server_vad" || td.Type == "semantic_vad") {
		t := &realtime.TurnDetection{
			CreateResponse:    &td.CreateResponse,
			InterruptResponse: &td.InterruptResponse,
		}
		if td.Type == "server_vad" {
			t.Type = realtime.ServerVAD
			t.Threshold = td.Threshold
			t.PrefixPaddingMs = td.PrefixPaddingMs
			t.SilenceDurationMs = td.SilenceDurationMs
			t.IdleTimeoutMs = td.IdleTimeoutMs
		} else {
			t.Type = realtime.SemanticVAD
			t.Eagerness = td.Eagerness
		}
		s.TurnDetection = t
	}
	for _, raw := range r.Tools.Server {
		if b, err := json.Marshal(raw); err == nil {
			s.RawTools = append(s.RawTools, b)
		}
	}
	return s
}

// clientOptions maps the config onto the realtime client.
func clientOptions(c config.Config, s config.Secrets, log *slog.Logger) (realtime.Options, error) {
	r := c.Realtime
	prof, err := realtime.ParseProfile(r.Profile)
	if err != nil {
		return realtime.Options{}, err
	}
	def := prof.Defaults()
	dialect := def.Dialect
	if r.Dialect != "" {
		if dialect, err = realtime.ParseDialect(r.Dialect); err != nil {
			return realtime.Options{}, err
		}
	}
	url := r.URL
	if url == "" {
		if url, err = prof.URL(r.Model, "", ""); err != nil {
			return realtime.Options{}, fmt.Errorf("realtime.url: %w", err)
		}
	}
	if err := def.CheckRates(pipeline.CaptureRate, r.OutputRate); err != nil {
		return realtime.Options{}, fmt.Errorf("realtime.output_rate: %w", err)
	}
	o := realtime.Options{
		URL:         url,
		Profile:     prof,
		Dialect:     dialect,
		APIKey:      s.APIKey,
		Session:     sessionFor(c),
		Logger:      log,
		ToolTimeout: time.Duration(r.Tools.TimeoutMs) * time.Millisecond,
	}
	return o, nil
}

// build opens and wires every part. On error, what was opened is closed again.
func build(ctx context.Context, c config.Config, s config.Secrets, d *Daemon) (_ *runtime, err error) {
	rt := &runtime{cfg: c, secrets: s, d: d, log: d.log, rlog: serverLogger(d.log), led: d.gpio.led}
	defer func() {
		if err != nil {
			rt.close()
		}
	}()

	rt.capDev, rt.playDev, err = openAudio(c, d)
	if err != nil {
		return nil, err
	}
	rt.mic = rt.capDev
	if strings.HasPrefix(c.Audio.Capture.Device, "file:") {
		rt.mic = newQuietAfterEOF(rt.capDev, !d.opts.FastFiles)
	}
	capFmt, err := pipelineFormat(rt.capDev.Params())
	if err != nil {
		return nil, fmt.Errorf("microphone %s: %w", c.Audio.Capture.Device, err)
	}
	playFmt, err := pipelineFormat(rt.playDev.Params())
	if err != nil {
		return nil, fmt.Errorf("speaker %s: %w", c.Audio.Playback.Device, err)
	}
	d.log.Info("audio devices open",
		"microphone", c.Audio.Capture.Device, "granted", rt.capDev.Params().String(),
		"speaker", c.Audio.Playback.Device, "granted_speaker", rt.playDev.Params().String())

	rt.vad, err = newVoiceDetector(c.VAD)
	if err != nil {
		return nil, err
	}
	ep, err := vad.NewEndpointer(vad.EndpointerConfig{FrameMs: frameMs, MinSpeechMs: c.VAD.MinSpeechMs, SilenceMs: c.VAD.SilenceMs})
	if err != nil {
		return nil, err
	}
	rt.playback, err = pipeline.NewPlayback(rt.playDev, pipeline.PlaybackConfig{
		Device:       playFmt,
		PeriodFrames: rt.playDev.Params().PeriodFrames,
		InputRate:    c.Realtime.OutputRate,
		Earcons:      c.Earcons.Enabled,
		OnStarted:    func(t time.Duration) { d.metrics.downlink.Observe(seconds(t)) },
		OnSilenced:   func(t time.Duration) { d.metrics.bargeIn.Observe(seconds(t)) },
	})
	if err != nil {
		return nil, err
	}
	rt.playback.SetVolume(float64(c.Audio.Playback.Volume) / 100)
	rt.playback.SetEarconVolume(float64(c.Earcons.Volume) / 100)

	co, err := clientOptions(c, s, rt.rlog.With("part", "realtime"))
	if err != nil {
		return nil, err
	}
	co.Audio = rt.onAudio
	co.Tools = rt.tools()
	co.OnDemand = c.Realtime.Connection == "on_demand"
	co.OnWritten = d.metrics.written
	co.OnAudioWritten = func(t time.Duration) { d.metrics.uplink.Observe(seconds(t)) }
	rt.client, err = realtime.New(co)
	if err != nil {
		return nil, err
	}
	// Five seconds of speech may wait for the socket (dialling on demand, a reconnect)
	// before the oldest is dropped.
	rt.ring, err = dsp.NewRing(5*pipeline.CaptureRate, dsp.RingOverwrite)
	if err != nil {
		return nil, err
	}
	rt.uplink, err = pipeline.NewUplink(rt.ring, rt.client, pipeline.UplinkConfig{})
	if err != nil {
		return nil, err
	}
	gate := &pipeline.UplinkGate{Uplink: rt.uplink}
	opts, err := engineOptions(c)
	if err != nil {
		return nil, err
	}
	ec := engine.Config{
		Options:   opts,
		Conn:      rt.client,
		Gate:      gate,
		Player:    rt.playback,
		VAD:       rt.vad,
		Earcons:   rt.playback,
		Heartbeat: d.notify.Watchdog,
		// The notifier pings systemd at half the watchdog time; beat twice as often.
		HeartbeatInterval: d.notify.WatchdogInterval() / 2,
		Logger:            d.log.With("part", "engine"),
	}
	if rt.led != nil {
		ec.LED = ledAdapter{rt.led}
	}
	if co.OnDemand {
		ec.Connector = rt.client
	}
	rt.engine, err = engine.New(ec)
	if err != nil {
		return nil, err
	}
	channel := dsp.MixChannels
	if cc := c.Audio.Capture.Channel; cc != "mix" {
		channel, _ = strconv.Atoi(cc) // validated
	}
	rt.capture, err = pipeline.NewCapture(rt.mic, rt.vad, rt.ring, pipeline.CaptureConfig{
		Device:       capFmt,
		PeriodFrames: rt.capDev.Params().PeriodFrames,
		Channel:      channel,
		PreRollMs:    c.Audio.PreRollMs,
		Gain:         float64(c.Audio.Capture.Volume) / 100,
		OnVoice:      rt.engine.VoiceEdges(ep, frameMs*time.Millisecond),
	})
	if err != nil {
		return nil, err
	}
	rt.uplink.TimeFrom(rt.capture)
	gate.Capture = rt.capture
	return rt, nil
}

// onAudio is the realtime client's audio sink: reply audio straight to the player, and
// the first audio of each item reported to the engine. It runs on the socket reader.
func (rt *runtime) onAudio(itemID string, pcm []int16) {
	rt.playback.WriteItem(itemID, pcm)
	rt.mu.Lock()
	first := itemID != rt.lastItem
	if first {
		rt.lastItem = itemID
	}
	rt.mu.Unlock()
	if first {
		rt.engine.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: itemID})
	}
}

// run starts every part and waits. The first part to fail stops the others.
func (rt *runtime) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	start := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		}()
	}
	events, unsubscribe := rt.engine.Subscribe(256)
	defer unsubscribe()
	start("engine", rt.engine.Run)
	start("engine events", func(ctx context.Context) error { return rt.forwardEngine(ctx, events) })
	if rt.secrets.APIKey == "" && rt.cfg.Realtime.Profile != "custom" {
		// Dialling without a key only collects refusals: stay IDLE and say what is missing.
		rt.engine.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeFatal, Err: errNoKey})
	} else {
		start("realtime", rt.client.Run)
		start("realtime events", rt.forwardRealtime)
	}
	start("playback", rt.playback.Run)
	start("uplink", rt.uplink.Run)
	start("capture", rt.capture.Run)
	start("devices", rt.watchDevices)
	<-ctx.Done()
	// A reader or writer blocked in the kernel, or waiting for an unplugged device to
	// come back, ends only when its device is closed: without this, a part failing
	// while a device is gone would leave run waiting for it forever.
	rt.closeDevices()
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func (rt *runtime) forwardRealtime(ctx context.Context) error {
	evs := rt.client.Events()
	lost := false // a session was lost and not yet regained
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-evs:
			if !ok {
				return nil
			}
			rt.noteRealtime(ev)
			switch e := ev.(type) {
			case *realtime.Disconnected:
				lost = !errors.Is(e.Err, realtime.ErrHangup) // an on_demand hang-up is not a loss
			case *realtime.Connected:
				lost = false
			case *realtime.Connecting:
				if lost {
					// Each retry is not news: the LED keeps saying DISCONNECTED until a
					// session is back, instead of flickering to CONNECTING and back.
					rt.uplink.SetHold(true)
					continue
				}
			}
			switch ev.(type) {
			case *realtime.Connecting, *realtime.Disconnected, *realtime.Fatal:
				// Speech while there is no session waits in the ring instead of being
				// appended to a closed socket and lost.
				rt.uplink.SetHold(true)
			case *realtime.Connected:
				rt.uplink.SetHold(false)
			}
			if pe, ok := translate(ev); ok {
				rt.engine.HandleRealtime(pe)
			}
		}
	}
}

// serverLogger is l throttled per kind of line (ratelog's defaults: 5 at
// once, then one per 10 s) with long values clipped: a server can repeat a
// failure thousands of times a second, and a config value can be huge.
func serverLogger(l *slog.Logger) *slog.Logger {
	return ratelog.Wrap(l, ratelog.Options{})
}

// noteRealtime logs and counts what the engine does not see.
func (rt *runtime) noteRealtime(ev realtime.Event) {
	m := rt.d.metrics
	log := rt.rlog
	switch e := ev.(type) {
	case *realtime.Connected:
		log.Info("connected", "session", e.SessionID, "model", e.Model, "expires", e.ExpiresAt, "rollover", e.Rollover)
	case *realtime.Disconnected:
		m.disconnects.Inc()
		if !errors.Is(e.Err, realtime.ErrHangup) {
			rt.noteConnError(e.Err)
		}
		log.Warn("connection lost; reconnecting", "err", e.Err, "retry_in", e.RetryIn)
	case *realtime.Fatal:
		rt.noteConnError(e.Err)
		log.Error("the server refused voiced; not retrying soon", "err", e.Err, "retry_in", e.RetryIn)
	case *realtime.ProtocolError:
		log.Warn("server message not understood; ignored", "err", e.Err)
	case *realtime.ToolResult:
		if e.Err != nil {
			log.Warn("tool call failed", "tool", e.Name, "err", e.Err, "took", e.Duration)
		} else {
			log.Info("tool called", "tool", e.Name, "took", e.Duration)
		}
	case *realtime.InputTranscriptionFailed:
		log.Warn("transcription of your speech failed (the reply still comes)", "err", e.Error.Message)
	case *realtime.ServerError:
		log.Warn("server error", "code", e.Error.Code, "message", e.Error.Message)
	}
}

// noteConnError keeps why the connection failed for the status.
func (rt *runtime) noteConnError(err error) {
	if err == nil {
		return
	}
	rt.mu.Lock()
	rt.connErr, rt.connErrAt = ratelog.Clip(err.Error(), 1000), time.Now()
	rt.mu.Unlock()
}

// withConnError puts the last connection failure in s's last_error when it is
// newer than the engine's own: reconnects that fail (HTTP 500, a timeout, a
// name not found) never reach a session the engine could record as lost.
func (rt *runtime) withConnError(s *engine.Status) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.connErr != "" && rt.connErrAt.After(s.LastErrorAt) {
		s.LastError, s.LastErrorAt = "connect: "+rt.connErr, rt.connErrAt
	}
}

// forwardEngine publishes the engine's events to HTTP subscribers, the log, systemd and
// the turn counter.
func (rt *runtime) forwardEngine(ctx context.Context, events <-chan engine.Event) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			rt.d.onEngineEvent(ev)
		}
	}
}

// closeDevices closes the sound devices, which unblocks a reader waiting in the kernel.
func (rt *runtime) closeDevices() {
	if rt.mic != nil {
		rt.mic.Close()
	}
	if rt.playDev != nil {
		rt.playDev.Close()
	}
}

// close releases the sound devices. Safe on a partly built runtime, and twice.
func (rt *runtime) close() error {
	var errs []error
	if rt.mic != nil {
		if err := rt.mic.Close(); err != nil && !errors.Is(err, alsa.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if rt.playDev != nil {
		if err := rt.playDev.Close(); err != nil && !errors.Is(err, alsa.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// applyLive puts next in force without a rebuild when only live settings changed, and
// reports whether it could.
func (rt *runtime) applyLive(old, next config.Config) bool {
	if !reflect.DeepEqual(withoutLive(old), withoutLive(next)) {
		return false
	}
	if !reflect.DeepEqual(old.Realtime, next.Realtime) {
		if err := rt.client.UpdateSession(sessionFor(next)); err != nil {
			rt.log.Warn("session update not sent; it applies on the next connection", "err", err)
		}
	}
	if opts, err := engineOptions(next); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := rt.engine.Reconfigure(ctx, opts); err != nil {
			rt.log.Warn("engine not reconfigured", "err", err)
		}
		cancel()
	}
	rt.playback.SetVolume(float64(next.Audio.Playback.Volume) / 100)
	rt.playback.SetEarcons(next.Earcons.Enabled)
	rt.playback.SetEarconVolume(float64(next.Earcons.Volume) / 100)
	rt.mu.Lock()
	rt.cfg = next.Clone()
	rt.mu.Unlock()
	return true
}

// withoutLive blanks the settings applyLive can change, so what is left must be equal
// for a live change.
func withoutLive(c config.Config) config.Config {
	c = c.Clone()
	r := &c.Realtime
	r.Voice, r.Instructions, r.Language, r.NoiseReduction = "", "", "", ""
	r.Transcription = config.Transcription{}
	r.TurnDetection = config.TurnDetection{}
	c.Mode = ""
	c.Turn = config.Turn{}
	c.BargeIn = config.BargeIn{}
	c.Audio.Playback.Volume = 0
	c.Earcons = config.Earcons{}
	c.Log = config.Log{}
	return c
}

// status is the runtime's part of /v1/status.
func (rt *runtime) status() runtimeStatus {
	st := runtimeStatus{Engine: rt.engine.Status()}
	rt.withConnError(&st.Engine)
	st.Microphone = deviceStatus{Device: rt.cfg.Audio.Capture.Device, Granted: rt.capDev.Params().String(), Xruns: rt.capDev.Xruns(), Gone: rt.capDev.Gone()}
	st.Speaker = deviceStatus{Device: rt.cfg.Audio.Playback.Device, Granted: rt.playDev.Params().String(), Xruns: rt.playDev.Xruns(), Gone: rt.playDev.Gone()}
	st.Realtime = rt.client.Stats()
	return st
}

type deviceStatus struct {
	Device  string `json:"device"`
	Granted string `json:"granted"`
	Xruns   uint64 `json:"xruns"`
	// Gone: unplugged or removed; voiced reopens it when it returns.
	Gone bool `json:"gone"`
}

type runtimeStatus struct {
	Engine     engine.Status
	Microphone deviceStatus
	Speaker    deviceStatus
	Realtime   realtime.Stats
}
