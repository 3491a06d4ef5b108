package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/api"
	"github.com/roadmap-ledger/roadmap/internal/spectest"
	"github.com/roadmap-ledger/roadmap/internal/web"
)

// specFile is the API's OpenAPI document. Tests run in the package's
// directory, so the path is relative to api/.
const specFile = "openapi.yaml"

// loadSpec reads and validates the spec file.
func loadSpec() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specFile)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", specFile, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %w", specFile, err)
	}
	return doc, nil
}

// newSpecCheckingTransport checks every exchange through it against the
// spec (spectest.Transport).
func newSpecCheckingTransport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	t.Helper()
	return spectest.Transport(t, next)
}

// echoParam turns echo's ":id" path parameters into OpenAPI's "{id}".
var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestSpecCoversEveryRoute checks that the spec and the server have the same
// operations, both ways.
func TestSpecCoversEveryRoute(t *testing.T) {
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, r := range api.New(api.Config{Metrics: http.NotFoundHandler()}).Routes() {
		if r.Method == echo.RouteNotFound {
			continue // echo's catch-alls, not operations
		}
		if web.IsPage(r.Path) {
			continue // the web app's pages are for people, not API operations
		}
		served[r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(served) == 0 {
		t.Fatal("the server lists no routes")
	}
	specified := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			specified[method+" "+path] = true
		}
	}
	for _, op := range slices.Sorted(maps.Keys(served)) {
		if !specified[op] {
			t.Errorf("the server serves %s, which the spec does not describe", op)
		}
	}
	for _, op := range slices.Sorted(maps.Keys(specified)) {
		if !served[op] {
			t.Errorf("the spec describes %s, which the server does not serve", op)
		}
	}
}

// TestSpecIsValid checks the document itself, examples included, and that
// every operation documents its answers in full.
func TestSpecIsValid(t *testing.T) {
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("invalid spec: %v", err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" || op.Description == "" {
				t.Errorf("%s %s: give it an operationId, a summary and a description", method, path)
			}
			if op.Responses.Default() != nil {
				t.Errorf("%s %s: a default response would let any status through the checks; list the statuses", method, path)
			}
			for status, ref := range op.Responses.Map() {
				if ref.Value == nil || len(ref.Value.Content) == 0 {
					t.Errorf("%s %s: response %s has no content", method, path, status)
				}
			}
			if strings.HasPrefix(path, "/v1/") && op.Responses.Status(http.StatusServiceUnavailable) == nil {
				t.Errorf("%s %s: /v1 requests wait for readiness and can be answered 503; declare it", method, path)
			}
			if rb := op.RequestBody; rb != nil {
				for ct, mt := range rb.Value.Content {
					if s := mt.Schema.Value; s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
						t.Errorf("%s %s: %s body: the server refuses unknown fields; say additionalProperties: false", method, path, ct)
					}
				}
			}
		}
	}
}

// tbRecorder is a testing.TB that records Errorf calls instead of failing.
type tbRecorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *tbRecorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *tbRecorder) Helper() {}

func (r *tbRecorder) reported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errors)
}

