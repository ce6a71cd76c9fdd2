package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/voiced-project/voiced/internal/config"
)

// The page's files: hand-written, embedded, no build step.
//
//go:embed web/head.html web/login.html web/app.html web/app.css web/app.js
var webFS embed.FS

// Cookies of the page. The session cookie holds an HMAC of the token under the token,
// never the token; it is HttpOnly and SameSite=Strict, so neither a script nor another
// site's request carries it. A change made with it must also carry the CSRF token the
// page was served with, in the X-CSRF-Token header.
const (
	sessionCookie = "voiced_session"
	csrfHeader    = "X-CSRF-Token"
)

// session is the session cookie's value for token.
func session(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("voiced session"))
	return hex.EncodeToString(m.Sum(nil))
}

// csrfToken is the page's CSRF token: an HMAC of the session (or, without a token, of
// nothing) under a key only the server holds.
func (s *Server) csrfToken(sess string) string {
	m := hmac.New(sha256.New, s.etagKey[:])
	m.Write([]byte("csrf\x00" + sess))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// cookieSession returns the session cookie's value if it is the one for token.
func cookieSession(r *http.Request, token string) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", false
	}
	want := session(token)
	return c.Value, subtle.ConstantTimeCompare([]byte(c.Value), []byte(want)) == 1
}

// csrfOK reports whether a change carries the CSRF token of sess.
func (s *Server) csrfOK(r *http.Request, sess string) bool {
	got := r.Header.Get(csrfHeader)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrfToken(sess))) == 1
}

// public are the routes served without a token: the page's static files and the login.
// GET / answers the login form itself when the token is missing.
func public(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz", "/app.css", "/app.js", "/v1/login":
		return true
	}
	return false
}

func (s *Server) asset(name, ctype string) http.HandlerFunc {
	b, err := webFS.ReadFile("web/" + name)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	tag := `"` + hex.EncodeToString(sum[:8]) + `"`
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Cache-Control", "no-cache") // revalidated: an upgrade shows at once
		w.Header().Set("ETag", tag)
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeMaybeGzip(w, r, b)
	}
}

// pageData is what the page shows (render.go writes it into web/*.html).
type pageData struct {
	Login      bool   // the token is needed first
	LoginNote  string // why the last login failed
	CSRF       string
	Status     map[string]any
	State      string
	LED        ledLook
	Problems   []problem
	Counters   []counter
	Devices    []deviceRow
	GPIO       string
	Wake       string // how the device wakes, and the words heard
	Connection string
	Fields     []formField
	Groups     []fieldGroup // Fields by the first part of their path
	ETag       string
	Version    string
	Muted      bool
	Paused     bool
	Volume     int
}

type counter struct {
	Name  string
	Value any
}

type deviceRow struct {
	Role, Device, Granted string
	Xruns                 any
	Gone                  bool
}

// problem is something wrong, with what to do about it.
type problem struct{ What, Do string }

// ledLook is the LED as the page draws it: the gpio patterns' colours and rhythms.
type ledLook struct{ Class, Text string }

var ledLooks = map[string]ledLook{
	"idle":         {"off", "off"},
	"connecting":   {"connecting", "yellow, slow blink (1 Hz)"},
	"connected":    {"off", "off: waiting for you"},
	"listening":    {"listening", "blue, solid"},
	"processing":   {"processing", "cyan, fast blink (4 Hz)"},
	"speaking":     {"speaking", "green, double blink"},
	"disconnected": {"disconnected", "yellow, two short blinks every 2 s"},
	"muted":        {"muted", "red, a short blip every 3 s"},
	"error":        {"error", "red, three quick blinks"},
	"waiting":      {"error", "red, three quick blinks"},
	"starting":     {"connecting", "yellow, slow blink"},
}

// fieldGroup is a part of the settings form: the keys under one top-level name.
type fieldGroup struct {
	Name   string
	Fields []formField
}

