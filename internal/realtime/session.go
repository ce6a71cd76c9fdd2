package realtime

import (
	"encoding/json"
	"fmt"
)

// Session is the session configuration voiced asks for. The zero value is
// a push-to-talk session with the server's defaults at 24 kHz.
type Session struct {
	// Model is sent in session.update (GA only); the URL usually names it.
	Model        string
	Instructions string
	Voice        string
	// InputRate and OutputRate are the PCM16 rates; 0 means 24000.
	InputRate  int
	OutputRate int
	// Speed of the spoken reply (GA), 0.25 to 1.5; 0 leaves the default.
	Speed float64
	// Transcription of the user's audio; nil turns it off.
	Transcription *Transcription
	// NoiseReduction is "", "near_field" or "far_field".
	NoiseReduction string
	// TurnDetection nil means push-to-talk: the client commits and asks for
	// a response itself.
	TurnDetection *TurnDetection
	// Tools are function definitions; the client adds those of its registry.
	Tools []ToolDef
	// RawTools are server-side tool definitions passed through verbatim
	// (for example {"type":"mcp",...}); the server runs them.
	RawTools []json.RawMessage
	// ToolChoice is "auto", "none" or "required"; empty leaves the default.
	ToolChoice string
	// MaxOutputTokens limits a response; 0 leaves the default.
	MaxOutputTokens int
}

// Transcription configures input audio transcription.
type Transcription struct {
	Model    string `json:"model,omitempty"`
	Language string `json:"language,omitempty"`
	Prompt   string `json:"prompt,omitempty"`
}

// Turn detection types.
const (
	ServerVAD   = "server_vad"
	SemanticVAD = "semantic_vad"
)

// TurnDetection configures the server's voice activity detection.
type TurnDetection struct {
	Type string // ServerVAD or SemanticVAD
	// server_vad
	Threshold         float64
	PrefixPaddingMs   int
	SilenceDurationMs int
	IdleTimeoutMs     int
	// semantic_vad: low, medium, high or auto
	Eagerness string
	// Both; nil leaves the server's default (true).
	CreateResponse    *bool
	InterruptResponse *bool
}

// ToolDef is a function the model may call.
type ToolDef struct {
	Name        string
	Description string
	// Parameters is a JSON Schema object; nil means no parameters.
	Parameters json.RawMessage
}

// Validate reports the first setting that cannot work, naming it.
func (s Session) Validate() error {
	for _, r := range []struct {
		name string
		v    int
	}{{"input_rate", s.InputRate}, {"output_rate", s.OutputRate}} {
		if r.v != 0 && (r.v < 8000 || r.v > 48000) {
			return fmt.Errorf("realtime: session %s %d: want 8000 to 48000", r.name, r.v)
		}
	}
	if s.Speed != 0 && (s.Speed < 0.25 || s.Speed > 1.5) {
		return fmt.Errorf("realtime: session speed %g: want 0.25 to 1.5", s.Speed)
	}
	switch s.NoiseReduction {
	case "", "near_field", "far_field":
	default:
		return fmt.Errorf("realtime: session noise_reduction %q: want near_field, far_field or empty", s.NoiseReduction)
	}
	if td := s.TurnDetection; td != nil {
		switch td.Type {
		case ServerVAD:
			if td.Threshold < 0 || td.Threshold > 1 {
				return fmt.Errorf("realtime: turn_detection threshold %g: want 0 to 1", td.Threshold)
			}
			if td.IdleTimeoutMs != 0 && (td.IdleTimeoutMs < 5000 || td.IdleTimeoutMs > 30000) {
				return fmt.Errorf("realtime: turn_detection idle_timeout_ms %d: want 5000 to 30000", td.IdleTimeoutMs)
			}
			if td.PrefixPaddingMs < 0 || td.SilenceDurationMs < 0 {
				return fmt.Errorf("realtime: turn_detection prefix_padding_ms/silence_duration_ms: must not be negative")
			}
		case SemanticVAD:
			switch td.Eagerness {
			case "", "low", "medium", "high", "auto":
			default:
				return fmt.Errorf("realtime: turn_detection eagerness %q: want low, medium, high or auto", td.Eagerness)
			}
		default:
			return fmt.Errorf("realtime: turn_detection type %q: want server_vad or semantic_vad", td.Type)
		}
	}
	for i, t := range s.Tools {
		if t.Name == "" {
			return fmt.Errorf("realtime: tool %d: name is empty", i)
		}
		if t.Parameters != nil && !json.Valid(t.Parameters) {
			return fmt.Errorf("realtime: tool %s: parameters are not valid JSON", t.Name)
		}
	}
	for i, t := range s.RawTools {
		if !json.Valid(t) {
			return fmt.Errorf("realtime: raw tool %d: not valid JSON", i)
		}
	}
	return nil
}

func rateOr24k(r int) int {
	if r == 0 {
		return 24000
	}
	return r
}

// Wire shapes. GA nests audio settings under audio.input/output; beta
// keeps them flat.

type wireFormat struct {
	Type string `json:"type"`
	Rate int    `json:"rate,omitempty"`
}

type wireNoise struct {
	Type string `json:"type"`
}

