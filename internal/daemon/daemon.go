package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/voiced-project/voiced/internal/alsa"
	"github.com/voiced-project/voiced/internal/clock"
	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/discovery"
	"github.com/voiced-project/voiced/internal/engine"
	"github.com/voiced-project/voiced/internal/gpio"
	"github.com/voiced-project/voiced/internal/httpapi"
	"github.com/voiced-project/voiced/internal/pipeline"
	"github.com/voiced-project/voiced/internal/sdnotify"
	"github.com/voiced-project/voiced/internal/timers"
)

// Options configure the daemon.
type Options struct {
	Config     config.Config // validated
	ConfigPath string        // where HTTP changes are saved and SIGHUP reloads from; "" = nowhere
	Sets       []string      // --set overrides, reapplied on reload
	// Turns > 0 stops the daemon after that many replies have finished playing.
	Turns int
	// FastFiles makes file: devices run as fast as they are read (tests, benchmarks)
	// instead of in real time.
	FastFiles bool
	// OnListen is told the HTTP endpoint's address once it listens.
	OnListen func(addr string)
	// EventLog, if set, gets one line per state change and transcript (make demo).
	EventLog io.Writer
	Log      *slog.Logger
	// LogLevel, if set, follows log.level, also when the config changes.
	LogLevel *slog.LevelVar
	Getenv   func(string) string // nil: os.Getenv
}

// Daemon is voiced running. Create with New, run with Run.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	notify  *sdnotify.Notifier
	hub     *hub
	level   pipeline.Level // the microphone's, for /v1/events; outlives runtimes
	metrics *daemonMetrics
	started time.Time

	gpio gpioParts // superviseRuntime's goroutine only, but for Status
	wake wakeStats // the wake words heard, for Status

	// What superviseRuntime waits with and builds with; tests replace them.
	clock   supervisorClock
	backoff backoff
	build   func(ctx context.Context, c config.Config, s config.Secrets) (*runtime, error)
	restart chan struct{} // 1-buffered: rebuild the runtime with the config in force
	done    chan struct{} // closed when --turns is reached

	mu          sync.Mutex // guards following fields
	cfg         config.Config
	secrets     config.Secrets
	rt          *runtime
	srv         *httpapi.Server      // nil until Run listens
	announcer   *discovery.Announcer // set before the runtime starts; nil on loopback
	problem     string               // why the runtime is not running, in plain words
	configError string               // the last rejected reload, in plain words
	replies     int
	doneOnce    sync.Once

	timers    *timers.Store  // set in Run before anything uses it
	announceQ []announcement // guarded by mu
}

// New prepares a daemon; nothing is opened until Run.
func New(o Options) *Daemon {
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	d := &Daemon{
		opts:    o,
		log:     o.Log,
		hub:     newHub(),
		restart: make(chan struct{}, 1),
		done:    make(chan struct{}),
		cfg:     o.Config,
		started: time.Now(),
		clock:   &clock.Real{},
		backoff: backoff{Min: time.Second, Max: 30 * time.Second},
	}
	d.build = func(ctx context.Context, c config.Config, s config.Secrets) (*runtime, error) {
		return build(ctx, c, s, d)
	}
	d.notify = sdnotify.New(o.Log)
	d.metrics = newDaemonMetrics(d)
	d.setLogLevel(o.Config.Log.Level)
	return d
}

func (d *Daemon) setLogLevel(name string) {
	if d.opts.LogLevel == nil {
		return
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(name)); err == nil { // validated: debug, info, warn, error
		d.opts.LogLevel.Set(l)
	}
}

// Run serves until ctx ends (SIGTERM), --turns is reached, or the HTTP endpoint cannot
// listen. It returns nil on a clean stop.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if d.opts.ConfigPath != "" {
		// Left by a save killed half way; they may hold the API key.
		if n, err := config.RemoveStaleTemps(d.opts.ConfigPath); err != nil {
			d.log.Warn("stale temp files of the config not removed", "err", err)
		} else if n > 0 {
			d.log.Info("removed temp files a save killed half way left", "count", n)
		}
	}
	d.resolveSecrets()
	d.openTimers()
	timersDone := make(chan struct{})
	go func() {
		defer close(timersDone)
		d.timers.Run(ctx)
	}()
	defer func() { stop(); <-timersDone }()

	var httpDone chan error
	if addr := d.cfg.HTTP.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("http.listen %s: %w", addr, err)
		}
		d.announcer = d.newAnnouncer(d.cfg, ln.Addr())
		d.log.Info("HTTP endpoint listening", "addr", ln.Addr().String())
		if d.opts.OnListen != nil {
			d.opts.OnListen(ln.Addr().String())
		}
		d.mu.Lock()
		srv := httpapi.New(httpapi.Options{Token: d.secrets.HTTPToken, Listen: addr, AllowedHosts: d.cfg.HTTP.AllowedHosts, MDNSHost: d.mdnsHost(), Backend: d, Config: d, Timers: d.timers, Announcer: d, Log: d.log})
		d.srv = srv
		d.mu.Unlock()
		httpDone = make(chan error, 1)
		go func() { httpDone <- srv.Serve(ctx, ln) }()
	}
	announced := d.announce(ctx)
	metered := make(chan struct{})
	go func() {
		defer close(metered)
		d.meter(ctx)
	}()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		d.superviseRuntime(ctx)
	}()

	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-d.done:
			d.log.Info("stopping: the requested number of replies was played", "turns", d.opts.Turns)
			break loop
		case err = <-httpDone:
			httpDone = nil
			if ctx.Err() == nil {
				break loop
			}
		case <-hup:
			d.reload()
		}
	}
	d.notify.Stopping()
	d.log.Info("shutting down")
	stop()
	<-runDone
	d.hub.close()
	if httpDone != nil {
		<-httpDone
	}
	<-announced
	<-metered
	return err
}

