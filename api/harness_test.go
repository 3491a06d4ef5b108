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
	"sync"
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
	// actors are the secrets of the tokens made for the "as" header, by
	// name.
	actors map[string]string
}

// adminSecret is the bootstrap admin token of every test ledger: requests
// carry it unless they name another actor or set Authorization themselves.
const adminSecret = "whg9yE25NKzGNZS9m-cDPUPREu4PonPW0bJX2-GH"

// testActors are the people tests take decisions as. Every test ledger
// makes their tokens right after the bootstrap token, so the first event of
// a test is always at sequence setupEvents+1.
var testActors = []string{
	"ceo@example.com", "cpo@example.com", "lead@example.com", "pm@example.com", "pm2@example.com",
	"@ops-bot", "auditor@example.com", "chair", "pm", "someone-else",
}

// setupEvents is how many events a new test ledger starts with: the
// bootstrap token and the test actors' tokens.
var setupEvents = uint64(1 + len(testActors))

// actorSecrets keeps the test actors' secrets by data directory, for a
// ledger restarted on the same directory.
var actorSecrets sync.Map // dir → map[string]string

// as is a pseudo-header of do and must: the pair as, NAME sends the request
// with the token of an admin named NAME (made on first use), so the
// decision is recorded as NAME's.
const as = "\x00as"

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
	if cfg.BootstrapToken == "" {
		cfg.BootstrapToken = adminSecret
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	srv := httptest.NewServer(a.Handler)
	l := &testLedger{t: t, URL: srv.URL, App: a, actors: map[string]string{}}
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
	if err := a.WaitReady(context.Background()); err != nil {
		t.Fatalf("ledger not ready: %v", err)
	}
	if secrets, ok := actorSecrets.Load(cfg.DataDir); ok {
		l.actors = secrets.(map[string]string)
	} else if l.messages() == 1 {
		for _, name := range testActors {
			l.actors[name] = l.token(name, "admin")
		}
		actorSecrets.Store(cfg.DataDir, l.actors)
	}
	return l
}

// thisMonth and nextMonth are this month and the next, YYYY-MM, by the
// real clock: the periods a review may be opened for in a ledger a test
// started on it (thisMonth once the ledger has its first event).
func thisMonth() string { return monthAfter(0) }
func nextMonth() string { return monthAfter(1) }

func monthAfter(months int) string {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

// response is a whole HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// csvBody is a request body do sends as a CSV file, with Content-Type:
// text/csv.
type csvBody string

// do sends a request; body is sent as is when it is a string, []byte or
// csvBody, as JSON otherwise. headers are name, value pairs; a pair with an
// empty value removes the header. A body gets Content-Type:
// application/json (text/csv for a csvBody) unless headers set one. The request carries the bootstrap admin's token
// unless headers set Authorization or name an actor with the as
// pseudo-header.
func (l *testLedger) do(method, path string, body any, headers ...string) response {
	l.t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case csvBody:
		rd, contentType = strings.NewReader(string(b)), "text/csv"
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
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+adminSecret)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == as {
			req.Header.Set("Authorization", "Bearer "+l.actor(headers[i+1]))
			continue
		}
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

// actor returns the secret of the admin token of a test actor.
func (l *testLedger) actor(name string) string {
	l.t.Helper()
	if secret, ok := l.actors[name]; ok {
		return secret
	}
	l.t.Fatalf("no test actor %q: add it to testActors", name)
	return ""
}

// token makes a token with the given name and role and returns its
// secret.
func (l *testLedger) token(name, role string) string {
	l.t.Helper()
	tok := l.must(201, "POST", "/v1/tokens", map[string]any{"name": name, "role": role})
	return tok["secret"].(string)
}

// bearer returns the Authorization header pair for a secret.
func bearer(secret string) []string { return []string{"Authorization", "Bearer " + secret} }

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
