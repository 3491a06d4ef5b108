package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// startApprovalsLedger starts a ledger that holds major changes for
// approval, with an editor and two approvers.
func startApprovalsLedger(t *testing.T) (l *testLedger, editor, alice, bob []string) {
	t.Helper()
	l = startLedgerWith(t, app.Config{DataDir: t.TempDir(), Approvals: roadmap.ApprovalsMajor})
	_, e := newToken(l, "editor@example.com", "editor")
	_, a := newToken(l, "alice@example.com", "approver")
	_, b := newToken(l, "bob@example.com", "approver")
	return l, bearer(e), bearer(a), bearer(b)
}

func TestAMajorChangeWaitsForAnotherApprover(t *testing.T) {
	l, editor, alice, bob := startApprovalsLedger(t)
	item := l.must(201, "POST", "/v1/items", map[string]any{"title": "SSO", "kind": "initiative"}, editor...)["id"].(string)

	// Into next is not major: it is recorded at once.
	l.must(200, "POST", "/v1/items/"+item+"/prioritise", map[string]any{"horizon": "next", "rationale": "asked by sales"}, editor...)

	// Into now is: proposed, answered 202, the item untouched.
	before := l.messages()
	res := l.do("POST", "/v1/items/"+item+"/reprioritise", map[string]any{
		"horizon": "now", "rationale": "three enterprise deals wait on it", "evidence": []string{"https://crm.example.com/q"},
	}, alice...)
	if res.Status != 202 {
		t.Fatalf("a move into now: %d %s, want 202", res.Status, res.Body)
	}
	change := decode(t, res.Body)
	id := change["id"].(string)
	if change["status"] != "pending" || change["proposed_by"] != "alice@example.com" || change["horizon"] != "now" ||
		change["reason"] != "a reprioritisation into now" || res.Header.Get("Location") != "/v1/changes/"+id {
		t.Errorf("change %v, Location %q", change, res.Header.Get("Location"))
	}
	if l.messages() != before+1 {
		t.Errorf("a proposal appended %d events, want 1", l.messages()-before)
	}
	if got := l.must(200, "GET", "/v1/items/"+item, nil); got["horizon"] != "next" {
		t.Errorf("the item moved before approval: %v", got["horizon"])
	}
	pending := l.must(200, "GET", "/v1/changes?status=pending", nil)["changes"].([]any)
	if len(pending) != 1 || pending[0].(map[string]any)["id"] != id {
		t.Errorf("pending %v, want the change", pending)
	}

	// The proposer cannot approve it, even as an approver or an admin.
	n := l.messages()
	checkProblem(t, l.do("POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": "mine"}, alice...), 403)
	// An editor may not approve anything.
	checkProblem(t, l.do("POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": "ok"}, editor...), 403)
	checkProblem(t, l.do("POST", "/v1/changes/"+id+"/approve", map[string]any{}, bob...), 422)
	if l.messages() != n {
		t.Errorf("refused approvals appended %d events", l.messages()-n)
	}

	// Another approver approves it: change.approved, then the decision.
	approved := l.must(200, "POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": "the deals are real", "evidence": []string{"board minutes"}}, bob...)
	if approved["status"] != "approved" || approved["decided_by"] != "bob@example.com" || approved["applied_sequence"] == nil ||
		approved["decision_rationale"] != "the deals are real" {
		t.Errorf("approved %v", approved)
	}
	if l.messages() != n+2 {
		t.Errorf("an approval appended %d events, want 2", l.messages()-n)
	}
	got := l.must(200, "GET", "/v1/items/"+item, nil)
	if got["horizon"] != "now" || got["rank"] != float64(1) {
		t.Errorf("after approval the item is %v #%v, want now #1", got["horizon"], got["rank"])
	}
	history := rows(t, l.must(200, "GET", "/v1/items/"+item+"/history", nil)["history"])
	last := history[len(history)-1]
	if last["type"] != "item.reprioritised" || last["actor"] != "bob@example.com" || last["rationale"] != "three enterprise deals wait on it" ||
		last["seq"] != approved["applied_sequence"] {
		t.Errorf("the item's last event %v, want the proposed reprioritisation recorded by the approver", last)
	}
	audit := l.must(200, "GET", "/v1/audit?type=change.proposed,change.approved", nil)["events"].([]any)
	if len(audit) != 2 || audit[0].(map[string]any)["actor"] != "alice@example.com" || audit[1].(map[string]any)["actor"] != "bob@example.com" {
		t.Errorf("audit of the change %v", audit)
	}
	// Decided is decided.
	checkProblem(t, l.do("POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": "again"}, bob...), 409)
	checkProblem(t, l.do("POST", "/v1/changes/"+id+"/reject", map[string]any{"rationale": "late"}, bob...), 409)
	if len(l.must(200, "GET", "/v1/changes?status=pending", nil)["changes"].([]any)) != 0 {
		t.Errorf("the change is still pending")
	}
}

