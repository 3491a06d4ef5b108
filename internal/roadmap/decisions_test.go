package roadmap_test

import (
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Items of the fixture, as the decisions see them.
func proposedItem() roadmap.Item {
	return roadmap.Item{
		ID: itemID, Status: roadmap.StatusProposed,
		ItemBrief: roadmap.ItemBrief{Title: "Checkout v2", Kind: roadmap.KindInitiative, Product: "default", ObjectiveIDs: []string{objA}},
	}
}

// onRoadmapItem is in next, second of three (see newRefs), with a RICE score
// of 400 and objective A.
func onRoadmapItem(t testing.TB) roadmap.Item {
	t.Helper()
	it := proposedItem()
	it.Status, it.Horizon, it.Score = roadmap.StatusOnRoadmap, roadmap.Next, computed(t, rice(1000, 2, 0.8, 4))
	return it
}

func removedItem() roadmap.Item {
	it := proposedItem()
	it.Status, it.ObjectiveIDs = roadmap.StatusRemoved, []string{objB}
	return it
}

func TestDecidePrioritise(t *testing.T) {
	tooMuchEvidence := make([]string, 51)
	for i := range tooMuchEvidence {
		tooMuchEvidence[i] = "note"
	}
	// placed is the placement of the proposed item into now with rationale
	// "r", as edit changes it.
	placed := func(edit func(*roadmap.Placement)) roadmap.Placement {
		pl := roadmap.Placement{Horizon: roadmap.Now, ObjectiveIDs: []string{objA}, Rationale: "r", Evidence: []string{}}
		edit(&pl)
		return pl
	}
	tests := []struct {
		name    string
		item    roadmap.Item
		cmd     roadmap.Prioritise
		want    roadmap.Placement
		wantErr wantError
	}{
		{
			name: "a proposed item goes last in its horizon, unscored, with the objectives of its proposal",
			item: proposedItem(),
			cmd:  roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "  Customers ask for it\n"},
			want: roadmap.Placement{Horizon: roadmap.Now, ObjectiveIDs: []string{objA}, Rationale: "Customers ask for it", Evidence: []string{}},
		},
		{
			name: "a rank places the item at that position",
			item: proposedItem(),
			cmd:  roadmap.Prioritise{Horizon: roadmap.Later, Rank: ptr(1), Rationale: "r"},
			want: placed(func(p *roadmap.Placement) { p.Horizon, p.Rank = roadmap.Later, ptr(1) }),
		},
		{
			name: "a rank past the end of the horizon is recorded as asked",
			item: proposedItem(),
			cmd:  roadmap.Prioritise{Horizon: roadmap.Next, Rank: ptr(99), Rationale: "r"},
			want: placed(func(p *roadmap.Placement) { p.Horizon, p.Rank = roadmap.Next, ptr(99) }),
		},
		{
			name: "a score is recorded with its value and version",
			item: proposedItem(),
			cmd:  roadmap.Prioritise{Horizon: roadmap.Now, Score: ptr(wsjf(8, 5, 3, 2)), Rationale: "r"},
			want: placed(func(p *roadmap.Placement) {
				p.Score = &roadmap.Score{
					Framework: "wsjf", Version: 1, BusinessValue: ptr(8.0), TimeCriticality: ptr(5.0),
					RiskReduction: ptr(3.0), JobSize: ptr(2.0), Value: 8,
				}
			}),
		},
		{
			name: "objectives given replace those of the proposal",
			item: proposedItem(),
			cmd:  roadmap.Prioritise{Horizon: roadmap.Now, ObjectiveIDs: &[]string{objB}, Rationale: "r"},
			want: placed(func(p *roadmap.Placement) { p.ObjectiveIDs = []string{objB} }),
		},
		{
			name: "an empty objective list unlinks every objective",
			item: proposedItem(),
			cmd:  roadmap.Prioritise{Horizon: roadmap.Now, ObjectiveIDs: &[]string{}, Rationale: "r"},
			want: placed(func(p *roadmap.Placement) { p.ObjectiveIDs = []string{} }),
		},
		{
			name: "an item proposed without objectives is placed with an empty list",
			item: func() roadmap.Item { it := proposedItem(); it.ObjectiveIDs = nil; return it }(),
			cmd:  roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r"},
			want: placed(func(p *roadmap.Placement) { p.ObjectiveIDs = []string{} }),
		},
		{
			name: "evidence is kept in order and trimmed",
			item: proposedItem(),
			cmd:  roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r", Evidence: []string{" interview #12 ", "https://example.com/nps"}},
			want: placed(func(p *roadmap.Placement) { p.Evidence = []string{"interview #12", "https://example.com/nps"} }),
		},
		{
			name: "a removed item can be prioritised again",
			item: removedItem(),
			cmd:  roadmap.Prioritise{Horizon: roadmap.Later, Rationale: "Back in scope"},
			want: placed(func(p *roadmap.Placement) {
				p.Horizon, p.ObjectiveIDs, p.Rationale = roadmap.Later, []string{objB}, "Back in scope"
			}),
		},
		{
			name:    "a missing horizon is refused",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Rationale: "r"},
			wantErr: invalid("horizon"),
		},
		{
			name:    "an unknown horizon is refused",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: "soon", Rationale: "r"},
			wantErr: invalid("horizon"),
		},
		{
			name:    "a horizon in capitals is refused",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: "Now", Rationale: "r"},
			wantErr: invalid("horizon"),
		},
		{
			name:    "rank zero is refused",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rank: ptr(0), Rationale: "r"},
			wantErr: invalid("rank"),
		},
		{
			name:    "a negative rank is refused",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rank: ptr(-3), Rationale: "r"},
			wantErr: invalid("rank"),
		},
		{
			name:    "a missing rationale is refused",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now},
			wantErr: invalid("rationale"),
		},
		{
			name:    "a whitespace-only rationale is blank",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "\t \n"},
			wantErr: invalid("rationale"),
		},
		{
			name:    "a blank evidence entry is refused by its index",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r", Evidence: []string{"ok", "  "}},
			wantErr: invalid("evidence[1]"),
		},
		{
			name:    "more than fifty evidence entries are refused",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r", Evidence: tooMuchEvidence},
			wantErr: invalid("evidence"),
		},
		{
			name:    "an invalid score is refused naming its input",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r", Score: ptr(rice(100, 4, 0.5, 1))},
			wantErr: invalid("score.impact"),
		},
		{
			name:    "a malformed or repeated objective id is refused",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r", ObjectiveIDs: &[]string{"x", objB, objB}},
			wantErr: invalid("objective_ids[0]", "objective_ids[2]"),
		},
		{
			name: "every bad field is listed at once",
			item: proposedItem(),
			cmd: roadmap.Prioritise{
				Horizon: "soon", Rank: ptr(0), Score: &roadmap.Score{Framework: "ice"},
				ObjectiveIDs: &[]string{"x"}, Rationale: " ", Evidence: []string{""},
			},
			wantErr: invalid("horizon", "rank", "score.framework", "objective_ids[0]", "rationale", "evidence[0]"),
		},
		{
			name:    "prioritising an item already on the roadmap is a conflict",
			item:    onRoadmapItem(t),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r"},
			wantErr: conflict("already on the roadmap"),
		},
		{
			name:    "a bad value is reported before the state conflict",
			item:    onRoadmapItem(t),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now},
			wantErr: invalid("rationale"),
		},
		{
			name:    "linking an unknown objective is a conflict",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r", ObjectiveIDs: &[]string{objUnknown}},
			wantErr: conflict(objUnknown),
		},
		{
			name:    "linking a retired objective is a conflict",
			item:    proposedItem(),
			cmd:     roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r", ObjectiveIDs: &[]string{objA, objRetired}},
			wantErr: conflict(objRetired),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := roadmap.DecidePrioritise(tt.item, tt.cmd, newRefs())
			checkDecision(t, got, err, &roadmap.ItemPrioritised{Placement: tt.want}, tt.wantErr)
		})
	}
}

