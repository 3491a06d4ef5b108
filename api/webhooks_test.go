package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
)

// receiver is a webhook receiver on 127.0.0.1 that checks each delivery's
// signature with its own code, as an integrator would, and answers with
// the status fail gives (200 when fail is nil).
type receiver struct {
	t   testing.TB
	URL string

	mu       sync.Mutex
	secret   string
	attempts int
	// accepted are the CloudEvents answered 2xx, in order of arrival.
	accepted []cloudEvent
	ids      []string
	fail     func(attempt int) int
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{t: t}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hooks/roadmap"
	return r
}

// verify checks a Standard Webhooks signature: HMAC-SHA256 of
// "id.timestamp.body" under the secret's decoded bytes, base64, after "v1,",
// one of the space-separated signatures of the header.
func verify(secret string, h http.Header, body []byte) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return fmt.Errorf("timestamp %q is not within five minutes", h.Get("webhook-timestamp"))
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if v, s, ok := strings.Cut(sig, ","); ok && v == "v1" && hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no valid signature in %q", h.Get("webhook-signature"))
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/cloudevents+json" {
		r.t.Errorf("delivery: %s with Content-Type %q", req.Method, req.Header.Get("Content-Type"))
	}
	if err := verify(r.secret, req.Header, body); err != nil {
		r.t.Errorf("delivery of %s: %v", req.Header.Get("webhook-id"), err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	status := http.StatusOK
	if r.fail != nil {
		status = r.fail(r.attempts)
	}
	if status < 300 {
		var ce cloudEvent
		if err := json.Unmarshal(body, &ce); err != nil {
			r.t.Errorf("delivery body is not a CloudEvent: %v", err)
		}
		if ce.ID != req.Header.Get("webhook-id") {
			r.t.Errorf("webhook-id %q, CloudEvent id %q", req.Header.Get("webhook-id"), ce.ID)
		}
		r.accepted = append(r.accepted, ce)
		r.ids = append(r.ids, ce.ID)
	}
	w.WriteHeader(status)
}

func (r *receiver) setSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

// seqs returns the sequences of the events accepted so far.
func (r *receiver) seqs() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint64
	for _, ce := range r.accepted {
		out = append(out, uint64(ce.Data["seq"].(float64)))
	}
	return out
}

// waitFor polls until cond holds, failing the test after 15 seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 15s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startHookLedger(t testing.TB, schedule ...time.Duration) *testLedger {
	t.Helper()
	if schedule == nil {
		schedule = []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond}
	}
	return startLedgerWith(t, app.Config{DataDir: t.TempDir(), WebhooksAllowPrivate: true, WebhookSchedule: schedule, WebhookTimeout: 2 * time.Second})
}

// subscribe makes a webhook for r and gives r its secret.
func subscribe(t testing.TB, l *testLedger, r *receiver, body map[string]any) map[string]any {
	t.Helper()
	body["url"] = r.URL
	w := l.must(201, "POST", "/v1/webhooks", body)
	secret, _ := w["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the new webhook's secret is %q, want whsec_ and base64", secret)
	}
	if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_")); err != nil {
		t.Fatalf("the secret is not base64: %v", err)
	}
	r.setSecret(secret)
	return w
}