func TestARejectedChangeIsDropped(t *testing.T) {
	l, editor, alice, _ := startApprovalsLedger(t)
	item := l.must(201, "POST", "/v1/items", map[string]any{"title": "Dark mode", "kind": "idea"}, editor...)["id"].(string)
	change := l.must(202, "POST", "/v1/items/"+item+"/prioritise", map[string]any{"horizon": "now", "rationale": "users ask"}, editor...)
	id := change["id"].(string)
	rejected := l.must(200, "POST", "/v1/changes/"+id+"/reject", map[string]any{"rationale": "no evidence it moves a KPI"}, alice...)
	if rejected["status"] != "rejected" || rejected["decided_by"] != "alice@example.com" || rejected["applied_sequence"] != nil {
		t.Errorf("rejected %v", rejected)
	}
	if got := l.must(200, "GET", "/v1/items/"+item, nil); got["status"] != "proposed" {
		t.Errorf("a rejected change moved the item: %v", got)
	}
	checkProblem(t, l.do("POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": "changed my mind"}, alice...), 409)
	if got := l.must(200, "GET", "/v1/changes?status=rejected", nil)["changes"].([]any); len(got) != 1 {
		t.Errorf("rejected changes %v", got)
	}
	checkProblem(t, l.do("GET", "/v1/changes?status=maybe", nil), 400)
	checkProblem(t, l.do("GET", "/v1/changes/"+item, nil), 404)
}

func TestAStaleChangeCannotBeApproved(t *testing.T) {
	l, editor, alice, bob := startApprovalsLedger(t)
	item := l.must(201, "POST", "/v1/items", map[string]any{"title": "Audit log", "kind": "idea"}, editor...)["id"].(string)
	l.must(200, "POST", "/v1/items/"+item+"/prioritise", map[string]any{"horizon": "later", "rationale": "someday"}, editor...)
	id := l.must(202, "POST", "/v1/items/"+item+"/reprioritise", map[string]any{"horizon": "now", "rationale": "compliance"}, editor...)["id"].(string)
	// The item moves meanwhile (not a major change: later to next).
	l.must(200, "POST", "/v1/items/"+item+"/reprioritise", map[string]any{"horizon": "next", "rationale": "closer"}, alice...)
	n := l.messages()
	res := l.do("POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": "yes"}, bob...)
	checkProblem(t, res, 409)
	if !strings.Contains(string(res.Body), "changed since") || l.messages() != n {
		t.Errorf("a stale approval: %s, %d events appended", res.Body, l.messages()-n)
	}
	// It can still be rejected.
	l.must(200, "POST", "/v1/changes/"+id+"/reject", map[string]any{"rationale": "overtaken"}, bob...)
}

