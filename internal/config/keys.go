package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Kind is the type of a config key as the form, the validator and the OpenAPI document
// see it.
type Kind string

// Kinds of keys.
const (
	String  Kind = "string"
	Int     Kind = "integer"
	Float   Kind = "number"
	Bool    Kind = "boolean"
	List    Kind = "list"   // a list of strings
	Objects Kind = "object" // a list of objects (tools), edited as JSON
)

// Key describes one leaf of the configuration. Keys is the one description the
// validator's range and choice checks, openapi.yaml's Config schema and the web page's
// settings form are all made from: a key added here appears in all three.
type Key struct {
	Path string // dotted, as in the file and --set
	Kind Kind
	// Choices, when set, are the only values allowed (for a List, of each item). "" in
	// Choices means the key may be empty.
	Choices []string
	// Min and Max bound an Int or Float when Ranged; ZeroOff makes 0 allowed too (off).
	Min, Max float64
	Ranged   bool
	ZeroOff  bool
	Unit     string // "ms", "%", "Hz": shown in the form
	Secret   bool   // write-only: served as "***"
	// File names a file; over HTTP it changes only as the paths section allows.
	File bool
	// Fixed keys never change over HTTP (the paths section).
	Fixed bool
	// Sound is "capture" or "playback" for a sound card's name: the form offers the
	// cards `voiced devices` lists.
	Sound string
	Help  string
}

// rng returns a Key's range fields.
func rng(lo, hi float64) (float64, float64, bool) { return lo, hi, true }

