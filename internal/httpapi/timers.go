package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/voiced-project/voiced/internal/timers"
)

type timerList struct {
	Timers []timers.Timer `json:"timers"`
}

type timerRequest struct {
	Duration json.RawMessage `json:"duration"` // "5m", "90s" or a number of seconds
	Label    string          `json:"label"`
}

// timerStore returns the store, or answers 404 when this endpoint has none.
func (s *Server) timerStore(w http.ResponseWriter) *timers.Store {
	if s.opts.Timers == nil {
		writeError(w, http.StatusNotFound, "this endpoint keeps no timers")
	}
	return s.opts.Timers
}

func (s *Server) listTimers(w http.ResponseWriter, _ *http.Request) {
	if st := s.timerStore(w); st != nil {
		writeJSON(w, http.StatusOK, timerList{Timers: st.List()})
	}
}

func (s *Server) setTimer(w http.ResponseWriter, r *http.Request) {
	st := s.timerStore(w)
	if st == nil {
		return
	}
	var req timerRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", MaxBody))
			return
		}
		writeError(w, http.StatusBadRequest, `want {"duration": "5m", "label": "tea"}: `+err.Error())
		return
	}
	var text string
	if json.Unmarshal(req.Duration, &text) != nil {
		text = string(req.Duration) // a number of seconds
	}
	d, err := timers.ParseDuration(text)
	if err != nil {
		writeError(w, http.StatusBadRequest, "duration: "+err.Error())
		return
	}
	t, err := st.Set(d, req.Label)
	switch {
	case t.ID == "":
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil: // set, but the file could not be written: it rings, and is lost by a restart
		s.opts.Log.Warn("timer set but not saved", "err", err)
		writeJSON(w, http.StatusCreated, t)
	default:
		writeJSON(w, http.StatusCreated, t)
	}
}

func (s *Server) cancelTimer(w http.ResponseWriter, r *http.Request) {
	st := s.timerStore(w)
	if st == nil {
		return
	}
	t, err := st.Cancel(r.PathValue("id"))
	switch {
	case errors.Is(err, timers.ErrNotFound):
		writeError(w, http.StatusNotFound, fmt.Sprintf("no timer %q", r.PathValue("id")))
	case t.ID == "":
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, t)
	}
}

// dismissTimers stops the ringing timers, as the button does.
func (s *Server) dismissTimers(w http.ResponseWriter, _ *http.Request) {
	st := s.timerStore(w)
	if st == nil {
		return
	}
	gone, err := st.Dismiss()
	if err != nil {
		s.opts.Log.Warn("dismissed timers not saved", "err", err)
	}
	writeJSON(w, http.StatusOK, timerList{Timers: append([]timers.Timer{}, gone...)})
}
