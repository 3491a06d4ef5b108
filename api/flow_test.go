package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

func TestTheWholeDecisionFlow(t *testing.T) {
	l := startLedger(t)

	obj, header := l.mustVersioned(201, "/v1/objectives", map[string]any{
		"title": "Reduce onboarding time", "description": "New teams wait too long",
		"kpi": "median minutes to first roadmap", "target": "-30% by Q2", "product": "web",
	}, "ceo@example.com")
	objID := obj["id"].(string)
	if got, want := header.Get("Location"), "/v1/objectives/"+objID; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if obj["status"] != "active" || obj["product"] != "web" {
		t.Errorf("objective %v, want active in product web", obj)
	}

	initiative := l.must(201, "POST", "/v1/items", map[string]any{
		"title": "Faster onboarding", "kind": "initiative", "product": "web", "objective_ids": []string{objID},
	})
	idea, _ := l.mustVersioned(201, "/v1/items", map[string]any{
		"title": "Guided setup", "kind": "idea", "product": "web", "parent_id": initiative["id"],
	}, "pm@example.com")
	ideaID := idea["id"].(string)
	if idea["status"] != "proposed" || idea["horizon"] != nil || idea["rank"] != nil || idea["parent_id"] != initiative["id"] {
		t.Errorf("proposed idea %v, want proposed, off the roadmap, under the initiative", idea)
	}

	// Prioritise both; the idea goes on top of now, pushing the initiative to #2.
	l.must(200, "POST", "/v1/items/"+initiative["id"].(string)+"/prioritise", map[string]any{
		"horizon": "now", "rationale": "Top churn reason in Q3 exit interviews",
	})
	idea, _ = l.mustVersioned(200, "/v1/items/"+ideaID+"/prioritise", map[string]any{
		"horizon": "now", "rank": 1, "rationale": "Cheapest fix for the top churn reason",
		"evidence": []string{"https://example.com/research/onboarding"},
		"score":    map[string]any{"framework": "value_effort", "customer_value": 5, "business_value": 5, "effort": 3, "risk": 4},
	}, "pm@example.com")
	if idea["status"] != "on_roadmap" || idea["horizon"] != "now" || idea["rank"] != 1.0 {
		t.Errorf("prioritised idea %v, want on_roadmap now #1", idea)
	}
	if got := idea["score"].(map[string]any)["value"]; got != 4.666667 {
		t.Errorf("score value %v, want 4.666667", got)
	}
	if idea["objective_ids"] == nil || len(idea["objective_ids"].([]any)) != 0 {
		t.Errorf("objective_ids %v, want [] (the proposal's)", idea["objective_ids"])
	}
	if got := l.must(200, "GET", "/v1/items/"+initiative["id"].(string), nil)["rank"]; got != 2.0 {
		t.Errorf("initiative rank after the idea went to #1: %v, want 2", got)
	}

	// Reprioritise: move to next, link the objective; then rescore only.
	idea = l.must(200, "POST", "/v1/items/"+ideaID+"/reprioritise", map[string]any{
		"horizon": "next", "objective_ids": []string{objID}, "rationale": "Blocked on the identity team until January",
	})
	if idea["horizon"] != "next" || idea["rank"] != 1.0 || len(idea["objective_ids"].([]any)) != 1 {
		t.Errorf("reprioritised idea %v, want next #1 serving the objective", idea)
	}
	if got := l.must(200, "GET", "/v1/items/"+initiative["id"].(string), nil)["rank"]; got != 1.0 {
		t.Errorf("initiative rank after the idea left now: %v, want 1", got)
	}
	idea = l.must(200, "POST", "/v1/items/"+ideaID+"/reprioritise", map[string]any{
		"score": map[string]any{"framework": "moscow", "category": "should"}, "rationale": "Board prefers MoSCoW for next",
	})
	if idea["horizon"] != "next" || idea["score"].(map[string]any)["value"] != 3.0 {
		t.Errorf("rescored idea %v, want still in next with value 3", idea)
	}

	// Remove, then prioritise again: removal is not the end of an item.
	idea = l.must(200, "POST", "/v1/items/"+ideaID+"/remove", map[string]any{"rationale": "Superseded by the partner integration"})
	if idea["status"] != "removed" || idea["horizon"] != nil {
		t.Errorf("removed idea %v, want removed and off the horizons", idea)
	}
	idea = l.must(200, "POST", "/v1/items/"+ideaID+"/prioritise", map[string]any{"horizon": "later", "rationale": "Partner integration fell through"})
	if idea["status"] != "on_roadmap" || idea["horizon"] != "later" {
		t.Errorf("re-prioritised idea %v, want on_roadmap in later", idea)
	}

	// Retire the objective: it can no longer be linked.
	obj = l.must(200, "POST", "/v1/objectives/"+objID+"/retire", map[string]any{"rationale": "Met the target in Q1"})
	if obj["status"] != "retired" {
		t.Errorf("retired objective %v", obj)
	}
	res := l.do("POST", "/v1/items", map[string]any{"title": "Late idea", "kind": "idea", "objective_ids": []string{objID}})
	checkProblem(t, res, 409)

	// GETs answer what the writes answered.
	got := l.do("GET", "/v1/items/"+ideaID, nil)
	checkVersioned(t, got, decode(t, got.Body))
	if g, w := decode(t, got.Body), idea; fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("GET item %v, want the last write's answer %v", g, w)
	}

	// The log records who decided, and every chain verifies.
	actors := map[string]string{}
	var chain []eventlog.Envelope
	err := l.App.Log.Read(context.Background(), "item", ideaID, func(r eventlog.Record) error {
		actors[r.Envelope.Type] = r.Envelope.Actor
		chain = append(chain, r.Envelope)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if actors["item.proposed"] != "pm@example.com" || actors["item.removed"] != "bootstrap" {
		t.Errorf("actors %v, want the name of each request's token", actors)
	}
	if len(chain) != 6 {
		t.Errorf("idea has %d events, want 6", len(chain))
	}
	if err := eventlog.VerifyChain(chain); err != nil {
		t.Errorf("idea chain: %v", err)
	}
}

// mustVersioned sends a write as actor and fails the test unless it answers
// want. It returns the answer, checked to carry its version as its ETag,
// and the answer's headers.
func (l *testLedger) mustVersioned(want int, path string, body any, actor string) (map[string]any, http.Header) {
	l.t.Helper()
	res := l.do("POST", path, body, as, actor)
	if res.Status != want {
		l.t.Fatalf("POST %s: status %d, want %d; body %s", path, res.Status, want, res.Body)
	}
	answer := decode(l.t, res.Body)
	checkVersioned(l.t, res, answer)
	return answer, res.Header
}

func TestIdempotentRetriesGetTheSameAnswerAndAppendNothing(t *testing.T) {
	// A duplicate window far shorter than the test shows the ledger does not
	// lean on JetStream's.
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), DuplicateWindow: 100 * time.Millisecond})
	body := map[string]any{"title": "Bulk import", "kind": "idea"}
	first := l.do("POST", "/v1/items", body, "Idempotency-Key", "import-1")
	if first.Status != 201 {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	count := l.messages()
	time.Sleep(300 * time.Millisecond) // let the duplicate window pass

	retry := l.do("POST", "/v1/items", body, "Idempotency-Key", "import-1")
	if retry.Status != first.Status || !bytes.Equal(retry.Body, first.Body) || retry.Header.Get("ETag") != first.Header.Get("ETag") {
		t.Errorf("retry: %d %s, want %d %s", retry.Status, retry.Body, first.Status, first.Body)
	}
	if retry.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry not marked as replayed")
	}
	if got := l.messages(); got != count {
		t.Errorf("retry appended: %d events, want %d", got, count)
	}

	// The item moves on; a retry of the first request still gets the first answer.
	id := decode(t, first.Body)["id"].(string)
	l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"})
	count = l.messages()
	if again := l.do("POST", "/v1/items", body, "Idempotency-Key", "import-1"); !bytes.Equal(again.Body, first.Body) {
		t.Errorf("retry after the item moved: %s, want %s", again.Body, first.Body)
	}

	// Keys belong to their actor: another actor's same key is another request.
	other := l.do("POST", "/v1/items", body, "Idempotency-Key", "import-1", as, "someone-else")
	if other.Status != 201 || decode(t, other.Body)["id"] == id {
		t.Errorf("another actor's key: %d %s, want a new item", other.Status, other.Body)
	}
	count = l.messages()

	// The same key for another request is refused.
	res := l.do("POST", "/v1/items", map[string]any{"title": "Something else", "kind": "idea"}, "Idempotency-Key", "import-1")
	checkProblem(t, res, 422)
	if got := l.messages(); got != count {
		t.Errorf("reused key appended: %d events, want %d", got, count)
	}
}

