package config

// DefaultPath is where the packaged daemon reads its configuration.
const DefaultPath = "/etc/voiced/voiced.yaml"

// Redaction is what a secret reads as when config is printed or served.
const Redaction = "***"

// Config is everything voiced can be told. The yaml/json names are the field paths users,
// scripts and the HTTP API rely on; keep them stable.
type Config struct {
	// Mode is how a turn starts: push_to_talk (the button), continuous (voice wake by the
	// local VAD) or both.
	Mode     string   `yaml:"mode" json:"mode"`
	Realtime Realtime `yaml:"realtime" json:"realtime"`
	Audio    Audio    `yaml:"audio" json:"audio"`
	VAD      VAD      `yaml:"vad" json:"vad"`
	Wake     Wake     `yaml:"wake" json:"wake"`
	Turn     Turn     `yaml:"turn" json:"turn"`
	BargeIn  BargeIn  `yaml:"barge_in" json:"barge_in"`
	AEC      AEC      `yaml:"aec" json:"aec"`
	GPIO     GPIO     `yaml:"gpio" json:"gpio"`
	HTTP     HTTP     `yaml:"http" json:"http"`
	Earcons  Earcons  `yaml:"earcons" json:"earcons"`
	Log      Log      `yaml:"log" json:"log"`
	Paths    Paths    `yaml:"paths" json:"paths"`
}

// Realtime configures the speech-to-speech backend.
type Realtime struct {
	// Profile names the service. openai, azure, yandex and custom speak the OpenAI
	// Realtime protocol and fill its URL, auth header and limits; estuary and selam are
	// the Socket.IO voice-agent services, set up by the section of their name. The API
	// key (api_key, api_key_file, $VOICED_API_KEY) is the key of whichever it names.
	Profile string `yaml:"profile" json:"profile"`
	// URL of the WebSocket endpoint; empty takes the profile's default (openai only).
	URL   string `yaml:"url" json:"url"`
	Model string `yaml:"model" json:"model"`
	// Dialect is ga or beta; empty takes the profile's.
	Dialect    string `yaml:"dialect" json:"dialect"`
	APIKey     string `yaml:"api_key" json:"api_key"`
	APIKeyFile string `yaml:"api_key_file" json:"api_key_file"`
	Voice      string `yaml:"voice" json:"voice"`
	// Instructions is the system prompt.
	Instructions string `yaml:"instructions" json:"instructions"`
	// Language hints transcription (ISO-639-1, e.g. "en"); empty lets the server guess.
	Language string `yaml:"language" json:"language"`
	// OutputRate is the reply audio's sample rate; 24000 for OpenAI, 44100 for Yandex.
	OutputRate     int           `yaml:"output_rate" json:"output_rate"`
	Transcription  Transcription `yaml:"transcription" json:"transcription"`
	NoiseReduction string        `yaml:"noise_reduction" json:"noise_reduction"`
	TurnDetection  TurnDetection `yaml:"turn_detection" json:"turn_detection"`
	// Connection is always (connect at start and stay connected) or on_demand (connect at
	// wake; audio captured meanwhile is buffered).
	Connection string `yaml:"connection" json:"connection"`
	Tools      Tools  `yaml:"tools" json:"tools"`
	// Estuary and Selam are read only with the profile of their name.
	Estuary Estuary `yaml:"estuary" json:"estuary"`
	Selam   Selam   `yaml:"selam" json:"selam"`
}

// Estuary is an Estuary AI character (profile estuary).
type Estuary struct {
	// ServerURL is the service's http(s) base URL; the Socket.IO path and namespace are
	// added by voiced.
	ServerURL   string `yaml:"server_url" json:"server_url"`
	CharacterID string `yaml:"character_id" json:"character_id"`
	// PlayerID names this device to the character's memory.
	PlayerID string `yaml:"player_id" json:"player_id"`
}

// Selam is SelamGPT's Voice Agent (profile selam).
type Selam struct {
	ServerURL string `yaml:"server_url" json:"server_url"`
	Voice     string `yaml:"voice" json:"voice"`
	// Language is en, am, so, ti or om; empty lets the service detect it.
	Language string `yaml:"language" json:"language"`
	// VADThreshold and InterruptThreshold are the service's own; 0 keeps its
	// defaults (600 and 8).
	VADThreshold       int `yaml:"vad_threshold" json:"vad_threshold"`
	InterruptThreshold int `yaml:"interrupt_threshold" json:"interrupt_threshold"`
}

