package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
)

// accessLines returns the access lines of the request id.
func (b *logBuffer) accessLines(t *testing.T, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range b.lines(t) {
		if line["request_id"] == id && line["msg"] == "request" {
			out = append(out, line)
		}
	}
	return out
}

// TestEveryRequestHasOneAccessLine sends requests that succeed, fail and
// match no route: each is logged once at info, with its method, route
// pattern, status, duration, request id and the name of its token, and
// never the token's secret.
func TestEveryRequestHasOneAccessLine(t *testing.T) {
	var logs logBuffer
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Logger: logs.logger()})
	secret := l.token("release-bot", "admin")
	item := l.item("Access logged")

	for _, tc := range []struct {
		name, method, path string
		headers            []string
		status             int
		route, actor       string
	}{
		{"a read by a named token", "GET", "/v1/items/" + item, bearer(secret), 200, "/v1/items/:id", "release-bot"},
		{"a refused token", "GET", "/v1/items/" + item, []string{"Authorization", "Bearer rlt_not-a-token"}, 401, "/v1/items/:id", ""},
		{"an unknown item", "GET", "/v1/items/itm_nope", bearer(secret), 404, "/v1/items/:id", "release-bot"},
		{"a path no route serves", "GET", "/v1/no/such/route/" + item, bearer(secret), 404, "unmatched", ""},
		{"the health check", "GET", "/healthz", nil, 200, "/healthz", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "access-" + strings.ReplaceAll(tc.name, " ", "-")
			res := l.do(tc.method, tc.path, nil, append(tc.headers, "X-Request-Id", id)...)
			if res.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
			}
			var lines []map[string]any
			// The line is written once the answer is sent: wait for it.
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				if lines = logs.accessLines(t, id); len(lines) > 0 {
					break
				}
			}
			if len(lines) != 1 {
				t.Fatalf("access lines %v, want one", lines)
			}
			line := lines[0]
			if line["level"] != "INFO" || line["method"] != tc.method || line["route"] != tc.route || line["status"] != float64(tc.status) {
				t.Errorf("access line %v, want INFO %s %s %d", line, tc.method, tc.route, tc.status)
			}
			if d, ok := line["duration"].(float64); !ok || d <= 0 {
				t.Errorf("access line duration %v, want a positive number of nanoseconds", line["duration"])
			}
			if got, _ := line["actor"].(string); got != tc.actor {
				t.Errorf("access line actor %q, want %q", got, tc.actor)
			}
		})
	}
	logs.mu.Lock()
	all := logs.buf.String()
	logs.mu.Unlock()
	if strings.Contains(all, secret) || strings.Contains(all, adminSecret) {
		t.Error("a token's secret is in the log")
	}
}
