package bridge

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/portico-mcp/portico/tenant"
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
	bare := func(ip netip.Addr) netip.Addr { return ip.WithZone("").Unmap() }
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
		if mapped[bare(ip)] {
			return d.DialContext(ctx, "tcp", server)
		}
		if !bare(ip).IsLoopback() {
			t.Errorf("attempt to connect to non-loopback address %s", addr)
			return nil, errors.New("test network: refused non-loopback address")
		}
		return d.DialContext(ctx, network, addr)
	}
}

func TestGuardRefusesInternalAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "http://internal.example"+portOf(r.Host)+"/ok", http.StatusFound)
			return
		case "/redirect-zoned":
			http.Redirect(w, r, "http://[::1%25lo]"+portOf(r.Host)+"/ok", http.StatusFound)
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
		// A zone makes netip.Prefix.Contains false for every range: the
		// guard must judge the address without it.
		{"zoned loopback", "http://[::1%25lo]:" + port + "/", "::1/128"},
		{"zoned link-local", "http://[fe80::1%25eth0]:" + port + "/", "fe80::/10"},
		{"zoned unique local", "http://[fd00::1%25eth0]:" + port + "/", "fd00::/8"},
		{"zoned public address", "http://[2606:4700:4700::1111%25eth0]:" + port + "/", "2606:4700:4700::1111/128"},
		{"redirect to a zoned loopback", "http://public.example:" + port + "/redirect-zoned", "::1/128"},
		// Numeric hosts the resolver would read as addresses are judged
		// as addresses, without asking the resolver.
		{"hex and short form", "http://0x7f.1:" + port + "/", "127.0.0.0/8"},
		{"one decimal number", "http://2130706433:" + port + "/", "127.0.0.0/8"},
		{"one octal number", "http://017700000001:" + port + "/", "127.0.0.0/8"},
		{"short form", "http://127.1:" + port + "/", "127.0.0.0/8"},
		{"trailing dot", "http://127.0.0.1.:" + port + "/", "127.0.0.0/8"},
		{"fullwidth digits", "http://１２７.０.０.１:" + port + "/", "127.0.0.0/8"},
		{"userinfo before the host", "http://good.example@127.0.0.1:" + port + "/", "127.0.0.0/8"},
		{"mapped, hex", "http://[::ffff:7f00:1]:" + port + "/", "127.0.0.0/8"},
		{"mapped, long form", "http://[0:0:0:0:0:ffff:127.0.0.1]:" + port + "/", "127.0.0.0/8"},
		{"NAT64 of loopback", "http://[64:ff9b::7f00:1]:" + port + "/", "64:ff9b::/96"},
	}
	network := fakeNetwork(t, srv.Listener.Addr().String(),
		"203.0.113.7", "10.0.0.5", "169.254.169.254", "::1", "fe80::1", "fd00::1", "2606:4700:4700::1111", "64:ff9b::7f00:1")
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
	for _, u := range []string{"http://[::1%25lo]:8000", "http://[fe80::1%25eth0]/", "http://[fd00::1%25eth0]/", "http://0x7f.1/", "http://2130706433/", "http://127.0.0.1./"} {
		if err := r.CheckUpstream(context.Background(), u); !errors.As(err, &blocked) {
			t.Errorf("%s: err = %v, want *BlockedAddressError", u, err)
		}
	}
	r = New(nil, Config{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err := r.CheckUpstream(context.Background(), "http://10.0.0.5:8000"); err != nil {
		t.Errorf("allowed private IP: %v", err)
	}
}

// guardForms is every way of writing an address the guard must judge: the
// host as it appears in a URL (after url.Parse; a zone's %25 is already %),
// and whether the default guard lets it through.
var guardForms = []struct {
	host    string
	allowed bool
}{
	// IPv4, plain and in the legacy forms getaddrinfo reads as addresses.
	{"127.0.0.1", false}, {"127.1", false}, {"2130706433", false}, {"017700000001", false},
	{"0x7f.1", false}, {"0X7F.0.0.1", false}, {"0x7f000001", false}, {"0177.0.0.01", false},
	{"127.0.0.1.", false}, {"0", false}, {"0.0.0.0", false}, {"10.1", false},
	{"169.254.169.254", false}, {"2852039166", false}, {"0xa9.0xfe.0xa9.0xfe", false},
	{"192.168.0.1", false}, {"100.64.0.1", false}, {"255.255.255.255", false},
	// IDNA: fullwidth digits and dots map to ASCII before dialing.
	{"１２７.０.０.１", false}, {"127。0。0。1", false},
	// IPv6, with and without zones.
	{"::1", false}, {"::", false}, {"::1%lo", false}, {"::1%25lo", false}, {"fe80::1%eth0", false},
	{"fe80::1", false}, {"fd00::1%eth0", false}, {"fd00:ec2::254", false}, {"FD00:EC2::254", false},
	{"0:0:0:0:0:0:0:1", false}, {"ff02::1%eth0", false},
	{"2606:4700:4700::1111%eth0", false}, // a public address with a zone is still refused
	// IPv4-mapped, -compatible, NAT64, 6to4, Teredo.
	{"::ffff:127.0.0.1", false}, {"::ffff:7f00:1", false}, {"0:0:0:0:0:ffff:127.0.0.1", false},
	{"::FFFF:7F00:1", false}, {"::ffff:127.0.0.1%eth0", false}, {"::ffff:169.254.169.254", false},
	{"::127.0.0.1", false}, {"::7f00:1", false}, {"64:ff9b::7f00:1", false}, {"64:ff9b::a9fe:a9fe%eth0", false},
	{"64:ff9b:1::1", false}, {"2002:7f00:1::1", false}, {"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
	{"100::1", false},
	// Public addresses and names pass.
	{"8.8.8.8", true}, {"134744072", true}, {"0x8.0x8.0x8.0x8", true}, {"８.８.８.８", true},
	{"::ffff:8.8.8.8", true}, {"2606:4700:4700::1111", true}, {"public.example", true},
	// Names that resolve inward are refused.
	{"localhost", false}, {"localhost.", false}, {"loopback.example", false},
}

// TestGuardAddressForms runs every form through the guard's resolve step
// (what CheckUpstream and every dial use) with the default, empty
// allow-list.
func TestGuardAddressForms(t *testing.T) {
	g := guard{resolver: fakeResolver{
		"public.example":   {netip.MustParseAddr("203.0.113.7")},
		"loopback.example": {netip.MustParseAddr("127.0.0.1")},
		"localhost":        {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"localhost.":       {netip.MustParseAddr("127.0.0.1")},
	}}
	for _, f := range guardForms {
		t.Run(f.host, func(t *testing.T) {
			_, err := g.resolve(context.Background(), f.host)
			var blocked *BlockedAddressError
			if got := !errors.As(err, &blocked); got != f.allowed {
				t.Errorf("resolve(%q): %v; want allowed=%v", f.host, err, f.allowed)
			}
		})
	}
}

// TestGuardLocalhostNames: Go's resolver answers only "localhost" itself
// (from /etc/hosts) and sends "localhost." or "x.localhost" to DNS, where
// they do not exist; each must still be judged as the loopback it stands
// for, at registration and at dial time, never passed as "not resolvable".
func TestGuardLocalhostNames(t *testing.T) {
	g := guard{resolver: fakeResolver{
		"localhost": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
	}}
	for _, host := range []string{"localhost", "localhost.", "LOCALHOST.", "LocalHost", "api.localhost", "api.localhost.", "a.b.LOCALHOST"} {
		_, err := g.resolve(context.Background(), host)
		var blocked *BlockedAddressError
		if !errors.As(err, &blocked) || blocked.What != "a loopback" {
			t.Errorf("resolve(%q) = %v, want refused as loopback", host, err)
		} else if blocked.Host != host {
			t.Errorf("resolve(%q) names %q; the refusal should name the host as written", host, blocked.Host)
		}
	}
	if _, err := g.resolve(context.Background(), "localhost.example"); err == nil || errors.As(err, new(*BlockedAddressError)) {
		t.Errorf("resolve(localhost.example) = %v, want an ordinary lookup failure (it is not a reserved name)", err)
	}
}

func TestGuardZonesAndTheAllowList(t *testing.T) {
	for _, c := range []struct {
		addr, allow string
		allowed     bool
	}{
		{"::1%lo", "", false},
		{"::1%lo", "::1/128", true}, // the entry names the address: the zone is the operator's choice
		{"fe80::1%eth0", "::1/128", false},
		{"fe80::1%eth0", "fe80::/10", true},
		{"fd00::1%eth0", "fc00::/7", true},
		{"2606:4700:4700::1111%eth0", "", false},
		{"2606:4700:4700::1111%eth0", "2606:4700::/32", true},
		{"::ffff:127.0.0.1%eth0", "127.0.0.0/8", true},
		{"10.0.0.1", "fe80::/10", false},
	} {
		t.Run(c.addr+" allow "+c.allow, func(t *testing.T) {
			var allow []netip.Prefix
			if c.allow != "" {
				allow = []netip.Prefix{netip.MustParsePrefix(c.allow)}
			}
			err := guard{allow: allow}.check(netip.MustParseAddr(c.addr))
			if (err == nil) != c.allowed {
				t.Errorf("check(%s) with allow %q: %v; want allowed=%v", c.addr, c.allow, err, c.allowed)
			}
		})
	}
}

// TestGuardNamesTheRange: the refusal names the range a user would know the
// address by (::1 is loopback, though ::/96 holds it too).
func TestGuardNamesTheRange(t *testing.T) {
	for addr, want := range map[string]string{
		"::1": "loopback", "::1%lo": "loopback", "::127.0.0.1": "IPv4-compatible", "::": "unspecified",
		"127.0.0.1": "loopback", "fe80::1%eth0": "link-local", "64:ff9b::7f00:1": "NAT64",
	} {
		err := decide(nil, netip.MustParseAddr(addr))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decide(%s) = %v, want it named %s", addr, err, want)
		}
	}
}

// FuzzGuardNeverDialsDenied: whatever URL a tenant or client writes, the
// guard's dialer never hands a denied address (zone stripped, unmapped) to
// the socket layer, and the socket-level Control check refuses it too.
func FuzzGuardNeverDialsDenied(f *testing.F) {
	for _, g := range guardForms {
		h := g.host
		if strings.Contains(h, ":") {
			h = "[" + strings.ReplaceAll(h, "%", "%25") + "]"
		}
		f.Add("http://" + h + ":8080/openapi.json")
	}
	f.Add("http://good@127.0.0.1/")
	f.Add("http://[::1%25lo]:9/x")
	f.Add("https://[fe80::1%25eth0]/x.json")
	g := guard{
		resolver: fakeResolver{
			"public.example":   {netip.MustParseAddr("203.0.113.7")},
			"loopback.example": {netip.MustParseAddr("127.0.0.1")},
			"zoned.example":    {netip.MustParseAddr("fe80::1%eth0")},
		},
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		var dialed []string
		g := g
		g.dial = func(_ context.Context, _, addr string) (net.Conn, error) {
			dialed = append(dialed, addr)
			return nil, errors.New("test network: no connection")
		}
		g.dialContext()(context.Background(), "tcp", net.JoinHostPort(u.Hostname(), "80"))
		for _, addr := range dialed {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatalf("dialed %q: %v", addr, err)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				t.Fatalf("dialed %q, not an IP address", addr)
			}
			if ip.Zone() != "" {
				t.Fatalf("%q: dialed zoned address %s", raw, addr)
			}
			bare := ip.Unmap()
			for _, d := range deniedRanges {
				if d.prefix.Contains(bare) {
					t.Fatalf("%q: dialed %s, in denied %s", raw, addr, d.prefix)
				}
			}
			if err := g.control("tcp", addr, nil); err != nil {
				t.Fatalf("%q: dialed %s, which Control refuses: %v", raw, addr, err)
			}
		}
	})
}