// Transcription of the user's speech (shown in logs and /v1/events).
type Transcription struct {
	Enabled bool   `yaml:"enabled" json:"enabled"`
	Model   string `yaml:"model" json:"model"`
}

// TurnDetection decides who ends a spoken turn in continuous mode. Push-to-talk turns
// always end at the button's release.
type TurnDetection struct {
	// Type is local (the device's VAD ends the turn), server_vad or semantic_vad.
	Type              string  `yaml:"type" json:"type"`
	Threshold         float64 `yaml:"threshold" json:"threshold"`
	PrefixPaddingMs   int     `yaml:"prefix_padding_ms" json:"prefix_padding_ms"`
	SilenceDurationMs int     `yaml:"silence_duration_ms" json:"silence_duration_ms"`
	// Eagerness is for semantic_vad: low, medium, high or auto.
	Eagerness         string `yaml:"eagerness" json:"eagerness"`
	CreateResponse    bool   `yaml:"create_response" json:"create_response"`
	InterruptResponse bool   `yaml:"interrupt_response" json:"interrupt_response"`
	IdleTimeoutMs     int    `yaml:"idle_timeout_ms" json:"idle_timeout_ms"`
}

// Tools the model may call.
type Tools struct {
	// Builtin device tools to offer: time, volume, mute, status, set_timer,
	// cancel_timer, list_timers, expect_answer.
	Builtin  []string  `yaml:"builtin" json:"builtin"`
	Webhooks []Webhook `yaml:"webhooks" json:"webhooks"`
	// Server tools are passed to the session as written (e.g. MCP tools).
	Server    []map[string]any `yaml:"server" json:"server"`
	TimeoutMs int              `yaml:"timeout_ms" json:"timeout_ms"`
}

// Webhook is a tool that POSTs its arguments as JSON to URL and returns the body.
type Webhook struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
	URL         string `yaml:"url" json:"url"`
	// Parameters is the JSON Schema of the arguments.
	Parameters map[string]any `yaml:"parameters" json:"parameters"`
	TimeoutMs  int            `yaml:"timeout_ms" json:"timeout_ms"`
}

// Audio devices.
type Audio struct {
	Capture  Device `yaml:"capture" json:"capture"`
	Playback Device `yaml:"playback" json:"playback"`
	// PreRollMs of audio before the wake is sent too, so the first syllable is not lost.
	PreRollMs int `yaml:"pre_roll_ms" json:"pre_roll_ms"`
}

// Device is one ALSA PCM (or a WAV file, "file:PATH.wav").
type Device struct {
	// Device is hw:CARD=Name,DEV=N, hw:N,M, plughw:..., default or file:PATH.wav.
	Device   string `yaml:"device" json:"device"`
	Rate     int    `yaml:"rate" json:"rate"`
	Channels int    `yaml:"channels" json:"channels"`
	// Channel picks the microphone channel of a multi-channel device: mix, or 0..7.
	Channel  string `yaml:"channel" json:"channel"`
	PeriodMs int    `yaml:"period_ms" json:"period_ms"`
	BufferMs int    `yaml:"buffer_ms" json:"buffer_ms"`
	// Volume in percent: the speaker's volume (0..100), or the microphone's gain
	// (10..400; 100 leaves it as the device gives it).
	Volume int `yaml:"volume" json:"volume"`
}

// VAD is the local voice activity detector.
type VAD struct {
	// Engine makes the speech decisions: silero (a neural network, the
	// default) or classic (the smaller detector of package vad).
	Engine string `yaml:"engine" json:"engine"`
	// Gate lets the classic detector put the network to sleep while it hears
	// nothing (silero only): less CPU in a quiet room. On by default.
	Gate bool `yaml:"gate" json:"gate"`
	// Sensitivity 0 (fewest false wakes) .. 3 (catches the quietest speech).
	Sensitivity int `yaml:"sensitivity" json:"sensitivity"`
	// MinSpeechMs of speech wakes the device.
	MinSpeechMs int `yaml:"min_speech_ms" json:"min_speech_ms"`
	// SilenceMs of silence ends a turn (turn_detection.type local).
	SilenceMs int `yaml:"silence_ms" json:"silence_ms"`
}

// Wake is what wakes the device hands-free.
type Wake struct {
	// Mode is vad (any speech, when mode is continuous or both), word (only a wake word,
	// in every mode) or both.
	Mode string `yaml:"mode" json:"mode"`
	// Words are listened for when Mode is word or both; any of them wakes the device.
	Words []WakeWord `yaml:"words" json:"words"`
	// SendWord sends the wake word itself to the server with the question; by default
	// only what follows it is sent.
	SendWord bool `yaml:"send_word" json:"send_word"`
}