func TestRemovingANowItemIsMajorAndMovesWithinNowAreNot(t *testing.T) {
	l, editor, alice, bob := startApprovalsLedger(t)
	a := l.must(201, "POST", "/v1/items", map[string]any{"title": "A", "kind": "idea"}, editor...)["id"].(string)
	b := l.must(201, "POST", "/v1/items", map[string]any{"title": "B", "kind": "idea"}, editor...)["id"].(string)
	for _, id := range []string{a, b} {
		c := l.must(202, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "now", "rationale": "commit"}, editor...)
		l.must(200, "POST", "/v1/changes/"+c["id"].(string)+"/approve", map[string]any{"rationale": "agreed"}, alice...)
	}
	// Re-ranking within now, rescoring: recorded at once.
	l.must(200, "POST", "/v1/items/"+b+"/reprioritise", map[string]any{"rank": 1, "rationale": "B first"}, editor...)
	// Out of now, and removal from now: held.
	l.must(202, "POST", "/v1/items/"+a+"/reprioritise", map[string]any{"horizon": "later", "rationale": "slip"}, editor...)
	c := l.must(202, "POST", "/v1/items/"+b+"/remove", map[string]any{"rationale": "cancelled"}, editor...)
	if c["decision"] != "item.removed" || c["reason"] != "the removal of a now item" {
		t.Errorf("removal change %v", c)
	}
	l.must(200, "POST", "/v1/changes/"+c["id"].(string)+"/approve", map[string]any{"rationale": "agreed"}, bob...)
	if got := l.must(200, "GET", "/v1/items/"+b, nil); got["status"] != "removed" {
		t.Errorf("after the approved removal B is %v", got["status"])
	}
}

func TestDeliveryEndsTheItemsStory(t *testing.T) {
	l := startLedger(t)
	okr := l.objective("Activation")
	id := l.item("Guided setup", okr)
	l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "now", "rationale": "activation is flat"})
	checkProblem(t, l.do("POST", "/v1/items/"+id+"/deliver", map[string]any{}), 422)
	got := l.must(200, "POST", "/v1/items/"+id+"/deliver", map[string]any{"rationale": "shipped in 4.2", "evidence": []string{"https://example.com/4.2"}})
	if got["status"] != "delivered" || got["horizon"] != nil {
		t.Errorf("delivered item %v", got)
	}
	if hz := horizonTitles(t, l.must(200, "GET", "/v1/roadmap", nil)); len(hz["now"]) != 0 {
		t.Errorf("a delivered item is still on the roadmap: %v", hz)
	}
	history := rows(t, l.must(200, "GET", "/v1/items/"+id+"/history", nil)["history"])
	last := history[len(history)-1]
	if last["type"] != "item.delivered" || last["rationale"] != "shipped in 4.2" || place(last["from"]) != "now#1" || place(last["to"]) != "off" {
		t.Errorf("the history ends with %v", last)
	}
	why := l.must(200, "GET", "/v1/items/"+id+"/why", nil)
	if item := why["item"].(map[string]any); item["status"] != "delivered" || item["last_decision"].(map[string]any)["type"] != "item.delivered" {
		t.Errorf("the why chain's item %v", item)
	}
	// Delivered is final.
	checkProblem(t, l.do("POST", "/v1/items/"+id+"/deliver", map[string]any{"rationale": "again"}), 409)
	checkProblem(t, l.do("POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "next", "rationale": "more"}), 409)
	proposed := l.item("Not yet on the roadmap")
	checkProblem(t, l.do("POST", "/v1/items/"+proposed+"/deliver", map[string]any{"rationale": "?"}), 409)
}

// TestAnApprovalCutShortIsCompletedByApprovingAgain records a change's
// approval without its decision, as a process stopped between the two
// appends leaves it, and checks that approving it again records the
// decision, once.
func TestAnApprovalCutShortIsCompletedByApprovingAgain(t *testing.T) {
	l, editor, alice, bob := startApprovalsLedger(t)
	item := l.must(201, "POST", "/v1/items", map[string]any{"title": "Billing v2", "kind": "idea"}, editor...)["id"].(string)
	id := l.must(202, "POST", "/v1/items/"+item+"/prioritise", map[string]any{"horizon": "now", "rationale": "revenue"}, editor...)["id"].(string)

	c, _ := l.App.Current.ChangeView(id)
	ctx := context.Background()
	ack, err := l.App.Log.Append(ctx, &eventlog.Envelope{
		ID: "01a2061d-0000-7000-8000-0000000000aa", Type: roadmap.TypeChangeApproved, SchemaVersion: 1,
		AggregateType: "change", AggregateID: id, Time: time.Now().UTC().Truncate(time.Microsecond), Actor: "alice@example.com",
		Data: []byte(`{"rationale":"yes","evidence":[]}`),
	}, c.Head, eventlog.AppendOptions{ExpectedSequence: c.Version})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.App.Runner.WaitFor(ctx, ack.Sequence); err != nil {
		t.Fatal(err)
	}
	half := l.must(200, "GET", "/v1/changes/"+id, nil)
	if half["status"] != "approved" || half["applied_sequence"] != nil {
		t.Fatalf("the change cut short: %v", half)
	}
	// The proposer cannot complete it; another approver can.
	checkProblem(t, l.do("POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": "finish"}, editor...), 403)
	done := l.must(200, "POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": "finish"}, bob...)
	if done["applied_sequence"] == nil || done["decided_by"] != "alice@example.com" {
		t.Errorf("completed change %v", done)
	}
	if got := l.must(200, "GET", "/v1/items/"+item, nil); got["horizon"] != "now" {
		t.Errorf("the item is %v, want now", got["horizon"])
	}
	n := l.messages()
	checkProblem(t, l.do("POST", "/v1/changes/"+id+"/approve", map[string]any{"rationale": "again"}, alice...), 409)
	if l.messages() != n {
		t.Errorf("approving a completed change appended events")
	}
}