// judge is the guard's decision on a URL host, as the dialer makes it:
// read the host as an address if it is one, then decide. ok is false when
// the host is a name the resolver would be asked about.
func judge(allow []netip.Prefix, host string) (ok bool, err error) {
	ip, ok := hostAddr(host)
	if !ok {
		return false, nil
	}
	return true, decide(allow, ip)
}

func TestGuardDecide(t *testing.T) {
	const (
		refused = "refused"
		allowed = "allowed"
		name    = "name" // goes to the resolver, whose answers are judged
	)
	cases := []struct {
		name, host, allow, want string
	}{
		{"v4 loopback", "127.0.0.1", "", refused},
		{"v4 private", "10.1.2.3", "", refused},
		{"v4 metadata", "169.254.169.254", "", refused},
		{"v4 public", "8.8.8.8", "", allowed},
		{"v4 allowed by the list", "127.0.0.1", "127.0.0.0/8", allowed},
		{"v6 loopback", "::1", "", refused},
		{"v6 unspecified", "::", "", refused},
		{"v6 unique local", "fd00::1", "", refused},
		{"v6 metadata", "fd00:ec2::254", "", refused},
		{"v6 link-local", "fe80::1", "", refused},
		{"v6 public", "2606:4700:4700::1111", "", allowed},
		{"v6 uppercase", "FE80::1", "", refused},
		{"v4-mapped dotted", "::ffff:127.0.0.1", "", refused},
		{"v4-mapped hex", "::ffff:7f00:1", "", refused},
		{"v4-mapped uppercase hex", "::FFFF:7F00:1", "", refused},
		{"v4-mapped long form", "0:0:0:0:0:ffff:127.0.0.1", "", refused},
		{"v4-mapped public", "::ffff:8.8.8.8", "", allowed},
		{"v4-mapped allowed by a v4 entry", "::ffff:127.0.0.1", "127.0.0.0/8", allowed},
		{"v4-compatible", "::127.0.0.1", "", refused},
		{"v4-compatible hex", "::7f00:1", "", refused},
		{"NAT64 of loopback", "64:ff9b::7f00:1", "", refused},
		{"NAT64 of metadata", "64:ff9b::169.254.169.254", "", refused},
		{"local NAT64", "64:ff9b:1::a9fe:a9fe", "", refused},
		{"6to4 of loopback", "2002:7f00:1::1", "", refused},
		{"Teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "", refused},
		{"zoned loopback", "::1%lo", "", refused},
		{"zoned link-local", "fe80::1%eth0", "", refused},
		{"zoned unique local", "fd00::1%eth0", "", refused},
		{"zoned mapped loopback", "::ffff:127.0.0.1%lo", "", refused},
		{"zoned public address", "2606:4700:4700::1111%eth0", "", refused},
		{"zoned numeric zone", "fe80::1%2", "", refused},
		{"zoned loopback, entry names it", "::1%lo", "::1/128", allowed},
		{"zoned link-local, entry names it", "fe80::1%eth0", "fe80::/10", allowed},
		{"zoned loopback, entry names v4 loopback only", "::1%lo", "127.0.0.0/8", refused},
		{"zoned public, entry names another range", "2606:4700:4700::1111%eth0", "fd00::/8", refused},
		{"one decimal number", "2130706433", "", refused},
		{"one octal number", "017700000001", "", refused},
		{"one hex number", "0x7f000001", "", refused},
		{"uppercase hex", "0X7F000001", "", refused},
		{"hex and short form", "0x7f.1", "", refused},
		{"short form", "127.1", "", refused},
		{"three parts", "127.0.1", "", refused},
		{"octal parts", "0177.0.0.01", "", refused},
		{"hex parts", "0x7f.0x0.0x0.0x1", "", refused},
		{"metadata as one number", "2852039166", "", refused},
		{"public as one number", "134744072", "", allowed},
		{"trailing dot", "127.0.0.1.", "", refused},
		{"trailing dot, public", "8.8.8.8.", "", allowed},
		{"fullwidth digits", "１２７.０.０.１", "", refused},
		{"fullwidth digits and full stops", "１２７。０。０。１", "", refused},
		{"fullwidth public", "８.８.８.８", "", allowed},
		{"name", "example.com", "", name},
		{"localhost with a dot", "localhost.", "", name},
		{"fullwidth localhost", "ＬＯＣＡＬＨＯＳＴ", "", name},
		{"too many parts", "1.2.3.4.5", "", name},
		{"part out of range", "256.1.1.1", "", name},
		{"number too large", "4294967296", "", name},
		{"bad octal", "08.0.0.1", "", name},
		{"hex name", "0xgg", "", name},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var allow []netip.Prefix
			if c.allow != "" {
				allow = []netip.Prefix{netip.MustParsePrefix(c.allow)}
			}
			ok, err := judge(allow, c.host)
			got := allowed
			switch {
			case !ok:
				got = name
			case err != nil:
				got = refused
				var blocked *BlockedAddressError
				if !errors.As(err, &blocked) || !strings.Contains(err.Error(), "PORTICO_ALLOW_UPSTREAM_CIDRS") {
					t.Errorf("error %v: want a *BlockedAddressError saying how to allow it", err)
				}
			}
			if got != c.want {
				t.Errorf("%q with allow %q: %s (%v), want %s", c.host, c.allow, got, err, c.want)
			}
		})
	}
	if err := decide(nil, netip.Addr{}); err == nil {
		t.Error("the zero Addr is allowed, want refused")
	}
}