// WakeWord is one wake word. In YAML a bare string is the Word alone.
type WakeWord struct {
	// Word is a built-in model (okay_nabu, hey_jarvis, hey_mycroft, alexa) or the path
	// of a microWakeWord v2 model's .tflite or .json file, the other beside it.
	Word string `yaml:"word" json:"word"`
	// Cutoff overrides the model's probability cutoff (0..1, higher wakes less often);
	// 0 keeps the model's.
	Cutoff float64 `yaml:"cutoff" json:"cutoff"`
}

// Turn timing.
type Turn struct {
	// ListenTimeoutMs without speech after a wake or press returns to waiting.
	ListenTimeoutMs int `yaml:"listen_timeout_ms" json:"listen_timeout_ms"`
	// MaxTurnMs caps one spoken turn.
	MaxTurnMs int `yaml:"max_turn_ms" json:"max_turn_ms"`
	// FollowUpMs after a reply the device listens again without a wake or a press, in
	// every mode; 0 turns it off.
	FollowUpMs int `yaml:"follow_up_ms" json:"follow_up_ms"`
	// ContinueConversation is auto (a reply that ends with a question, or whose model
	// said it expects an answer, opens a turn by itself) or off.
	ContinueConversation string `yaml:"continue_conversation" json:"continue_conversation"`
	// ReplyTimeoutMs without a reply after a turn gives up with an error earcon.
	ReplyTimeoutMs int `yaml:"reply_timeout_ms" json:"reply_timeout_ms"`
}

// BargeIn is interrupting the reply.
type BargeIn struct {
	// Voice lets the user's speech stop a reply. Off by default: without echo
	// cancellation the device may hear itself. The button always interrupts.
	Voice bool `yaml:"voice" json:"voice"`
	// EchoGuardMs after a reply during which voice wake stays off.
	EchoGuardMs int `yaml:"echo_guard_ms" json:"echo_guard_ms"`
	// MinSpeechMs of speech starts a barge-in while the echo guard is on,
	// in place of vad.min_speech_ms.
	MinSpeechMs int `yaml:"min_speech_ms" json:"min_speech_ms"`
}

// AEC is the echo canceller: what the speaker plays is taken out of what the
// microphone hears, before the voice detector and before the uplink.
type AEC struct {
	// Enabled turns it on (the default); it runs only when a playback device is open.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Mode is software (voiced cancels) or hardware (the codec already does, and
	// voiced trusts it: no canceller, no echo guard).
	Mode string `yaml:"mode" json:"mode"`
	// TailMs is the echo tail the filter covers after the direct path, 32..512.
	TailMs int `yaml:"tail_ms" json:"tail_ms"`
}

// GPIO is the push button and the state LED.
type GPIO struct {
	Enabled bool      `yaml:"enabled" json:"enabled"`
	Chip    string    `yaml:"chip" json:"chip"`
	Button  GPIOInput `yaml:"button" json:"button"`
	LED     GPIOLED   `yaml:"led" json:"led"`
}

// GPIOInput is the push button's line.
type GPIOInput struct {
	// Line by number ("17") or name ("GPIO17"); empty means no button.
	Line          string `yaml:"line" json:"line"`
	ActiveLow     bool   `yaml:"active_low" json:"active_low"`
	Pull          string `yaml:"pull" json:"pull"`
	DebounceMs    int    `yaml:"debounce_ms" json:"debounce_ms"`
	LongPressMs   int    `yaml:"long_press_ms" json:"long_press_ms"`
	DoublePressMs int    `yaml:"double_press_ms" json:"double_press_ms"`
}

// GPIOLED is the state LED's line.
type GPIOLED struct {
	// Line by number or name; empty means no LED.
	Line      string `yaml:"line" json:"line"`
	ActiveLow bool   `yaml:"active_low" json:"active_low"`
}

// HTTP is the local control endpoint.
type HTTP struct {
	// Listen address; empty disables the endpoint. Any address other than loopback needs a token.
	Listen    string `yaml:"listen" json:"listen"`
	Token     string `yaml:"token" json:"token"`
	TokenFile string `yaml:"token_file" json:"token_file"`
	// AllowedHosts are the names (or addresses) clients may reach the endpoint by, besides
	// loopback names and addresses, the listen address and the address a request came in
	// on. Any other Host header is refused, which defeats DNS rebinding.
	AllowedHosts []string `yaml:"allowed_hosts" json:"allowed_hosts"`
	// MDNSName is announced over mDNS as NAME.local when Listen is not loopback; empty
	// takes the host name.
	MDNSName string `yaml:"mdns_name" json:"mdns_name"`
}