// formField is one key of the settings form.
type formField struct {
	config.Key
	Value   string
	Choices []string // for a select; nil for free input
	Options []string // suggestions (sound cards)
	Input   string   // select, checkbox, number, textarea, password, text
	Step    string
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	a := s.access.Load()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Referrer-Policy", "no-referrer")
	d := pageData{}
	sess := ""
	if a.token != "" {
		v, ok := cookieSession(r, a.token)
		if !ok && !authorized(r, a.token) {
			d.Login = true
			s.render(w, r, d)
			return
		}
		sess = v
	}
	d.CSRF = s.csrfToken(sess)
	s.fillStatus(&d)
	s.fillForm(&d)
	s.render(w, r, d)
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, d pageData) {
	var b bytes.Buffer
	if err := renderPage(&b, &d); err != nil {
		s.opts.Log.Error("render page", "err", err)
		writeError(w, http.StatusInternalServerError, "render page: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	writeMaybeGzip(w, r, b.Bytes())
}

// acceptsGzip reports whether the client takes a gzip body (every browser does).
func acceptsGzip(r *http.Request) bool {
	for e := range strings.SplitSeq(r.Header.Get("Accept-Encoding"), ",") {
		if name, _, _ := strings.Cut(strings.TrimSpace(e), ";"); name == "gzip" {
			return true
		}
	}
	return false
}

// writeMaybeGzip writes body, compressed when the client takes it: the page's form is
// mostly repeated markup, a fifth of its size compressed, which a phone on a weak Wi-Fi
// notices.
func writeMaybeGzip(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Add("Vary", "Accept-Encoding")
	if !acceptsGzip(r) {
		w.Write(body)
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	zw.Write(body)
	zw.Close()
}

// asMap turns a JSON-able value into maps and slices.
func asMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

func (s *Server) fillStatus(d *pageData) {
	st := asMap(s.opts.Backend.Status())
	d.Status = st
	str := func(k string) string { v, _ := st[k].(string); return v }
	d.State = strings.ToLower(str("state"))
	d.Version = str("version")
	d.Muted, _ = st["muted"].(bool)
	d.Paused, _ = st["paused"].(bool)
	look := d.State
	switch {
	case str("fatal") != "":
		look = "error"
	case d.Muted && d.State == "connected":
		look = "muted"
	}
	d.LED = ledLooks[look]
	if d.LED.Class == "" {
		d.LED = ledLook{"off", "off"}
	}
	if p := str("problem"); p != "" {
		d.Problems = append(d.Problems, problem{p, "voiced keeps trying; fix what it names, nothing needs restarting."})
	}
	if p := str("fatal"); p != "" {
		d.Problems = append(d.Problems, problem{p, "check realtime.url, the model and the API key in Settings, then save."})
	}
	if k := str("api_key"); strings.HasPrefix(k, "missing") {
		d.Problems = append(d.Problems, problem{"no API key", "put VOICED_API_KEY=... in /etc/default/voiced, or set realtime.api_key below."})
	}
	if p := str("config_error"); p != "" {
		d.Problems = append(d.Problems, problem{"the config file was refused: " + p, "run voiced check on the device; voiced runs on its last good config."})
	}
	if le, ok := st["last_error"].(map[string]any); ok && len(le) > 0 {
		b, _ := json.Marshal(le)
		d.Problems = append(d.Problems, problem{"last error: " + string(b), errorAdvice(le)})
	} else if le := str("last_error"); le != "" {
		d.Problems = append(d.Problems, problem{"last error: " + le, errorAdvice(nil)})
	}
	if c, ok := st["counters"].(map[string]any); ok {
		for _, k := range sortedKeys(c) {
			d.Counters = append(d.Counters, counter{k, c[k]})
		}
	}
	if dev, ok := st["devices"].(map[string]any); ok {
		for _, role := range []string{"microphone", "speaker"} {
			m, _ := dev[role].(map[string]any)
			if m == nil {
				continue
			}
			dv, _ := m["device"].(string)
			gr, _ := m["granted"].(string)
			gone, _ := m["gone"].(bool)
			d.Devices = append(d.Devices, deviceRow{role, dv, gr, m["xruns"], gone})
		}
	}
	d.Connection = "not connected"
	if since, err := time.Parse(time.RFC3339Nano, str("connected_since")); err == nil {
		d.Connection = "connected since " + since.Local().Format("15:04:05") + " (" + time.Since(since).Round(time.Second).String() + ")"
	}
	d.GPIO, _ = st["gpio"].(string)
	d.Wake = wakeLine(st["wake"])
	d.Volume = s.opts.Config.Config().Audio.Playback.Volume
}

// wakeLine says the status's wake part in a line: the mode, the words with their
// thresholds, and what was heard.
func wakeLine(v any) string {
	w, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	mode, _ := w["mode"].(string)
	var b strings.Builder
	switch mode {
	case "vad":
		b.WriteString("any speech (wake.mode vad)")
	case "word":
		b.WriteString("its name only:")
	case "both":
		b.WriteString("its name or any speech:")
	default:
		b.WriteString(mode)
	}
	words, _ := w["words"].([]any)
	for i, x := range words {
		m, _ := x.(map[string]any)
		name, _ := m["word"].(string)
		th, _ := m["threshold"].(float64)
		model, _ := m["model"].(string)
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s (threshold %.2f, %s)", name, th, model)
	}
	if n, _ := w["detections"].(float64); n > 0 || len(words) > 0 {
		fmt.Fprintf(&b, " · heard %d times", int64(n))
	}
	if last, ok := w["last"].(map[string]any); ok {
		word, _ := last["word"].(string)
		score, _ := last["score"].(float64)
		at := ""
		if ts, _ := last["time"].(string); ts != "" {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				at = " at " + t.Local().Format("15:04:05")
			}
		}
		fmt.Fprintf(&b, ", last %s (score %.2f)%s", word, score, at)
	}
	return b.String()
}

// errorAdvice says what to do about an engine error.
func errorAdvice(le map[string]any) string {
	code, _ := le["code"].(string)
	switch {
	case strings.Contains(code, "auth") || strings.Contains(code, "401") || strings.Contains(code, "invalid_api_key"):
		return "the server refused the API key: check realtime.api_key or the key file."
	case strings.Contains(code, "device") || strings.Contains(code, "xrun"):
		return "check the sound card (voiced devices on the device) and audio.capture/playback.device."
	}
	return "voiced recovers by itself from most errors; if it repeats, look at journalctl -u voiced."
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// soundChoices lists the PCM names of the cards Backend.Devices reports, for stream
// "capture" or "playback".
func (s *Server) soundChoices() map[string][]string {
	out := map[string][]string{"capture": {"default"}, "playback": {"default"}}
	var devs struct {
		Sound []struct {
			ID      string
			Devices []struct {
				Device int
				Stream json.RawMessage
			}
		} `json:"sound"`
	}
	b, err := json.Marshal(s.opts.Backend.Devices())
	if err != nil || json.Unmarshal(b, &devs) != nil {
		return out
	}
	for _, c := range devs.Sound {
		for _, d := range c.Devices {
			stream := "playback"
			if strings.Contains(strings.ToLower(string(d.Stream)), "capture") || string(d.Stream) == "1" {
				stream = "capture"
			}
			name := fmt.Sprintf("plughw:CARD=%s,DEV=%d", c.ID, d.Device)
			if !slices.Contains(out[stream], name) {
				out[stream] = append(out[stream], name)
			}
		}
	}
	return out
}

func (s *Server) fillForm(d *pageData) {
	c := s.opts.Config.Config()
	d.ETag = s.etag(c)
	red := c.Redacted()
	sound := s.soundChoices()
	keys := s.opts.Keys
	if keys == nil {
		keys = config.Keys
	}
	for _, k := range keys {
		f := formField{Key: k}
		if v, ok := red.Field(k.Path); ok {
			f.Value = config.FormatValue(v)
			if k.Kind == config.Objects {
				b, _ := json.MarshalIndent(v.Interface(), "", "  ")
				f.Value = string(b)
			}
		}
		switch {
		case k.Secret:
			f.Input, f.Value = "password", ""
		case k.Kind == config.Bool:
			f.Input = "checkbox"
		case k.Kind == config.List || k.Kind == config.Objects || k.Path == "realtime.instructions":
			f.Input = "textarea"
		case k.Choices != nil:
			f.Input, f.Choices = "select", k.Choices
		case k.Kind == config.Int || k.Kind == config.Float:
			f.Input, f.Step = "number", "1"
			if k.Kind == config.Float {
				f.Step = "any"
			}
		default:
			f.Input = "text"
			f.Options = sound[k.Sound]
			if k.Sound == "" {
				f.Options = nil
			}
		}
		d.Fields = append(d.Fields, f)
		group, _, _ := strings.Cut(k.Path, ".")
		if n := len(d.Groups); n == 0 || d.Groups[n-1].Name != group {
			d.Groups = append(d.Groups, fieldGroup{Name: group})
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Fields = append(g.Fields, f)
	}
}

type loginRequest struct {
	Token string `json:"token"`
}

// login checks the token once and sets the session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	a := s.access.Load()
	var req loginRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, `want {"token": "..."}: `+err.Error())
		return
	}
	if a.token == "" {
		writeJSON(w, http.StatusOK, map[string]string{"status": "no token needed"})
		return
	}
	x, y := sha256.Sum256([]byte(strings.TrimSpace(req.Token))), sha256.Sum256([]byte(a.token))
	if subtle.ConstantTimeCompare(x[:], y[:]) != 1 {
		time.Sleep(300 * time.Millisecond) // a guesser gets a few tries a second, not thousands
		writeError(w, http.StatusUnauthorized, "wrong token (http.token or the content of http.token_file)")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: session(a.token), Path: "/", MaxAge: 400 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, map[string]string{"status": "logged in"})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]string{"status": "logged out"})
}