// TestSpecCheckerCatchesDrift shows the checker fails on answers and accepted
// requests the spec does not allow, and stays quiet on ones it does.
func TestSpecCheckerCatchesDrift(t *testing.T) {
	const id = "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70"
	goodItem := `{"id":"` + id + `","title":"t","description":"","kind":"idea","parent_id":null,"product":"default",` +
		`"status":"proposed","horizon":null,"rank":null,"score":null,"objective_ids":[],"effort":null,"depends_on":[],"risks":[],"provenance":null,"flags":[],"version":3}`
	type answer struct {
		status  int
		ctype   string
		headers map[string]string
		body    string
	}
	cases := []struct {
		name         string
		method, path string
		reqType      string
		reqBody      string
		answer       answer
		wantErrors   bool
	}{
		{"a conforming item", "GET", "/v1/items/" + id, "", "",
			answer{200, "application/json", map[string]string{"ETag": `"3"`}, goodItem}, false},
		{"an item missing required fields", "GET", "/v1/items/" + id, "", "",
			answer{200, "application/json", map[string]string{"ETag": `"3"`}, `{"id":"` + id + `","title":"t"}`}, true},
		{"an item with a field the spec does not have", "GET", "/v1/items/" + id, "", "",
			answer{200, "application/json", map[string]string{"ETag": `"3"`}, strings.Replace(goodItem, `"version":3`, `"version":3,"owner":"me"`, 1)}, true},
		{"an item without its ETag", "GET", "/v1/items/" + id, "", "",
			answer{200, "application/json", nil, goodItem}, true},
		{"a status the operation does not declare", "GET", "/v1/items/" + id, "", "",
			answer{409, "application/problem+json", nil, `{"type":"urn:roadmap-ledger:problem:conflict","title":"Conflict","status":409}`}, true},
		{"an error that is not problem+json", "GET", "/v1/items/" + id, "", "",
			answer{404, "application/json", nil, `{"type":"urn:roadmap-ledger:problem:not-found","title":"Not Found","status":404}`}, true},
		{"a problem of the wrong type for its status", "GET", "/v1/items/" + id, "", "",
			answer{404, "application/problem+json", nil, `{"type":"urn:roadmap-ledger:problem:conflict","title":"Not Found","status":404}`}, true},
		{"a route the spec does not have, served", "GET", "/v1/dashboards", "", "",
			answer{200, "application/json", nil, `{}`}, true},
		{"a route the spec does not have, refused with 404", "GET", "/v1/dashboards", "", "",
			answer{404, "application/problem+json", nil, `{"type":"urn:roadmap-ledger:problem:not-found","title":"Not Found","status":404,"detail":"no such resource: /v1/dashboards"}`}, false},
		{"a method the spec does not have, refused with 405", "DELETE", "/v1/items/" + id, "", "",
			answer{405, "application/problem+json", map[string]string{"Allow": "GET"}, `{"type":"urn:roadmap-ledger:problem:method-not-allowed","title":"Method Not Allowed","status":405}`}, false},
		{"OPTIONS on a path the spec has", "OPTIONS", "/v1/items", "", "",
			answer{204, "", map[string]string{"Allow": "OPTIONS, POST"}, ""}, false},
		{"OPTIONS without Allow", "OPTIONS", "/v1/items", "", "",
			answer{204, "", nil, ""}, true},
		{"a bad request, refused", "POST", "/v1/items", "application/json", `{"title":"t","kind":"idea","owner":"me"}`,
			answer{400, "application/problem+json", nil, `{"type":"urn:roadmap-ledger:problem:malformed-body","title":"Bad Request","status":400,"detail":"unknown field \"owner\""}`}, false},
		{"a bad request, accepted", "POST", "/v1/items", "application/json", `{"title":"t","kind":"idea","owner":"me"}`,
			answer{201, "application/json", map[string]string{"ETag": `"3"`, "Location": "/v1/items/" + id}, goodItem}, true},
		{"a created item without its Location", "POST", "/v1/items", "application/json", `{"title":"t","kind":"idea"}`,
			answer{201, "application/json", map[string]string{"ETag": `"3"`}, goodItem}, true},
		{"a conforming creation", "POST", "/v1/items", "application/json", `{"title":"t","kind":"idea"}`,
			answer{201, "application/json", map[string]string{"ETag": `"3"`, "Location": "/v1/items/" + id}, goodItem}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				for k, v := range tc.answer.headers {
					w.Header().Set(k, v)
				}
				if tc.answer.ctype != "" {
					w.Header().Set("Content-Type", tc.answer.ctype)
				}
				w.WriteHeader(tc.answer.status)
				io.WriteString(w, tc.answer.body)
			}))
			defer srv.Close()
			rec := &tbRecorder{TB: t}
			client := &http.Client{Transport: newSpecCheckingTransport(rec, http.DefaultTransport)}
			var body io.Reader
			if tc.reqBody != "" {
				body = strings.NewReader(tc.reqBody)
			}
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.reqType != "" {
				req.Header.Set("Content-Type", tc.reqType)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.answer.body {
				t.Errorf("the caller read %q, want the server's body %q", got, tc.answer.body)
			}
			errs := rec.reported()
			switch {
			case tc.wantErrors && len(errs) == 0:
				t.Errorf("the checker let it through")
			case !tc.wantErrors && len(errs) > 0:
				t.Errorf("the checker failed a conforming exchange: %s", strings.Join(errs, "\n"))
			default:
				for _, e := range errs {
					t.Logf("caught: %s", e)
				}
			}
		})
	}
}