// Keys is every key of Config, in the order of the file.
var Keys = func() []Key {
	ks := []Key{
		{Path: "mode", Kind: String, Choices: []string{"push_to_talk", "continuous", "both"}, Help: "How a turn starts: the button, the voice (local VAD wake), or both."},
		{Path: "realtime.profile", Kind: String, Choices: []string{"openai", "azure", "yandex", "custom", "estuary", "selam"}, Help: "Who answers; fills the URL, auth header and session limits."},
		{Path: "realtime.url", Kind: String, Help: "The WebSocket endpoint (ws:// or wss://); empty takes the profile's default (openai only). It is where the API key is sent."},
		{Path: "realtime.model", Kind: String, Help: "The model (or deployment) name."},
		{Path: "realtime.dialect", Kind: String, Choices: []string{"", "ga", "beta"}, Help: "Protocol dialect; empty takes the profile's."},
		{Path: "realtime.api_key", Kind: String, Secret: true, Help: "The API key. Better kept in api_key_file or /etc/default/voiced."},
		{Path: "realtime.api_key_file", Kind: String, File: true, Help: "A file holding the API key (mode 0640, group voiced)."},
		{Path: "realtime.voice", Kind: String, Help: "The reply's voice (OpenAI: alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar)."},
		{Path: "realtime.instructions", Kind: String, Help: "The system prompt."},
		{Path: "realtime.language", Kind: String, Help: "Your language as an ISO-639-1 code (en, de...); empty lets the server guess."},
		{Path: "realtime.output_rate", Kind: Int, Unit: "Hz", Help: "Sample rate of the reply audio: 24000 for OpenAI and Azure, 44100 for Yandex."},
		{Path: "realtime.transcription.enabled", Kind: Bool, Help: "Transcripts of what you said (log and live view)."},
		{Path: "realtime.transcription.model", Kind: String, Help: "The transcription model."},
		{Path: "realtime.noise_reduction", Kind: String, Choices: []string{"none", "near_field", "far_field"}, Help: "Server-side noise reduction: near_field for a headset, far_field for a room microphone."},
		{Path: "realtime.turn_detection.type", Kind: String, Choices: []string{"local", "server_vad", "semantic_vad"}, Help: "Who decides you finished speaking in continuous mode."},
		{Path: "realtime.turn_detection.threshold", Kind: Float, Help: "server_vad: how loud speech must be, 0..1."},
		{Path: "realtime.turn_detection.prefix_padding_ms", Kind: Int, Unit: "ms", Help: "server_vad: audio kept before speech starts."},
		{Path: "realtime.turn_detection.silence_duration_ms", Kind: Int, Unit: "ms", Help: "server_vad: silence that ends a turn."},
		{Path: "realtime.turn_detection.eagerness", Kind: String, Choices: []string{"low", "medium", "high", "auto"}, Help: "semantic_vad: how soon it answers."},
		{Path: "realtime.turn_detection.create_response", Kind: Bool, Help: "The server answers when a turn ends."},
		{Path: "realtime.turn_detection.interrupt_response", Kind: Bool, Help: "The server stops its reply when you speak."},
		{Path: "realtime.turn_detection.idle_timeout_ms", Kind: Int, ZeroOff: true, Unit: "ms", Help: "server_vad: silence after which the server prompts; 0 is off."},
		{Path: "realtime.connection", Kind: String, Choices: []string{"always", "on_demand"}, Help: "Stay connected, or connect at the wake (audio meanwhile is buffered)."},
		{Path: "realtime.tools.builtin", Kind: List, Choices: []string{"time", "volume", "mute", "status", "set_timer", "cancel_timer", "list_timers", "expect_answer"}, Help: "Device tools the model may call, one a line."},
		{Path: "realtime.tools.webhooks", Kind: Objects, Help: "Tools that POST their arguments to a URL: a JSON list of {name, description, url, parameters, timeout_ms}."},
		{Path: "realtime.tools.server", Kind: Objects, Help: "Tools passed to the session as written (e.g. MCP): a JSON list of objects with a type."},
		{Path: "realtime.tools.timeout_ms", Kind: Int, Unit: "ms", Help: "How long a tool may take."},
		{Path: "realtime.estuary.server_url", Kind: String, Help: "Estuary (profile estuary): the service's http(s) base URL."},
		{Path: "realtime.estuary.character_id", Kind: String, Help: "Estuary: the character's id, from the Estuary dashboard."},
		{Path: "realtime.estuary.player_id", Kind: String, Help: "Estuary: the name this device goes by in the character's memory."},
		{Path: "realtime.selam.server_url", Kind: String, Help: "SelamGPT (profile selam): the service's http(s) base URL."},
		{Path: "realtime.selam.voice", Kind: String, Help: "SelamGPT: the voice that answers, e.g. mekdes."},
		{Path: "realtime.selam.language", Kind: String, Choices: []string{"", "en", "am", "so", "ti", "om"}, Help: "SelamGPT: English, Amharic, Somali, Tigrinya or Oromo; empty lets the service detect it."},
		{Path: "realtime.selam.vad_threshold", Kind: Int, Help: "SelamGPT: the service's own speech threshold; 0 keeps its default (600)."},
		{Path: "realtime.selam.interrupt_threshold", Kind: Int, Help: "SelamGPT: how readily your voice interrupts a reply; 0 keeps its default (8)."},
		{Path: "audio.capture.device", Kind: String, File: true, Sound: "capture", Help: "The microphone: default, hw:CARD=Name,DEV=0, plughw:1,0 or file:PATH.wav."},
		{Path: "audio.capture.rate", Kind: Int, Unit: "Hz", Help: "Sample rate asked of the microphone."},
		{Path: "audio.capture.channels", Kind: Int, Help: "Channels asked of the microphone."},
		{Path: "audio.capture.channel", Kind: String, Help: "Which microphone channel: mix, or a number from 0."},
		{Path: "audio.capture.period_ms", Kind: Int, Unit: "ms", Help: "Capture period."},
		{Path: "audio.capture.buffer_ms", Kind: Int, Unit: "ms", Help: "Capture buffer: at least two periods."},
		{Path: "audio.capture.volume", Kind: Int, Unit: "%", Help: "Microphone gain; 100 leaves it as the device gives it."},
		{Path: "audio.playback.device", Kind: String, File: true, Sound: "playback", Help: "The speaker: default, hw:CARD=Name,DEV=0, plughw:1,0 or file:PATH.wav."},
		{Path: "audio.playback.rate", Kind: Int, Unit: "Hz", Help: "Sample rate asked of the speaker."},
		{Path: "audio.playback.channels", Kind: Int, Help: "Channels asked of the speaker."},
		{Path: "audio.playback.channel", Kind: String, Help: "The reply plays on every channel."},
		{Path: "audio.playback.period_ms", Kind: Int, Unit: "ms", Help: "Playback period."},
		{Path: "audio.playback.buffer_ms", Kind: Int, Unit: "ms", Help: "Playback buffer: at least two periods."},
		{Path: "audio.playback.volume", Kind: Int, Unit: "%", Help: "The speaker's volume."},
		{Path: "audio.pre_roll_ms", Kind: Int, Unit: "ms", Help: "Audio before the wake sent too, so the first syllable is not lost."},
		{Path: "vad.engine", Kind: String, Choices: []string{"silero", "classic"}, Help: "What decides that someone speaks: silero (a neural network, hears people and not music or the kitchen) or classic (cheaper, fooled by music)."},
		{Path: "vad.gate", Kind: Bool, Help: "silero: the classic detector lets the network sleep in a quiet room, saving CPU."},
		{Path: "vad.sensitivity", Kind: Int, Help: "0 gives the fewest false wakes, 3 catches the quietest speech."},
		{Path: "vad.min_speech_ms", Kind: Int, Unit: "ms", Help: "Speech that wakes the device."},
		{Path: "vad.silence_ms", Kind: Int, Unit: "ms", Help: "Silence that ends a turn (turn_detection.type local)."},
		{Path: "wake.mode", Kind: String, Choices: []string{"vad", "word", "both"}, Help: "What wakes the device without the button: any speech (vad), only its name (word), or either (both)."},
		{Path: "wake.words", Kind: Objects, File: true, Help: "The wake words: a JSON list of {word, cutoff}, word a built-in (okay_nabu, hey_jarvis, hey_mycroft, alexa) or a model's .tflite path; cutoff 0 keeps the model's."},
		{Path: "wake.send_word", Kind: Bool, Help: "Send the wake word itself to the server with the question (off: only what follows it)."},
		{Path: "turn.listen_timeout_ms", Kind: Int, Unit: "ms", Help: "Without speech after a wake or press, back to waiting."},
		{Path: "turn.max_turn_ms", Kind: Int, Unit: "ms", Help: "The longest spoken turn."},
		{Path: "turn.follow_up_ms", Kind: Int, Unit: "ms", Help: "After a reply, listen again without a wake for this long; 0 is off."},
		{Path: "turn.continue_conversation", Kind: String, Choices: []string{"off", "auto"}, Help: "auto: when a reply asks you something, listen again without a wake or a press."},
		{Path: "turn.reply_timeout_ms", Kind: Int, Unit: "ms", Help: "Without a reply after a turn, give up with an error tone."},
		{Path: "barge_in.voice", Kind: Bool, Help: "Your voice may stop a reply (off: without echo cancellation the device may hear itself)."},
		{Path: "barge_in.echo_guard_ms", Kind: Int, Unit: "ms", Help: "After a reply, voice wake stays off this long."},
		{Path: "barge_in.min_speech_ms", Kind: Int, Unit: "ms", Help: "Speech that stops a reply (longer than vad.min_speech_ms: what is left of the reply's echo comes in short runs)."},
		{Path: "aec.enabled", Kind: Bool, Help: "Cancel the speaker's echo in the microphone (runs only while something was played)."},
		{Path: "aec.mode", Kind: String, Choices: []string{"software", "hardware"}, Help: "software: voiced cancels; hardware: the sound card already does, and voiced trusts it."},
		{Path: "aec.tail_ms", Kind: Int, Unit: "ms", Help: "How long an echo the canceller follows after the direct path (longer for a reverberant room)."},
		{Path: "gpio.enabled", Kind: Bool, Help: "Use a push button and a state LED."},
		{Path: "gpio.chip", Kind: String, Help: "The GPIO chip, e.g. gpiochip0."},
		{Path: "gpio.button.line", Kind: String, Help: "The button's line by number (17) or name (GPIO17); empty for none."},
		{Path: "gpio.button.active_low", Kind: Bool, Help: "The button pulls the line low when pressed."},
		{Path: "gpio.button.pull", Kind: String, Choices: []string{"up", "down", "none"}, Help: "The line's bias."},
		{Path: "gpio.button.debounce_ms", Kind: Int, Unit: "ms", Help: "Contact bounce ignored."},
		{Path: "gpio.button.long_press_ms", Kind: Int, Unit: "ms", Help: "A press this long is a long press."},
		{Path: "gpio.button.double_press_ms", Kind: Int, Unit: "ms", Help: "Two presses within this are a double press."},
		{Path: "gpio.led.line", Kind: String, Help: "The LED's line by number or name; empty for none."},
		{Path: "gpio.led.active_low", Kind: Bool, Help: "The LED lights when the line is low."},
		{Path: "http.listen", Kind: String, Help: "HOST:PORT of this page and the API; anything but loopback needs a token."},
		{Path: "http.token", Kind: String, Secret: true, Help: "The access token (at least 16 random characters, e.g. openssl rand -hex 16)."},
		{Path: "http.token_file", Kind: String, File: true, Help: "A file holding the access token."},
		{Path: "http.allowed_hosts", Kind: List, Help: "Names this device may be reached by besides its addresses, one a line (e.g. kitchen.local)."},
		{Path: "http.mdns_name", Kind: String, Help: "The name announced over mDNS (NAME.local) when listening on the network; empty takes the host name."},
		{Path: "earcons.enabled", Kind: Bool, Help: "Short tones at listening start and end, errors and mute."},
		{Path: "earcons.volume", Kind: Int, Unit: "%", Help: "Their level, before the speaker's volume."},
		{Path: "log.level", Kind: String, Choices: []string{"debug", "info", "warn", "error"}, Help: "How much the journal gets."},
		{Path: "log.transcripts", Kind: Bool, Help: "Log what was said (private: off by default)."},
		{Path: "paths.audio_dirs", Kind: List, Fixed: true, Help: "Where file: devices named over HTTP may be (only the config file sets this)."},
		{Path: "paths.secret_dirs", Kind: List, Fixed: true, Help: "Where key and token files named over HTTP may be (only the config file sets this)."},
		{Path: "paths.state_dir", Kind: String, Fixed: true, Help: "Where timers are kept across restarts (absolute; only the config file sets this)."},
		{Path: "paths.http_changes", Kind: Bool, Fixed: true, Help: "Whether HTTP may change file devices and secret files at all (only the config file sets this)."},
	}
	ranges := map[string][2]float64{
		"realtime.output_rate":                        {8000, 48000},
		"realtime.turn_detection.threshold":           {0, 1},
		"realtime.turn_detection.prefix_padding_ms":   {0, 2000},
		"realtime.turn_detection.silence_duration_ms": {100, 5000},
		"realtime.turn_detection.idle_timeout_ms":     {5000, 30000},
		"realtime.tools.timeout_ms":                   {100, 60000},
		"audio.capture.channels":                      {1, 8},
		"audio.capture.period_ms":                     {5, 100},
		"audio.capture.buffer_ms":                     {10, 1000},
		"audio.capture.volume":                        {10, 400},
		"audio.playback.channels":                     {1, 8},
		"audio.playback.period_ms":                    {5, 100},
		"audio.playback.buffer_ms":                    {10, 1000},
		"audio.playback.volume":                       {0, 100},
		"audio.pre_roll_ms":                           {0, 1000},
		"vad.sensitivity":                             {0, 3},
		"vad.min_speech_ms":                           {30, 1000},
		"aec.tail_ms":                                 {32, 512},
		"vad.silence_ms":                              {200, 5000},
		"turn.listen_timeout_ms":                      {1000, 60000},
		"turn.max_turn_ms":                            {2000, 300000},
		"turn.follow_up_ms":                           {0, 30000},
		"turn.reply_timeout_ms":                       {2000, 120000},
		"barge_in.echo_guard_ms":                      {0, 5000},
		"barge_in.min_speech_ms":                      {30, 2000},
		"gpio.button.debounce_ms":                     {0, 200},
		"gpio.button.long_press_ms":                   {300, 10000},
		"gpio.button.double_press_ms":                 {0, 1000},
		"earcons.volume":                              {0, 100},
	}
	rates := []string{"8000", "11025", "16000", "22050", "24000", "32000", "44100", "48000", "96000"}
	for i := range ks {
		k := &ks[i]
		if r, ok := ranges[k.Path]; ok {
			k.Min, k.Max, k.Ranged = rng(r[0], r[1])
		}
		if k.Path == "audio.capture.rate" || k.Path == "audio.playback.rate" {
			k.Choices = rates
		}
	}
	return ks
}()

