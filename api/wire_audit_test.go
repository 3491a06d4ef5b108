package api

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

func TestAuditEventHasEveryKeyWithNullsWhereNothingApplies(t *testing.T) {
	place := &projections.Place{}
	score := &roadmap.Score{Framework: roadmap.FrameworkMoSCoW, Version: 1, Category: "must", Value: 4}
	cases := []struct {
		record projections.Record
		// which keys hold a value rather than null
		product, title, rationale, evidence, places, score, objectives bool
	}{
		{projections.Record{Type: roadmap.TypeItemProposed, AggregateType: "item", Product: "web", Title: "t", From: place, To: place, ObjectiveIDs: nil},
			true, true, false, false, true, false, true},
		{projections.Record{Type: roadmap.TypeItemPrioritised, AggregateType: "item", Product: "web", Title: "t", Rationale: "r", From: place, To: place, Score: score, ObjectiveIDs: []string{"o"}},
			true, true, true, true, true, true, true},
		{projections.Record{Type: roadmap.TypeItemRemoved, AggregateType: "item", Product: "web", Title: "t", Rationale: "r", Evidence: []string{"e"}, From: place, To: place},
			true, true, true, true, true, false, false},
		{projections.Record{Type: roadmap.TypeObjectiveDefined, AggregateType: "objective", Product: "web", Title: "o"},
			true, true, false, false, false, false, false},
		{projections.Record{Type: roadmap.TypeObjectiveRetired, AggregateType: "objective", Product: "web", Title: "o", Rationale: "met"},
			true, true, true, false, false, false, false},
		{projections.Record{Type: roadmap.TypeReviewClosed, AggregateType: "review", Title: "Review", Rationale: ""},
			false, true, true, false, false, false, false},
		{projections.Record{Type: "item.renamed", AggregateType: "item"},
			false, false, false, false, false, false, false},
	}
	keys := []string{"seq", "event_id", "type", "at", "actor", "aggregate_type", "aggregate_id", "product", "title",
		"rationale", "evidence", "from", "to", "score", "objective_ids", "changes", "provenance", "prev_hash", "hash"}
	for _, tc := range cases {
		b, err := json.Marshal(auditEventWire(projections.NewAuditEvent(tc.record)))
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

func TestAPlaceOffTheRoadmapIsNulls(t *testing.T) {
	for _, tc := range []struct {
		place projections.Place
		want  string
	}{
		{projections.Place{}, `{"horizon":null,"rank":null}`},
		{projections.Place{Horizon: roadmap.Next}, `{"horizon":null,"rank":null}`},
		{projections.Place{Horizon: roadmap.Now, Rank: 2}, `{"horizon":"now","rank":2}`},
	} {
		row := diffRowWire(projections.DiffRow{From: tc.place, To: tc.place})
		got, err := json.Marshal([]any{row.From, &row.To, (*placeJSON)(nil)})
		if want := "[" + tc.want + "," + tc.want + ",null]"; err != nil || string(got) != want {
			t.Errorf("%+v: %s %v, want %s", tc.place, got, err, want)
		}
	}
}
