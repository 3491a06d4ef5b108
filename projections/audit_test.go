package projections

import (
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestObjectiveLinksNameTheDecisionStillInForce(t *testing.T) {
	history := []Record{
		{Sequence: 2, Type: roadmap.TypeItemProposed, ObjectiveIDs: []string{"o1", "o2"}},
		{Sequence: 5, Type: roadmap.TypeItemPrioritised, Rationale: "keeps both", ObjectiveIDs: []string{"o2", "o1"}},
		{Sequence: 7, Type: roadmap.TypeItemReprioritised, Rationale: "drops o1, adds o3", ObjectiveIDs: []string{"o2", "o3"}},
		{Sequence: 8, Type: roadmap.TypeItemRemoved, Rationale: "off"},
		{Sequence: 9, Type: roadmap.TypeItemPrioritised, Rationale: "brings o1 back", ObjectiveIDs: []string{"o2", "o3", "o1"}},
		{Sequence: 11, Type: roadmap.TypeItemReprioritised, Rationale: "rank only", ObjectiveIDs: []string{"o1", "o2", "o3"}},
	}
	got := map[string]uint64{}
	for id, r := range ObjectiveLinks(history) {
		got[id] = r.Sequence
	}
	want := map[string]uint64{"o2": 2, "o3": 7, "o1": 9}
	if len(got) != len(want) {
		t.Fatalf("links %v, want %v", got, want)
	}
	for id, seq := range want {
		if got[id] != seq {
			t.Errorf("objective %s linked by sequence %d, want %d", id, got[id], seq)
		}
	}

	// Dropping every objective leaves no link.
	history = append(history, Record{Sequence: 12, Type: roadmap.TypeItemReprioritised, ObjectiveIDs: []string{}})
	if links := ObjectiveLinks(history); len(links) != 0 {
		t.Errorf("links after dropping every objective: %v", links)
	}
}

func TestParentLinkOf(t *testing.T) {
	history := []Record{
		{Sequence: 3, Type: roadmap.TypeItemProposed},
		{Sequence: 4, Type: roadmap.TypeItemPrioritised},
	}
	if r, ok := ParentLinkOf(history); !ok || r.Sequence != 3 {
		t.Errorf("proposal %v %v, want sequence 3", r, ok)
	}
	if _, ok := ParentLinkOf(history[1:]); ok {
		t.Error("found a proposal in a history without one")
	}
}

func TestWhyLinkOfAProposalHasNoRationale(t *testing.T) {
	proposal := NewWhyLink(Record{Sequence: 2, Type: roadmap.TypeItemProposed, Actor: "pm"})
	if proposal.Rationale != nil || proposal.Evidence != nil {
		t.Errorf("proposal link %+v, want no rationale and no evidence", proposal)
	}
	decision := NewWhyLink(Record{Sequence: 5, Type: roadmap.TypeItemReprioritised, Rationale: "why", Evidence: nil})
	if decision.Rationale == nil || *decision.Rationale != "why" || decision.Evidence == nil {
		t.Errorf("reprioritisation link %+v, want its rationale and an evidence list", decision)
	}
}