// Paths bounds the files a change over HTTP may make voiced read or write. The config file
// and the command line are trusted as they are (whoever edits them can read these files
// anyway); the HTTP endpoint is not, and can never change this section.
type Paths struct {
	// AudioDirs hold the WAV files an HTTP change may name as file:PATH devices.
	AudioDirs []string `yaml:"audio_dirs" json:"audio_dirs"`
	// SecretDirs hold the files an HTTP change may name as realtime.api_key_file or
	// http.token_file.
	SecretDirs []string `yaml:"secret_dirs" json:"secret_dirs"`
	// StateDir keeps what must outlive a restart (timers); "" keeps it in memory only.
	// The systemd unit's StateDirectory makes /var/lib/voiced.
	StateDir string `yaml:"state_dir" json:"state_dir"`
	// HTTPChanges lets PUT and PATCH /v1/config change file: devices, api_key_file and
	// token_file at all (within the directories above). Off by default.
	HTTPChanges bool `yaml:"http_changes" json:"http_changes"`
}

// Earcons are the short tones at listening start and end, errors and mute.
type Earcons struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Volume in percent of their standard level (which sits well below speech), before
	// the speaker's volume applies.
	Volume int `yaml:"volume" json:"volume"`
}

// Log settings.
type Log struct {
	Level string `yaml:"level" json:"level"`
	// Transcripts logs what was said (off by default: it is private).
	Transcripts bool `yaml:"transcripts" json:"transcripts"`
}

// Default returns the documented defaults: a push-to-talk and voice-wake device on the
// first sound card, talking to OpenAI.
func Default() Config {
	return Config{
		Mode: "both",
		Realtime: Realtime{
			Profile:        "openai",
			Model:          "gpt-realtime",
			Voice:          "marin",
			Instructions:   "You are a helpful voice assistant. Answer briefly, in the language you are spoken to.",
			OutputRate:     24000,
			Transcription:  Transcription{Enabled: true, Model: "gpt-4o-mini-transcribe"},
			NoiseReduction: "far_field",
			TurnDetection: TurnDetection{
				Type: "local", Threshold: 0.5, PrefixPaddingMs: 300, SilenceDurationMs: 600,
				Eagerness: "auto", CreateResponse: true, InterruptResponse: true,
			},
			Connection: "always",
			Tools:      Tools{Builtin: []string{"time", "volume", "mute", "status", "set_timer", "cancel_timer", "list_timers", "expect_answer"}, TimeoutMs: 5000},
			Estuary:    Estuary{ServerURL: "https://api.estuary-ai.com", PlayerID: "voiced"},
			Selam:      Selam{ServerURL: "https://api.selamgpt.com", Voice: "mekdes"},
		},
		Audio: Audio{
			Capture:   Device{Device: "default", Rate: 16000, Channels: 1, Channel: "mix", PeriodMs: 20, BufferMs: 100, Volume: 100},
			Playback:  Device{Device: "default", Rate: 48000, Channels: 2, Channel: "mix", PeriodMs: 20, BufferMs: 80, Volume: 80},
			PreRollMs: 300,
		},
		VAD:     VAD{Engine: "silero", Gate: true, Sensitivity: 1, MinSpeechMs: 150, SilenceMs: 700},
		Wake:    Wake{Mode: "vad", Words: []WakeWord{{Word: "okay_nabu"}}},
		Turn:    Turn{ListenTimeoutMs: 8000, MaxTurnMs: 30000, FollowUpMs: 0, ReplyTimeoutMs: 15000, ContinueConversation: "off"},
		BargeIn: BargeIn{Voice: false, EchoGuardMs: 800, MinSpeechMs: 400},
		AEC:     AEC{Enabled: true, Mode: "software", TailMs: 128},
		GPIO: GPIO{
			Enabled: true, Chip: "gpiochip0",
			Button: GPIOInput{Line: "GPIO17", ActiveLow: true, Pull: "up", DebounceMs: 20, LongPressMs: 1500, DoublePressMs: 400},
			LED:    GPIOLED{Line: "GPIO27"},
		},
		HTTP:    HTTP{Listen: "127.0.0.1:8088"},
		Earcons: Earcons{Enabled: true, Volume: 100},
		Log:     Log{Level: "info"},
		Paths:   Paths{AudioDirs: []string{"/var/lib/voiced"}, SecretDirs: []string{"/etc/voiced"}, StateDir: "/var/lib/voiced"},
	}
}
