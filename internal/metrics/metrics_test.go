package metrics_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

const adminSecret = "whg9yE25NKzGNZS9m-cDPUPREu4PonPW0bJX2-GH"

// client talks to a test ledger's HTTP API.
type client struct {
	t    *testing.T
	base string
}

func (c client) do(method, path, secret string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	res, data, err := apptest.Do(c.t, req)
	if err != nil {
		c.t.Fatal(err)
	}
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return res.StatusCode, out
}

func (c client) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	got, out := c.do(method, path, adminSecret, body)
	if got != want {
		c.t.Fatalf("%s %s: %d, want %d: %v", method, path, got, want, out)
	}
	return out
}

// scrape returns what GET /metrics answers on the API's own handler,
// without a token.
func (c client) scrape() string {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.base+"/metrics", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	res, data, err := apptest.Do(c.t, req)
	if err != nil || res.StatusCode != 200 {
		c.t.Fatalf("GET /metrics: %v %d: %s", err, res.StatusCode, data)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		c.t.Errorf("GET /metrics: Content-Type %q, want the Prometheus text format", ct)
	}
	return string(data)
}

// startLedger starts a ledger with major changes held for approval and
// serves its handler, /metrics included.
func startLedger(t *testing.T) client {
	t.Helper()
	a, _ := apptest.Open(t, app.Config{BootstrapToken: adminSecret, Approvals: roadmap.ApprovalsMajor})
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return client{t: t, base: srv.URL}
}

// value returns the value of the series named exactly line's name and
// labels, or "" when the scrape has none.
func value(scrape, series string) string {
	for _, line := range strings.Split(scrape, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			return rest
		}
	}
	return ""
}

// TestMetricsCountWhatTheLedgerDid makes a token, items, a change held for
// approval, a review and a checkpoint, and reads each in the scrape; the
// title of an item and the name of a token never appear in it.
func TestMetricsCountWhatTheLedgerDid(t *testing.T) {
	c := startLedger(t)
	const title, tokenName = "Zebra-striped secret launch", "payroll-robot-7f3a"
	c.must(201, "POST", "/v1/tokens", map[string]any{"name": tokenName, "role": "editor"})
	item := c.must(201, "POST", "/v1/items", map[string]any{"title": title, "kind": "idea"})["id"].(string)
	c.must(202, "POST", "/v1/items/"+item+"/prioritise", map[string]any{"horizon": "now", "rationale": "users ask"})
	now := time.Now()
	next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
	c.must(201, "POST", "/v1/reviews", map[string]any{"period": next})
	c.must(201, "POST", "/v1/checkpoints", map[string]any{})
	c.must(200, "GET", "/v1/items/"+item, nil)
	if got, _ := c.do("GET", "/v1/items/"+item, "rlt_wrong", nil); got != 401 {
		t.Fatalf("a wrong token: %d, want 401", got)
	}

	scrape := c.scrape()
	for _, want := range []struct{ series, value string }{
		{`roadmap_http_request_duration_seconds_count{method="GET",route="/v1/items/:id",status="200"}`, "1"},
		{`roadmap_http_request_duration_seconds_count{method="GET",route="/v1/items/:id",status="401"}`, "1"},
		{`roadmap_http_request_duration_seconds_count{method="POST",route="/v1/items/:id/prioritise",status="202"}`, "1"},
		{`roadmap_decisions_appended_total{type="item.proposed"}`, "1"},
		{`roadmap_decisions_appended_total{type="change.proposed"}`, "1"},
		{`roadmap_decisions_appended_total{type="review.opened"}`, "1"},
		{`roadmap_decisions_appended_total{type="checkpoint.signed"}`, "1"},
		{`roadmap_changes_pending`, "1"},
		{`roadmap_reviews_open`, "1"},
		{`roadmap_projection_lag_events`, "0"},
		{`roadmap_stream_up`, "1"},
	} {
		if got := value(scrape, want.series); got != want.value {
			t.Errorf("%s = %q, want %q", want.series, got, want.value)
		}
	}
	// The bootstrap token and the one made: two token.created, at least.
	for _, series := range []string{"roadmap_ledger_head_sequence", "roadmap_projection_applied_sequence", "roadmap_stream_messages", "roadmap_stream_bytes", "roadmap_checkpoint_age_seconds", `roadmap_append_duration_seconds_count{outcome="ok"}`, "go_goroutines", "process_resident_memory_bytes"} {
		if v := value(scrape, series); v == "" || v == "0" {
			t.Errorf("%s = %q, want a positive value", series, v)
		}
	}
	for _, secret := range []string{title, "Zebra", tokenName, adminSecret, item} {
		if strings.Contains(scrape, secret) {
			t.Errorf("the scrape shows %q", secret)
		}
	}
}

