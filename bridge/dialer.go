package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/idna"
)

// deniedRanges are the destinations an upstream call must never reach unless
// an operator allows them: a tenant-supplied URL must not become a way into
// the network Portico runs in. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
// are unmapped before the check, so they meet the IPv4 rows.
var deniedRanges = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local (cloud metadata)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved"},
	{netip.MustParsePrefix("::1/128"), "a loopback"},                      // before ::/96, which holds it, so the error names it
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible or unspecified"}, // ::a.b.c.d and ::
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64"},
	{netip.MustParsePrefix("100::/64"), "a discard-only"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local, e.g. fd00:ec2::254 cloud metadata)"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast"},
}

// BlockedAddressError says an upstream address was refused by the outbound guard.
type BlockedAddressError struct {
	Host string // the name that was resolved; empty when the URL held an IP
	Addr netip.Addr
	What string
}

func (e *BlockedAddressError) Error() string {
	on := e.Addr.String()
	if e.Host != "" && e.Host != on {
		on = fmt.Sprintf("%s (%s resolves to it)", e.Addr, e.Host)
	}
	return fmt.Sprintf("refused to connect to %s: it is %s address; an operator can allow it with PORTICO_ALLOW_UPSTREAM_CIDRS", on, e.What)
}

// Resolver answers what a host name resolves to; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialFunc opens a connection to an ip:port the guard has already checked.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// guard decides which resolved addresses outbound connections may reach.
// It resolves names itself and dials only the addresses it checked, so the
// address judged is the address connected to (a DNS answer that changes
// between a check and a dial, i.e. rebinding, cannot slip through).
type guard struct {
	allow    []netip.Prefix
	resolver Resolver // nil means net.DefaultResolver
	dial     DialFunc // nil means a net.Dialer that re-checks in Control
}

// check returns a *BlockedAddressError when ip is internal and not allowed.
func (g guard) check(ip netip.Addr) error {
	return decide(g.allow, ip)
}

// decide is the guard's whole judgement of one address, a pure function of
// the allow-list and the address. The address is judged with its zone
// stripped and IPv4-mapped forms unmapped (netip.Prefix.Contains is false
// for any zoned address, so judging "::1%lo" as given would match no
// range). An address with a zone (fe80::1%eth0, ::1%lo) names an interface
// the operator did not choose: it is refused outright, whatever its range,
// unless an allow-list entry contains the address itself.
func decide(allow []netip.Prefix, ip netip.Addr) error {
	if !ip.IsValid() {
		return &BlockedAddressError{Addr: ip, What: "an invalid"}
	}
	bare := ip.WithZone("").Unmap()
	for _, p := range allow {
		if p.Contains(bare) {
			return nil
		}
	}
	for _, d := range deniedRanges {
		if d.prefix.Contains(bare) {
			return &BlockedAddressError{Addr: ip, What: d.what}
		}
	}
	if ip.Zone() != "" {
		return &BlockedAddressError{Addr: ip, What: "an interface-scoped (zoned)"}
	}
	return nil
}

// hostAddr reads host as an IP address the way a resolver would, so the
// guard never hands a numeric host to the resolver to interpret: besides
// netip's forms (zones included) it accepts a trailing dot, IDNA forms
// (fullwidth digits map to ASCII, as net/http maps them before dialing)
// and the legacy inet_aton forms getaddrinfo turns into addresses
// (2130706433, 017700000001, 0x7f.1, 127.1). ok is false for a name.
func hostAddr(host string) (ip netip.Addr, ok bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	if a, err := idna.Lookup.ToASCII(host); err == nil {
		host = a
	}
	host = strings.TrimSuffix(host, ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	return legacyIPv4(host)
}

// legacyIPv4 parses the inet_aton forms: one to four parts, each decimal,
// octal (leading 0) or hex (0x), the last filling the remaining bytes.
func legacyIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base, digits := 10, p
		switch {
		case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
			base, digits = 16, p[2:]
			if digits == "" {
				digits = "0" // "0x" alone is 0 to inet_aton
			}
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		if digits == "" || strings.ContainsAny(digits, "+-_") {
			return netip.Addr{}, false
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// control runs on the socket about to connect: a second, independent check
// of the exact address, in case a future change dials something unresolved.
func (g guard) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address", host)
	}
	return g.check(ip) // a zone stays on the address here, and is judged
}

// resolve returns the addresses host stands for, refusing the whole name
// when any answer is internal: a name that mixes public and internal
// answers is how rebinding attacks look.
func (g guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, ok := hostAddr(host); ok {
		return []netip.Addr{ip}, g.check(ip)
	}
	res := g.resolver
	if res == nil {
		res = net.DefaultResolver
	}
	ips, err := res.LookupNetIP(ctx, "ip", localhostName(host))
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s resolves to no address", host)
	}
	for _, ip := range ips {
		if err := g.check(ip); err != nil {
			err.(*BlockedAddressError).Host = host
			return nil, err
		}
	}
	return ips, nil
}

// localhostName returns "localhost" for every name RFC 6761 reserves for
// loopback ("localhost", "LOCALHOST.", "x.localhost"), and host unchanged
// otherwise. Go's resolver answers "localhost" from /etc/hosts but sends
// "localhost." and "x.localhost" to DNS, where they usually do not exist, so
// they would pass registration as "not resolvable yet" while a resolver
// elsewhere maps them to loopback: asking for "localhost" judges all of them
// by the loopback addresses they stand for.
func localhostName(host string) string {
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return "localhost"
	}
	return host
}

// dialContext is the transports' DialContext: resolve, check every answer,
// then dial the checked addresses in order until one connects.
func (g guard) dialContext() DialFunc {
	dial := g.dial
	if dial == nil {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
		dial = d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := g.resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		var first error
		for _, ip := range ips {
			c, err := dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port)) // the zone, if allowed, goes too
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
		}
		return nil, first
	}
}

// CheckUpstream tells, before anything is stored, whether rawURL's host is
// one upstream calls would be refused: it returns a *BlockedAddressError
// when the host is (or resolves to) an address the operator did not allow.
// A name that does not resolve now is not an error here; activation reports
// it, since a service is often registered before its DNS is live.
func (r *Runtime) CheckUpstream(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return nil // the api validates the URL's shape itself
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = r.guard.resolve(ctx, u.Hostname())
	var blocked *BlockedAddressError
	if errors.As(err, &blocked) {
		return blocked
	}
	return nil
}