// meter publishes the microphone's level on /v1/events, LevelRate times a second,
// while anyone subscribes; with nobody, the capture loop skips the meter.
func (d *Daemon) meter(ctx context.Context) {
	tick := time.NewTicker(time.Second / pipeline.LevelRate)
	defer tick.Stop()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			d.level.SetActive(false)
			return
		case <-tick.C:
		}
		on := d.hub.watched()
		d.level.SetActive(on)
		if db, seq := d.level.Read(); on && seq != last {
			last = seq
			d.hub.publish(httpapi.Event{Type: httpapi.LevelEvent, Level: db})
		}
	}
}

// supervisorClock is the time source of superviseRuntime (clock.Real,
// clocktest.Clock).
type supervisorClock interface {
	After(d time.Duration) <-chan time.Time
}

// backoff is the wait before building again after a failure: Min after the first,
// doubling with each failure in a row up to Max.
type backoff struct {
	Min, Max time.Duration
}

// next is the wait after cur.
func (b backoff) next(cur time.Duration) time.Duration { return min(cur*2, b.Max) }

// superviseRuntime builds the runtime, runs it, and builds it again after a config
// change that cannot be applied live, or with backoff after a failure (a missing
// device), until ctx ends.
func (d *Daemon) superviseRuntime(ctx context.Context) {
	wait := d.backoff.Min
	ready := false
	defer d.closeGPIO()
	for ctx.Err() == nil {
		d.mu.Lock()
		cfg, secrets := d.cfg.Clone(), d.secrets
		d.mu.Unlock()
		d.ensureGPIO(cfg.GPIO)
		rt, err := d.build(ctx, cfg, secrets)
		if err == nil {
			d.setProblem("")
			d.mu.Lock()
			d.rt = rt
			d.mu.Unlock()
			d.ringPending(rt)
		} else {
			d.setProblem(err.Error()) // before READY, so that its status names the problem
		}
		if !ready {
			// Up as far as it can be: systemd should not wait for a USB mic or the network.
			ready = true
			d.notify.Ready(d.statusLine())
		}
		if err != nil {
			d.showError()
			d.log.Error("cannot start the audio pipeline; retrying", "err", err, "retry_in", wait)
			d.hub.publish(httpapi.Event{Type: "error", Data: map[string]string{"code": "startup", "message": err.Error()}})
			d.notify.Status("waiting: " + err.Error())
			select {
			case <-ctx.Done():
				return
			case <-d.restart:
			case <-d.clock.After(wait):
			}
			wait = d.backoff.next(wait)
			continue
		}
		wait = d.backoff.Min
		d.notify.Status(d.statusLine())

		rctx, cancel := context.WithCancel(ctx)
		errc := make(chan error, 1)
		go func() { errc <- rt.run(rctx) }()
		restarted := false
		select {
		case <-ctx.Done():
		case <-d.restart:
			restarted = true
			d.log.Info("configuration changed: restarting the audio pipeline and connection")
		case err = <-errc:
			errc <- err
		}
		cancel()
		err = d.stopRuntime(rt, errc)
		d.mu.Lock()
		d.rt = nil
		d.mu.Unlock()
		if err != nil && ctx.Err() == nil && !restarted {
			d.setProblem(err.Error())
			d.log.Error("audio pipeline stopped; restarting it", "err", err)
			select {
			case <-ctx.Done():
			case <-d.clock.After(d.backoff.Min):
			}
		}
	}
}