// TestNoDecisionTakesANowItemOutUnapproved checks the way round the
// two-person rule that delivery once was: an editor whose removal of a now
// item is held cannot deliver it instead, nor move it to another product;
// every way out of now waits for an approver, and the item stays in now.
func TestNoDecisionTakesANowItemOutUnapproved(t *testing.T) {
	l, editor, alice, bob := startApprovalsLedger(t)
	item := l.must(201, "POST", "/v1/items", map[string]any{"title": "SSO", "kind": "initiative"}, editor...)["id"].(string)
	held := l.must(202, "POST", "/v1/items/"+item+"/prioritise", map[string]any{"horizon": "now", "rationale": "deals"}, alice...)["id"].(string)
	l.must(200, "POST", "/v1/changes/"+held+"/approve", map[string]any{"rationale": "agreed"}, bob...)

	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
		reason             string
	}{
		{"a removal", "POST", "/v1/items/" + item + "/remove", map[string]any{"rationale": "not now"}, "the removal of a now item"},
		{"a delivery", "POST", "/v1/items/" + item + "/deliver", map[string]any{"rationale": "shipped, trust me"}, "the delivery of a now item"},
		{"a move to another product", "PATCH", "/v1/items/" + item, map[string]any{"product": "mobile", "rationale": "theirs now"}, "a move of a now item to another product"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			change := l.must(202, tc.method, tc.path, tc.body, editor...)
			if change["status"] != "pending" || change["reason"] != tc.reason {
				t.Errorf("change %v, want pending for %q", change, tc.reason)
			}
			if got := l.must(200, "GET", "/v1/items/"+item, nil); got["status"] != "on_roadmap" || got["horizon"] != "now" || got["product"] != "default" {
				t.Errorf("the item left now unapproved: %v", got)
			}
		})
	}

	// Approved, the delivery is recorded with its approval.
	pending := l.must(200, "GET", "/v1/changes?status=pending", nil)["changes"].([]any)
	var delivery string
	for _, c := range pending {
		if c := c.(map[string]any); c["decision"] == "item.delivered" {
			delivery = c["id"].(string)
		}
	}
	if delivery == "" {
		t.Fatalf("no pending delivery among %v", pending)
	}
	applied := l.must(200, "POST", "/v1/changes/"+delivery+"/approve", map[string]any{"rationale": "demoed at the board"}, alice...)
	if applied["status"] != "approved" || applied["rationale"] != "shipped, trust me" {
		t.Errorf("the approved delivery %v", applied)
	}
	if got := l.must(200, "GET", "/v1/items/"+item, nil); got["status"] != "delivered" {
		t.Errorf("after approval the item is %v, want delivered", got["status"])
	}
}
