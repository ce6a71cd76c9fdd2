// Package ratelog keeps a repeating event from flooding the journal: a
// slog.Handler that lets a few lines of each kind through, then one now and
// then with the number left out, and that clips long values.
//
// # Kinds
//
// A kind is a level and a message: "realtime bad message" at WARN is one
// kind, whatever its attributes. Each kind has a token bucket: Burst lines
// at once, then one per Every. The first line let through after others were
// dropped carries suppressed=N.
//
// # One place
//
// Handlers derived with WithAttrs or WithGroup share their parent's buckets,
// so the parts of voiced that log the same event through one handler are
// throttled together, not each on its own.
//
// # Size
//
// A message, string, error or Stringer longer than MaxValue bytes is cut
// there and says how much was left out: a hostile config value or server
// reply cannot make a line of hundreds of kilobytes.
package ratelog
