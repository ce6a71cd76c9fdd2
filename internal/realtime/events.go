package realtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event is a server event or a connection state change, delivered on
// Client.Events. Switch on the concrete pointer type.
type Event interface{ isEvent() }

// Header is common to every server event.
type Header struct {
	Type    string `json:"type"`
	EventID string `json:"event_id"`
}

func (*Header) isEvent() {}

// APIError is the error object of an error event (and of failed
// transcriptions and responses).
type APIError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param"`
	EventID string `json:"event_id"` // the client event that caused it
}

func (e *APIError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("realtime: server error %s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("realtime: server error %s: %s", e.Type, e.Message)
}

// Error codes a voice device handles (and voiced-sim sends).
const (
	CodeSessionExpired       = "session_expired"
	CodeActiveResponse       = "conversation_already_has_active_response"
	CodeCommitEmpty          = "input_audio_buffer_commit_empty"
	CodeCancelNotActive      = "response_cancel_not_active"
	CodeInvalidAPIKey        = "invalid_api_key"
	CodeInsufficientQuota    = "insufficient_quota"
	CodeBetaAPIShapeDisabled = "beta_api_shape_disabled"
	CodeInvalidEvent         = "invalid_event"
	CodeInvalidJSON          = "invalid_json"
	CodeInvalidValue         = "invalid_value"
)

// Wire names used by the client.
const (
	errTypeAuthentication    = "authentication_error"
	contentInputText         = "input_text"
	contentOutputText        = "output_text"
	contentBetaText          = "text"
	itemMessage              = "message"
	itemFunctionCallOutput   = "function_call_output"
	roleUser                 = "user"
	roleAssistant            = "assistant"
	typeResponseCreate       = "response.create"
	typeResponseCancel       = "response.cancel"
	typeSessionUpdate        = "session.update"
	typeCommit               = "input_audio_buffer.commit"
	typeAppend               = "input_audio_buffer.append"
	typeClear                = "input_audio_buffer.clear"
	typeItemCreate           = "conversation.item.create"
	typeItemTruncate         = "conversation.item.truncate"
	typeOutputAudioDeltaGA   = "response.output_audio.delta"
	typeOutputAudioDeltaBeta = "response.audio.delta"
)

// Fatal reports whether the error means retrying soon is pointless.
func (e *APIError) Fatal() bool {
	return e.Code == CodeInvalidAPIKey || e.Code == CodeInsufficientQuota ||
		e.Type == errTypeAuthentication || e.Code == CodeBetaAPIShapeDisabled
}

// Content is one part of an item.
type Content struct {
	Type       string `json:"type"`
	Text       string `json:"text,omitempty"`
	Transcript string `json:"transcript,omitempty"`
	Audio      string `json:"audio,omitempty"`
}

// Item is a conversation item: a message, a function call or its output.
type Item struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Status    string    `json:"status"`
	Role      string    `json:"role"`
	Content   []Content `json:"content"`
	CallID    string    `json:"call_id"`
	Name      string    `json:"name"`
	Arguments string    `json:"arguments"`
	Output    string    `json:"output"`
}

// Text returns the item's text or transcript, joined.
func (it *Item) Text() string {
	var s string
	for _, c := range it.Content {
		switch {
		case c.Text != "":
			s += c.Text
		case c.Transcript != "":
			s += c.Transcript
		}
	}
	return s
}

// StatusDetails says why a response is not completed.
type StatusDetails struct {
	Type   string    `json:"type"`
	Reason string    `json:"reason"`
	Error  *APIError `json:"error"`
}

