package api_test

import (
	"strings"
	"testing"
)

// TestSecurityHeaders checks the headers every answer carries: nosniff on
// all, a Content-Security-Policy header that forbids framing on HTML, and
// no-store on what is for auditors and admins only.
func TestSecurityHeaders(t *testing.T) {
	l := startLedger(t)
	review := l.must(201, "POST", "/v1/reviews", map[string]any{"period": nextMonth()})["id"].(string)
	item := l.item("Dark mode")

	for _, tc := range []struct {
		name, path, accept string
		status             int
		html, noStore      bool
	}{
		{name: "health", path: "/healthz", status: 200},
		{name: "the roadmap", path: "/v1/roadmap", status: 200},
		{name: "a problem", path: "/v1/items/01234567-89ab-7def-8123-456789abcdef", status: 404},
		{name: "the pack as Markdown", path: "/v1/reviews/" + review + "/pack", status: 200},
		{name: "the pack as HTML", path: "/v1/reviews/" + review + "/pack", accept: "text/html", status: 200, html: true},
		{name: "the audit trail", path: "/v1/audit", status: 200, noStore: true},
		{name: "an item's history", path: "/v1/items/" + item + "/history", status: 200, noStore: true},
		{name: "the raw log", path: "/v1/events", status: 200, noStore: true},
		{name: "the tokens", path: "/v1/tokens", status: 200, noStore: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := l.do("GET", tc.path, nil, "Accept", tc.accept)
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
			csp := res.Header.Get("Content-Security-Policy")
			if tc.html != (csp != "") || (tc.html && (!strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'"))) {
				t.Errorf("Content-Security-Policy %q on a %s answer", csp, res.Header.Get("Content-Type"))
			}
			if cc := res.Header.Get("Cache-Control"); tc.noStore != (cc == "no-store") {
				t.Errorf("Cache-Control %q; want no-store: %v", cc, tc.noStore)
			}
		})
	}
}
