package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// publicScene is a ledger with one item published on a public view and
// everything a public page must never show beside it: an internal title,
// rationales, people, an internal objective, an unpublished item, one
// published then withdrawn, one published then removed, and an internal
// view.
type publicScene struct {
	l          *testLedger
	summary    string
	publishSeq uint64
	// secrets are texts no public answer may hold.
	secrets []string
}

const (
	publicSummary   = `Guided setup for new teams <b>fast</b> & "simple"`
	publicObjective = "Faster onboarding"
)

func newPublicScene(t *testing.T) *publicScene {
	t.Helper()
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Approvals: roadmap.ApprovalsMajor})
	public := l.objective(publicObjective)
	internal := l.objective("Win the ACME-SECRET deal")
	onRoadmap := func(title, horizon string) string {
		id := l.item(title, public, internal)
		l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": horizon, "rationale": "RATIONALE-PRIORITISE " + title}, as, "pm@example.com")
		return id
	}
	// Publishing is a new public statement: proposed by one person,
	// approved by another.
	publish := func(id, summary string) uint64 {
		change := l.must(202, "POST", "/v1/items/"+id+"/publish", map[string]any{"summary": summary, "rationale": "RATIONALE-PUBLISH-SECRET"}, as, "pm@example.com")
		approved := l.must(200, "POST", "/v1/changes/"+change["id"].(string)+"/approve", map[string]any{"rationale": "RATIONALE-APPROVE-SECRET"}, as, "cpo@example.com")
		return uint64(approved["applied_sequence"].(float64))
	}
	shown := onRoadmap("INTERNAL-TITLE Guided setup", "next")
	s := &publicScene{l: l, summary: publicSummary, publishSeq: publish(shown, publicSummary)}

	onRoadmap("UNPUBLISHED-TITLE Zebra", "later")
	withdrawn := onRoadmap("WITHDRAWN-TITLE", "later")
	publish(withdrawn, "WITHDRAWN-SUMMARY")
	l.must(200, "POST", "/v1/items/"+withdrawn+"/unpublish", map[string]any{"rationale": "RATIONALE-UNPUBLISH-SECRET"}, as, "pm@example.com")
	removed := onRoadmap("REMOVED-TITLE", "later")
	publish(removed, "REMOVED-SUMMARY")
	l.must(200, "POST", "/v1/items/"+removed+"/remove", map[string]any{"rationale": "RATIONALE-REMOVE-SECRET"}, as, "pm@example.com")

	l.must(201, "POST", "/v1/views", map[string]any{
		"name": "Our roadmap", "slug": "customers", "audience": "public",
		"objective_ids": []string{public}, "fields": []string{"summary", "horizon", "objectives"},
	}, as, "pm@example.com")
	l.must(201, "POST", "/v1/views", map[string]any{
		"name": "Engineering", "slug": "engineering", "audience": "internal",
		"fields": []string{"title", "rationale", "score"},
	}, as, "pm@example.com")
	l.must(201, "POST", "/v1/checkpoints", nil, as, "cpo@example.com")
	s.secrets = []string{
		"INTERNAL-TITLE", "UNPUBLISHED-TITLE", "WITHDRAWN", "REMOVED", "RATIONALE", "SECRET",
		"ACME", "pm@example.com", "cpo@example.com", "bootstrap", "Engineering", shown,
	}
	return s
}

// publicGet reads a public path with no token at all.
func (s *publicScene) publicGet(t *testing.T, path string) response {
	t.Helper()
	return s.l.do("GET", path, nil, "Authorization", "")
}

func (s *publicScene) checkNoSecrets(t *testing.T, where string, body []byte) {
	t.Helper()
	for _, secret := range s.secrets {
		if strings.Contains(string(body), secret) {
			t.Errorf("%s holds %q, which the public must never see", where, secret)
		}
	}
}

