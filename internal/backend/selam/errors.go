package selam

import (
	"encoding/json"
	"fmt"

	"github.com/voiced-project/voiced/internal/backend"
)

// Error types of the guide's taxonomy.
const (
	TypeAuthentication = "authentication_error"
	TypeAuthorization  = "authorization_error"
	TypeValidation     = "validation_error"
	TypeSession        = "session_error"
	TypeAudio          = "audio_error"
)

// Error is an error the service reported, in plain words.
type Error struct {
	Type    string // one of the Type constants, or what the server sent
	Code    string
	Message string
}

// Kind classifies the error.
func (e *Error) Kind() backend.ErrorKind {
	switch e.Type {
	case TypeAuthentication:
		return backend.KindAuth
	case TypeAuthorization:
		return backend.KindPermission
	case TypeValidation:
		return backend.KindInvalid
	case TypeSession:
		return backend.KindSession
	case TypeAudio:
		return backend.KindAudio
	}
	return backend.KindOther
}

// Fatal reports whether retrying soon is pointless.
func (e *Error) Fatal() bool { return e.Type == TypeAuthentication || e.Type == TypeAuthorization }

func (e *Error) Error() string {
	var what string
	switch e.Type {
	case TypeAuthentication:
		what = "the API key (or token) was rejected; check the credentials"
	case TypeAuthorization:
		what = "this account may not use the Voice Agent (it needs the OWNER tier)"
	case TypeValidation:
		what = "a setting or the audio format was not accepted"
	case TypeSession:
		what = "the session was lost or could not be created; starting a new one"
	case TypeAudio:
		what = "the service could not process the audio"
	default:
		what = "the service reported an error"
		if e.Type != "" {
			what += " (" + e.Type + ")"
		}
	}
	s := "selam: " + what
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// AckError is a control action the service did not acknowledge as executed.
type AckError struct {
	Action backend.Action
	Status string // "" when no control_ack came in time
}

// Kind classifies the error.
func (e *AckError) Kind() backend.ErrorKind { return backend.KindSession }

// Fatal is false: the session goes on.
func (e *AckError) Fatal() bool { return false }

func (e *AckError) Error() string {
	if e.Status == "" {
		return fmt.Sprintf("selam: control %s was not acknowledged in time", e.Action)
	}
	return fmt.Sprintf("selam: control %s was answered %q, not executed", e.Action, e.Status)
}

// Client is a SelamGPT Voice Agent client. Create it with New, start it
// with Run.
// parseError reads an error payload: {type, message, code}, {error: {...}},
// {data: {...}} (a CONNECT_ERROR's) or a bare string.
func parseError(b []byte) *Error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return &Error{Message: s}
	}
	type flat struct {
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
		Data    json.RawMessage `json:"data"`
	}
	var f flat
	if json.Unmarshal(b, &f) != nil {
		return &Error{Message: string(b)}
	}
	e := &Error{Type: f.Type, Message: f.Message}
	var code string
	if json.Unmarshal(f.Code, &code) != nil {
		code = string(f.Code)
	}
	e.Code = code
	for _, inner := range []json.RawMessage{f.Error, f.Data} {
		if len(inner) == 0 || string(inner) == "null" {
			continue
		}
		if json.Unmarshal(inner, &s) == nil { // {"error": "validation_error"}
			if e.Type == "" {
				e.Type = s
			}
			continue
		}
		in := parseError(inner)
		if e.Type == "" {
			e.Type = in.Type
		}
		if e.Message == "" || e.Message == in.Type {
			e.Message = in.Message
		}
		if e.Code == "" {
			e.Code = in.Code
		}
	}
	if e.Type == "" && isType(e.Code) {
		e.Type = e.Code
	}
	return e
}

func isType(s string) bool {
	switch s {
	case TypeAuthentication, TypeAuthorization, TypeValidation, TypeSession, TypeAudio:
		return true
	}
	return false
}
