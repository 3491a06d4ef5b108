package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeMetricsApartWithJSONLogs runs serve with --metrics-addr and
// --log-format json: /metrics is served on its own address and not on the
// API's, and every log line is a JSON object, a request's access line
// among them.
func TestServeMetricsApartWithJSONLogs(t *testing.T) {
	const secret = "whg9yE25NKzGNZS9m-cDPUPREu4PonPW0bJX2-GH"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	logs := newLockedBuffer()
	done := make(chan error, 1)
	env := map[string]string{"ROADMAP_BOOTSTRAP_TOKEN": secret, "ROADMAP_LOG_FORMAT": "json"}
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--metrics-addr", "127.0.0.1:0"},
			func(k string) string { return env[k] }, w, logs)
		w.Close()
	}()
	var api, metrics string
	lines := bufio.NewScanner(out)
	for (api == "" || metrics == "") && lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "roadmap: listening on "); ok {
			api, _, _ = strings.Cut(rest, " ")
		}
		if rest, ok := strings.CutPrefix(lines.Text(), "roadmap: metrics on "); ok {
			metrics = rest
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if api == "" || metrics == "" {
		cancel()
		t.Fatalf("serve did not say where it listens (API %q, metrics %q): %v", api, metrics, <-done)
	}

	req, _ := http.NewRequest("GET", api+"/v1/roadmap", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("X-Request-Id", "json-log-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET /v1/roadmap: %d", res.StatusCode)
	}
	if res := send(t, "GET", api+"/metrics", "", ""); res.StatusCode != 404 {
		t.Errorf("GET /metrics on the API's address: %d, want 404 when metrics are served apart", res.StatusCode)
	}
	res = send(t, "GET", metrics, "", "")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(body), `roadmap_http_request_duration_seconds_count{method="GET",route="/v1/roadmap",status="200"} 1`) {
		t.Errorf("GET %s: %d, want 200 counting the request:\n%s", metrics, res.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after a shutdown", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s")
	}
	access := 0
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a log line is not JSON: %v: %s", err, line)
		}
		if m["msg"] == "request" && m["request_id"] == "json-log-1" {
			access++
			if m["actor"] != "bootstrap" || m["route"] != "/v1/roadmap" || m["status"] != float64(200) {
				t.Errorf("access line %v, want actor bootstrap, route /v1/roadmap, status 200", m)
			}
		}
	}
	if access != 1 {
		t.Errorf("%d access lines of the request, want 1:\n%s", access, logs.String())
	}
	if strings.Contains(logs.String(), secret) {
		t.Error("the token's secret is in the log")
	}
}
