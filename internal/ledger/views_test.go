package ledger_test

import (
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// TestPublishingIsADecisionTheApprovalPolicyJudges publishes an item under
// the major policy: held for a second person, then in effect with the
// approval; withdrawing it is at once; the item never moves.
func TestPublishingIsADecisionTheApprovalPolicyJudges(t *testing.T) {
	l := newLedger(t)
	l.svc.SetApprovals(roadmap.ApprovalsMajor)
	first, id := l.prioritise(l.propose("First"), roadmap.Next), l.propose("Second")
	l.prioritise(id, roadmap.Next)

	held := must(l.svc.Publish(l.ctx, as("pm"), first.ID, roadmap.Publish{Summary: "Coming next", Rationale: "announced"}))(t)
	if held.Answer.Held == nil || held.Answer.Held.Reason != "a publication on the public roadmap" {
		t.Fatalf("the publication was not held: %+v", held.Answer)
	}
	wantErr(t, errOf(l.svc.ApproveChange(l.ctx, as("pm"), held.Answer.Held.ID, roadmap.DecideChange{Rationale: "mine"})), roadmap.ErrForbidden)
	approved := must(l.svc.ApproveChange(l.ctx, as("cpo"), held.Answer.Held.ID, roadmap.DecideChange{Rationale: "agreed"}))(t)
	it := l.item(first.ID)
	if it.Public == nil || it.Public.Summary != "Coming next" || it.Published == nil || it.Published.Sequence != approved.Answer.AppliedSequence {
		t.Fatalf("published item %+v, published by %+v; want the summary, by the decision the approval applied", it.Public, it.Published)
	}
	if it.Rank != 1 || it.Horizon != roadmap.Next {
		t.Errorf("publishing moved the item to %s #%d", it.Horizon, it.Rank)
	}

	withdrawn := must(l.svc.Unpublish(l.ctx, as("pm"), first.ID, roadmap.Unpublish{Rationale: "slipped"}))(t)
	if withdrawn.Answer.Held != nil || withdrawn.Answer.Item.Public != nil || withdrawn.Answer.Item.Rank != 1 {
		t.Errorf("the withdrawal: %+v", withdrawn.Answer)
	}
	wantErr(t, errOf(l.svc.Unpublish(l.ctx, as("pm"), first.ID, roadmap.Unpublish{Rationale: "again"})), roadmap.ErrConflict)
}

// TestViewsAreLedgerEvents makes, changes and deletes a view; its slug is
// unique among views not deleted.
func TestViewsAreLedgerEvents(t *testing.T) {
	l := newLedger(t)
	spec := roadmap.DefineView{Name: "Sales", Slug: "sales", Audience: roadmap.AudienceInternal, Fields: []string{"title"}}
	v := must(l.svc.DefineView(l.ctx, as("pm"), spec))(t)
	if !v.Created || v.Answer.Slug != "sales" || v.Answer.Version != v.Sequence {
		t.Errorf("defined %+v", v)
	}
	wantErr(t, errOf(l.svc.DefineView(l.ctx, as("pm"), spec)), roadmap.ErrConflict)
	name := "Sales team"
	changed := must(l.svc.EditView(l.ctx, ifMatch("pm", v.Answer.Version), "sales", roadmap.EditView{Name: &name}))(t)
	if changed.Answer.Name != name || changed.Answer.ID != v.Answer.ID {
		t.Errorf("changed %+v", changed.Answer)
	}
	must(l.svc.DeleteView(l.ctx, as("pm"), "sales"))(t)
	wantErr(t, errOf(l.svc.EditView(l.ctx, as("pm"), "sales", roadmap.EditView{Name: &name})), roadmap.ErrNotFound)
	again := must(l.svc.DefineView(l.ctx, as("pm"), spec))(t)
	if again.Answer.ID == v.Answer.ID {
		t.Errorf("the slug freed by a deletion made the same view again")
	}
	var listed []projections.SavedView
	l.current.Read(func(st *projections.State) { listed = st.SavedViews() })
	if len(listed) != 1 || listed[0].ID != again.Answer.ID {
		t.Errorf("views listed: %+v", listed)
	}
}