// stopRuntime waits for a cancelled runtime. Devices are closed at once so a reader
// blocked in the kernel returns; the whole stop stays well inside systemd's patience.
func (d *Daemon) stopRuntime(rt *runtime, errc chan error) error {
	var err error
	select {
	case err = <-errc:
	case <-time.After(200 * time.Millisecond):
		rt.closeDevices()
		select {
		case err = <-errc:
		case <-time.After(1500 * time.Millisecond):
			d.log.Error("audio pipeline did not stop in time; leaving it")
		}
	}
	if cerr := rt.close(); cerr != nil {
		d.log.Warn("closing devices", "err", cerr)
	}
	return err
}

// resolveSecrets reads the API key and the HTTP token the config in force names, and puts
// the token in force on the endpoint at once.
func (d *Daemon) resolveSecrets() {
	d.mu.Lock()
	cfg := d.cfg.Clone()
	d.mu.Unlock()
	s, err := cfg.ResolveSecrets(d.opts.Getenv)
	if err != nil {
		d.log.Error("secret not readable", "err", err)
	}
	if s.APIKey == "" && cfg.Realtime.Profile != "custom" {
		d.log.Warn("no API key: set VOICED_API_KEY in /etc/default/voiced or realtime.api_key_file; voiced runs but cannot connect")
	}
	if cfg.HTTP.TokenFile != "" && config.TokenProblem(s.HTTPToken) != "" {
		// The endpoint asks for a token it could not read: lock it rather than open it.
		var b [32]byte
		rand.Read(b[:])
		s.HTTPToken = hex.EncodeToString(b[:])
		d.log.Error("http.token_file unusable: the HTTP endpoint refuses every request until it is fixed", "file", cfg.HTTP.TokenFile)
	}
	d.mu.Lock()
	d.secrets = s
	srv := d.srv
	d.mu.Unlock()
	if srv != nil {
		srv.SetAccess(s.HTTPToken, cfg.HTTP.AllowedHosts)
	}
}

func (d *Daemon) setProblem(p string) {
	d.mu.Lock()
	d.problem = p
	d.mu.Unlock()
}

// reload rereads the config file (SIGHUP). A broken file keeps the old config.
func (d *Daemon) reload() {
	if d.opts.ConfigPath == "" {
		d.log.Warn("SIGHUP: no config file to reload")
		return
	}
	d.notify.Reloading()
	defer d.notify.Reloaded()
	next, err := config.Load(d.opts.ConfigPath, d.opts.Sets)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", "; ")
		d.mu.Lock()
		d.configError = msg
		d.mu.Unlock()
		d.log.Error("config reload rejected; still running on the previous config", "file", d.opts.ConfigPath, "err", msg)
		d.hub.publish(httpapi.Event{Type: "error", Data: map[string]string{"code": "config_rejected", "message": msg}})
		return
	}
	d.mu.Lock()
	d.configError = ""
	d.mu.Unlock()
	if err := d.apply(next, false); err != nil {
		d.log.Error("config reload not applied", "err", err)
		return
	}
	d.log.Info("config reloaded", "file", d.opts.ConfigPath)
}

// Config is the configuration in force (httpapi.ConfigStore).
func (d *Daemon) Config() config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg.Clone()
}

// Apply persists next and puts it in force (httpapi.ConfigStore).
func (d *Daemon) Apply(next config.Config) error { return d.apply(next, true) }

func (d *Daemon) apply(next config.Config, persist bool) error {
	if err := next.ValidateAt(d.opts.ConfigPath); err != nil {
		return err
	}
	if persist && d.opts.ConfigPath != "" {
		if err := d.save(next); err != nil {
			return err
		}
	}
	d.mu.Lock()
	old := d.cfg
	d.cfg = next.Clone()
	rt := d.rt
	d.mu.Unlock()
	d.setLogLevel(next.Log.Level)
	if !reflect.DeepEqual(old.Realtime, next.Realtime) || !reflect.DeepEqual(old.HTTP, next.HTTP) {
		d.resolveSecrets()
	}
	if old.HTTP.Listen != next.HTTP.Listen || old.HTTP.MDNSName != next.HTTP.MDNSName {
		d.log.Warn("http.listen and http.mdns_name change on the next restart of voiced")
	}
	if rt != nil && rt.applyLive(old, next) {
		d.log.Info("config applied live")
		return nil
	}
	select {
	case d.restart <- struct{}{}:
	default:
	}
	return nil
}

// save writes the change from the config in force to next into the config file: the file
// as it is on disk, with the fields next changes, so the one-run --set overrides are
// never saved.
func (d *Daemon) save(next config.Config) error {
	path := d.opts.ConfigPath
	file, err := config.Load(path, nil)
	if err != nil {
		// %v: the file's own mistakes are not the request's.
		return fmt.Errorf("the config file does not load, so it is left as it is; fix it first: %v", err)
	}
	d.mu.Lock()
	cur := d.cfg.Clone()
	d.mu.Unlock()
	toSave, err := config.Rebase(file, cur, next)
	if err != nil {
		return fmt.Errorf("the change does not fit the config file: %w", err)
	}
	if err := toSave.ValidateAt(path); err != nil {
		return err
	}
	return toSave.Save(path)
}

