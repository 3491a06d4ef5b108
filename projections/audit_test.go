package projections

import (
	"encoding/json"
	"slices"
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

func TestProposalOf(t *testing.T) {
	history := []Record{
		{Sequence: 3, Type: roadmap.TypeItemProposed},
		{Sequence: 4, Type: roadmap.TypeItemPrioritised},
	}
	if r, ok := ProposalOf(history); !ok || r.Sequence != 3 {
		t.Errorf("proposal %v %v, want sequence 3", r, ok)
	}
	if _, ok := ProposalOf(history[1:]); ok {
		t.Error("found a proposal in a history without one")
	}
}

func TestAuditEventHasEveryKeyWithNullsWhereNothingApplies(t *testing.T) {
	place := &Place{}
	score := &roadmap.Score{Framework: roadmap.FrameworkMoSCoW, Version: 1, Category: "must", Value: 4}
	cases := []struct {
		record Record
		// which keys hold a value rather than null
		product, title, rationale, evidence, places, score, objectives bool
	}{
		{Record{Type: roadmap.TypeItemProposed, AggregateType: "item", Product: "web", Title: "t", From: place, To: place, ObjectiveIDs: nil},
			true, true, false, false, true, false, true},
		{Record{Type: roadmap.TypeItemPrioritised, AggregateType: "item", Product: "web", Title: "t", Rationale: "r", From: place, To: place, Score: score, ObjectiveIDs: []string{"o"}},
			true, true, true, true, true, true, true},
		{Record{Type: roadmap.TypeItemRemoved, AggregateType: "item", Product: "web", Title: "t", Rationale: "r", Evidence: []string{"e"}, From: place, To: place},
			true, true, true, true, true, false, false},
		{Record{Type: roadmap.TypeObjectiveDefined, AggregateType: "objective", Product: "web", Title: "o"},
			true, true, false, false, false, false, false},
		{Record{Type: roadmap.TypeObjectiveRetired, AggregateType: "objective", Product: "web", Title: "o", Rationale: "met"},
			true, true, true, false, false, false, false},
		{Record{Type: roadmap.TypeReviewClosed, AggregateType: "review", Title: "Review", Rationale: ""},
			false, true, true, false, false, false, false},
		{Record{Type: "item.renamed", AggregateType: "item"},
			false, false, false, false, false, false, false},
	}
	keys := []string{"seq", "event_id", "type", "at", "actor", "aggregate_type", "aggregate_id", "product", "title",
		"rationale", "evidence", "from", "to", "score", "objective_ids", "prev_hash", "hash"}
	for _, tc := range cases {
		b, err := json.Marshal(NewAuditEvent(tc.record))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		got := slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		})
		if want := slices.Sorted(slices.Values(keys)); !slices.Equal(got, want) {
			t.Errorf("%s: keys %v, want %v", tc.record.Type, got, want)
		}
		for key, set := range map[string]bool{
			"product": tc.product, "title": tc.title, "rationale": tc.rationale, "evidence": tc.evidence,
			"from": tc.places, "to": tc.places, "score": tc.score, "objective_ids": tc.objectives,
		} {
			if (m[key] != nil) != set {
				t.Errorf("%s: %s is %v; want a value: %v", tc.record.Type, key, m[key], set)
			}
		}
		if tc.evidence {
			if _, ok := m["evidence"].([]any); !ok {
				t.Errorf("%s: evidence %v, want a list", tc.record.Type, m["evidence"])
			}
		}
		if tc.objectives {
			if _, ok := m["objective_ids"].([]any); !ok {
				t.Errorf("%s: objective_ids %v, want a list", tc.record.Type, m["objective_ids"])
			}
		}
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
