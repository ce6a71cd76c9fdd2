package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/voiced-project/voiced/internal/realtime"
	"github.com/voiced-project/voiced/internal/realtime/realtimetest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, context.Canceled) {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "voiced-sim:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// run serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("voiced-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8089", "listen address (:0 picks a port)")
	dialect := fs.String("dialect", "ga", "protocol: ga or beta (OpenAI Realtime), estuary or selam (Socket.IO fakes)")
	apiKey := fs.String("api-key", "", "require this API key (others get HTTP 401)")
	reply := fs.String("reply", realtimetest.ReplyParrot, "reply: parrot (the user's audio), tone, or a 16-bit PCM WAV file")
	speed := fs.Float64("speed", 1, "audio pacing: 1 is real time, 0 as fast as possible")
	record := fs.String("record", "", "write every client event received to this file, one JSON object per line")
	sessionMax := fs.Duration("session-max", time.Hour, "session length before error session_expired and close 1001")
	failAfter := fs.Int("fail-after", 0, "drop each connection after this many server events (0: never)")
	question := fs.Bool("question", false, "end every reply's transcript with a question (\"Anything else?\")")
	toolCall := fs.String("tool-call", "", "make the first response a call of this tool")
	toolArgs := fs.String("tool-args", "{}", "arguments of the --tool-call call (JSON)")
	verbose := fs.Bool("v", false, "log each connection to stderr")
	refuse := fs.Int("refuse", 0, "misbehave: answer every upgrade with this HTTP status")
	malformed := fs.Int("malformed", 0, "misbehave: send this many malformed messages after session.created")
	bigDelta := fs.Int("big-delta", 0, "misbehave: send one audio delta of this many bytes after session.created")
	ignoreInstructed := fs.Bool("ignore-instructed", false, "misbehave: never answer a response.create with its own instructions (an announcement)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *dialect == "estuary" || *dialect == "selam" {
		return serveSocketIO(ctx, *dialect, *addr, *apiKey, *record, *speed != 0, *verbose, stdout, stderr)
	}
	d, err := realtime.ParseDialect(*dialect)
	if err != nil {
		return fmt.Errorf("%w: --dialect: %v", errUsage, err)
	}
	if *speed < 0 {
		return fmt.Errorf("%w: --speed %g: must not be negative", errUsage, *speed)
	}
	if *sessionMax <= 0 || *failAfter < 0 {
		return fmt.Errorf("%w: --session-max must be positive and --fail-after not negative", errUsage)
	}
	if *malformed < 0 || *bigDelta < 0 || *bigDelta > 1<<30 || (*refuse != 0 && (*refuse < 200 || *refuse > 599)) {
		return fmt.Errorf("%w: --malformed and --big-delta (at most 1 GiB) must not be negative, --refuse is an HTTP status", errUsage)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg := realtimetest.Config{
		Dialect: d, APIKey: *apiKey, Reply: *reply, Speed: *speed, SessionMax: *sessionMax,
		FailAfter: *failAfter, Question: *question, ToolCall: *toolCall, ToolArguments: *toolArgs,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		Refuse: *refuse, Extra: misbehaviour(*malformed, *bigDelta), IgnoreInstructed: *ignoreInstructed,
	}
	switch *reply {
	case realtimetest.ReplyParrot, realtimetest.ReplyTone:
	default:
		pcm, rate, err := realtimetest.ReadWAV(*reply)
		if err != nil {
			return fmt.Errorf("--reply: %w", err)
		}
		cfg.ReplyAudio, cfg.ReplyRate = pcm, rate
	}
	if *record != "" {
		f, err := os.Create(*record)
		if err != nil {
			return fmt.Errorf("--record: %w", err)
		}
		defer f.Close()
		cfg.Record = f
	}
	srv := realtimetest.New(cfg)
	bound, err := srv.Start(*addr)
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Fprintf(stdout, "listening on %s\n", bound)
	<-ctx.Done()
	return ctx.Err()
}

// misbehaviour is what --malformed and --big-delta send after session.created.
func misbehaviour(malformed, bigDelta int) [][]byte {
	var out [][]byte
	for i := range malformed {
		out = append(out, fmt.Appendf(nil, "this is not JSON %d {", i))
	}
	if bigDelta > 0 {
		pre := `{"type":"response.output_audio.delta","event_id":"event_big","response_id":"resp_big","item_id":"item_big","output_index":0,"content_index":0,"delta":"`
		// Whole base64 quads of silence, an even number: whole samples.
		quads := max(bigDelta-len(pre)-2, 0) / 8 * 2
		m := make([]byte, 0, len(pre)+4*quads+2)
		m = append(m, pre...)
		m = append(m, bytes.Repeat([]byte("AAAA"), quads)...)
		out = append(out, append(m, `"}`...))
	}
	return out
}