// statusLine is the state in words for systemd.
func (d *Daemon) statusLine() string {
	d.mu.Lock()
	rt, problem := d.rt, d.problem
	d.mu.Unlock()
	if problem != "" {
		return "waiting: " + problem
	}
	if rt == nil {
		return "starting"
	}
	return rt.engine.Status().Summary()
}

// onEngineEvent is every engine event: to HTTP subscribers, the log, systemd, the
// metrics and the --turns counter.
func (d *Daemon) onEngineEvent(ev engine.Event) {
	kind := ev.Kind.String()
	d.hub.publish(httpapi.Event{Type: kind, Engine: ev})
	d.metrics.onEvent(ev)
	d.announceEvent(ev)
	switch ev.Kind {
	case engine.EventWakeWord:
		d.wake.heard(ev)
	case engine.EventState:
		d.notify.Status(d.statusLine())
		if d.announcer != nil {
			d.announcer.SetState(ev.State.String())
		}
		if d.opts.EventLog != nil {
			fmt.Fprintf(d.opts.EventLog, "state %-12s %s\n", ev.State, ev.Reason)
		}
		if ev.Prev == engine.StateSpeaking && ev.State != engine.StateSpeaking {
			// A reply ended: played to its end or interrupted. --turns waits for replies
			// played to the end, so the speaker's WAV holds the whole answer.
			d.mu.Lock()
			d.replies++
			rt := d.rt
			d.mu.Unlock()
			if d.opts.Turns > 0 && rt != nil && rt.engine.Status().Played >= uint64(d.opts.Turns) {
				d.doneOnce.Do(func() { close(d.done) })
			}
		}
	case engine.EventTranscript:
		if ev.Final {
			if d.cfg.Log.Transcripts {
				d.log.Info("transcript", "role", ev.Role.String(), "text", ev.Text)
			}
			if d.opts.EventLog != nil {
				fmt.Fprintf(d.opts.EventLog, "%-9s %q\n", ev.Role.String()+":", ev.Text)
			}
		}
	case engine.EventAlarm:
		if ev.Message == "" {
			d.alarmStopped()
		}
	case engine.EventError:
		d.log.Warn("conversation error", "code", ev.Code, "message", ev.Message)
		if d.opts.EventLog != nil {
			fmt.Fprintf(d.opts.EventLog, "error     %s: %s\n", ev.Code, ev.Message)
		}
	}
}

// Devices is GET /v1/devices.
func (d *Daemon) Devices() any {
	out := map[string]any{}
	if cards, err := alsa.List(); err != nil {
		out["sound_error"] = err.Error()
	} else {
		out["sound"] = cards
	}
	if chips, err := gpio.Chips(); err != nil {
		out["gpio_error"] = err.Error()
	} else {
		out["gpio"] = chips
	}
	return out
}

// Control is POST /v1/control.
func (d *Daemon) Control(ctx context.Context, action string) error {
	a, err := engine.ParseAction(action)
	if err != nil {
		return httpapi.ErrUnknownAction
	}
	if a == engine.ActionPTTStop {
		d.metrics.released()
	}
	d.mu.Lock()
	rt, problem := d.rt, d.problem
	d.mu.Unlock()
	if rt == nil {
		reason := "the audio pipeline is not running"
		if problem != "" {
			reason += ": " + problem
		}
		return &httpapi.ControlError{Action: action, Reason: reason}
	}
	if rt.svc != nil && (a == engine.ActionPTTStart || a == engine.ActionStartListening) {
		rt.svc.wake()
	}
	err = rt.engine.Control(ctx, a)
	var refused *engine.RefusedError
	if errors.As(err, &refused) {
		return &httpapi.ControlError{Action: action, Reason: refused.Error()}
	}
	if err == nil && rt.svc != nil {
		// The service's own switch; its control_ack (or its absence) comes back as
		// an event, and a missing one is an error in /v1/status.
		if ferr := rt.svc.control(a); ferr != nil {
			return &httpapi.ControlError{Action: action, Reason: "the service did not take it: " + ferr.Error()}
		}
	}
	return err
}

// Subscribe is GET /v1/events.
func (d *Daemon) Subscribe() (<-chan httpapi.Event, func()) { return d.hub.Subscribe() }

// WriteMetrics is GET /metrics.
func (d *Daemon) WriteMetrics(w io.Writer) { d.metrics.reg.WriteText(w) }

// current returns the running runtime, or nil.
func (d *Daemon) current() *runtime {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rt
}
