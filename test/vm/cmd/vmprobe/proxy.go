package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// runDelay is a TCP proxy that holds the server's bytes back for --latency, like a slow
// network: the daemon's PROCESSING state then lasts long enough to see its LED pattern.
func runDelay(ctx context.Context, args []string) error {
	fs := newFlags("delay")
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on")
	to := fs.String("to", "", "server address")
	latency := fs.Duration("latency", 700*time.Millisecond, "delay of server-to-client bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Printf("listening on %s\n", l.Addr())
	os.Stdout.Sync()
	var wg sync.WaitGroup
	go func() { <-ctx.Done(); l.Close() }()
	for {
		c, err := l.Accept()
		if err != nil {
			wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			proxy(ctx, c, *to, *latency)
		}()
	}
}

type chunk struct {
	due time.Time
	b   []byte
}

func proxy(ctx context.Context, c net.Conn, to string, latency time.Duration) {
	defer c.Close()
	s, err := net.Dial("tcp", to)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmprobe delay: %v\n", err)
		return
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { <-ctx.Done(); c.Close(); s.Close() }()
	q := make(chan chunk, 4096)
	go func() {
		defer cancel()
		io.Copy(s, c)
	}()
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := s.Read(b)
			if n > 0 {
				q <- chunk{time.Now().Add(latency), b[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for ch := range q {
		time.Sleep(time.Until(ch.due))
		if _, err := c.Write(ch.b); err != nil {
			return
		}
	}
	// The server closed: let the client see it only after the latency too.
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}
