package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// ErrForbiddenAddress means a webhook URL points at an address a delivery
// may not reach without --webhooks-allow-private: loopback, private,
// link-local (cloud metadata among them), shared, multicast or
// unspecified.
var ErrForbiddenAddress = errors.New("the address is loopback, private, link-local or otherwise internal")

// blocked are the ranges netip has no predicate for.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // this network
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (carrier-grade NAT)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64: an IPv4 address in disguise
	netip.MustParsePrefix("2002::/16"),     // 6to4: likewise
}

// Forbidden reports whether a delivery may not reach addr by default.
func Forbidden(addr netip.Addr) bool {
	addr = addr.Unmap()
	if addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() || !addr.IsValid() {
		return true
	}
	for _, p := range blocked {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// control refuses a connection to a forbidden address: it runs after the
// name is resolved, on the address actually dialled, so a name cannot be
// pointed elsewhere between a check and the connection.
func control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, host)
	}
	if Forbidden(addr) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, addr)
	}
	return nil
}

// NewClient returns the HTTP client deliveries are posted with: no proxy,
// no redirects followed, a timeout on the whole exchange, and, unless
// allowPrivate, no connection to a forbidden address.
func NewClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		dialer.Control = control
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CheckURL checks a new subscription's URL where it points, unless
// allowPrivate: a host that is, or resolves to, a forbidden address is
// refused with roadmap.ErrInvalid. A name that does not resolve now is
// taken: every delivery checks again.
func CheckURL(ctx context.Context, rawURL string, allowPrivate bool) error {
	if allowPrivate {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil // the domain's rules say what is wrong with it
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	refuse := func(addr string) error {
		return &roadmap.ValidationError{Fields: []roadmap.FieldError{{Field: "url",
			Message: fmt.Sprintf("points at %s, a loopback, private, link-local or internal address; webhooks reach only public addresses unless the server runs with --webhooks-allow-private", addr)}}}
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return refuse(host)
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if Forbidden(addr) {
			return refuse(addr.String())
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if Forbidden(a) {
			return refuse(a.String())
		}
	}
	return nil
}
