package bridge

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// deniedRanges are the destinations an upstream call must never reach unless
// an operator allows them: a tenant-supplied URL must not become a way into
// the network Portico runs in.
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
	{netip.MustParsePrefix("::/128"), "an unspecified"},
	{netip.MustParsePrefix("::1/128"), "a loopback"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local)"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast"},
}

// BlockedAddressError says an upstream address was refused by the outbound guard.
type BlockedAddressError struct {
	Addr netip.Addr
	What string
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s address; an operator can allow it with PORTICO_ALLOW_UPSTREAM_CIDRS", e.Addr, e.What)
}

// guard decides which resolved addresses outbound connections may reach.
type guard struct {
	allow []netip.Prefix
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

// control runs after DNS resolution, on the address actually dialled, so a
// name that resolves to an internal address (DNS rebinding included) fails.
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

// dialContext is a net.Dialer.DialContext that refuses denied addresses.
func (g guard) dialContext() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	return d.DialContext
}