// metricName finds the metrics an expression uses.
var metricName = regexp.MustCompile(`\b(roadmap_[a-z_]+|go_[a-z_]+|process_[a-z_]+)\b`)

// TestDocsUseOnlyMetricsThatExist reads the sample dashboard and alert
// rules in docs/ and checks that every metric they query is in a scrape of
// a ledger that has done some work.
func TestDocsUseOnlyMetricsThatExist(t *testing.T) {
	c := startLedger(t)
	item := c.must(201, "POST", "/v1/items", map[string]any{"title": "Scraped", "kind": "idea"})["id"].(string)
	c.must(202, "POST", "/v1/items/"+item+"/prioritise", map[string]any{"horizon": "now", "rationale": "users ask"})
	c.must(201, "POST", "/v1/checkpoints", map[string]any{})
	scrape := c.scrape()
	exists := map[string]bool{}
	for _, line := range strings.Split(scrape, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		exists[name] = true
	}

	var used []string
	dash, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var board struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(dash, &board); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	for _, p := range board.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, target := range p.Targets {
			used = append(used, metricName.FindAllString(target.Expr, -1)...)
		}
	}
	rules, err := os.ReadFile("../../docs/prometheus-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, line := range strings.Split(string(rules), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "- alert:") {
			alerts++
		}
		if strings.HasPrefix(line, "expr:") {
			used = append(used, metricName.FindAllString(line, -1)...)
		}
	}
	if alerts < 3 || len(used) == 0 {
		t.Fatalf("%d alerts and %d metrics used in docs: want the lag, 5xx and checkpoint alerts at least", alerts, len(used))
	}
	slices.Sort(used)
	for _, name := range slices.Compact(used) {
		if !exists[name] {
			t.Errorf("the docs use %s, which /metrics does not serve", name)
		}
	}
}

// The change feed's clients and the webhooks' deliveries are counted: a
// receiver that refuses every delivery makes refused attempts, then, after
// the last retry, a failing webhook; a client following the feed is one.
func TestFeedClientsAndWebhookDeliveriesAreCounted(t *testing.T) {
	a, _ := apptest.Open(t, app.Config{
		BootstrapToken: adminSecret, WebhooksAllowPrivate: true,
		WebhookSchedule: []time.Duration{10 * time.Millisecond}, FeedHeartbeat: time.Second,
	})
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	c := client{t: t, base: srv.URL}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(receiver.Close)
	c.must(201, "POST", "/v1/webhooks", map[string]any{"url": receiver.URL, "types": []string{"objective."}})

	req, err := http.NewRequest("GET", srv.URL+"/v1/events/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminSecret)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })

	c.must(201, "POST", "/v1/objectives", map[string]any{"title": "Grow", "kpi": "users", "target": "+10%"})
	want := map[string]string{
		`roadmap_feed_clients`:                                  "1",
		`roadmap_webhooks_failing`:                              "1",
		`roadmap_webhook_deliveries_total{outcome="refused"}`:   "2",
		`roadmap_webhook_deliveries_total{outcome="delivered"}`: "0",
	}
	var scrape string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		scrape = c.scrape()
		ok := true
		for series, v := range want {
			ok = ok && value(scrape, series) == v
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			for series, v := range want {
				if got := value(scrape, series); got != v {
					t.Errorf("%s = %q, want %q", series, got, v)
				}
			}
			return
		}
	}
	res.Body.Close()
	for deadline := time.Now().Add(10 * time.Second); value(c.scrape(), "roadmap_feed_clients") != "0"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the feed's client hung up and is still counted")
		}
	}
}