func TestDecideReprioritise(t *testing.T) {
	current := onRoadmapItem(t) // next, #2 of 3, RICE 400, objective A
	must := computed(t, moscow("must"))
	// kept is the placement that leaves the item as it is, with rationale
	// "r", as edit changes it.
	kept := func(edit func(*roadmap.Placement)) roadmap.Placement {
		pl := roadmap.Placement{Horizon: roadmap.Next, Score: current.Score, ObjectiveIDs: []string{objA}, Rationale: "r", Evidence: []string{}}
		edit(&pl)
		return pl
	}
	tests := []struct {
		name    string
		item    roadmap.Item // onRoadmapItem when left out
		refs    fakeRefs     // newRefs when left out
		cmd     roadmap.Reprioritise
		want    roadmap.Placement
		wantErr wantError
	}{
		{
			name: "a new horizon without a rank puts the item last and keeps score and objectives",
			cmd:  roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: " Deal depends on it "},
			want: roadmap.Placement{Horizon: roadmap.Now, Score: current.Score, ObjectiveIDs: []string{objA}, Rationale: "Deal depends on it", Evidence: []string{}},
		},
		{
			name: "a new horizon with a rank places the item there",
			cmd:  roadmap.Reprioritise{Horizon: roadmap.Later, Rank: ptr(1), Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Horizon, p.Rank = roadmap.Later, ptr(1) }),
		},
		{
			name: "a new horizon with the current rank number is still a move",
			cmd:  roadmap.Reprioritise{Horizon: roadmap.Now, Rank: ptr(2), Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Horizon, p.Rank = roadmap.Now, ptr(2) }),
		},
		{
			name: "a new rank alone moves the item within its horizon",
			cmd:  roadmap.Reprioritise{Rank: ptr(1), Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Rank = ptr(1) }),
		},
		{
			name: "naming the current horizon with a new rank moves the item within it",
			cmd:  roadmap.Reprioritise{Horizon: roadmap.Next, Rank: ptr(3), Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Rank = ptr(3) }),
		},
		{
			name: "a rank past the end moves the item last and is recorded as asked",
			cmd:  roadmap.Reprioritise{Rank: ptr(10), Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Rank = ptr(10) }),
		},
		{
			name: "a new score alone keeps the item at its current rank",
			cmd:  roadmap.Reprioritise{Score: ptr(moscow("must")), Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Rank, p.Score = ptr(2), must }),
		},
		{
			name: "a score with one input changed is a change",
			cmd:  roadmap.Reprioritise{Score: ptr(rice(1000, 2, 0.8, 5)), Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Rank, p.Score = ptr(2), computed(t, rice(1000, 2, 0.8, 5)) }),
		},
		{
			name: "a first score on an unscored item keeps it at its rank",
			item: func() roadmap.Item { it := onRoadmapItem(t); it.Score = nil; return it }(),
			cmd:  roadmap.Reprioritise{Score: ptr(moscow("must")), Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Rank, p.Score = ptr(2), must }),
		},
		{
			name: "the current horizon named with a new score keeps the current rank",
			cmd:  roadmap.Reprioritise{Horizon: roadmap.Next, Score: ptr(moscow("must")), Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Rank, p.Score = ptr(2), must }),
		},
		{
			name: "new objectives alone keep the item at its current rank",
			cmd:  roadmap.Reprioritise{ObjectiveIDs: &[]string{objA, objB}, Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Rank, p.ObjectiveIDs = ptr(2), []string{objA, objB} }),
		},
		{
			name: "an empty objective list unlinks every objective",
			cmd:  roadmap.Reprioritise{ObjectiveIDs: &[]string{}, Rationale: "r"},
			want: kept(func(p *roadmap.Placement) { p.Rank, p.ObjectiveIDs = ptr(2), []string{} }),
		},
		{
			name: "evidence is recorded trimmed",
			cmd:  roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "r", Evidence: []string{" churn report "}},
			want: kept(func(p *roadmap.Placement) { p.Horizon, p.Evidence = roadmap.Now, []string{"churn report"} }),
		},
		{
			name:    "reprioritising a proposed item is a conflict",
			item:    proposedItem(),
			cmd:     roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "r"},
			wantErr: conflict("prioritise it first"),
		},
		{
			name:    "reprioritising a removed item is a conflict",
			item:    removedItem(),
			cmd:     roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "r"},
			wantErr: conflict("removed"),
		},
		{
			name:    "a reprioritisation that names nothing changes nothing",
			cmd:     roadmap.Reprioritise{Rationale: "r"},
			wantErr: conflict("changes nothing"),
		},
		{
			name:    "the current horizon changes nothing",
			cmd:     roadmap.Reprioritise{Horizon: roadmap.Next, Rationale: "r"},
			wantErr: conflict("changes nothing"),
		},
		{
			name:    "the current rank changes nothing",
			cmd:     roadmap.Reprioritise{Horizon: roadmap.Next, Rank: ptr(2), Rationale: "r"},
			wantErr: conflict("changes nothing"),
		},
		{
			name:    "a rank past the end changes nothing for the last item",
			refs:    newRefs().at(3, 3),
			cmd:     roadmap.Reprioritise{Rank: ptr(7), Rationale: "r"},
			wantErr: conflict("changes nothing"),
		},
		{
			name:    "the same score inputs change nothing",
			cmd:     roadmap.Reprioritise{Score: ptr(rice(1000, 2, 0.8, 4)), Rationale: "r"},
			wantErr: conflict("changes nothing"),
		},
		{
			name: "the same score inputs with a stale value change nothing",
			cmd: roadmap.Reprioritise{Score: func() *roadmap.Score {
				s := rice(1000, 2, 0.8, 4)
				s.Version, s.Value = 1, 12
				return &s
			}(), Rationale: "r"},
			wantErr: conflict("changes nothing"),
		},
		{
			name:    "the same objectives change nothing",
			cmd:     roadmap.Reprioritise{ObjectiveIDs: &[]string{objA}, Rationale: "r"},
			wantErr: conflict("changes nothing"),
		},
		{
			name: "the same objectives in another order change nothing",
			item: func() roadmap.Item {
				it := onRoadmapItem(t)
				it.ObjectiveIDs = []string{objA, objB}
				return it
			}(),
			cmd:     roadmap.Reprioritise{ObjectiveIDs: &[]string{objB, objA}, Rationale: "r"},
			wantErr: conflict("changes nothing"),
		},
		{
			name:    "the same horizon, rank, score and objectives together change nothing",
			cmd:     roadmap.Reprioritise{Horizon: roadmap.Next, Rank: ptr(2), Score: ptr(rice(1000, 2, 0.8, 4)), ObjectiveIDs: &[]string{objA}, Rationale: "r"},
			wantErr: conflict("changes nothing"),
		},
		{
			name:    "linking an unknown objective is a conflict",
			cmd:     roadmap.Reprioritise{ObjectiveIDs: &[]string{objUnknown}, Rationale: "r"},
			wantErr: conflict(objUnknown),
		},
		{
			name:    "linking a retired objective is a conflict",
			cmd:     roadmap.Reprioritise{ObjectiveIDs: &[]string{objRetired}, Rationale: "r"},
			wantErr: conflict("retired"),
		},
		{
			name:    "an unknown horizon is refused",
			cmd:     roadmap.Reprioritise{Horizon: "someday", Rationale: "r"},
			wantErr: invalid("horizon"),
		},
		{
			name:    "a reprioritisation without a rationale is refused",
			cmd:     roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "  "},
			wantErr: invalid("rationale"),
		},
		{
			name: "every bad field is listed at once",
			cmd: roadmap.Reprioritise{
				Horizon: "NOW", Rank: ptr(-1), Score: ptr(wsjf(0, 5, 3, 21)),
				ObjectiveIDs: &[]string{objA, objA}, Evidence: []string{"\n"},
			},
			wantErr: invalid("horizon", "rank", "score.business_value", "score.job_size", "objective_ids[1]", "rationale", "evidence[0]"),
		},
		{
			name:    "a bad value on a proposed item is reported before the state conflict",
			item:    proposedItem(),
			cmd:     roadmap.Reprioritise{Horizon: roadmap.Now},
			wantErr: invalid("rationale"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item, refs := tt.item, tt.refs
			if item.ID == "" {
				item = onRoadmapItem(t)
			}
			if refs.positions == nil {
				refs = newRefs()
			}
			got, err := roadmap.DecideReprioritise(item, tt.cmd, refs)
			checkDecision(t, got, err, &roadmap.ItemReprioritised{Placement: tt.want}, tt.wantErr)
		})
	}
}

