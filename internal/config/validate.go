package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Validate checks every field and returns all mistakes at once (an Errors), or nil.
func (c *Config) Validate() error {
	v := &validator{}
	v.oneOf("mode", c.Mode, "push_to_talk", "continuous", "both")

	r := &c.Realtime
	v.oneOf("realtime.profile", r.Profile, "openai", "azure", "yandex", "custom")
	if r.URL == "" {
		if r.Profile != "openai" && r.Profile != "" {
			v.add("realtime.url", "must be set for profile %s (e.g. %s)", r.Profile, urlExample(r.Profile))
		}
	} else if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		v.add("realtime.url", "%q is not a ws:// or wss:// URL", r.URL)
	}
	if r.Model == "" && r.Profile != "custom" {
		v.add("realtime.model", "must be set")
	}
	v.oneOf("realtime.dialect", r.Dialect, "", "ga", "beta")
	if r.APIKey != "" && r.APIKeyFile != "" {
		v.add("realtime.api_key_file", "set either realtime.api_key or realtime.api_key_file, not both")
	}
	if r.APIKey == Redaction {
		v.add("realtime.api_key", "is the placeholder %s, not a key; send the real key, or leave the field out to keep the one in force", Redaction)
	} else if strings.ContainsAny(r.APIKey, " \t\r\n") {
		v.add("realtime.api_key", "contains white space; paste the key alone")
	}
	v.rangeInt("realtime.output_rate", r.OutputRate, 8000, 48000)
	v.oneOf("realtime.noise_reduction", r.NoiseReduction, "none", "near_field", "far_field")
	td := &r.TurnDetection
	v.oneOf("realtime.turn_detection.type", td.Type, "local", "server_vad", "semantic_vad")
	if td.Threshold < 0 || td.Threshold > 1 {
		v.add("realtime.turn_detection.threshold", "%g is out of range 0..1", td.Threshold)
	}
	v.rangeInt("realtime.turn_detection.prefix_padding_ms", td.PrefixPaddingMs, 0, 2000)
	v.rangeInt("realtime.turn_detection.silence_duration_ms", td.SilenceDurationMs, 100, 5000)
	v.oneOf("realtime.turn_detection.eagerness", td.Eagerness, "low", "medium", "high", "auto")
	if td.IdleTimeoutMs != 0 {
		v.rangeInt("realtime.turn_detection.idle_timeout_ms", td.IdleTimeoutMs, 5000, 30000)
	}
	v.oneOf("realtime.connection", r.Connection, "always", "on_demand")
	for i, b := range r.Tools.Builtin {
		v.oneOf(fmt.Sprintf("realtime.tools.builtin[%d]", i), b, "time", "volume", "mute", "status")
	}
	v.rangeInt("realtime.tools.timeout_ms", r.Tools.TimeoutMs, 100, 60000)
	names := map[string]bool{}
	for i, w := range r.Tools.Webhooks {
		p := fmt.Sprintf("realtime.tools.webhooks[%d]", i)
		if !toolName.MatchString(w.Name) {
			v.add(p+".name", "%q must be 1-64 letters, digits, _ or -", w.Name)
		} else if names[w.Name] || slices.Contains(r.Tools.Builtin, w.Name) {
			v.add(p+".name", "%q is used by another tool", w.Name)
		}
		names[w.Name] = true
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add(p+".url", "%q is not an http:// or https:// URL", w.URL)
		}
		if w.TimeoutMs != 0 {
			v.rangeInt(p+".timeout_ms", w.TimeoutMs, 100, 60000)
		}
	}
	for i, s := range r.Tools.Server {
		if _, ok := s["type"]; !ok {
			v.add(fmt.Sprintf("realtime.tools.server[%d]", i), "needs a type (e.g. function or mcp)")
		}
	}

	v.device("audio.capture", &c.Audio.Capture)
	v.device("audio.playback", &c.Audio.Playback)
	v.rangeInt("audio.pre_roll_ms", c.Audio.PreRollMs, 0, 1000)

	v.oneOf("vad.engine", c.VAD.Engine, "silero", "classic")
	v.rangeInt("vad.sensitivity", c.VAD.Sensitivity, 0, 3)
	v.rangeInt("vad.min_speech_ms", c.VAD.MinSpeechMs, 30, 1000)
	v.rangeInt("vad.silence_ms", c.VAD.SilenceMs, 200, 5000)

	v.rangeInt("turn.listen_timeout_ms", c.Turn.ListenTimeoutMs, 1000, 60000)
	v.rangeInt("turn.max_turn_ms", c.Turn.MaxTurnMs, 2000, 300000)
	v.rangeInt("turn.follow_up_ms", c.Turn.FollowUpMs, 0, 30000)
	v.rangeInt("turn.reply_timeout_ms", c.Turn.ReplyTimeoutMs, 2000, 120000)
	v.rangeInt("barge_in.echo_guard_ms", c.BargeIn.EchoGuardMs, 0, 5000)

	g := &c.GPIO
	if g.Enabled {
		if g.Chip == "" {
			v.add("gpio.chip", "must be set when gpio.enabled is true (e.g. gpiochip0)")
		}
		if g.Button.Line == "" && g.LED.Line == "" {
			v.add("gpio.button.line", "gpio is enabled but neither gpio.button.line nor gpio.led.line is set")
		}
		v.line("gpio.button.line", g.Button.Line)
		v.line("gpio.led.line", g.LED.Line)
		if g.Button.Line != "" && g.Button.Line == g.LED.Line {
			v.add("gpio.led.line", "%q is also the button's line", g.LED.Line)
		}
	}
	v.oneOf("gpio.button.pull", g.Button.Pull, "up", "down", "none")
	v.rangeInt("gpio.button.debounce_ms", g.Button.DebounceMs, 0, 200)
	v.rangeInt("gpio.button.long_press_ms", g.Button.LongPressMs, 300, 10000)
	v.rangeInt("gpio.button.double_press_ms", g.Button.DoublePressMs, 0, 1000)

	if c.HTTP.Listen != "" {
		host, port, err := net.SplitHostPort(c.HTTP.Listen)
		if err != nil {
			v.add("http.listen", "%q is not HOST:PORT (e.g. 127.0.0.1:8088)", c.HTTP.Listen)
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			v.add("http.listen", "port %q is not 0..65535", port)
		} else if !IsLoopback(host) && c.HTTP.Token == "" && c.HTTP.TokenFile == "" {
			v.add("http.token", "must be set (or http.token_file) when http.listen is not a loopback address (%s)", c.HTTP.Listen)
		}
	}
	if c.HTTP.Token != "" && c.HTTP.TokenFile != "" {
		v.add("http.token_file", "set either http.token or http.token_file, not both")
	}
	if c.HTTP.Token != "" {
		if p := TokenProblem(c.HTTP.Token); p != "" {
			v.add("http.token", "%s", p)
		}
	}
	for i, h := range c.HTTP.AllowedHosts {
		if !hostName.MatchString(h) && net.ParseIP(strings.Trim(h, "[]")) == nil {
			v.add(fmt.Sprintf("http.allowed_hosts[%d]", i), "%q is not a host name or address (no scheme, no port: e.g. voiced.local or 192.168.1.20)", h)
		}
	}
	v.dirs("paths.audio_dirs", c.Paths.AudioDirs)
	v.dirs("paths.secret_dirs", c.Paths.SecretDirs)
	v.rangeInt("earcons.volume", c.Earcons.Volume, 0, 100)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	if len(v.errs) > 0 {
		return v.errs
	}
	return nil
}

