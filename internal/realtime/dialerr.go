package realtime

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/voiced-project/voiced/internal/ratelog"
)

// DialError is a connection attempt that failed before there was a
// socket. Its text says why in plain words (an HTTP status, a timeout, a
// name not found), for the log and the status's last_error.
type DialError struct {
	Host   string // the URL's host, clipped
	Status int    // HTTP status of a refused upgrade; 0 when there was no answer
	Reason string
	Err    error
}

func (e *DialError) Error() string { return "realtime: connect to " + e.Host + ": " + e.Reason }
func (e *DialError) Unwrap() error { return e.Err }

// host is the URL's host for messages, without path or query (which may
// carry a key) and bounded in length.
func (c *Client) host() string {
	h := c.opts.URL
	if u, err := url.Parse(c.opts.URL); err == nil && u.Host != "" {
		h = u.Host
	}
	return ratelog.Clip(h, maxURLInText)
}

// statusReason describes an upgrade the server answered with an HTTP
// status instead of 101.
func statusReason(status int, msg string) string {
	s := fmt.Sprintf("the server answered HTTP %d", status)
	if t := http.StatusText(status); t != "" {
		s += " " + t
	}
	s += " instead of opening a WebSocket"
	if msg != "" {
		s += ": " + ratelog.Clip(msg, 300)
	}
	return s
}

// dialReason describes a failure to reach the server at all.
func dialReason(err error, timeout time.Duration) string {
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var cert *tls.CertificateVerificationError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		switch {
		case dns.IsNotFound:
			return fmt.Sprintf("the host name %s was not found (DNS)", ratelog.Clip(dns.Name, maxURLInText))
		case dns.IsTimeout:
			return fmt.Sprintf("looking up %s timed out (DNS server unreachable?)", ratelog.Clip(dns.Name, maxURLInText))
		}
		return fmt.Sprintf("looking up %s failed (DNS): %s", ratelog.Clip(dns.Name, maxURLInText), dns.Err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %v (dial timeout)", timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused (nothing listens on that port)"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to the host (is the network up?)"
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &cert):
		return "the server's TLS certificate was not accepted: " + ratelog.Clip(err.Error(), 300)
	}
	return ratelog.Clip(err.Error(), 300)
}
