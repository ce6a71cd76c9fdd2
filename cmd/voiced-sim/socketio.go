package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/voiced-project/voiced/internal/backend/estuary/estuarytest"
	"github.com/voiced-project/voiced/internal/backend/selam/selamtest"
)

// fake is what both Socket.IO fakes offer beside serving.
type fake interface {
	http.Handler
	Inject(kind string) error
	Drop()
	SetDown(down bool)
}

// serveSocketIO serves the fake of Estuary or SelamGPT on addr until ctx is
// done; pace sends reply audio in real time (--speed other than 0), else at once. Beside the service, POST /sim/inject?kind=K sends an error kind of the
// protocol, POST /sim/drop closes every connection and POST /sim/down?on=1|0
// refuses upgrades, so a demo or a test can play each failure.
func serveSocketIO(ctx context.Context, dialect, addr, apiKey, record string, pace, verbose bool, stdout, stderr io.Writer) error {
	var rec io.Writer
	if record != "" {
		f, err := os.Create(record)
		if err != nil {
			return fmt.Errorf("--record: %w", err)
		}
		defer f.Close()
		rec = f
	}
	var srv fake
	switch dialect {
	case "estuary":
		srv = estuarytest.New(estuarytest.Options{Record: rec, APIKey: apiKey, Pace: pace})
	default:
		srv = selamtest.New(selamtest.Options{Record: rec, APIKey: apiKey, Pace: pace})
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sim/inject", func(w http.ResponseWriter, r *http.Request) {
		kind := r.URL.Query().Get("kind")
		if err := srv.Inject(kind); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		log.Info("injected", "kind", kind)
	})
	mux.HandleFunc("POST /sim/drop", func(http.ResponseWriter, *http.Request) { srv.Drop() })
	mux.HandleFunc("POST /sim/down", func(w http.ResponseWriter, r *http.Request) {
		srv.SetDown(r.URL.Query().Get("on") != "0")
	})
	mux.Handle("/", srv)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-done:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	srv.Drop() // WebSocket connections are hijacked: Shutdown does not end them
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-done
	return ctx.Err()
}