func TestIfMatchGuardsAgainstLostUpdates(t *testing.T) {
	l := startLedger(t)
	proposed := l.do("POST", "/v1/items", map[string]any{"title": "Audit log export", "kind": "idea"})
	if proposed.Status != 201 {
		t.Fatalf("propose: %d %s", proposed.Status, proposed.Body)
	}
	id := decode(t, proposed.Body)["id"].(string)
	res := l.do("POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "next", "rationale": "r"}, "If-Match", proposed.Header.Get("ETag"))
	if res.Status != 200 {
		t.Fatalf("prioritise with a current If-Match: %d %s", res.Status, res.Body)
	}
	etag := res.Header.Get("ETag")
	l.must(200, "POST", "/v1/items/"+id+"/reprioritise", map[string]any{"horizon": "now", "rationale": "someone else"})
	count := l.messages()
	res = l.do("POST", "/v1/items/"+id+"/reprioritise", map[string]any{"horizon": "later", "rationale": "stale view"}, "If-Match", etag)
	checkProblem(t, res, 412)
	if got := l.messages(); got != count {
		t.Errorf("stale If-Match appended: %d events, want %d", got, count)
	}
}

func TestAcknowledgedDecisionsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	l := startLedgerIn(t, dir)
	obj := l.objective("Retention")
	var ids []string
	for i := range 5 {
		id := l.item(fmt.Sprintf("Idea %d", i), obj)
		l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "now", "rank": 1, "rationale": "r"})
		ids = append(ids, id)
	}
	l.must(200, "POST", "/v1/items/"+ids[2]+"/remove", map[string]any{"rationale": "r"})
	keyed := l.must(201, "POST", "/v1/items", map[string]any{"title": "Keyed", "kind": "idea"}, "Idempotency-Key", "k")
	before := map[string]string{}
	for _, id := range append(ids, obj) {
		path := "/v1/items/" + id
		if id == obj {
			path = "/v1/objectives/" + id
		}
		before[path] = string(l.do("GET", path, nil).Body)
	}
	count := l.messages()
	l.stop()

	l = startLedgerIn(t, dir)
	if got := l.messages(); got != count {
		t.Fatalf("after restart: %d events, want %d", got, count)
	}
	for path, want := range before {
		if got := string(l.do("GET", path, nil).Body); got != want {
			t.Errorf("GET %s after restart:\n got %s\nwant %s", path, got, want)
		}
	}
	retry := l.must(201, "POST", "/v1/items", map[string]any{"title": "Keyed", "kind": "idea"}, "Idempotency-Key", "k")
	if retry["id"] != keyed["id"] {
		t.Errorf("keyed retry after restart made item %v, want %v", retry["id"], keyed["id"])
	}
	if got := l.messages(); got != count {
		t.Errorf("keyed retry after restart appended: %d events, want %d", got, count)
	}
}
