package ratelog

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Options tune a Handler; zero fields take the defaults.
type Options struct {
	// Burst is how many lines of one kind go out at once (default 5).
	Burst int
	// Every is how often one more line of a kind is allowed once its burst
	// is spent (default 10 s): a server that babbles for an hour costs
	// about 360 lines, not millions.
	Every time.Duration
	// MaxValue is the longest message or attribute value logged, in bytes
	// (default 1024).
	MaxValue int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// maxKinds bounds the buckets. Kinds are messages written in the code, a
// few dozen; should something log computed messages, the table starts
// over rather than grow.
const maxKinds = 512

type kind struct {
	level slog.Level
	msg   string
}

type bucket struct {
	credit     time.Duration // a line costs every; it accrues with time, up to burst lines
	last       time.Time
	suppressed uint64
}

// state is shared by a Handler and every handler derived from it.
type state struct {
	full  time.Duration // a full bucket: burst lines
	every time.Duration
	max   int
	now   func() time.Time

	mu    sync.Mutex // guards following fields
	kinds map[kind]*bucket
}

// Handler throttles and clips records on their way to another handler.
type Handler struct {
	next slog.Handler
	st   *state
}

// New returns a Handler that writes to next.
func New(next slog.Handler, o Options) *Handler {
	if o.Burst <= 0 {
		o.Burst = 5
	}
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	if o.MaxValue <= 0 {
		o.MaxValue = 1024
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{next: next, st: &state{
		full: time.Duration(o.Burst) * o.Every, every: o.Every, max: o.MaxValue, now: o.Now,
		kinds: map[kind]*bucket{},
	}}
}

// Wrap returns l logging through a Handler with options o, or l itself
// when it already does (so that a caller and the library it configures
// share one set of buckets).
func Wrap(l *slog.Logger, o Options) *slog.Logger {
	if _, ok := l.Handler().(*Handler); ok {
		return l
	}
	return slog.New(New(l.Handler(), o))
}

// Enabled reports whether next handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// allow takes a token for k; suppressed is how many lines of k were
// dropped since the last one let through.
func (s *state) allow(k kind) (ok bool, suppressed uint64) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.kinds[k]
	if b == nil {
		if len(s.kinds) >= maxKinds {
			clear(s.kinds)
		}
		b = &bucket{credit: s.full, last: now}
		s.kinds[k] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.credit = min(s.full, b.credit+el)
	}
	b.last = now
	if b.credit < s.every {
		b.suppressed++
		return false, 0
	}
	b.credit -= s.every
	suppressed, b.suppressed = b.suppressed, 0
	return true, suppressed
}

// Handle passes r on unless its kind has logged too much lately.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	ok, suppressed := h.st.allow(kind{r.Level, r.Message})
	if !ok {
		return nil
	}
	long := len(r.Message) > h.st.max
	r.Attrs(func(a slog.Attr) bool {
		long = long || h.st.tooLong(a)
		return !long
	})
	if long {
		out := slog.NewRecord(r.Time, r.Level, h.st.clip(r.Message), r.PC)
		r.Attrs(func(a slog.Attr) bool {
			out.AddAttrs(h.st.clipAttr(a))
			return true
		})
		r = out
	}
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Uint64("suppressed", suppressed))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a Handler with the (clipped) attributes that shares
// h's buckets.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	cl := make([]slog.Attr, len(as))
	for i, a := range as {
		cl[i] = h.st.clipAttr(a)
	}
	return &Handler{next: h.next.WithAttrs(cl), st: h.st}
}

// WithGroup returns a Handler with the group that shares h's buckets.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), st: h.st}
}

// text is a's value as the text a handler would write, when that text is
// a string, an error or a Stringer.
func text(v slog.Value) (string, bool) {
	switch v.Kind() {
	case slog.KindString:
		return v.String(), true
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return x.Error(), true
		case fmt.Stringer:
			return x.String(), true
		}
	}
	return "", false
}

func (s *state) tooLong(a slog.Attr) bool {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			if s.tooLong(g) {
				return true
			}
		}
		return false
	}
	t, ok := text(v)
	return ok && len(t) > s.max
}

func (s *state) clipAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = s.clipAttr(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	}
	if t, ok := text(v); ok && len(t) > s.max {
		return slog.String(a.Key, s.clip(t))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// clip cuts t to at most max bytes, on a rune boundary, and says how much
// was left out.
func (s *state) clip(t string) string {
	return Clip(t, s.max)
}

// Clip returns t when it is at most n bytes long, else its first n bytes
// (cut on a rune boundary) followed by how many bytes were left out.
func Clip(t string, n int) string {
	if len(t) <= n {
		return t
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(t[cut]) {
		cut--
	}
	return t[:cut] + "…(" + strconv.Itoa(len(t)-cut) + " more bytes)"
}
