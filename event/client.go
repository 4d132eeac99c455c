package event

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// DefaultDeny is the address ranges event targets may not be at unless an
// operator says otherwise: link-local addresses, where cloud metadata
// services answer (169.254.169.254, fd00:ec2::254) with the server's own
// credentials.
var DefaultDeny = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// RefusedError is an attempt to reach an address the deny list refuses.
type RefusedError struct{ Addr string }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the target's address %s is refused by the server's event target deny list", e.Addr)
}

// ParseDeny parses a comma-separated list of addresses and prefixes
// ("169.254.0.0/16,10.0.0.0/8,127.0.0.1").
func ParseDeny(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or prefix", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// NewClient returns the HTTP client of deliveries: it refuses to connect
// to an address in deny (DefaultDeny when nil) whatever name resolved to
// it, so a rule can't reach the metadata service through a DNS name or a
// redirect, and it does not follow redirects.
func NewClient(deny []netip.Prefix) *http.Client {
	if deny == nil {
		deny = DefaultDeny
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return err
		}
		for _, p := range deny {
			if p.Contains(a.Unmap()) {
				return &RefusedError{Addr: a.String()}
			}
		}
		return nil
	}}
	return &http.Client{
		Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 10 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
