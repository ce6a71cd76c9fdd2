package discovery

import (
	"context"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/mdns"
)

// netnsEnv marks the copy of the test binary that runs inside its own network namespace.
const netnsEnv = "VOICED_TEST_NETNS"

// TestResolve announces on one end of a veth pair and resolves with a DNS-SD query from
// the other, inside a fresh network namespace (so nothing reaches the real network and
// nothing on it answers). It needs root (unshare, ip); elsewhere it says so and skips.
func TestResolve(t *testing.T) {
	if os.Getenv(netnsEnv) == "" {
		unshare, err1 := exec.LookPath("unshare")
		_, err2 := exec.LookPath("ip")
		if os.Geteuid() != 0 || err1 != nil || err2 != nil || testing.Short() {
			t.Skip("resolving the mDNS announcement needs root, unshare and ip (a network namespace with a veth pair), and no -short")
		}
		if out, err := exec.Command(unshare, "--net", "true").CombinedOutput(); err != nil {
			t.Skipf("cannot make a network namespace here (unshare --net: %v %s); the announcement is not resolved", err, out)
		}
		cmd := exec.Command(unshare, "--net", os.Args[0], "-test.run=^TestResolve$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), netnsEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestResolve") {
			t.Fatalf("in a network namespace: %v\n%s", err, out)
		}
		t.Logf("in a network namespace:\n%s", out)
		return
	}
	for _, args := range [][]string{
		{"link", "add", "vd0", "type", "veth", "peer", "name", "vd1"},
		{"addr", "add", "10.77.0.1/24", "dev", "vd0"},
		{"addr", "add", "10.77.0.2/24", "dev", "vd1"},
		{"link", "set", "vd0", "up"},
		{"link", "set", "vd1", "up"},
		{"link", "set", "lo", "up"},
		// The querier's multicast goes out of vd1 (it joins on the default interface).
		{"route", "add", "224.0.0.0/4", "dev", "vd1"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	// A veth end drops what is sent before both ends are up.
	for _, ifname := range []string{"vd0", "vd1"} {
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			ifi, err := net.InterfaceByName(ifname)
			if err == nil && ifi.Flags&net.FlagRunning != 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is not running after 5 s (%v)", ifname, err)
			}
		}
	}
	a, err := New(Options{Name: "kitchen", Listen: "10.77.0.1:8088", Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	a.SetState("listening")
	client, err := net.InterfaceByName("vd1")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		service string
		txt     []string
	}{
		{VoicedService, []string{"version=1.2.3", "state=listening", "path=/"}},
		{HTTPService, []string{"path=/"}},
	} {
		entries := make(chan *mdns.ServiceEntry, 16)
		start := time.Now()
		var found *mdns.ServiceEntry
		var after time.Duration
		got := make(chan struct{})
		go func() {
			defer close(got)
			for e := range entries {
				if found == nil && strings.HasPrefix(e.Name, "kitchen.") {
					found, after = e, time.Since(start)
				}
			}
		}()
		// The query's own timeout is the acceptance bound: found within 2 s or not at all.
		err := mdns.Query(&mdns.QueryParam{Service: tc.service, Domain: "local", Timeout: 2 * time.Second,
			Interface: client, Entries: entries, DisableIPv6: true, Logger: log.New(io.Discard, "", 0)})
		close(entries)
		<-got
		if err != nil {
			t.Fatalf("query %s: %v", tc.service, err)
		}
		if found == nil {
			t.Fatalf("query %s within 2 s found no kitchen", tc.service)
		}
		t.Logf("%s: %s at %s:%d %v (answered after %v)", tc.service, found.Name, found.AddrV4, found.Port, found.InfoFields, after.Round(time.Millisecond))
		if found.Port != 8088 || !found.AddrV4.Equal(net.ParseIP("10.77.0.1")) || found.Host != "kitchen.local." {
			t.Errorf("%s resolves to %s %s:%d, want kitchen.local. 10.77.0.1:8088", tc.service, found.Host, found.AddrV4, found.Port)
		}
		for _, kv := range tc.txt {
			if !slices.Contains(found.InfoFields, kv) {
				t.Errorf("%s TXT %v lacks %s", tc.service, found.InfoFields, kv)
			}
		}
	}
}

// TestNew checks the addresses chosen and the errors for what cannot be announced.
func TestNew(t *testing.T) {
	if _, err := New(Options{Listen: "8088"}); err == nil {
		t.Errorf("New with listen 8088 = nil error, want one naming the address")
	}
	if _, err := New(Options{Listen: "192.0.2.200:8088", Name: "x"}); err == nil {
		t.Errorf("New with an address no interface has = nil error, want one")
	}
	a, err := New(Options{Listen: "0.0.0.0:8088", Name: "kitchen"})
	if err != nil {
		t.Skipf("no interface to announce on here: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Run(ctx); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if a.Host() != "kitchen.local" {
		t.Errorf("Host() = %s, want kitchen.local", a.Host())
	}
	for _, ip := range a.ips {
		if ip.IsLoopback() {
			t.Errorf("announces loopback address %s", ip)
		}
	}
}