// KeyOf returns the description of a key by its path.
func KeyOf(path string) (Key, bool) {
	i := slices.IndexFunc(Keys, func(k Key) bool { return k.Path == path })
	if i < 0 {
		return Key{}, false
	}
	return Keys[i], true
}

// Field is the value of a key in c, addressable when c is; ok is false for a path
// Config does not have.
func (c *Config) Field(path string) (v reflect.Value, ok bool) {
	v = reflect.ValueOf(c).Elem()
	for name := range strings.SplitSeq(path, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		i, found := fieldsOf(v.Type())[name]
		if !found {
			return reflect.Value{}, false
		}
		v = v.Field(i)
	}
	return v, true
}

// LeafPaths lists every leaf of Config by path: structs are walked, anything else
// (scalars, lists, maps) is a leaf.
func LeafPaths() []string {
	var out []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			p := join(prefix, name)
			if f.Type.Kind() == reflect.Struct {
				walk(p, f.Type)
				continue
			}
			out = append(out, p)
		}
	}
	walk("", reflect.TypeFor[Config]())
	return out
}

// Default is the key's documented default, as the form shows it.
func (k Key) Default() string {
	d := Default()
	v, ok := d.Field(k.Path)
	if !ok {
		return ""
	}
	return FormatValue(v)
}

