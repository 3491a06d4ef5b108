package roadmap_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestNewEvent(t *testing.T) {
	tests := []struct {
		name      string
		eventType string
		want      roadmap.Event
	}{
		{name: "objective.defined decodes into ObjectiveDefined", eventType: "objective.defined", want: &roadmap.ObjectiveDefined{}},
		{name: "objective.retired decodes into ObjectiveRetired", eventType: "objective.retired", want: &roadmap.ObjectiveRetired{}},
		{name: "item.proposed decodes into ItemProposed", eventType: "item.proposed", want: &roadmap.ItemProposed{}},
		{name: "item.prioritised decodes into ItemPrioritised", eventType: "item.prioritised", want: &roadmap.ItemPrioritised{}},
		{name: "item.reprioritised decodes into ItemReprioritised", eventType: "item.reprioritised", want: &roadmap.ItemReprioritised{}},
		{name: "item.removed decodes into ItemRemoved", eventType: "item.removed", want: &roadmap.ItemRemoved{}},
		{name: "review.cancelled decodes into ReviewCancelled", eventType: "review.cancelled", want: &roadmap.ReviewCancelled{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := roadmap.NewEvent(tt.eventType)
			if !ok {
				t.Fatalf("NewEvent(%q) unknown", tt.eventType)
			}
			if reflect.TypeOf(got) != reflect.TypeOf(tt.want) {
				t.Errorf("NewEvent(%q) = %T, want %T", tt.eventType, got, tt.want)
			}
			if got, want := got.EventType(), tt.eventType; got != want {
				t.Errorf("EventType() = %q, want %q", got, want)
			}
			if got, want := roadmap.SchemaVersions[tt.eventType], 1; got != want {
				t.Errorf("schema version = %d, want %d", got, want)
			}
		})
	}
	t.Run("an unknown type is refused", func(t *testing.T) {
		if got, ok := roadmap.NewEvent("item.archived"); ok || got != nil {
			t.Errorf("NewEvent = %v, %v, want nil, false", got, ok)
		}
	})
	t.Run("every versioned type can be decoded", func(t *testing.T) {
		for eventType := range roadmap.SchemaVersions {
			if _, ok := roadmap.NewEvent(eventType); !ok {
				t.Errorf("NewEvent(%q) unknown", eventType)
			}
		}
	})
}

func TestEventsRoundTripThroughJSON(t *testing.T) {
	placement := roadmap.Placement{
		Horizon: roadmap.Now, Rank: ptr(2), Score: computed(t, rice(1000, 2, 0.8, 4)),
		ObjectiveIDs: []string{objA}, Rationale: "r", Evidence: []string{"e"},
	}
	tests := []struct {
		name     string
		event    roadmap.Event
		wantKeys []string
	}{
		{
			name:     "objective.defined",
			event:    &roadmap.ObjectiveDefined{Title: "t", Description: "d", KPI: "k", Target: "x", Product: "p"},
			wantKeys: []string{"description", "kpi", "product", "target", "title"},
		},
		{name: "objective.retired", event: &roadmap.ObjectiveRetired{Rationale: "r"}, wantKeys: []string{"rationale"}},
		{
			name:     "item.proposed with a parent",
			event:    &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "t", Kind: roadmap.KindIdea, ParentID: initiative, Product: "p", ObjectiveIDs: []string{objA}}},
			wantKeys: []string{"description", "kind", "objective_ids", "parent_id", "product", "title"},
		},
		{
			name:     "item.proposed without a parent leaves parent_id out",
			event:    &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "t", Kind: roadmap.KindInitiative, Product: "p", ObjectiveIDs: []string{}}},
			wantKeys: []string{"description", "kind", "objective_ids", "product", "title"},
		},
		{
			name:     "item.prioritised carries the placement at top level",
			event:    &roadmap.ItemPrioritised{Placement: placement},
			wantKeys: []string{"evidence", "horizon", "objective_ids", "rank", "rationale", "score"},
		},
		{
			name:     "item.reprioritised with rank last keeps a null rank",
			event:    &roadmap.ItemReprioritised{Placement: roadmap.Placement{Horizon: roadmap.Later, ObjectiveIDs: []string{}, Rationale: "r", Evidence: []string{}}},
			wantKeys: []string{"evidence", "horizon", "objective_ids", "rank", "rationale", "score"},
		},
		{name: "item.removed", event: &roadmap.ItemRemoved{Rationale: "r", Evidence: []string{"e"}}, wantKeys: []string{"evidence", "rationale"}},
		{name: "review.cancelled", event: &roadmap.ReviewCancelled{Rationale: "r", Evidence: []string{}}, wantKeys: []string{"evidence", "rationale"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(tt.event)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(data, &fields); err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(fields))
			for k := range fields {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if got, want := keys, tt.wantKeys; !slices.Equal(got, want) {
				t.Errorf("keys = %v, want %v", got, want)
			}
			got, ok := roadmap.NewEvent(tt.event.EventType())
			if !ok {
				t.Fatalf("NewEvent(%q) unknown", tt.event.EventType())
			}
			if err := json.Unmarshal(data, got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.event) {
				t.Errorf("decoded %s into %+v, want %+v", data, got, tt.event)
			}
		})
	}
}
