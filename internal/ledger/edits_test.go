package ledger_test

import (
	"reflect"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestEditItem(t *testing.T) {
	l := newLedger(t)
	goal := l.objective("Grow activation")
	parent := l.proposeItem(roadmap.ProposeItem{Title: "Onboarding", Kind: roadmap.KindInitiative})
	id := l.propose("Guided setup")
	l.prioritise(id, roadmap.Next)
	other := l.propose("Templates")
	l.prioritise(other, roadmap.Next)

	t.Run("records one event with every field before and after, and answers the item in its place", func(t *testing.T) {
		l := l.in(t)
		before := l.item(id)
		res, err := l.svc.EditItem(l.ctx, as("pm"), id, roadmap.EditItem{
			Title: ptr("Guided setup wizard"), ParentID: ptr(parent), ObjectiveIDs: &[]string{goal}, Effort: ptr(5),
			Risks: &[]string{"identity vendor"}, Rationale: "scoped with the team", Evidence: []string{"https://example.com/spec"},
		})
		if err != nil {
			t.Fatal(err)
		}
		it := res.Answer.Item
		if res.Created || res.Answer.Held != nil || it.Title != "Guided setup wizard" || it.ParentID != parent || *it.Effort() != 5 ||
			!reflect.DeepEqual(it.ObjectiveIDs, []string{goal}) || !reflect.DeepEqual(it.Risks(), []string{"identity vendor"}) {
			t.Errorf("answer %+v", res)
		}
		if it.Rank != 1 || it.Horizon != roadmap.Next || it.Version != res.Sequence || it.LastDecision.Sequence != before.LastDecision.Sequence {
			t.Errorf("edited item at next #%d, version %d, last decision %d; want it first of next still, at version %d, its placement its last decision",
				it.Rank, it.Version, it.LastDecision.Sequence, res.Sequence)
		}
		recs := l.records(res.Sequence)
		e, ok := event(t, recs[0]).(*roadmap.ItemEdited)
		if len(recs) != 1 || !ok || recs[0].Envelope.Actor != "pm" || recs[0].Envelope.AggregateID != id {
			t.Fatalf("recorded %+v", recs)
		}
		if want := []string{"title", "parent_id", "objective_ids", "effort", "risks"}; !reflect.DeepEqual(e.Changed, want) ||
			e.Before.Title != "Guided setup" || e.After.Title != "Guided setup wizard" || e.Before.Effort != nil ||
			e.Rationale != "scoped with the team" || !reflect.DeepEqual(e.Evidence, []string{"https://example.com/spec"}) {
			t.Errorf("event %+v", e)
		}
	})

	t.Run("a change of the why chain without a rationale is refused and appends nothing", func(t *testing.T) {
		l := l.in(t)
		last := l.last()
		_, err := l.svc.EditItem(l.ctx, as("pm"), id, roadmap.EditItem{Product: ptr("mobile")})
		wantErr(t, err, roadmap.ErrInvalid)
		l.wantLast(last)
	})

	t.Run("an edit that changes nothing is refused and appends nothing", func(t *testing.T) {
		l := l.in(t)
		last := l.last()
		_, err := l.svc.EditItem(l.ctx, as("pm"), id, roadmap.EditItem{Title: ptr("Guided setup wizard")})
		wantErr(t, err, roadmap.ErrInvalid)
		l.wantLast(last)
	})

	t.Run("If-Match naming another version is refused", func(t *testing.T) {
		l := l.in(t)
		last := l.last()
		_, err := l.svc.EditItem(l.ctx, ifMatch("pm", l.item(id).Version-1), id, roadmap.EditItem{Title: ptr("x")})
		wantErr(t, err, ledger.ErrPreconditionFailed)
		l.wantLast(last)
		res := must(l.svc.EditItem(l.ctx, ifMatch("pm", l.item(id).Version), id, roadmap.EditItem{Description: ptr("One screen.")}))(t)
		if res.Answer.Item.Description != "One screen." {
			t.Errorf("answer %+v", res.Answer.Item)
		}
	})

	t.Run("a retry with the same Idempotency-Key answers the first edit", func(t *testing.T) {
		l := l.in(t)
		req := keyed("pm", "edit-1", `{"title":"Setup wizard"}`)
		first := must(l.svc.EditItem(l.ctx, req, id, roadmap.EditItem{Title: ptr("Setup wizard")}))(t)
		last := l.last()
		again := must(l.svc.EditItem(l.ctx, req, id, roadmap.EditItem{Title: ptr("Setup wizard")}))(t)
		l.wantLast(last)
		if !again.Replayed || again.Sequence != first.Sequence || again.Answer.Item.Title != "Setup wizard" {
			t.Errorf("retry %+v, want the first answer replayed", again)
		}
	})

	t.Run("a move to another product puts the item last in the same horizon there", func(t *testing.T) {
		l := l.in(t)
		mobile := l.proposeItem(roadmap.ProposeItem{Title: "Offline mode", Product: "mobile"})
		l.prioritise(mobile, roadmap.Next)
		res := must(l.svc.EditItem(l.ctx, as("pm"), id, roadmap.EditItem{Product: ptr("mobile"), Rationale: "the app team owns it"}))(t)
		if it := res.Answer.Item; it.Product != "mobile" || it.Horizon != roadmap.Next || it.Rank != 2 {
			t.Errorf("moved item in %s, %s #%d; want mobile, next #2", it.Product, it.Horizon, it.Rank)
		}
		if o := l.item(other); o.Rank != 1 {
			t.Errorf("the item left behind is next #%d, want #1", o.Rank)
		}
	})

	t.Run("errors of the domain and of lookups", func(t *testing.T) {
		l := l.in(t)
		_, err := l.svc.EditItem(l.ctx, as("pm"), "0197a3c1-0000-7000-8000-0000000000ff", roadmap.EditItem{Title: ptr("x")})
		wantErr(t, err, roadmap.ErrNotFound)
		_, err = l.svc.EditItem(l.ctx, as("pm"), parent, roadmap.EditItem{Kind: ptr(roadmap.KindIdea)})
		wantErr(t, err, roadmap.ErrConflict) // it is the parent of the edited item
		_, err = l.svc.EditItem(l.ctx, as("pm"), other, roadmap.EditItem{ParentID: ptr(id), Rationale: "r"})
		wantErr(t, err, roadmap.ErrConflict) // an idea cannot be a parent
	})
}

func TestEditingANowItemsProductIsHeldForApproval(t *testing.T) {
	l := newLedger(t)
	id := l.propose("Guided setup")
	l.prioritise(id, roadmap.Now)
	l.svc.SetApprovals(roadmap.ApprovalsMajor)

	// A rename is recorded at once.
	renamed := must(l.svc.EditItem(l.ctx, as("alice"), id, roadmap.EditItem{Title: ptr("Setup wizard")}))(t)
	if renamed.Answer.Held != nil || renamed.Answer.Item.Title != "Setup wizard" {
		t.Fatalf("a rename under approvals: %+v", renamed.Answer)
	}

	res := must(l.svc.EditItem(l.ctx, as("alice"), id, roadmap.EditItem{Product: ptr("mobile"), Rationale: "the app team owns it"}))(t)
	c := res.Answer.Held
	if c == nil || !res.Created || c.ChangeProposed.Decision != roadmap.TypeItemEdited || c.Edit == nil || c.Edit.After.Product != "mobile" || c.Status != roadmap.ChangeStatusPending {
		t.Fatalf("answer %+v, want a pending change holding the edit", res.Answer)
	}
	if it := l.item(id); it.Product != roadmap.DefaultProduct || it.Version != renamed.Sequence {
		t.Fatalf("the item changed before approval: %+v", it)
	}

	approved := must(l.svc.ApproveChange(l.ctx, as("bob"), c.ID, roadmap.DecideChange{Rationale: "agreed"}))(t)
	if approved.Answer.AppliedSequence == 0 {
		t.Fatalf("approved change %+v, want its edit applied", approved.Answer)
	}
	it := l.item(id)
	if it.Product != "mobile" || it.Horizon != roadmap.Now || it.Rank != 1 || it.Version != approved.Answer.AppliedSequence {
		t.Errorf("item after approval: %s, %s #%d, version %d", it.Product, it.Horizon, it.Rank, it.Version)
	}
	recs := l.records(approved.Answer.AppliedSequence)
	e, ok := event(t, recs[0]).(*roadmap.ItemEdited)
	if !ok || recs[0].Envelope.Actor != "bob" || e.Approval == nil || *e.Approval != (roadmap.Approval{ChangeID: c.ID, ProposedBy: "alice"}) {
		t.Errorf("the applied edit %+v by %s", e, recs[0].Envelope.Actor)
	}
}

func TestEditObjective(t *testing.T) {
	l := newLedger(t)
	id := l.objective("Grow activation")
	before, _ := l.current.ObjectiveView(id)

	res := must(l.svc.EditObjective(l.ctx, as("pm"), id, roadmap.EditObjective{KPI: ptr("daily active teams"), Rationale: "a sharper measure"}))(t)
	if o := res.Answer; o.KPI != "daily active teams" || o.Title != "Grow activation" || o.Version != res.Sequence || res.Created {
		t.Errorf("answer %+v", res)
	}
	e, ok := event(t, l.records(res.Sequence)[0]).(*roadmap.ObjectiveEdited)
	if !ok || e.Before.KPI != before.KPI || e.After.KPI != "daily active teams" || !reflect.DeepEqual(e.Changed, []string{"kpi"}) {
		t.Errorf("event %+v", e)
	}

	last := l.last()
	_, err := l.svc.EditObjective(l.ctx, as("pm"), id, roadmap.EditObjective{Target: ptr("+20%")})
	wantErr(t, err, roadmap.ErrInvalid) // a target change needs a rationale
	_, err = l.svc.EditObjective(l.ctx, as("pm"), id, roadmap.EditObjective{Title: ptr("Grow activation")})
	wantErr(t, err, roadmap.ErrInvalid) // nothing changes
	_, err = l.svc.EditObjective(l.ctx, ifMatch("pm", res.Sequence-1), id, roadmap.EditObjective{Title: ptr("x")})
	wantErr(t, err, ledger.ErrPreconditionFailed)
	_, err = l.svc.EditObjective(l.ctx, as("pm"), "0197a3c1-0000-7000-8000-0000000000ff", roadmap.EditObjective{Title: ptr("x")})
	wantErr(t, err, roadmap.ErrNotFound)
	l.wantLast(last)

	must(l.svc.RetireObjective(l.ctx, as("pm"), id, roadmap.RetireObjective{Rationale: "met"}))(t)
	_, err = l.svc.EditObjective(l.ctx, as("pm"), id, roadmap.EditObjective{Title: ptr("x")})
	wantErr(t, err, roadmap.ErrConflict)
}

// event is the domain event of a stored record.
func event(t testing.TB, rec eventlog.Record) roadmap.Event {
	t.Helper()
	e, err := rec.Event()
	if err != nil {
		t.Fatalf("sequence %d: %v", rec.Sequence, err)
	}
	return e
}
