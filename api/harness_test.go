package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
)

// testLedger is a whole ledger (embedded JetStream in a temp dir, projections,
// API) behind a real HTTP server on 127.0.0.1, with a client whose every
// request and response is checked against api/openapi.yaml.
type testLedger struct {
	t      testing.TB
	URL    string
	App    *app.App
	client *http.Client
	stop   func()
}

func startLedger(t testing.TB) *testLedger {
	t.Helper()
	return startLedgerIn(t, t.TempDir())
}

func startLedgerIn(t testing.TB, dir string) *testLedger {
	t.Helper()
	return startLedgerWith(t, app.Config{DataDir: dir})
}

func startLedgerWith(t testing.TB, cfg app.Config) *testLedger {
	t.Helper()
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	srv := httptest.NewServer(a.Handler)
	l := &testLedger{t: t, URL: srv.URL, App: a}
	l.client = &http.Client{Timeout: 30 * time.Second, Transport: newSpecCheckingTransport(t, http.DefaultTransport)}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		srv.Close()
		if err := a.Close(); err != nil {
			t.Errorf("close ledger: %v", err)
		}
	}
	t.Cleanup(stop)
	l.stop = stop
	if err := a.Runner.WaitReady(context.Background()); err != nil {
		t.Fatalf("ledger not ready: %v", err)
	}
	return l
}

// response is a whole HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request; body is sent as is when it is a string or []byte, as
// JSON otherwise. headers are name, value pairs. A JSON body gets
// Content-Type: application/json unless headers set one.
func (l *testLedger) do(method, path string, body any, headers ...string) response {
	l.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			l.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, l.URL+path, rd)
	if err != nil {
		l.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := l.client.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		l.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// must sends a request and fails the test unless the answer has status want;
// it decodes a JSON answer into a map.
func (l *testLedger) must(want int, method, path string, body any, headers ...string) map[string]any {
	l.t.Helper()
	res := l.do(method, path, body, headers...)
	if res.Status != want {
		l.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, res.Status, want, res.Body)
	}
	var out map[string]any
	if len(res.Body) > 0 {
		if err := json.Unmarshal(res.Body, &out); err != nil {
			l.t.Fatalf("%s %s: answer is not a JSON object: %v: %s", method, path, err, res.Body)
		}
	}
	return out
}

// messages returns how many events the stream holds.
func (l *testLedger) messages() uint64 {
	l.t.Helper()
	seq, err := l.App.Log.LastSequence(context.Background())
	if err != nil {
		l.t.Fatalf("last sequence: %v", err)
	}
	return seq
}

// objective defines an objective and returns its id.
func (l *testLedger) objective(title string) string {
	l.t.Helper()
	o := l.must(201, "POST", "/v1/objectives", map[string]any{"title": title, "kpi": "kpi of " + title, "target": "+10%"})
	return o["id"].(string)
}

// item proposes an idea serving the given objectives and returns its id.
func (l *testLedger) item(title string, objectiveIDs ...string) string {
	l.t.Helper()
	if objectiveIDs == nil {
		objectiveIDs = []string{}
	}
	it := l.must(201, "POST", "/v1/items", map[string]any{"title": title, "kind": "idea", "objective_ids": objectiveIDs})
	return it["id"].(string)
}

func decode(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, body)
	}
	return out
}

// checkVersioned checks that an answer showing an aggregate carries its
// version as a quoted ETag.
func checkVersioned(t testing.TB, res response, body map[string]any) {
	t.Helper()
	v, ok := body["version"].(float64)
	if !ok || v < 1 {
		t.Fatalf("answer has no version: %s", res.Body)
	}
	if got, want := res.Header.Get("ETag"), fmt.Sprintf(`"%d"`, int64(v)); got != want {
		t.Errorf("ETag %q, want %q (the body's version)", got, want)
	}
}

// checkProblem checks that res is an RFC 9457 problem with the given status.
func checkProblem(t testing.TB, res response, status int) map[string]any {
	t.Helper()
	if res.Status != status {
		t.Errorf("status %d, want %d; body %s", res.Status, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.Unmarshal(res.Body, &p); err != nil {
		t.Fatalf("problem is not JSON: %v: %s", err, res.Body)
	}
	if p["status"] != float64(status) || p["type"] == "" || p["title"] == "" {
		t.Errorf("problem %v, want status %d with a type and a title", p, status)
	}
	return p
}
