package daemon

import (
	"context"
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
	client          *realtime.Client // nil with a Socket.IO service
	svc             *service         // nil with the Realtime protocol
	engine          *engine.Engine
	played          uint64 // engine's Played count, as last seen by forwardEngine

	announce announcing // the announcement under way; guarded by d.mu

	wakeWords []wakeWordStatus // the wake words listened for, set by buildWake; nil for none

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
	if isSocketIO(c.Realtime.Profile) {
		// Estuary and Selam find the end of speech themselves and reply at once:
		// the turn ends when they say, and audio flows until then.
		te = engine.TurnEndServer
	}
	// Selam has no commit: its detector ends a held turn too.
	serverEndsHeld := c.Realtime.Profile == "selam"
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	return engine.Options{
		Mode:           mode,
		TurnEnd:        te,
		VoiceBargeIn:   c.BargeIn.Voice,
		EchoGuard:      ms(c.BargeIn.EchoGuardMs),
		FollowUp:       ms(c.Turn.FollowUpMs),
		Continue:       c.Turn.ContinueConversation == "auto",
		ListenTimeout:  ms(c.Turn.ListenTimeoutMs),
		MaxTurn:        ms(c.Turn.MaxTurnMs),
		ReplyTimeout:   ms(c.Turn.ReplyTimeoutMs),
		ServerEndsHeld: serverEndsHeld,
		WakeWordOnly:   c.Wake.Mode == "word",
	}, nil
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
	ep, err := vad.NewEndpointer(vad.EndpointerConfig{FrameMs: frameMs, MinSpeechMs: c.VAD.MinSpeechMs, GuardedMinSpeechMs: c.BargeIn.MinSpeechMs, SilenceMs: c.VAD.SilenceMs})
	if err != nil {
		return nil, err
	}
	pc := pipeline.PlaybackConfig{
		Device:       playFmt,
		PeriodFrames: rt.playDev.Params().PeriodFrames,
		InputRate:    c.Realtime.OutputRate,
		Earcons:      c.Earcons.Enabled,
		OnStarted:    func(t time.Duration) { d.metrics.downlink.Observe(seconds(t)) },
		OnSilenced:   func(t time.Duration) { d.metrics.bargeIn.Observe(seconds(t)) },
	}
	echo, err := echoParts(&c, rt.vad, &pc)
	if err != nil {
		return nil, err
	}
	if echo != nil {
		d.log.Info("echo canceller on", "tail_ms", c.AEC.TailMs, "latency_ms", echo.Latency()*1000/pipeline.CaptureRate)
	}
	rt.playback, err = pipeline.NewPlayback(rt.playDev, pc)
	if err != nil {
		return nil, err
	}
	rt.playback.SetVolume(float64(c.Audio.Playback.Volume) / 100)
	rt.playback.SetEarconVolume(float64(c.Earcons.Volume) / 100)

	// Five seconds of speech may wait for the socket (dialling on demand, a reconnect)
	// before the oldest is dropped.
	rt.ring, err = dsp.NewRing(5*pipeline.CaptureRate, dsp.RingOverwrite)
	if err != nil {
		return nil, err
	}
	var conn interface {
		CommitAudio() error
		ClearAudio() error
		CreateResponse() error
		CancelResponse() error
		TruncateItem(itemID string, contentIndex, audioEndMs int) error
	}
	onDemand := c.Realtime.Connection == "on_demand"
	if isSocketIO(c.Realtime.Profile) {
		rs := &rateSink{rate: c.Realtime.OutputRate, write: rt.onAudio, log: rt.rlog}
		rt.svc, err = newService(c, s, rs.sink, rt.rlog.With("part", c.Realtime.Profile))
		if err != nil {
			return nil, err
		}
		up, err := newRateUplink(rt.svc.b)
		if err != nil {
			return nil, err
		}
		if rt.uplink, err = pipeline.NewUplink(rt.ring, up, pipeline.UplinkConfig{}); err != nil {
			return nil, err
		}
		conn, onDemand = rt.svc, false
	} else {
		co, err := clientOptions(c, s, rt.rlog.With("part", "realtime"))
		if err != nil {
			return nil, err
		}
		co.Audio = rt.onAudio
		co.Tools = rt.tools()
		co.OnDemand = onDemand
		co.OnWritten = d.metrics.written
		co.OnAudioWritten = func(t time.Duration) { d.metrics.uplink.Observe(seconds(t)) }
		if rt.client, err = realtime.New(co); err != nil {
			return nil, err
		}
		if rt.uplink, err = pipeline.NewUplink(rt.ring, rt.client, pipeline.UplinkConfig{}); err != nil {
			return nil, err
		}
		conn = rt.client
	}
	gate := &pipeline.UplinkGate{Uplink: rt.uplink}
	opts, err := engineOptions(c)
	if err != nil {
		return nil, err
	}
	ec := engine.Config{
		Options:   opts,
		Conn:      conn,
		Gate:      gate,
		Player:    rt.playback,
		VAD:       echoGuardFor(&c, rt.vad),
		Earcons:   rt.playback,
		Heartbeat: d.notify.Watchdog,
		// The notifier pings systemd at half the watchdog time; beat twice as often.
		HeartbeatInterval: d.notify.WatchdogInterval() / 2,
		Logger:            d.log.With("part", "engine"),
	}
	if rt.led != nil {
		ec.LED = ledAdapter{rt.led}
	}
	if onDemand {
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
	onFrame, keepMs, err := rt.buildWake(c)
	if err != nil {
		return nil, err
	}
	cc := pipeline.CaptureConfig{
		Device:       capFmt,
		PeriodFrames: rt.capDev.Params().PeriodFrames,
		Channel:      channel,
		PreRollMs:    c.Audio.PreRollMs,
		Gain:         float64(c.Audio.Capture.Volume) / 100,
		OnVoice:      rt.onVoice(rt.engine.VoiceEdges(ep, frameMs*time.Millisecond)),
		Level:        &d.level,
		OnFrame:      onFrame,
		KeepMs:       keepMs,
	}
	if echo != nil {
		cc.Echo = echo
	}
	rt.capture, err = pipeline.NewCapture(rt.mic, rt.vad, rt.ring, cc)
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
	if rt.svc != nil {
		if rt.svc.heardReply(itemID) {
			rt.engine.HandleRealtime(engine.RealtimeEvent{Kind: engine.RealtimeAudioStarted, ItemID: itemID})
		}
		return
	}
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

// onVoice is the engine's voice input, which also wakes a Socket.IO session the
// service closed (speech is a user turn).
func (rt *runtime) onVoice(edges func(vad.Decision)) func(vad.Decision) {
	if rt.svc == nil {
		return edges
	}
	return func(v vad.Decision) {
		if v.Speech {
			rt.svc.wake()
		}
		edges(v)
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
	} else if rt.svc != nil {
		start(rt.cfg.Realtime.Profile, rt.svc.b.Run)
		start(rt.cfg.Realtime.Profile+" events", rt.forwardService)
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
			if rt.svc != nil {
				// A reply counts as played when playback ran dry after its last
				// audio: that is when the speaker has really played it.
				if p := rt.engine.Status().Played; p != rt.played {
					rt.played = p
					rt.svc.played()
				}
			}
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
	if !reflect.DeepEqual(old.Realtime, next.Realtime) && rt.client != nil {
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
	st.Realtime = rt.rtStats()
	return st
}

// rtStats are the connection's counters, whichever protocol it speaks.
func (rt *runtime) rtStats() realtime.Stats {
	if rt.client != nil {
		return rt.client.Stats()
	}
	if rt.svc == nil {
		return realtime.Stats{}
	}
	rt.svc.mu.Lock()
	defer rt.svc.mu.Unlock()
	return realtime.Stats{AudioDropped: rt.svc.dropped(), Reconnects: rt.svc.reconnect}
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