// MinTokenLen is the shortest http.token accepted.
const MinTokenLen = 16

// TokenProblem says why t cannot be the HTTP token, or returns "". A token must be at
// least MinTokenLen characters without white space and look random: the placeholder,
// one character repeated, or a keyboard run like 0123456789abcdef are refused.
// `openssl rand -hex 16` gives a good one.
func TokenProblem(t string) string {
	switch {
	case t == Redaction:
		return "is the placeholder " + Redaction + ", not a token; leave the field out to keep the one in force"
	case len(t) < MinTokenLen:
		return fmt.Sprintf("is %d characters; use at least %d random ones (e.g. openssl rand -hex 16)", len(t), MinTokenLen)
	case strings.ContainsAny(t, " \t\r\n"):
		return "contains white space"
	}
	distinct := map[rune]bool{}
	steps := 0 // neighbours that repeat or count up or down by one
	prev := rune(-10)
	for _, r := range t {
		distinct[r] = true
		if d := r - prev; d >= -1 && d <= 1 {
			steps++
		}
		prev = r
	}
	if len(distinct) < 8 || steps*2 > len(t) {
		return fmt.Sprintf("does not look random (%d distinct characters); use e.g. openssl rand -hex 16", len(distinct))
	}
	return ""
}

// IsLoopback reports whether a listen host only accepts connections from this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var (
	hostName   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$`)
	toolName   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	lineName   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)
	deviceName = regexp.MustCompile(`^(default|(plug)?hw:[A-Za-z0-9_=,.-]+|file:.+)$`)
)

func urlExample(profile string) string {
	switch profile {
	case "azure":
		return "wss://RESOURCE.openai.azure.com/openai/v1/realtime?model=DEPLOYMENT"
	case "yandex":
		return "wss://rest-assistant.api.cloud.yandex.net/v1/realtime/openai?model=gpt://FOLDER/speech-realtime-250923"
	}
	return "ws://127.0.0.1:8089/v1/realtime"
}

type validator struct{ errs Errors }

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) rangeInt(path string, x, lo, hi int) {
	if x < lo || x > hi {
		v.add(path, "%d is out of range %d..%d", x, lo, hi)
	}
}

func (v *validator) oneOf(path, x string, allowed ...string) {
	if slices.Contains(allowed, x) {
		return
	}
	shown := slices.DeleteFunc(slices.Clone(allowed), func(s string) bool { return s == "" })
	v.add(path, "%q is not one of %s", x, strings.Join(shown, ", "))
}

func (v *validator) device(path string, d *Device) {
	if !deviceName.MatchString(d.Device) {
		v.add(path+".device", "%q is not a device name: use default, hw:CARD=Name,DEV=0, hw:1,0, plughw:1,0 or file:PATH.wav (see `voiced devices`)", d.Device)
	}
	if !slices.Contains([]int{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000}, d.Rate) {
		v.add(path+".rate", "%d is not one of 8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000, 96000", d.Rate)
	}
	v.rangeInt(path+".channels", d.Channels, 1, 8)
	if path == "audio.playback" && d.Channel != "mix" {
		v.add(path+".channel", "%q: the speaker plays the reply on every channel; only mix is supported", d.Channel)
	} else if d.Channel != "mix" {
		if n, err := strconv.Atoi(d.Channel); err != nil || n < 0 || n >= max(d.Channels, 1) {
			v.add(path+".channel", "%q is not mix or a channel number 0..%d", d.Channel, max(d.Channels, 1)-1)
		}
	}
	v.rangeInt(path+".period_ms", d.PeriodMs, 5, 100)
	v.rangeInt(path+".buffer_ms", d.BufferMs, 2*max(d.PeriodMs, 1), 1000)
	if path == "audio.capture" {
		v.rangeInt(path+".volume", d.Volume, 10, 400) // a gain: 100 leaves the microphone as it is
	} else {
		v.rangeInt(path+".volume", d.Volume, 0, 100)
	}
}

func (v *validator) dirs(path string, dirs []string) {
	for i, d := range dirs {
		if !filepath.IsAbs(d) {
			v.add(fmt.Sprintf("%s[%d]", path, i), "%q is not an absolute path", d)
		}
	}
}

func (v *validator) line(path, l string) {
	if l != "" && !lineName.MatchString(l) {
		v.add(path, "%q is not a line number or name (e.g. 17 or GPIO17)", l)
	}
}