// Usage counts tokens of a response.
type Usage struct {
	TotalTokens       int `json:"total_tokens"`
	InputTokens       int `json:"input_tokens"`
	OutputTokens      int `json:"output_tokens"`
	InputTokenDetails struct {
		TextTokens   int `json:"text_tokens"`
		AudioTokens  int `json:"audio_tokens"`
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_token_details"`
	OutputTokenDetails struct {
		TextTokens  int `json:"text_tokens"`
		AudioTokens int `json:"audio_tokens"`
	} `json:"output_token_details"`
}

// Response is the response object of response.created/done.
type Response struct {
	ID            string         `json:"id"`
	Status        string         `json:"status"`
	StatusDetails *StatusDetails `json:"status_details"`
	Output        []Item         `json:"output"`
	Usage         *Usage         `json:"usage"`
}

// SessionInfo is what voiced reads of the server's session object, from
// either dialect.
type SessionInfo struct {
	ID    string
	Model string
	// ExpiresAt is a Unix time in seconds; 0 when the server did not say.
	ExpiresAt  int64
	Voice      string
	OutputRate int
	// TurnDetection is the type in effect, "" when none.
	TurnDetection string
}

// UnmarshalJSON reads the GA (audio.output...) and beta (flat) shapes.
func (s *SessionInfo) UnmarshalJSON(b []byte) error {
	type turn struct {
		Type string `json:"type"`
	}
	var w struct {
		ID                string `json:"id"`
		Model             string `json:"model"`
		ExpiresAt         int64  `json:"expires_at"`
		Voice             string `json:"voice"`
		OutputAudioFormat string `json:"output_audio_format"`
		TurnDetection     *turn  `json:"turn_detection"`
		Audio             *struct {
			Input struct {
				TurnDetection *turn `json:"turn_detection"`
			} `json:"input"`
			Output struct {
				Format struct {
					Type string `json:"type"`
					Rate int    `json:"rate"`
				} `json:"format"`
				Voice string `json:"voice"`
			} `json:"output"`
		} `json:"audio"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = SessionInfo{ID: w.ID, Model: w.Model, ExpiresAt: w.ExpiresAt, Voice: w.Voice}
	td := w.TurnDetection
	if w.Audio != nil {
		if w.Audio.Output.Voice != "" {
			s.Voice = w.Audio.Output.Voice
		}
		s.OutputRate = w.Audio.Output.Format.Rate
		if s.OutputRate == 0 && w.Audio.Output.Format.Type == "audio/pcm" {
			s.OutputRate = 24000
		}
		td = w.Audio.Input.TurnDetection
	} else if w.OutputAudioFormat == "pcm16" {
		s.OutputRate = 24000
	}
	if td != nil {
		s.TurnDetection = td.Type
	}
	return nil
}

// Server events, one type per event (beta names map onto the same types).
type (
	SessionCreated struct {
		Header
		Session SessionInfo `json:"session"`
	}
	SessionUpdated struct {
		Header
		Session SessionInfo `json:"session"`
	}
	ConversationCreated struct{ Header }
	SpeechStarted       struct {
		Header
		AudioStartMs int    `json:"audio_start_ms"`
		ItemID       string `json:"item_id"`
	}
	SpeechStopped struct {
		Header
		AudioEndMs int    `json:"audio_end_ms"`
		ItemID     string `json:"item_id"`
	}
	AudioCommitted struct {
		Header
		ItemID         string `json:"item_id"`
		PreviousItemID string `json:"previous_item_id"`
	}
	AudioCleared     struct{ Header }
	TimeoutTriggered struct {
		Header
		AudioStartMs int    `json:"audio_start_ms"`
		AudioEndMs   int    `json:"audio_end_ms"`
		ItemID       string `json:"item_id"`
	}
	// ItemAdded is GA conversation.item.added.
	ItemAdded struct {
		Header
		PreviousItemID string `json:"previous_item_id"`
		Item           Item   `json:"item"`
	}
	// ItemDone is GA conversation.item.done.
	ItemDone struct {
		Header
		PreviousItemID string `json:"previous_item_id"`
		Item           Item   `json:"item"`
	}
	// ItemCreated is conversation.item.created (beta, and older GA servers).
	ItemCreated struct {
		Header
		PreviousItemID string `json:"previous_item_id"`
		Item           Item   `json:"item"`
	}
	ItemTruncated struct {
		Header
		ItemID       string `json:"item_id"`
		ContentIndex int    `json:"content_index"`
		AudioEndMs   int    `json:"audio_end_ms"`
	}
	ItemDeleted struct {
		Header
		ItemID string `json:"item_id"`
	}
	InputTranscriptionDelta struct {
		Header
		ItemID       string `json:"item_id"`
		ContentIndex int    `json:"content_index"`
		Delta        string `json:"delta"`
	}
	InputTranscriptionCompleted struct {
		Header
		ItemID       string `json:"item_id"`
		ContentIndex int    `json:"content_index"`
		Transcript   string `json:"transcript"`
	}
	InputTranscriptionFailed struct {
		Header
		ItemID       string   `json:"item_id"`
		ContentIndex int      `json:"content_index"`
		Error        APIError `json:"error"`
	}
	// AudioDelta is only delivered as an event when Options.Audio is nil;
	// PCM holds the decoded samples.
	AudioDelta struct {
		Header
		ResponseID   string  `json:"response_id"`
		ItemID       string  `json:"item_id"`
		OutputIndex  int     `json:"output_index"`
		ContentIndex int     `json:"content_index"`
		Delta        string  `json:"delta"`
		PCM          []int16 `json:"-"`
	}
	AudioDone struct {
		Header
		ResponseID   string `json:"response_id"`
		ItemID       string `json:"item_id"`
		OutputIndex  int    `json:"output_index"`
		ContentIndex int    `json:"content_index"`
	}
	AudioTranscriptDelta struct {
		Header
		ResponseID   string `json:"response_id"`
		ItemID       string `json:"item_id"`
		OutputIndex  int    `json:"output_index"`
		ContentIndex int    `json:"content_index"`
		Delta        string `json:"delta"`
	}
	AudioTranscriptDone struct {
		Header
		ResponseID   string `json:"response_id"`
		ItemID       string `json:"item_id"`
		OutputIndex  int    `json:"output_index"`
		ContentIndex int    `json:"content_index"`
		Transcript   string `json:"transcript"`
	}
	TextDelta struct {
		Header
		ResponseID   string `json:"response_id"`
		ItemID       string `json:"item_id"`
		OutputIndex  int    `json:"output_index"`
		ContentIndex int    `json:"content_index"`
		Delta        string `json:"delta"`
	}
	TextDone struct {
		Header
		ResponseID   string `json:"response_id"`
		ItemID       string `json:"item_id"`
		OutputIndex  int    `json:"output_index"`
		ContentIndex int    `json:"content_index"`
		Text         string `json:"text"`
	}
	ContentPartAdded struct {
		Header
		ResponseID   string  `json:"response_id"`
		ItemID       string  `json:"item_id"`
		OutputIndex  int     `json:"output_index"`
		ContentIndex int     `json:"content_index"`
		Part         Content `json:"part"`
	}
	ContentPartDone struct {
		Header
		ResponseID   string  `json:"response_id"`
		ItemID       string  `json:"item_id"`
		OutputIndex  int     `json:"output_index"`
		ContentIndex int     `json:"content_index"`
		Part         Content `json:"part"`
	}
	FunctionCallArgumentsDelta struct {
		Header
		ResponseID  string `json:"response_id"`
		ItemID      string `json:"item_id"`
		OutputIndex int    `json:"output_index"`
		CallID      string `json:"call_id"`
		Delta       string `json:"delta"`
	}
	FunctionCallArgumentsDone struct {
		Header
		ResponseID  string `json:"response_id"`
		ItemID      string `json:"item_id"`
		OutputIndex int    `json:"output_index"`
		CallID      string `json:"call_id"`
		Name        string `json:"name"`
		Arguments   string `json:"arguments"`
	}
	OutputItemAdded struct {
		Header
		ResponseID  string `json:"response_id"`
		OutputIndex int    `json:"output_index"`
		Item        Item   `json:"item"`
	}
	OutputItemDone struct {
		Header
		ResponseID  string `json:"response_id"`
		OutputIndex int    `json:"output_index"`
		Item        Item   `json:"item"`
	}
	ResponseCreated struct {
		Header
		Response Response `json:"response"`
	}
	ResponseDone struct {
		Header
		Response Response `json:"response"`
	}
	RateLimitsUpdated struct {
		Header
		RateLimits []RateLimit `json:"rate_limits"`
	}
	OutputAudioBufferStarted struct {
		Header
		ResponseID string `json:"response_id"`
	}
	OutputAudioBufferStopped struct {
		Header
		ResponseID string `json:"response_id"`
	}
	OutputAudioBufferCleared struct {
		Header
		ResponseID string `json:"response_id"`
	}
	// ServerError is the error event.
	ServerError struct {
		Header
		Error APIError `json:"error"`
	}
	// Unknown is an event type this package does not know; the client
	// counts and drops it.
	Unknown struct{ Header }
)

// RateLimit is one entry of rate_limits.updated.
type RateLimit struct {
	Name         string  `json:"name"`
	Limit        int     `json:"limit"`
	Remaining    int     `json:"remaining"`
	ResetSeconds float64 `json:"reset_seconds"`
}

// Connection state events.
type (
	// Connecting: dialing the server.
	Connecting struct {
		Attempt int
		URL     string
	}
	// Connected: the session is live (session.created seen).
	Connected struct {
		SessionID string
		Model     string
		// ExpiresAt is on the local clock (corrected by the server's Date
		// header); zero when the server did not say.
		ExpiresAt time.Time
		// Rollover is true when this session replaced an expiring one.
		Rollover bool
		// Replayed counts the history items sent to the new session.
		Replayed int
	}
	// Disconnected: the connection is lost; the client retries in RetryIn.
	// After Hangup, Err is ErrHangup and nothing is retried until Dial.
	Disconnected struct {
		Err     error
		RetryIn time.Duration
	}
	// Fatal: retrying will not help until something changes (API key,
	// quota); the client retries only every RetryIn.
	Fatal struct {
		Err     error
		RetryIn time.Duration
	}
	// ProtocolError: a message from the server could not be understood;
	// the connection goes on.
	ProtocolError struct{ Err error }
	// ToolResult: a tool call finished and its output was sent.
	ToolResult struct {
		Name, CallID, Output string
		Err                  error
		Duration             time.Duration
	}
)

func (*Connecting) isEvent()    {}
func (*Connected) isEvent()     {}
func (*Disconnected) isEvent()  {}
func (*Fatal) isEvent()         {}
func (*ProtocolError) isEvent() {}
func (*ToolResult) isEvent()    {}

var eventTypes = map[string]func() Event{
	"session.created":                                       func() Event { return new(SessionCreated) },
	"session.updated":                                       func() Event { return new(SessionUpdated) },
	"conversation.created":                                  func() Event { return new(ConversationCreated) },
	"input_audio_buffer.speech_started":                     func() Event { return new(SpeechStarted) },
	"input_audio_buffer.speech_stopped":                     func() Event { return new(SpeechStopped) },
	"input_audio_buffer.committed":                          func() Event { return new(AudioCommitted) },
	"input_audio_buffer.cleared":                            func() Event { return new(AudioCleared) },
	"input_audio_buffer.timeout_triggered":                  func() Event { return new(TimeoutTriggered) },
	"conversation.item.added":                               func() Event { return new(ItemAdded) },
	"conversation.item.done":                                func() Event { return new(ItemDone) },
	"conversation.item.created":                             func() Event { return new(ItemCreated) },
	"conversation.item.truncated":                           func() Event { return new(ItemTruncated) },
	"conversation.item.deleted":                             func() Event { return new(ItemDeleted) },
	"conversation.item.input_audio_transcription.delta":     func() Event { return new(InputTranscriptionDelta) },
	"conversation.item.input_audio_transcription.completed": func() Event { return new(InputTranscriptionCompleted) },
	"conversation.item.input_audio_transcription.failed":    func() Event { return new(InputTranscriptionFailed) },
	typeOutputAudioDeltaGA:                                  func() Event { return new(AudioDelta) },
	typeOutputAudioDeltaBeta:                                func() Event { return new(AudioDelta) },
	"response.output_audio.done":                            func() Event { return new(AudioDone) },
	"response.audio.done":                                   func() Event { return new(AudioDone) },
	"response.output_audio_transcript.delta":                func() Event { return new(AudioTranscriptDelta) },
	"response.audio_transcript.delta":                       func() Event { return new(AudioTranscriptDelta) },
	"response.output_audio_transcript.done":                 func() Event { return new(AudioTranscriptDone) },
	"response.audio_transcript.done":                        func() Event { return new(AudioTranscriptDone) },
	"response.output_text.delta":                            func() Event { return new(TextDelta) },
	"response.text.delta":                                   func() Event { return new(TextDelta) },
	"response.output_text.done":                             func() Event { return new(TextDone) },
	"response.text.done":                                    func() Event { return new(TextDone) },
	"response.content_part.added":                           func() Event { return new(ContentPartAdded) },
	"response.content_part.done":                            func() Event { return new(ContentPartDone) },
	"response.function_call_arguments.delta":                func() Event { return new(FunctionCallArgumentsDelta) },
	"response.function_call_arguments.done":                 func() Event { return new(FunctionCallArgumentsDone) },
	"response.output_item.added":                            func() Event { return new(OutputItemAdded) },
	"response.output_item.done":                             func() Event { return new(OutputItemDone) },
	"response.created":                                      func() Event { return new(ResponseCreated) },
	"response.done":                                         func() Event { return new(ResponseDone) },
	"rate_limits.updated":                                   func() Event { return new(RateLimitsUpdated) },
	"output_audio_buffer.started":                           func() Event { return new(OutputAudioBufferStarted) },
	"output_audio_buffer.stopped":                           func() Event { return new(OutputAudioBufferStopped) },
	"output_audio_buffer.cleared":                           func() Event { return new(OutputAudioBufferCleared) },
	"error":                                                 func() Event { return new(ServerError) },
}

// ErrNoType is returned by DecodeEvent for a JSON object without a type.
var ErrNoType = errors.New("realtime: event has no type")

// DecodeEvent parses one server event with encoding/json. Unknown types
// give *Unknown and no error: the protocol keeps adding events.
func DecodeEvent(data []byte) (Event, error) {
	var h Header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("decode event: %w", err)
	}
	if h.Type == "" {
		return nil, ErrNoType
	}
	mk, ok := eventTypes[h.Type]
	if !ok {
		return &Unknown{Header: h}, nil
	}
	ev := mk()
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("decode event %s: %w", h.Type, err)
	}
	return ev, nil
}
