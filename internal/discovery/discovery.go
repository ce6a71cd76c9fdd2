package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
)

// Options say what to announce.
type Options struct {
	// Name is the instance and host name, without .local; empty takes the host name.
	Name string
	// Listen is http.listen: its port is announced, and its host picks the interface and
	// address (0.0.0.0 or :: announces every interface's).
	Listen  string
	Version string
	Log     *slog.Logger
}

// Announcer answers mDNS questions about this device until Run's context ends.
type Announcer struct {
	name string
	port int
	ips  []net.IP
	ifi  *net.Interface // nil: every interface
	log  *slog.Logger
	srv  *mdns.Server // its sockets are open from New; Run closes them

	mu      sync.Mutex // guards following fields
	version string
	state   string
	http    *mdns.MDNSService
	voiced  *mdns.MDNSService
}

// Service types announced.
const (
	HTTPService   = "_http._tcp"
	VoicedService = "_voiced._tcp"
)

// New checks the options, finds the addresses to announce and opens the mDNS sockets;
// Run must follow, to close them when done.
func New(o Options) (*Announcer, error) {
	host, port, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("mdns: listen address %q: %w", o.Listen, err)
	}
	var p int
	if _, err := fmt.Sscanf(port, "%d", &p); err != nil || p <= 0 {
		return nil, fmt.Errorf("mdns: listen port %q is not a port number", port)
	}
	name := o.Name
	if name == "" {
		if name, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("mdns: host name: %w", err)
		}
		name, _, _ = strings.Cut(name, ".")
	}
	a := &Announcer{name: name, port: p, version: o.Version, state: "starting", log: o.Log}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.ips, a.ifi, err = addresses(host); err != nil {
		return nil, err
	}
	if err := a.rebuildLocked(); err != nil {
		return nil, err
	}
	// Listening from here on: a question asked once New returns is answered.
	if a.srv, err = mdns.NewServer(&mdns.Config{Zone: a, Iface: a.ifi, Logger: log.New(io.Discard, "", 0)}); err != nil {
		return nil, fmt.Errorf("mdns: listen on udp 5353: %w", err)
	}
	return a, nil
}

// Host is the name announced, NAME.local, as a browser's Host header names it.
func (a *Announcer) Host() string { return a.name + ".local" }

// addresses are the unicast addresses of host's interface (all interfaces' for an
// unspecified host), and that interface.
func addresses(host string) ([]net.IP, *net.Interface, error) {
	want := net.ParseIP(host)
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, nil, fmt.Errorf("mdns: list interfaces: %w", err)
	}
	var ips []net.IP
	for i := range ifs {
		ifi := &ifs[i]
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, ad := range addrs {
			ipn, ok := ad.(*net.IPNet)
			if !ok {
				continue
			}
			ip := ipn.IP
			if want != nil && !want.IsUnspecified() {
				if ip.Equal(want) {
					return []net.IP{ip}, ifi, nil
				}
				continue
			}
			if ip.IsLoopback() || (ip.To4() == nil && ip.IsLinkLocalUnicast()) {
				continue
			}
			ips = append(ips, ip)
		}
	}
	if want != nil && !want.IsUnspecified() {
		return nil, nil, fmt.Errorf("mdns: no multicast interface has the listen address %s", want)
	}
	if want == nil && host != "" {
		return nil, nil, fmt.Errorf("mdns: listen host %q is not an address; announce needs one (or 0.0.0.0)", host)
	}
	if len(ips) == 0 {
		return nil, nil, errors.New("mdns: no network interface with an address is up")
	}
	return ips, nil, nil
}

// SetState puts the conversation state in the _voiced._tcp TXT record.
func (a *Announcer) SetState(state string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if state == a.state {
		return
	}
	a.state = state
	if err := a.rebuildLocked(); err != nil {
		a.log.Warn("mdns: update TXT record", "err", err)
	}
}

func (a *Announcer) rebuildLocked() error {
	host := a.name + ".local."
	h, err := mdns.NewMDNSService(a.name, HTTPService, "local.", host, a.port, a.ips, []string{"path=/"})
	if err != nil {
		return fmt.Errorf("mdns: %w", err)
	}
	v, err := mdns.NewMDNSService(a.name, VoicedService, "local.", host, a.port, a.ips,
		[]string{"version=" + a.version, "state=" + a.state, "path=/"})
	if err != nil {
		return fmt.Errorf("mdns: %w", err)
	}
	a.http, a.voiced = h, v
	return nil
}

// Records answers one question from both services (the mdns.Zone interface).
func (a *Announcer) Records(q dns.Question) []dns.RR {
	a.mu.Lock()
	h, v := a.http, a.voiced
	a.mu.Unlock()
	rrs := h.Records(q)
	for _, rr := range v.Records(q) {
		// The host's address records are the same in both services: answer them once.
		if q.Name == h.HostName && len(rrs) > 0 {
			break
		}
		rrs = append(rrs, rr)
	}
	return rrs
}

// Run answers until ctx ends, then closes the sockets New opened.
func (a *Announcer) Run(ctx context.Context) error {
	a.log.Info("announcing over mDNS", "name", a.Host(), "port", a.port, "addresses", a.ips)
	<-ctx.Done()
	return a.srv.Shutdown()
}