type wireTurn struct {
	Type              string   `json:"type"`
	Threshold         *float64 `json:"threshold,omitempty"`
	PrefixPaddingMs   *int     `json:"prefix_padding_ms,omitempty"`
	SilenceDurationMs *int     `json:"silence_duration_ms,omitempty"`
	IdleTimeoutMs     *int     `json:"idle_timeout_ms,omitempty"`
	Eagerness         string   `json:"eagerness,omitempty"`
	CreateResponse    *bool    `json:"create_response,omitempty"`
	InterruptResponse *bool    `json:"interrupt_response,omitempty"`
}

type wireTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

type gaAudioIn struct {
	Format         wireFormat     `json:"format"`
	Transcription  *Transcription `json:"transcription,omitempty"`
	NoiseReduction *wireNoise     `json:"noise_reduction,omitempty"`
	TurnDetection  *wireTurn      `json:"turn_detection"` // null is push-to-talk
}

type gaAudioOut struct {
	Format wireFormat `json:"format"`
	Voice  string     `json:"voice,omitempty"`
	Speed  float64    `json:"speed,omitempty"`
}

type gaSession struct {
	Type             string            `json:"type"`
	Model            string            `json:"model,omitempty"`
	Instructions     string            `json:"instructions,omitempty"`
	OutputModalities []string          `json:"output_modalities"`
	Audio            gaAudio           `json:"audio"`
	Tools            []json.RawMessage `json:"tools,omitempty"`
	ToolChoice       string            `json:"tool_choice,omitempty"`
	MaxOutputTokens  int               `json:"max_output_tokens,omitempty"`
}

type gaAudio struct {
	Input  gaAudioIn  `json:"input"`
	Output gaAudioOut `json:"output"`
}

type betaSession struct {
	Modalities              []string          `json:"modalities"`
	Instructions            string            `json:"instructions,omitempty"`
	Voice                   string            `json:"voice,omitempty"`
	InputAudioFormat        string            `json:"input_audio_format"`
	OutputAudioFormat       string            `json:"output_audio_format"`
	InputAudioTranscription *Transcription    `json:"input_audio_transcription,omitempty"`
	InputAudioNoise         *wireNoise        `json:"input_audio_noise_reduction,omitempty"`
	TurnDetection           *wireTurn         `json:"turn_detection"`
	Tools                   []json.RawMessage `json:"tools,omitempty"`
	ToolChoice              string            `json:"tool_choice,omitempty"`
	MaxResponseOutputTokens int               `json:"max_response_output_tokens,omitempty"`
}

func (td *TurnDetection) wire() *wireTurn {
	if td == nil {
		return nil
	}
	w := &wireTurn{Type: td.Type, CreateResponse: td.CreateResponse, InterruptResponse: td.InterruptResponse}
	if td.Type == SemanticVAD {
		w.Eagerness = td.Eagerness
		return w
	}
	if td.Threshold != 0 {
		w.Threshold = &td.Threshold
	}
	if td.PrefixPaddingMs != 0 {
		w.PrefixPaddingMs = &td.PrefixPaddingMs
	}
	if td.SilenceDurationMs != 0 {
		w.SilenceDurationMs = &td.SilenceDurationMs
	}
	if td.IdleTimeoutMs != 0 {
		w.IdleTimeoutMs = &td.IdleTimeoutMs
	}
	return w
}

func (s *Session) wireTools() ([]json.RawMessage, error) {
	var out []json.RawMessage
	for _, t := range s.Tools {
		params := t.Parameters
		if params == nil {
			params = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		b, err := json.Marshal(wireTool{Type: "function", Name: t.Name, Description: t.Description, Parameters: params})
		if err != nil {
			return nil, fmt.Errorf("encode tool %s: %w", t.Name, err)
		}
		out = append(out, b)
	}
	return append(out, s.RawTools...), nil
}

// wire returns the session object of session.update in dialect d.
func (s *Session) wire(d Dialect) (any, error) {
	tools, err := s.wireTools()
	if err != nil {
		return nil, err
	}
	var noise *wireNoise
	if s.NoiseReduction != "" {
		noise = &wireNoise{Type: s.NoiseReduction}
	}
	if d == Beta {
		// Beta has no rate field: pcm16 is 24 kHz by definition.
		return betaSession{
			Modalities: []string{"audio", "text"}, Instructions: s.Instructions, Voice: s.Voice,
			InputAudioFormat: "pcm16", OutputAudioFormat: "pcm16",
			InputAudioTranscription: s.Transcription, InputAudioNoise: noise,
			TurnDetection: s.TurnDetection.wire(), Tools: tools, ToolChoice: s.ToolChoice,
			MaxResponseOutputTokens: s.MaxOutputTokens,
		}, nil
	}
	return gaSession{
		Type: "realtime", Model: s.Model, Instructions: s.Instructions,
		OutputModalities: []string{"audio"},
		Audio: gaAudio{
			Input: gaAudioIn{
				Format:        wireFormat{Type: "audio/pcm", Rate: rateOr24k(s.InputRate)},
				Transcription: s.Transcription, NoiseReduction: noise,
				TurnDetection: s.TurnDetection.wire(),
			},
			Output: gaAudioOut{
				Format: wireFormat{Type: "audio/pcm", Rate: rateOr24k(s.OutputRate)},
				Voice:  s.Voice, Speed: s.Speed,
			},
		},
		Tools: tools, ToolChoice: s.ToolChoice, MaxOutputTokens: s.MaxOutputTokens,
	}, nil
}
