package roadmap_test

import (
	"reflect"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestEvolveItem(t *testing.T) {
	proposed := &roadmap.ItemProposed{
		ItemBrief: roadmap.ItemBrief{
			Title: "Apple Pay", Description: "wallet", Kind: roadmap.KindIdea, ParentID: initiative,
			Product: "mobile", ObjectiveIDs: []string{objA},
		},
	}
	must := computed(t, moscow("must"))
	eight := computed(t, wsjf(8, 5, 3, 2))
	prioritised := &roadmap.ItemPrioritised{Placement: roadmap.Placement{
		Horizon: roadmap.Next, Rank: ptr(1), Score: must, ObjectiveIDs: []string{objA, objB}, Rationale: "r",
	}}
	reprioritised := &roadmap.ItemReprioritised{Placement: roadmap.Placement{
		Horizon: roadmap.Now, Score: eight, ObjectiveIDs: []string{objB}, Rationale: "r",
	}}
	removed := &roadmap.ItemRemoved{Rationale: "r"}
	again := &roadmap.ItemPrioritised{Placement: roadmap.Placement{Horizon: roadmap.Later, ObjectiveIDs: []string{}, Rationale: "r"}}

	want := func(status roadmap.ItemStatus, h roadmap.Horizon, s *roadmap.Score, objectives ...string) roadmap.Item {
		if objectives == nil {
			objectives = []string{}
		}
		return roadmap.Item{
			ID: itemID, Status: status, Horizon: h, Score: s,
			ItemBrief: roadmap.ItemBrief{
				Title: "Apple Pay", Description: "wallet", Kind: roadmap.KindIdea, ParentID: initiative,
				Product: "mobile", ObjectiveIDs: objectives,
			},
		}
	}
	testEvolve(t, roadmap.EvolveItem, itemID, []evolveCase[roadmap.Item]{
		{
			name:   "a proposed item has the values of its proposal and no horizon",
			events: []roadmap.Event{proposed},
			want:   want(roadmap.StatusProposed, "", nil, objA),
		},
		{
			name:   "a prioritised item is on the roadmap with the placement's horizon, score and objectives",
			events: []roadmap.Event{proposed, prioritised},
			want:   want(roadmap.StatusOnRoadmap, roadmap.Next, must, objA, objB),
		},
		{
			name:   "a reprioritised item takes the new horizon, score and objectives",
			events: []roadmap.Event{proposed, prioritised, reprioritised},
			want:   want(roadmap.StatusOnRoadmap, roadmap.Now, eight, objB),
		},
		{
			name:   "a removed item leaves its horizon",
			events: []roadmap.Event{proposed, prioritised, reprioritised, removed},
			want:   want(roadmap.StatusRemoved, "", eight, objB),
		},
		{
			name:   "a removed item prioritised again is back on the roadmap",
			events: []roadmap.Event{proposed, prioritised, removed, again},
			want:   want(roadmap.StatusOnRoadmap, roadmap.Later, nil),
		},
		{
			name:   "events of objectives are ignored",
			events: []roadmap.Event{proposed, &roadmap.ObjectiveRetired{Rationale: "r"}, &roadmap.ObjectiveDefined{Title: "other"}},
			want:   want(roadmap.StatusProposed, "", nil, objA),
		},
	})
}

func TestItemDecisionsEvolveToTheIntendedState(t *testing.T) {
	refs := newRefs() // itemID is #2 of 3 in its horizon
	onRoadmap := onRoadmapItem(t)
	tests := []struct {
		name   string
		item   roadmap.Item
		decide func(roadmap.Item) (roadmap.Event, error)
		want   func(*roadmap.Item) // edits the starting item into the intended one
	}{
		{
			name: "prioritising puts the item on the roadmap as asked",
			item: proposedItem(),
			decide: func(it roadmap.Item) (roadmap.Event, error) {
				return roadmap.DecidePrioritise(it, roadmap.Prioritise{
					Horizon: roadmap.Later, Score: ptr(moscow("should")), ObjectiveIDs: &[]string{objB}, Rationale: "r",
				}, refs)
			},
			want: func(it *roadmap.Item) {
				it.Status, it.Horizon, it.Score, it.ObjectiveIDs = roadmap.StatusOnRoadmap, roadmap.Later, computed(t, moscow("should")), []string{objB}
			},
		},
		{
			name: "prioritising without objectives keeps the proposal's",
			item: proposedItem(),
			decide: func(it roadmap.Item) (roadmap.Event, error) {
				return roadmap.DecidePrioritise(it, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r"}, refs)
			},
			want: func(it *roadmap.Item) { it.Status, it.Horizon = roadmap.StatusOnRoadmap, roadmap.Now },
		},
		{
			name: "a new horizon keeps the score and objectives",
			item: onRoadmap,
			decide: func(it roadmap.Item) (roadmap.Event, error) {
				return roadmap.DecideReprioritise(it, roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "r"}, refs)
			},
			want: func(it *roadmap.Item) { it.Horizon = roadmap.Now },
		},
		{
			name: "a new score keeps the horizon and objectives",
			item: onRoadmap,
			decide: func(it roadmap.Item) (roadmap.Event, error) {
				return roadmap.DecideReprioritise(it, roadmap.Reprioritise{Score: ptr(valueEffort(5, 5, 2, 5)), Rationale: "r"}, refs)
			},
			want: func(it *roadmap.Item) { it.Score = computed(t, valueEffort(5, 5, 2, 5)) },
		},
		{
			name: "new objectives keep the horizon and score",
			item: onRoadmap,
			decide: func(it roadmap.Item) (roadmap.Event, error) {
				return roadmap.DecideReprioritise(it, roadmap.Reprioritise{ObjectiveIDs: &[]string{objB}, Rationale: "r"}, refs)
			},
			want: func(it *roadmap.Item) { it.ObjectiveIDs = []string{objB} },
		},
		{
			name: "a new rank leaves the item as it is apart from its place",
			item: onRoadmap,
			decide: func(it roadmap.Item) (roadmap.Event, error) {
				return roadmap.DecideReprioritise(it, roadmap.Reprioritise{Rank: ptr(1), Rationale: "r"}, refs)
			},
			want: func(*roadmap.Item) {},
		},
		{
			name: "removing takes the item off its horizon",
			item: onRoadmap,
			decide: func(it roadmap.Item) (roadmap.Event, error) {
				return roadmap.DecideRemove(it, roadmap.Remove{Rationale: "r"})
			},
			want: func(it *roadmap.Item) { it.Status, it.Horizon = roadmap.StatusRemoved, "" },
		},
		{
			name: "prioritising a removed item again puts it back on the roadmap",
			item: removedItem(),
			decide: func(it roadmap.Item) (roadmap.Event, error) {
				return roadmap.DecidePrioritise(it, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "r"}, refs)
			},
			want: func(it *roadmap.Item) { it.Status, it.Horizon = roadmap.StatusOnRoadmap, roadmap.Next },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := tt.decide(tt.item)
			if err != nil {
				t.Fatalf("decide: %v", err)
			}
			got := roadmap.EvolveItem(tt.item, itemID, e)
			want := tt.item
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("item = %s, want %s", jsonString(got), jsonString(want))
			}
		})
	}
}