func TestWebhookDeliversSignedCloudEventsOfTheTypesAsked(t *testing.T) {
	l := startHookLedger(t)
	r := newReceiver(t)
	w := subscribe(t, l, r, map[string]any{"types": []string{"objective."}, "description": "board channel"})
	id := w["id"].(string)
	var want []string
	for i := range 3 {
		want = append(want, l.objective(fmt.Sprintf("objective %d", i)))
	}
	l.item("not asked for")
	waitFor(t, "three deliveries", func() bool { return len(r.seqs()) >= 3 })
	r.mu.Lock()
	for i, ce := range r.accepted {
		if ce.Type != "io.github.roadmap-ledger.objective.defined" || ce.Subject != want[i] || ce.SpecVersion != "1.0" {
			t.Errorf("delivery %d: %+v", i, ce)
		}
	}
	r.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	if got := r.seqs(); len(got) != 3 {
		t.Fatalf("got %d deliveries, want 3 (the item is not asked for): %v", len(got), got)
	}
	var deliveries struct {
		Deliveries []map[string]any `json:"deliveries"`
	}
	res := l.do("GET", "/v1/webhooks/"+id+"/deliveries", nil)
	if err := json.Unmarshal(res.Body, &deliveries); err != nil || len(deliveries.Deliveries) != 3 || deliveries.Deliveries[0]["status"] != float64(200) {
		t.Fatalf("deliveries: %s", res.Body)
	}
	got := l.must(200, "GET", "/v1/webhooks/"+id, nil)
	if got["status"] != "active" || got["secret"] != nil || got["position"].(float64) < float64(r.seqs()[2]) {
		t.Fatalf("the webhook reads %v", got)
	}
	// The secret is in no event served: the raw log, the audit trail, the
	// list.
	for _, path := range []string{"/v1/events", "/v1/audit", "/v1/webhooks"} {
		if body := l.do("GET", path, nil).Body; strings.Contains(string(body), strings.TrimPrefix(r.secret, "whsec_")) {
			t.Errorf("%s shows the webhook's secret", path)
		}
	}
}

func TestWebhookReceiverFailingTheFirstAttemptsGetsEveryEventInOrder(t *testing.T) {
	l := startHookLedger(t)
	r := newReceiver(t)
	r.fail = func(attempt int) int {
		switch {
		case attempt <= 3:
			return http.StatusServiceUnavailable
		case attempt == 6:
			return http.StatusFound // a redirect is a failure, never followed
		}
		return http.StatusNoContent
	}
	subscribe(t, l, r, map[string]any{"types": []string{}})
	first := l.messages() + 1
	const n = 8
	for i := range n {
		l.objective(fmt.Sprintf("in order %d", i))
	}
	waitFor(t, "every event", func() bool { return len(r.seqs()) >= n })
	for i, seq := range r.seqs() {
		if seq != first+uint64(i) {
			t.Fatalf("accepted %v, want %d to %d in order, each once", r.seqs(), first, first+n-1)
		}
	}
}

func TestWebhookFailingAfterItsLastRetryResumesFromTheFailedEvent(t *testing.T) {
	l := startHookLedger(t, 10*time.Millisecond, 10*time.Millisecond)
	r := newReceiver(t)
	var healthy bool
	r.fail = func(int) int {
		if healthy {
			return http.StatusOK
		}
		return http.StatusInternalServerError
	}
	id := subscribe(t, l, r, map[string]any{"types": []string{"objective.defined"}})["id"].(string)
	failed := l.messages() + 1
	l.objective("refused")
	l.objective("waits behind it")
	waitFor(t, "the webhook failing", func() bool { return l.must(200, "GET", "/v1/webhooks/"+id, nil)["status"] == "failing" })
	w := l.must(200, "GET", "/v1/webhooks/"+id, nil)
	if w["failed_seq"] != float64(failed) || w["last_error"] != "answered 500" {
		t.Fatalf("the failing webhook reads %v", w)
	}
	r.mu.Lock()
	attempts := r.attempts
	healthy = true
	r.mu.Unlock()
	if attempts != 3 {
		t.Fatalf("%d attempts, want the first and 2 retries", attempts)
	}
	if got := l.must(200, "POST", "/v1/webhooks/"+id+"/resume", nil)["status"]; got != "active" {
		t.Fatalf("a resumed webhook is %v", got)
	}
	waitFor(t, "both events after the resume", func() bool { return len(r.seqs()) >= 2 })
	if got := r.seqs(); got[0] != failed || got[1] != failed+1 {
		t.Fatalf("accepted %v after the resume, want %d and %d", got, failed, failed+1)
	}
	checkProblem(t, l.do("POST", "/v1/webhooks/"+id+"/resume", nil), http.StatusConflict)
}

