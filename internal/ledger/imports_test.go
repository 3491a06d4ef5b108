package ledger_test

import (
	"errors"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/logcheck"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestImportChainsItsEventsOntoEachItem(t *testing.T) {
	l := newLedger(t)
	existing := l.propose("Templates")
	l.prioritise(existing, roadmap.Later)
	rows := []roadmap.ImportRow{
		{Line: 2, ItemID: existing, Title: ptr("Project templates"), Horizon: roadmap.Next},
		{Line: 3, Title: ptr("Guided setup"), ExternalID: "G-1", Horizon: roadmap.Next, Rank: ptr(1)},
		// The parent comes later in the file: the row waits for it.
		{Line: 4, Title: ptr("Checklist"), ExternalID: "G-2", ParentExternalID: "G-0"},
		{Line: 5, Title: ptr("Onboarding"), ExternalID: "G-0", Kind: ptr(roadmap.KindInitiative)},
	}
	before := l.last()
	out := must(l.svc.Import(l.ctx, as("pm"), ledger.ImportFile{Source: roadmap.SourceJira, Rows: rows}))(t)
	if out.Created != 3 || out.Updated != 1 || out.Unchanged != 0 || out.Appended != 6 || out.Sequence != before+6 {
		t.Fatalf("outcome %+v, want 3 created, 1 updated, 6 events up to %d", out, before+6)
	}
	if _, err := logcheck.Check(l.ctx, l.log); err != nil {
		t.Fatalf("the log after the import: %v", err)
	}
	it := l.item(existing)
	if it.Title != "Project templates" || it.Horizon != roadmap.Next || it.Version != before+2 {
		t.Errorf("the existing item is %+v", it)
	}
	var checklist, onboarding string
	for _, r := range l.records(before + 1) {
		ev, err := r.Event()
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := ev.(*roadmap.ItemProposed); ok {
			switch p.Title {
			case "Checklist":
				checklist = r.Envelope.AggregateID
				if p.ParentID == "" {
					t.Error("the checklist was proposed without its parent")
				}
			case "Onboarding":
				onboarding = r.Envelope.AggregateID
			}
		}
	}
	if l.item(checklist).ParentID != onboarding {
		t.Errorf("the checklist's parent is %q, want the onboarding initiative %q", l.item(checklist).ParentID, onboarding)
	}
}

func TestImportHoldsMajorChangesOnce(t *testing.T) {
	l := newLedger(t)
	l.svc.SetApprovals(roadmap.ApprovalsMajor)
	file := ledger.ImportFile{Source: roadmap.SourceCSV, Rows: []roadmap.ImportRow{
		{Line: 2, Title: ptr("Urgent fix"), ExternalID: "U-1", Horizon: roadmap.Now},
	}}
	out := must(l.svc.Import(l.ctx, as("pm"), file))(t)
	if out.Created != 1 || out.Appended != 2 {
		t.Fatalf("outcome %+v, want a proposal and a change held for approval", out)
	}
	recs := l.records(out.Sequence - 1)
	id := recs[0].Envelope.AggregateID
	if recs[1].Envelope.Type != roadmap.TypeChangeProposed || l.item(id).Status != roadmap.StatusProposed {
		t.Fatalf("the import recorded %s and left the item %s", recs[1].Envelope.Type, l.item(id).Status)
	}

	again := must(l.svc.Import(l.ctx, as("pm"), file))(t)
	if again.Unchanged != 1 || again.Appended != 0 {
		t.Errorf("importing again: %+v, want unchanged: the change is already held", again)
	}
	l.wantLast(out.Sequence)

	// The change names the item's real version, so it can be approved.
	change := recs[1].Envelope.AggregateID
	if _, err := l.svc.ApproveChange(l.ctx, as("cpo"), change, roadmap.DecideChange{Rationale: "agreed"}); err != nil {
		t.Fatalf("approve the imported change: %v", err)
	}
	if it := l.item(id); it.Horizon != roadmap.Now {
		t.Errorf("after approval the item is %s %s, want in now", it.Status, it.Horizon)
	}
}

func TestImportRecordsNothingWhenARowIsBad(t *testing.T) {
	l := newLedger(t)
	before := l.last()
	_, err := l.svc.Import(l.ctx, as("pm"), ledger.ImportFile{Source: roadmap.SourceCSV, Rows: []roadmap.ImportRow{
		{Line: 2, Title: ptr("Fine")},
		{Line: 3, Title: ptr("")},
		{Line: 4, Title: ptr("Orphan"), ExternalID: "C-2", ParentExternalID: "C-3"},
		{Line: 5, Title: ptr("Loop"), ExternalID: "C-3", ParentExternalID: "C-2"},
	}})
	var ie *roadmap.ImportError
	if !errors.As(err, &ie) || !errors.Is(err, roadmap.ErrInvalid) || len(ie.Rows) != 3 {
		t.Fatalf("err %v, want an ImportError on lines 3, 4 and 5", err)
	}
	for i, line := range []int{3, 4, 5} {
		if ie.Rows[i].Line != line {
			t.Errorf("error %d is on line %d, want %d", i, ie.Rows[i].Line, line)
		}
	}
	l.wantLast(before)
}