func TestDecideRemove(t *testing.T) {
	checkDecisions(t, roadmap.DecideRemove, []decisionCase[roadmap.Item, roadmap.Remove, roadmap.ItemRemoved]{
		{
			name: "an item on the roadmap is removed with its rationale and evidence trimmed",
			on:   onRoadmapItem(t),
			cmd:  roadmap.Remove{Rationale: " Lost the deal ", Evidence: []string{" CRM note 81 "}},
			want: &roadmap.ItemRemoved{Rationale: "Lost the deal", Evidence: []string{"CRM note 81"}},
		},
		{
			name: "evidence is optional",
			on:   onRoadmapItem(t),
			cmd:  roadmap.Remove{Rationale: "Lost the deal"},
			want: &roadmap.ItemRemoved{Rationale: "Lost the deal", Evidence: []string{}},
		},
		{
			name:    "a removal without a rationale is refused",
			on:      onRoadmapItem(t),
			cmd:     roadmap.Remove{},
			wantErr: invalid("rationale"),
		},
		{
			name:    "a whitespace-only rationale is blank",
			on:      onRoadmapItem(t),
			cmd:     roadmap.Remove{Rationale: "\n\n"},
			wantErr: invalid("rationale"),
		},
		{
			name:    "a blank rationale and a blank evidence entry are listed together",
			on:      onRoadmapItem(t),
			cmd:     roadmap.Remove{Rationale: " ", Evidence: []string{"ok", "\t"}},
			wantErr: invalid("rationale", "evidence[1]"),
		},
		{
			name:    "removing a removed item is a conflict",
			on:      removedItem(),
			cmd:     roadmap.Remove{Rationale: "r"},
			wantErr: conflict("removed, not on the roadmap"),
		},
		{
			name:    "removing a proposed item is a conflict",
			on:      proposedItem(),
			cmd:     roadmap.Remove{Rationale: "r"},
			wantErr: conflict("proposed, not on the roadmap"),
		},
	})
}