// TestSpecDescribesNotReady sends requests to a server whose projections have
// not caught up: /readyz and every /v1 route answer 503 as the spec says,
// /healthz answers 200; unknown paths, methods and OPTIONS get the spec's
// general answers.
func TestSpecDescribesNotReady(t *testing.T) {
	replaying := errors.New("replaying the log")
	srv := httptest.NewServer(api.New(api.Config{
		Ready:     func() error { return replaying },
		WaitReady: func(context.Context) error { return replaying },
	}))
	defer srv.Close()
	client := &http.Client{Transport: newSpecCheckingTransport(t, http.DefaultTransport)}
	const id = "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70"
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/healthz", 200},
		{"GET", "/readyz", 503},
		{"POST", "/v1/objectives", 503},
		{"GET", "/v1/objectives/" + id, 503},
		{"POST", "/v1/objectives/" + id + "/retire", 503},
		{"POST", "/v1/items", 503},
		{"GET", "/v1/items/" + id, 503},
		{"POST", "/v1/items/" + id + "/prioritise", 503},
		{"POST", "/v1/items/" + id + "/reprioritise", 503},
		{"POST", "/v1/items/" + id + "/remove", 503},
		{"GET", "/v1/nothing-here", 404},
		{"DELETE", "/v1/items/" + id, 405},
		{"HEAD", "/healthz", 405},
		{"OPTIONS", "/v1/items", 204},
	} {
		var body io.Reader
		if tc.method == "POST" {
			body = strings.NewReader(`{"rationale":"r"}`)
		}
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, res.StatusCode, tc.status)
		}
	}
}

// TestSpecDescribesEveryAnswerShape walks the shapes the spec allows that the
// other tests may not reach: a score of every framework, nulls where the spec
// allows them, replays of every kind of write, If-Match: *, a +json media
// type. Every exchange goes through the spec check.
func TestSpecDescribesEveryAnswerShape(t *testing.T) {
	l := startLedger(t)
	obj := l.objective("Retention")
	initiative := l.must(201, "POST", "/v1/items", map[string]any{
		"title": "Onboarding", "kind": "initiative", "parent_id": nil, "objective_ids": nil, "product": "",
	}, as, "pm@example.com")["id"].(string)
	scores := []map[string]any{
		{"framework": "rice", "reach": 1000, "impact": 0.25, "confidence": 0.8, "effort": 3},
		{"framework": "moscow", "category": "must", "version": 1},
		{"framework": "wsjf", "business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": 5},
		{"framework": "value_effort", "customer_value": 5, "business_value": 5, "effort": 3, "risk": 4, "value": 123},
	}
	for i, score := range scores {
		id := l.must(201, "POST", "/v1/items", map[string]any{
			"title": fmt.Sprintf("Idea %d", i), "kind": "idea", "parent_id": initiative,
			"product": "web", "objective_ids": []string{obj},
		})["id"].(string)
		it := l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{
			"horizon": "next", "rank": nil, "score": score, "objective_ids": nil,
			"rationale": "r", "evidence": nil,
		}, "If-Match", "*")
		if it["score"] == nil {
			t.Errorf("%v: no score in %v", score["framework"], it)
		}
	}

	// Reprioritise keeping everything but the objectives, with a +json type.
	id := l.item("Moved", obj)
	l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "later", "rationale": "r"})
	moved := l.must(200, "POST", "/v1/items/"+id+"/reprioritise", `{"horizon":null,"rank":null,"score":null,"objective_ids":[],"rationale":"serves no objective now","evidence":["https://example.com"]}`,
		"Content-Type", "application/merge-patch+json; charset=utf-8")
	if moved["horizon"] != "later" || len(moved["objective_ids"].([]any)) != 0 {
		t.Errorf("reprioritised %v, want still in later, serving no objective", moved)
	}

	// Replays of every write: the same status, the replay header, nothing appended.
	writes := []struct {
		path   string
		body   any
		status int
	}{
		{"/v1/objectives", map[string]any{"title": "Keyed", "kpi": "k", "target": "t"}, 201},
		{"/v1/items", map[string]any{"title": "Keyed", "kind": "idea"}, 201},
		{"/v1/items/" + id + "/reprioritise", map[string]any{"horizon": "now", "rationale": "r"}, 200},
		{"/v1/items/" + id + "/remove", map[string]any{"rationale": "r"}, 200},
		{"/v1/items/" + id + "/prioritise", map[string]any{"horizon": "now", "score": scores[1], "rationale": "r"}, 200},
		{"/v1/objectives/" + obj + "/retire", map[string]any{"rationale": "r"}, 200},
	}
	for i, w := range writes {
		key := fmt.Sprintf("spec-replay-%d", i)
		first := l.do("POST", w.path, w.body, "Idempotency-Key", key)
		count := l.messages()
		again := l.do("POST", w.path, w.body, "Idempotency-Key", key)
		if first.Status != w.status || again.Status != w.status || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("POST %s: %d then %d (replayed %q), want %d twice, the second replayed", w.path, first.Status, again.Status, again.Header.Get("Idempotent-Replayed"), w.status)
		}
		if got := l.messages(); got != count {
			t.Errorf("POST %s: the replay appended", w.path)
		}
	}
	l.must(200, "GET", "/v1/objectives/"+obj, nil)
	l.must(200, "GET", "/v1/items/"+id, nil)
}