func TestWebhookRotatedSecretSignsAndDeletedWebhookReceivesNothing(t *testing.T) {
	l := startHookLedger(t)
	r := newReceiver(t)
	w := subscribe(t, l, r, map[string]any{"types": []string{"objective."}})
	id := w["id"].(string)
	l.objective("before")
	waitFor(t, "the first delivery", func() bool { return len(r.seqs()) == 1 })
	rotated := l.must(200, "POST", "/v1/webhooks/"+id+"/rotate-secret", nil)
	if rotated["secret"] == w["secret"] || !strings.HasPrefix(rotated["secret"].(string), "whsec_") {
		t.Fatalf("rotate-secret answered %v", rotated)
	}
	r.setSecret(rotated["secret"].(string))
	l.objective("after")
	waitFor(t, "the delivery signed with the new secret", func() bool { return len(r.seqs()) == 2 })
	if got := l.must(200, "DELETE", "/v1/webhooks/"+id, nil)["status"]; got != "deleted" {
		t.Fatalf("a deleted webhook is %v", got)
	}
	l.objective("once deleted")
	time.Sleep(200 * time.Millisecond)
	if got := r.seqs(); len(got) != 2 {
		t.Fatalf("a deleted webhook received %v", got)
	}
	checkProblem(t, l.do("DELETE", "/v1/webhooks/"+id, nil), http.StatusConflict)
	checkProblem(t, l.do("POST", "/v1/webhooks/"+id+"/rotate-secret", nil), http.StatusConflict)
	checkProblem(t, l.do("GET", "/v1/webhooks/0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70", nil), http.StatusNotFound)
}

func TestWebhookRefusesURLsThatPointInside(t *testing.T) {
	l := startLedger(t) // private addresses not allowed
	before := l.messages()
	for _, url := range []string{
		"http://127.0.0.1:8080/hook", "http://localhost/hook", "https://[::1]/hook", "http://10.1.2.3/hook",
		"http://192.168.0.10/hook", "http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]/",
		"http://0.0.0.0/", "ftp://example.com/hook", "example.com/hook", "http://user:pw@example.com/hook", "",
	} {
		res := l.do("POST", "/v1/webhooks", map[string]any{"url": url, "types": []string{"item."}})
		checkProblem(t, res, http.StatusUnprocessableEntity)
	}
	for _, body := range []map[string]any{
		{"url": "https://hooks.example.com/x", "types": []string{"nothing."}},
		{"url": "https://hooks.example.com/x", "product": "Not A Slug"},
	} {
		checkProblem(t, l.do("POST", "/v1/webhooks", body), http.StatusUnprocessableEntity)
	}
	checkProblem(t, l.do("POST", "/v1/webhooks", map[string]any{"url": "https://hooks.example.com/x", "secret": "mine"}), http.StatusBadRequest)
	if after := l.messages(); after != before {
		t.Fatalf("refused subscriptions appended %d events", after-before)
	}
}

func TestWebhookSendsOnlyTheEventsOfItsProduct(t *testing.T) {
	l := startHookLedger(t)
	r := newReceiver(t)
	subscribe(t, l, r, map[string]any{"product": "web"})
	web := l.must(201, "POST", "/v1/objectives", map[string]any{"title": "Web goal", "kpi": "k", "target": "t", "product": "web"})["id"].(string)
	l.must(201, "POST", "/v1/objectives", map[string]any{"title": "Mobile goal", "kpi": "k", "target": "t", "product": "mobile"})
	l.objective("Default goal")
	l.must(201, "POST", "/v1/objectives", map[string]any{"title": "Web again", "kpi": "k", "target": "t", "product": "web"})
	waitFor(t, "both web events", func() bool { return len(r.seqs()) >= 2 })
	time.Sleep(100 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.accepted) != 2 || r.accepted[0].Subject != web || r.accepted[1].Data["title"] != "Web again" {
		t.Fatalf("the web webhook received %+v", r.accepted)
	}
}
