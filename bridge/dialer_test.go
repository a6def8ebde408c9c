package bridge

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// fakeResolver answers from a table; unknown names do not resolve.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := f[host]; ok {
		return ips, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// fakeNetwork is the only way the guarded client reaches a socket in these
// tests: the addresses in fake (public, private, metadata alike) all lead to
// one loopback test server, and any other non-loopback address fails the
// test at once without a packet being sent. A broken guard therefore shows
// up as a failed test, never as a connection to 169.254.169.254.
func fakeNetwork(t *testing.T, server string, fake ...string) DialFunc {
	mapped := map[netip.Addr]bool{}
	for _, a := range fake {
		mapped[netip.MustParseAddr(a).Unmap()] = true
	}
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			t.Errorf("dial of unresolved address %q reached the socket layer", addr)
			return nil, errors.New("test network: not an IP")
		}
		if mapped[ip.Unmap()] {
			return d.DialContext(ctx, "tcp", server)
		}
		if !ip.Unmap().IsLoopback() {
			t.Errorf("attempt to connect to non-loopback address %s", addr)
			return nil, errors.New("test network: refused non-loopback address")
		}
		return d.DialContext(ctx, network, addr)
	}
}

func TestGuardRefusesInternalAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://internal.example"+portOf(r.Host)+"/ok", http.StatusFound)
			return
		}
		io.WriteString(w, "reached")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	resolver := fakeResolver{
		"public.example":   {netip.MustParseAddr("203.0.113.7")},
		"loopback.example": {netip.MustParseAddr("127.0.0.1")},
		"v6loop.example":   {netip.MustParseAddr("::1")},
		"private.example":  {netip.MustParseAddr("10.0.0.5")},
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
		"mapped.example":   {netip.MustParseAddr("::ffff:127.0.0.1")},
		"internal.example": {netip.MustParseAddr("10.0.0.5")},
		// A name with one public and one private answer: refused whole.
		"mixed.example": {netip.MustParseAddr("203.0.113.7"), netip.MustParseAddr("10.0.0.5")},
	}
	cases := []struct {
		name  string
		url   string
		allow string // the prefix that makes the call succeed
	}{
		{"resolves to 127.0.0.1", "http://loopback.example:" + port + "/", "127.0.0.0/8"},
		{"resolves to ::1", "http://v6loop.example:" + port + "/", "::1/128"},
		{"resolves to 10.0.0.5", "http://private.example:" + port + "/", "10.0.0.0/8"},
		{"resolves to 169.254.169.254", "http://metadata.example:" + port + "/", "169.254.169.254/32"},
		{"resolves to ::ffff:127.0.0.1", "http://mapped.example:" + port + "/", "127.0.0.1/32"},
		{"literal metadata address", "http://169.254.169.254:" + port + "/latest/meta-data", "169.254.0.0/16"},
		{"literal mapped IPv6", "http://[::ffff:127.0.0.1]:" + port + "/", "127.0.0.0/8"},
		{"public and private answers", "http://mixed.example:" + port + "/", "10.0.0.0/8"},
		{"redirect to a private address", "http://public.example:" + port + "/redirect", "10.0.0.0/8"},
	}
	network := fakeNetwork(t, srv.Listener.Addr().String(),
		"203.0.113.7", "10.0.0.5", "169.254.169.254", "::1")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, allowed := range []bool{false, true} {
				g := guard{resolver: resolver, dial: network}
				if allowed {
					g.allow = []netip.Prefix{netip.MustParsePrefix(c.allow)}
				}
				client, tr := upstreamClient(g, 2)
				resp, err := client.Get(c.url)
				tr.CloseIdleConnections()
				if !allowed {
					var blocked *BlockedAddressError
					if !errors.As(err, &blocked) {
						if resp != nil {
							resp.Body.Close()
						}
						t.Fatalf("without the allow-list: err = %v, want *BlockedAddressError", err)
					}
					if !strings.Contains(err.Error(), "PORTICO_ALLOW_UPSTREAM_CIDRS") {
						t.Errorf("error %q does not say how to allow it", err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("with %s allowed: %v", c.allow, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "reached" {
					t.Errorf("with %s allowed: body %q", c.allow, b)
				}
			}
		})
	}
}

func portOf(hostport string) string {
	if _, p, err := net.SplitHostPort(hostport); err == nil {
		return ":" + p
	}
	return ""
}

func TestGuardRanges(t *testing.T) {
	g := guard{}
	for _, a := range []string{
		"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.169.254",
		"0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "::ffff:10.0.0.1",
		"::ffff:169.254.169.254", "::127.0.0.1", "fe80::1", "fd00:ec2::254", "fc00::1", "ff02::1",
		"64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1",
	} {
		if g.check(netip.MustParseAddr(a)) == nil {
			t.Errorf("%s is allowed, want refused", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"} {
		if err := g.check(netip.MustParseAddr(a)); err != nil {
			t.Errorf("%s refused: %v", a, err)
		}
	}
}

func TestCheckUpstream(t *testing.T) {
	r := New(nil, Config{Resolver: fakeResolver{"metadata.example": {netip.MustParseAddr("169.254.169.254")}}})
	var blocked *BlockedAddressError
	if err := r.CheckUpstream(context.Background(), "http://metadata.example/openapi.json"); !errors.As(err, &blocked) {
		t.Errorf("metadata host: err = %v, want *BlockedAddressError", err)
	}
	if err := r.CheckUpstream(context.Background(), "http://10.0.0.5:8000"); !errors.As(err, &blocked) {
		t.Errorf("literal private IP: err = %v, want *BlockedAddressError", err)
	}
	if err := r.CheckUpstream(context.Background(), "http://unknown.example"); err != nil {
		t.Errorf("unresolvable host: %v, want nil (activation reports it)", err)
	}
	r = New(nil, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err := r.CheckUpstream(context.Background(), "http://10.0.0.5:8000"); err != nil {
		t.Errorf("allowed private IP: %v", err)
	}
}
