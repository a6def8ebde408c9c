package tenant

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxCORSOrigins bounds Settings.CORSOrigins.
const MaxCORSOrigins = 100

// CanonicalOrigin returns raw as a browser sends it in an Origin header:
// lowercase scheme and host, the port only when it is not the scheme's
// default. raw must be exactly an http(s) origin: no path, query, fragment,
// user info or wildcard. The error is a sentence saying what to write
// instead, for a field problem.
func CanonicalOrigin(raw string) (string, error) {
	const example = "such as https://app.example.com"
	switch {
	case raw == "":
		return "", fmt.Errorf("is empty; write an origin, %s", example)
	case raw == "*":
		return "", fmt.Errorf(`"*" is not allowed: the endpoint takes bearer tokens and must check where browser requests come from; list each origin that may call it, %s`, example)
	case strings.Contains(raw, "*"):
		return "", fmt.Errorf("%q: wildcards are not supported; list each origin, %s", raw, example)
	case strings.EqualFold(raw, "null"):
		return "", fmt.Errorf(`"null" is what sandboxed frames and file:// pages send, and any page can send it; serve the page from an http(s) origin and list that, %s`, example)
	case strings.TrimSpace(raw) != raw:
		return "", fmt.Errorf("%q has spaces around it; write %q", raw, strings.TrimSpace(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return "", fmt.Errorf("%q is not an origin: write scheme and host (and a port when it is not the default), %s", raw, example)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%q must start with https:// (or http://)", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("%q must not carry user info; write %s://%s", raw, scheme, u.Host)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("%q has an empty port; write %s://%s", raw, scheme, strings.TrimSuffix(u.Host, ":"))
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q has port %s; a port is 1-65535", raw, port)
		}
		port = strings.TrimLeft(port, "0")
	}
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			return "", fmt.Errorf("%q: write the host in ASCII, as browsers send it (punycode, xn--…)", raw)
		}
	}
	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", fmt.Errorf("%q has an invalid IPv6 address; write it as in http://[::1]:8080", raw)
		}
		host = "[" + a.String() + "]"
	} else if host == "" || strings.ContainsAny(host, " %\\") {
		return "", fmt.Errorf("%q has an invalid host; write an origin, %s", raw, example)
	}
	if port == "443" && scheme == "https" || port == "80" && scheme == "http" {
		port = ""
	}
	origin := scheme + "://" + host
	if port != "" {
		origin += ":" + port
	}
	if u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return "", fmt.Errorf("%q is a URL, not an origin: an origin is scheme, host and port only; write %q", raw, origin)
	}
	return origin, nil
}