// denied is an oracle independent of deniedRanges: the standard library's
// own predicates, plus the IPv4 address an IPv6 transition form carries.
func denied(ip netip.Addr) bool {
	if ip.Zone() != "" {
		return true
	}
	ip = ip.Unmap()
	internal := func(a netip.Addr) bool {
		return !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() ||
			(a.Is4() && (a.As4()[0] == 0 || a.As4()[0] == 100 && a.As4()[1]&0xc0 == 64 || a.As4()[0] == 198 && a.As4()[1]&0xfe == 18 || a.As4()[0] >= 224))
	}
	if internal(ip) {
		return true
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case b[0] == 0x20 && b[1] == 0x02: // 6to4: 2002:AABB:CCDD::
			return internal(netip.AddrFrom4([4]byte(b[2:6])))
		case netip.MustParsePrefix("::/96").Contains(ip), netip.MustParsePrefix("64:ff9b::/96").Contains(ip):
			return internal(netip.AddrFrom4([4]byte(b[12:16])))
		}
	}
	return false
}

// FuzzGuardDial asserts that no denied address is ever dialed, whatever
// the URL and whatever DNS answers: every dial the guarded client makes is
// recorded, and the oracle above (not the guard's own table) judges it.
func FuzzGuardDial(f *testing.F) {
	for _, u := range []string{
		"http://127.0.0.1/", "http://[::1]/", "http://[::1%25lo]:8080/", "http://[fe80::1%25eth0]/",
		"http://[fd00::1%25eth0]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
		"http://[0:0:0:0:0:ffff:127.0.0.1]/", "http://[::127.0.0.1]/", "http://[64:ff9b::a9fe:a9fe]/",
		"http://[2002:7f00:1::1]/", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
		"http://0x7f.1/", "http://2130706433/", "http://017700000001/", "http://127.1/", "http://127.0.0.1./",
		"http://localhost./", "http://１２７.０.０.１/", "http://good@127.0.0.1/", "http://[::FFFF:7F00:1]/",
		"http://169.254.169.254/latest/meta-data", "http://name.example/", "https://8.8.8.8/",
	} {
		f.Add(u, []byte{127, 0, 0, 1})
		f.Add(u, netip.MustParseAddr("::1").AsSlice())
	}
	f.Add("http://name.example/", netip.MustParseAddr("::ffff:10.0.0.1").AsSlice())
	f.Add("http://name.example/", netip.MustParseAddr("8.8.8.8").AsSlice())
	f.Fuzz(func(t *testing.T, rawURL string, answer []byte) {
		ans, ok := netip.AddrFromSlice(answer)
		resolver := fakeResolver{}
		if ok {
			if u, err := url.Parse(rawURL); err == nil {
				resolver[u.Hostname()] = []netip.Addr{ans}
			}
		}
		var dialed []string
		g := guard{resolver: resolver, dial: func(_ context.Context, _, addr string) (net.Conn, error) {
			dialed = append(dialed, addr)
			return nil, errors.New("fuzz network: no connections")
		}}
		client, tr := upstreamClient(g, 1)
		defer tr.CloseIdleConnections()
		req, err := http.NewRequest(http.MethodGet, rawURL, nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
		for _, a := range dialed {
			host, _, err := net.SplitHostPort(a)
			if err != nil {
				t.Fatalf("dialed %q, not host:port", a)
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				t.Fatalf("dialed %q, not an address the guard checked", a)
			}
			if denied(ip) {
				t.Fatalf("%s: dialed denied address %s", rawURL, a)
			}
		}
	})
}

// TestSpecFetchGuarded: the spec fetch (activation, refresh, preview)
// judges the spec_url and every redirect it follows.
func TestSpecFetchGuarded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect-zoned" {
			http.Redirect(w, r, "http://[::1%25lo]"+portOf(r.Host)+"/openapi.json", http.StatusFound)
			return
		}
		io.WriteString(w, `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{}}`)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	r := New(nil, Config{
		Resolver: fakeResolver{"public.example": {netip.MustParseAddr("203.0.113.7")}},
		Dial:     fakeNetwork(t, srv.Listener.Addr().String(), "203.0.113.7", "::1", "fe80::1"),
	})
	if _, err := r.Preview(context.Background(), "http://public.example:"+port+"/openapi.json", tenant.Settings{}); err != nil {
		t.Fatalf("public spec_url: %v", err)
	}
	for _, u := range []string{
		"http://[::1%25lo]:" + port + "/openapi.json",
		"http://[fe80::1%25eth0]:" + port + "/openapi.json",
		"http://0x7f.1:" + port + "/openapi.json",
		"http://public.example:" + port + "/redirect-zoned",
	} {
		_, err := r.Preview(context.Background(), u, tenant.Settings{})
		var ae *tenant.ActivationError
		if !errors.As(err, &ae) || ae.Field != "spec_url" || !strings.Contains(ae.Reason, "refused to connect") {
			t.Errorf("%s: err = %v, want an activation error on spec_url saying the address was refused", u, err)
		}
	}
}
