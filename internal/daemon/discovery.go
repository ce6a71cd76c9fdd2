package daemon

import (
	"context"
	"net"

	"github.com/voiced-project/voiced/internal/config"
	"github.com/voiced-project/voiced/internal/discovery"
	"github.com/voiced-project/voiced/internal/version"
)

// onNetwork reports whether http.listen accepts connections from other machines.
func onNetwork(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	return listen != "" && err == nil && !config.IsLoopback(host)
}

// mdnsHost is the NAME.local the device announces when it listens on the network, an
// allowed Host of the endpoint; "" on loopback.
func (d *Daemon) mdnsHost() string {
	if !onNetwork(d.cfg.HTTP.Listen) || d.announcer == nil {
		return ""
	}
	return d.announcer.Host()
}

// announce starts the mDNS announcement when the endpoint listens on the network. The
// returned channel is closed once the announcer stopped, after ctx ends; a failure to
// announce is logged and the daemon runs on without it (the page is still reachable by
// address).
func (d *Daemon) announce(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	a := d.announcer
	if a == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		if err := a.Run(ctx); err != nil {
			d.log.Warn("not announced over mDNS; reach the page by address", "err", err)
		}
	}()
	return done
}

// newAnnouncer prepares the mDNS announcement of the endpoint listening at bound (as
// cfg's http.listen asked, with the port it got), or returns nil on loopback.
func (d *Daemon) newAnnouncer(cfg config.Config, bound net.Addr) *discovery.Announcer {
	host, _, err := net.SplitHostPort(cfg.HTTP.Listen)
	if !onNetwork(cfg.HTTP.Listen) || err != nil {
		return nil
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return nil
	}
	a, err := discovery.New(discovery.Options{Name: cfg.HTTP.MDNSName, Listen: net.JoinHostPort(host, port), Version: version.Version, Log: d.log})
	if err != nil {
		d.log.Warn("not announced over mDNS; reach the page by address", "err", err)
		return nil
	}
	return a
}
