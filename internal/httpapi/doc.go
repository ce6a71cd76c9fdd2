// Package httpapi is voiced's local HTTP endpoint: status, live configuration, control
// actions, a server-sent event stream, devices, Prometheus metrics and a health check.
//
// It listens on 127.0.0.1 by default. When a token is configured every request but
// /healthz must carry it as "Authorization: Bearer TOKEN" (compared in constant time);
// a listener on any other address is refused without a token (the config says so).
// Request bodies are limited, and every route is described in openapi.yaml, which a test
// keeps true.
package httpapi