// TestItemLifecycle walks one item through every decision, checking that each
// state allows exactly the decisions the rules allow.
func TestItemLifecycle(t *testing.T) {
	refs := newRefs()
	step := func(it roadmap.Item, e roadmap.Event, err error) roadmap.Item {
		t.Helper()
		if err != nil {
			t.Fatalf("decide: %v", err)
		}
		return roadmap.EvolveItem(it, itemID, e)
	}

	proposed, err := roadmap.DecideProposeItem(roadmap.ProposeItem{Title: "Apple Pay", Kind: roadmap.KindIdea, ParentID: initiative, ObjectiveIDs: []string{objA}}, refs)
	it := step(roadmap.Item{}, proposed, err)
	_, err = roadmap.DecideReprioritise(it, roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "r"}, refs)
	conflict("proposed").check(t, err)
	_, err = roadmap.DecideRemove(it, roadmap.Remove{Rationale: "r"})
	conflict("proposed").check(t, err)

	prioritised, err := roadmap.DecidePrioritise(it, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "r"}, refs)
	it = step(it, prioritised, err)
	_, err = roadmap.DecidePrioritise(it, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r"}, refs)
	conflict("already on the roadmap").check(t, err)

	refs = refs.at(1, 1)
	reprioritised, err := roadmap.DecideReprioritise(it, roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "r"}, refs)
	it = step(it, reprioritised, err)
	_, err = roadmap.DecideReprioritise(it, roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "r"}, refs)
	conflict("changes nothing").check(t, err)

	removed, err := roadmap.DecideRemove(it, roadmap.Remove{Rationale: "r"})
	it = step(it, removed, err)
	_, err = roadmap.DecideRemove(it, roadmap.Remove{Rationale: "r"})
	conflict("removed").check(t, err)

	again, err := roadmap.DecidePrioritise(it, roadmap.Prioritise{Horizon: roadmap.Later, Rationale: "r"}, refs)
	it = step(it, again, err)
	if got, want := jsonString(it), jsonString(roadmap.Item{
		ID: itemID, Status: roadmap.StatusOnRoadmap, Horizon: roadmap.Later,
		ItemBrief: roadmap.ItemBrief{
			Title: "Apple Pay", Kind: roadmap.KindIdea, ParentID: initiative, Product: "default",
			ObjectiveIDs: []string{objA},
		},
	}); got != want {
		t.Errorf("item = %s, want %s", got, want)
	}
}

func TestItemString(t *testing.T) {
	it := roadmap.Item{ItemBrief: roadmap.ItemBrief{Kind: roadmap.KindIdea, Title: "Apple Pay"}, Status: roadmap.StatusProposed}
	if got, want := it.String(), `idea "Apple Pay" (proposed)`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
}