// FormatValue writes a scalar as the form and the docs show it; a list of strings one a
// line; anything else as JSON-like Go syntax is never needed, so lists of objects read "".
func FormatValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String {
			return strings.Join(v.Interface().([]string), "\n")
		}
	}
	return ""
}

// checkKeys is the validator's part that keys (Keys) describe: ranges and choices.
func (v *validator) checkKeys(c *Config, keys []Key) {
	for _, k := range keys {
		f, ok := c.Field(k.Path)
		if !ok {
			continue
		}
		switch k.Kind {
		case Int, Float:
			x := f.Convert(reflect.TypeFor[float64]()).Float()
			if k.Choices != nil {
				if !slices.Contains(k.Choices, FormatValue(f)) {
					v.add(k.Path, "%s is not one of %s", FormatValue(f), strings.Join(k.Choices, ", "))
				}
			} else if k.Ranged && !(k.ZeroOff && x == 0) && (x < k.Min || x > k.Max) {
				v.add(k.Path, "%s is out of range %s", FormatValue(f), k.RangeText())
			}
		case String:
			if k.Choices != nil {
				v.oneOf(k.Path, f.String(), k.Choices...)
			}
		case List:
			if k.Choices != nil {
				for i, s := range f.Interface().([]string) {
					v.oneOf(fmt.Sprintf("%s[%d]", k.Path, i), s, k.Choices...)
				}
			}
		}
	}
}

// RangeText is "lo..hi" (with "0 or" for keys where 0 is off).
func (k Key) RangeText() string {
	s := strconv.FormatFloat(k.Min, 'g', -1, 64) + ".." + strconv.FormatFloat(k.Max, 'g', -1, 64)
	if k.ZeroOff {
		s = "0 or " + s
	}
	return s
}
