package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
	"time"
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
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible or unspecified"}, // ::a.b.c.d, ::, ::1 are covered below too
	{netip.MustParsePrefix("::1/128"), "a loopback"},
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
	ip = ip.Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	for _, d := range deniedRanges {
		if d.prefix.Contains(ip) {
			return &BlockedAddressError{Addr: ip, What: d.what}
		}
	}
	return nil
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
	return g.check(ip)
}

// resolve returns the addresses host stands for, refusing the whole name
// when any answer is internal: a name that mixes public and internal
// answers is how rebinding attacks look.
func (g guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, g.check(ip)
	}
	res := g.resolver
	if res == nil {
		res = net.DefaultResolver
	}
	ips, err := res.LookupNetIP(ctx, "ip", host)
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
			c, err := dial(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
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