// TestSpecDescribesTheReadModels reads every view the API has, in every
// form, so each answer goes through the spec check.
func TestSpecDescribesTheReadModels(t *testing.T) {
	l := startLedger(t)
	obj := l.objective("Activation")
	initiative := l.must(201, "POST", "/v1/items", map[string]any{"title": "Onboarding", "kind": "initiative", "product": "web", "objective_ids": []string{obj}})["id"].(string)
	idea := l.must(201, "POST", "/v1/items", map[string]any{"title": "Guided setup", "kind": "idea", "product": "web", "parent_id": initiative})["id"].(string)
	l.must(200, "POST", "/v1/items/"+initiative+"/prioritise", map[string]any{"horizon": "now", "rationale": "r", "score": map[string]any{"framework": "moscow", "category": "must"}})
	october := l.must(201, "POST", "/v1/reviews", map[string]any{"period": thisMonth()}, as, "chair")["id"].(string)
	l.must(200, "GET", "/v1/reviews/"+october, nil)
	l.must(200, "POST", "/v1/items/"+idea+"/prioritise", map[string]any{"horizon": "next", "rationale": "r", "objective_ids": []string{obj}, "evidence": []string{"https://example.com"}})
	l.must(200, "POST", "/v1/items/"+idea+"/reprioritise", map[string]any{"horizon": "now", "rank": 1, "rationale": "r"})
	l.must(200, "POST", "/v1/reviews/"+october+"/close", map[string]any{"notes": "fine"})
	l.must(200, "POST", "/v1/items/"+idea+"/remove", map[string]any{"rationale": "r"})
	l.must(200, "POST", "/v1/objectives/"+obj+"/retire", map[string]any{"rationale": "r"})
	november := l.must(201, "POST", "/v1/reviews", map[string]any{"period": nextMonth(), "title": "November board"})["id"].(string)

	for _, path := range []string{
		"/v1/items/" + idea + "/history",
		"/v1/items/" + idea + "/why",
		"/v1/items/" + initiative + "/why",
		"/v1/roadmap",
		"/v1/roadmap?product=web",
		"/v1/roadmap?view=objectives",
		"/v1/roadmap?at_seq=0",
		"/v1/roadmap?as_of=2026-01-01",
		"/v1/reviews",
		"/v1/reviews/" + october,
		"/v1/reviews/" + november,
		"/v1/reviews/" + november + "/diff?against=" + october,
		"/v1/audit",
		"/v1/audit?limit=2",
		"/v1/audit?type=item.proposed,item.prioritised&type=objective.defined&product=web",
		"/v1/audit?item=" + idea + "&after=1",
	} {
		l.must(200, "GET", path, nil)
	}
	page := l.must(200, "GET", "/v1/audit?limit=2", nil)
	if next, ok := page["next"].(string); !ok {
		t.Errorf("a full page has no next link: %v", page)
	} else {
		l.must(200, "GET", next, nil)
	}
	for _, accept := range []string{"application/x-ndjson", "text/csv"} {
		if res := l.do("GET", "/v1/audit", nil, "Accept", accept); res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), accept) {
			t.Errorf("Accept %s: %d %s", accept, res.Status, res.Header.Get("Content-Type"))
		}
	}
	checkProblem(t, l.do("GET", "/v1/audit", nil, "Accept", "image/png"), 406)
}