// TestAPublicViewShowsPublishedItemsAndNothingElse reads a public view as
// JSON and as HTML with no token: one entry, the published item by its
// public summary, horizon and public objective, naming the sequence and
// the checkpoint, and no title, rationale, person, internal objective or
// unpublished item anywhere in the answer.
func TestAPublicViewShowsPublishedItemsAndNothingElse(t *testing.T) {
	s := newPublicScene(t)

	res := s.publicGet(t, "/public/customers.json")
	if res.Status != 200 {
		t.Fatalf("GET /public/customers.json: %d %s", res.Status, res.Body)
	}
	s.checkNoSecrets(t, "the JSON answer", res.Body)
	var page struct {
		Name       string
		Sequence   uint64
		Checkpoint *struct{ Size int64 }
		Statement  *string
		Entries    []struct {
			Summary    string
			Horizon    string
			Objectives []string
			Sequence   uint64
			Proof      *string
		}
	}
	if err := json.Unmarshal(res.Body, &page); err != nil {
		t.Fatal(err)
	}
	if page.Name != "Our roadmap" || page.Sequence == 0 || page.Checkpoint == nil || page.Statement == nil {
		t.Errorf("page %q at sequence %d, checkpoint %v, statement %v: want the view's name, a sequence, the checkpoint and a statement", page.Name, page.Sequence, page.Checkpoint, page.Statement)
	}
	if len(page.Entries) != 1 {
		t.Fatalf("%d entries, want the one published item: %s", len(page.Entries), res.Body)
	}
	e := page.Entries[0]
	if e.Summary != s.summary || e.Horizon != "next" || !slices.Equal(e.Objectives, []string{publicObjective}) || e.Sequence != s.publishSeq {
		t.Errorf("entry %+v, want %q in next serving %q, published at %d", e, s.summary, publicObjective, s.publishSeq)
	}
	if want := fmt.Sprintf("/public/customers/proofs/%d?checkpoint=%d", s.publishSeq, page.Checkpoint.Size); e.Proof == nil || *e.Proof != want {
		t.Errorf("proof link %v, want %s", e.Proof, want)
	}
	for _, h := range []string{"Cache-Control", "ETag", "X-Content-Type-Options"} {
		if res.Header.Get(h) == "" {
			t.Errorf("the JSON answer has no %s", h)
		}
	}

	html := s.publicGet(t, "/public/customers")
	if html.Status != 200 || !strings.HasPrefix(html.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /public/customers: %d %s", html.Status, html.Header.Get("Content-Type"))
	}
	s.checkNoSecrets(t, "the HTML page", html.Body)
	escaped := "Guided setup for new teams &lt;b&gt;fast&lt;/b&gt; &amp; &#34;simple&#34;"
	if !strings.Contains(string(html.Body), escaped) || strings.Contains(string(html.Body), "<b>fast") {
		t.Errorf("the page does not show the summary escaped:\n%s", html.Body)
	}
	if !strings.Contains(html.Header.Get("Content-Security-Policy"), "default-src 'none'") || html.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("the page lacks the security headers: %v", html.Header)
	}
	if cc := html.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
		t.Errorf("Cache-Control %q, want a public cache", cc)
	}

	// A cache holding the page is told it has not changed.
	req, _ := http.NewRequest("GET", s.l.URL+"/public/customers", nil)
	req.Header.Set("If-None-Match", html.Header.Get("ETag"))
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(again.Body)
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("with the page's ETag: %d, %d bytes; want 304 and none", again.StatusCode, len(body))
	}

	// The proof reveals hashes only.
	proof := s.publicGet(t, *e.Proof)
	if proof.Status != 200 {
		t.Fatalf("GET %s: %d %s", *e.Proof, proof.Status, proof.Body)
	}
	s.checkNoSecrets(t, "the proof", proof.Body)
}

