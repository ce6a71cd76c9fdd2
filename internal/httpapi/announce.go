package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Announcement is POST /v1/announce: exactly one of Text (the model says it), WAV (a
// WAV file, base64 in the JSON) or URL (file:PATH under paths.audio_dirs), played as is.
type Announcement struct {
	Text string `json:"text,omitempty"`
	WAV  []byte `json:"wav,omitempty"`
	URL  string `json:"url,omitempty"`
	// StartConversation opens a turn once it has played.
	StartConversation bool `json:"start_conversation,omitempty"`
}

// Announcer queues announcements; the daemon implements it. It returns the
// announcement's id, an *AnnounceError for a bad request (400), or another error
// when it cannot take it now (503).
type Announcer interface {
	Announce(ctx context.Context, a Announcement) (id string, err error)
}

// AnnounceError says what is wrong with an announcement.
type AnnounceError struct{ Msg string }

func (e *AnnounceError) Error() string { return "announce: " + e.Msg }

type announceReply struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func (s *Server) announce(w http.ResponseWriter, r *http.Request) {
	if s.opts.Announcer == nil {
		writeError(w, http.StatusNotFound, "this endpoint takes no announcements")
		return
	}
	var a Announcement
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", MaxBody))
			return
		}
		writeError(w, http.StatusBadRequest, `want {"text": "..."}, {"wav": "BASE64"} or {"url": "file:PATH"}: `+err.Error())
		return
	}
	id, err := s.opts.Announcer.Announce(r.Context(), a)
	var ae *AnnounceError
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, announceReply{ID: id, Status: "queued"})
	case errors.As(err, &ae):
		writeError(w, http.StatusBadRequest, ae.Msg)
	default:
		writeError(w, http.StatusServiceUnavailable, err.Error())
	}
}
