package roadmap_test

import (
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestDecideProposeItem(t *testing.T) {
	refs := newRefs()
	tests := []struct {
		name    string
		cmd     roadmap.ProposeItem
		want    *roadmap.ItemProposed
		wantErr wantError
	}{
		{
			name: "an initiative without product or objectives gets the default product and no objectives",
			cmd:  roadmap.ProposeItem{Title: "Checkout v2", Kind: roadmap.KindInitiative},
			want: &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "Checkout v2", Kind: roadmap.KindInitiative, Product: "default", ObjectiveIDs: []string{}}},
		},
		{
			name: "an idea under an initiative keeps its product and active objectives",
			cmd: roadmap.ProposeItem{
				Title: " Apple Pay ", Description: " wallet ", Kind: roadmap.KindIdea, ParentID: initiative,
				Product: "mobile", ObjectiveIDs: []string{objB, objA},
			},
			want: &roadmap.ItemProposed{
				ItemBrief: roadmap.ItemBrief{
					Title: "Apple Pay", Description: "wallet", Kind: roadmap.KindIdea, ParentID: initiative,
					Product: "mobile", ObjectiveIDs: []string{objB, objA},
				},
			},
		},
		{
			name: "an idea may stand without a parent",
			cmd:  roadmap.ProposeItem{Title: "Dark mode", Kind: roadmap.KindIdea},
			want: &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "Dark mode", Kind: roadmap.KindIdea, Product: "default", ObjectiveIDs: []string{}}},
		},
		{
			name:    "a blank title is refused",
			cmd:     roadmap.ProposeItem{Title: "  ", Kind: roadmap.KindIdea},
			wantErr: invalid("title"),
		},
		{
			name: "a missing kind makes an idea",
			cmd:  roadmap.ProposeItem{Title: "x"},
			want: &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "x", Kind: roadmap.KindIdea, Product: roadmap.DefaultProduct, ObjectiveIDs: []string{}}},
		},
		{
			name:    "a kind other than initiative or idea is refused",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: "epic"},
			wantErr: invalid("kind"),
		},
		{
			name:    "a malformed parent id is refused",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, ParentID: "checkout"},
			wantErr: invalid("parent_id"),
		},
		{
			name:    "an upper-case parent id is malformed",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, ParentID: "1A000000-0000-4000-8000-00000000001A"},
			wantErr: invalid("parent_id"),
		},
		{
			name:    "a malformed objective id is refused by its index",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, ObjectiveIDs: []string{objA, "grow"}},
			wantErr: invalid("objective_ids[1]"),
		},
		{
			name:    "an objective listed twice is refused",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, ObjectiveIDs: []string{objA, objB, objA}},
			wantErr: invalid("objective_ids[2]"),
		},
		{
			name:    "a product that is not a slug is refused",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, Product: "Mobile"},
			wantErr: invalid("product"),
		},
		{
			name: "every bad field is listed at once",
			cmd: roadmap.ProposeItem{
				Description: "\x07", Kind: "task", ParentID: "nope", Product: "_",
				ObjectiveIDs: []string{"a", objA, objA},
			},
			wantErr: invalid("title", "description", "kind", "parent_id", "product", "objective_ids[0]", "objective_ids[2]"),
		},
		{
			name:    "bad values are reported before unknown references",
			cmd:     roadmap.ProposeItem{Title: "", Kind: roadmap.KindIdea, ParentID: itemUnknown, ObjectiveIDs: []string{objUnknown}},
			wantErr: invalid("title"),
		},
		{
			name:    "an unknown parent is a conflict",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, ParentID: itemUnknown},
			wantErr: conflict(itemUnknown),
		},
		{
			name:    "a parent that is an idea is a conflict",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, ParentID: idea},
			wantErr: conflict("must be an initiative"),
		},
		{
			name:    "an unknown objective is a conflict",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, ObjectiveIDs: []string{objA, objUnknown}},
			wantErr: conflict(objUnknown + " does not exist"),
		},
		{
			name:    "a retired objective is a conflict",
			cmd:     roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, ObjectiveIDs: []string{objRetired}},
			wantErr: conflict("retired"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := roadmap.DecideProposeItem(tt.cmd, refs)
			checkDecision(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestDecideProposeItemDoesNotShareTheCommandsObjectives(t *testing.T) {
	ids := []string{objA}
	got, err := roadmap.DecideProposeItem(roadmap.ProposeItem{Title: "x", Kind: roadmap.KindIdea, ObjectiveIDs: ids}, newRefs())
	if err != nil {
		t.Fatal(err)
	}
	ids[0] = objB
	if got, want := got.ObjectiveIDs[0], objA; got != want {
		t.Errorf("event objective = %s after the command's list changed, want %s", got, want)
	}
}