// TestThePublicSeesNoInternalViewAndNoOtherProof checks that an internal
// view, an unknown one, a query and a proof of any event but a shown
// entry's publication are all 404 or 400 to the public.
func TestThePublicSeesNoInternalViewAndNoOtherProof(t *testing.T) {
	s := newPublicScene(t)
	cp := s.l.must(200, "GET", "/v1/checkpoints/latest", nil)
	size := int64(cp["size"].(float64))
	for path, status := range map[string]int{
		"/public/engineering":      404,
		"/public/engineering.json": 404,
		"/public/nobody.json":      404,
		"/public/customers?x=1":    400,
		fmt.Sprintf("/public/customers/proofs/%d?checkpoint=%d", s.publishSeq-1, size):   404,
		fmt.Sprintf("/public/engineering/proofs/%d?checkpoint=%d", s.publishSeq, size):   404,
		fmt.Sprintf("/public/customers/proofs/%d?checkpoint=%d", s.publishSeq, size-1):   404,
		fmt.Sprintf("/public/customers/proofs/%d", s.publishSeq):                         400,
		fmt.Sprintf("/public/customers/proofs/%d?checkpoint=%d&x=1", s.publishSeq, size): 400,
	} {
		res := s.publicGet(t, path)
		if res.Status != status {
			t.Errorf("GET %s: %d, want %d: %s", path, res.Status, status, res.Body)
			continue
		}
		checkProblem(t, res, status)
	}
}

// TestViewsAreDecisionsOfEditors makes, reads, changes and deletes a view
// through the API, and refuses a public view showing a private field.
func TestViewsAreDecisionsOfEditors(t *testing.T) {
	l := startLedger(t)
	o := l.objective("Retention")
	v := l.must(201, "POST", "/v1/views", map[string]any{"name": "Sales", "slug": "sales", "audience": "internal", "objective_ids": []string{o}, "fields": []string{"title", "horizon"}})
	if v["slug"] != "sales" || v["public_url"] != nil || v["product"] != nil {
		t.Errorf("view %v", v)
	}
	before := l.messages()
	for name, body := range map[string]map[string]any{
		"a public view showing rationales": {"name": "P", "slug": "p", "audience": "public", "fields": []string{"summary", "rationale"}},
		"an unknown field":                 {"name": "P", "slug": "p", "audience": "internal", "fields": []string{"salary"}},
		"no fields":                        {"name": "P", "slug": "p", "audience": "internal", "fields": []string{}},
		"a bad slug":                       {"name": "P", "slug": "Not A Slug", "audience": "internal", "fields": []string{"title"}},
		"a bad horizon":                    {"name": "P", "slug": "p", "audience": "internal", "fields": []string{"title"}, "horizons": []string{"soon"}},
	} {
		res := l.do("POST", "/v1/views", body)
		if res.Status != 422 {
			t.Errorf("%s: %d, want 422: %s", name, res.Status, res.Body)
		}
	}
	checkProblem(t, l.do("POST", "/v1/views", map[string]any{"name": "Again", "slug": "sales", "audience": "internal", "fields": []string{"title"}}), 409)
	if after := l.messages(); after != before {
		t.Errorf("refused views appended %d events", after-before)
	}
	got := l.must(200, "GET", "/v1/views/sales", nil)
	if got["name"] != "Sales" {
		t.Errorf("GET the view: %v", got)
	}
	changed := l.must(200, "PATCH", "/v1/views/sales", map[string]any{"name": "Sales team", "audience": "public", "fields": []string{"summary"}})
	if changed["name"] != "Sales team" || changed["public_url"] != "/public/sales" {
		t.Errorf("changed view %v", changed)
	}
	list := l.must(200, "GET", "/v1/views", nil)["views"].([]any)
	if len(list) != 1 {
		t.Errorf("%d views listed, want 1", len(list))
	}
	l.must(200, "DELETE", "/v1/views/sales", nil)
	checkProblem(t, l.do("GET", "/v1/views/sales", nil), 404)
	checkProblem(t, l.do("GET", "/public/sales.json", nil, "Authorization", ""), 404)
	// The slug is free again.
	l.must(201, "POST", "/v1/views", map[string]any{"name": "Sales", "slug": "sales", "audience": "internal", "fields": []string{"title"}})
}
