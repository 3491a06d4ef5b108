package roadmap_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// parentRefs is refs that also say which items are parents, as the
// projections' state does.
type parentRefs struct {
	fakeRefs
	parents map[string]bool
}

func (r parentRefs) HasChildren(id string) bool { return r.parents[id] }

var _ roadmap.Children = parentRefs{}

// editFixture is the item an edit is decided on: an idea under the
// initiative, serving objA, with an effort of 3, a dependency and a risk.
func editFixture() roadmap.Item {
	return roadmap.Item{
		ID: itemID,
		ItemBrief: roadmap.ItemBrief{
			Title: "Faster import", Description: "CSV in one step", Kind: roadmap.KindIdea,
			ParentID: initiative, Product: "web", ObjectiveIDs: []string{objA},
		},
		Status: roadmap.StatusProposed,
		Plan:   &roadmap.Plan{Effort: ptr(3), DependsOn: []string{idea}, Risks: []string{"vendor"}},
	}
}

// edited is the event of an edit of editFixture that changes the given
// fields of its details, with a rationale.
func edited(rationale string, changed []string, change func(*roadmap.ItemDetails)) *roadmap.ItemEdited {
	before := editFixture().Details()
	after := before
	after.ObjectiveIDs = append([]string{}, before.ObjectiveIDs...)
	change(&after)
	return &roadmap.ItemEdited{Changed: changed, Before: before, After: after, Rationale: rationale}
}

// unchanged is the error of an edit that changes nothing: invalid, with no
// field to blame.
var unchanged = wantError{is: roadmap.ErrInvalid, mention: "the edit changes nothing"}

func TestDecideEditItem(t *testing.T) {
	refs := parentRefs{fakeRefs: newRefs(), parents: map[string]bool{initiative: true}}
	// An initiative under the item: making it the item's parent would loop.
	child := "3a000000-0000-4000-8000-00000000003a"
	refs.items[child] = roadmap.Item{ID: child, ItemBrief: roadmap.ItemBrief{Title: "Sub", Kind: roadmap.KindInitiative, ParentID: itemID}}
	asInitiative := editFixture()
	asInitiative.Kind = roadmap.KindInitiative
	delivered := editFixture()
	delivered.Status = roadmap.StatusDelivered
	onNow := editFixture()
	onNow.Status, onNow.Horizon = roadmap.StatusOnRoadmap, roadmap.Now

	type row = decisionCase[roadmap.Item, roadmap.EditItem, roadmap.ItemEdited]
	tests := []row{
		{name: "title", on: editFixture(), cmd: roadmap.EditItem{Title: ptr("  Import in one step ")},
			want: edited("", []string{"title"}, func(d *roadmap.ItemDetails) { d.Title = "Import in one step" })},
		{name: "description, with an optional rationale", on: editFixture(), cmd: roadmap.EditItem{Description: ptr(""), Rationale: " said twice ", Evidence: []string{" doc "}},
			want: func() *roadmap.ItemEdited {
				e := edited("said twice", []string{"description"}, func(d *roadmap.ItemDetails) { d.Description = "" })
				e.Evidence = []string{"doc"}
				return e
			}()},
		{name: "kind", on: editFixture(), cmd: roadmap.EditItem{Kind: ptr(roadmap.KindInitiative)},
			want: edited("", []string{"kind"}, func(d *roadmap.ItemDetails) { d.Kind = roadmap.KindInitiative })},
		{name: "risks", on: editFixture(), cmd: roadmap.EditItem{Risks: &[]string{"vendor", " law "}},
			want: edited("", []string{"risks"}, func(d *roadmap.ItemDetails) { d.Risks = []string{"vendor", "law"} })},
		{name: "dependencies cleared", on: editFixture(), cmd: roadmap.EditItem{DependsOn: &[]string{}},
			want: edited("", []string{"depends_on"}, func(d *roadmap.ItemDetails) { d.DependsOn = []string{} })},
		{name: "effort with a rationale", on: editFixture(), cmd: roadmap.EditItem{Effort: ptr(5), Rationale: "spike done"},
			want: edited("spike done", []string{"effort"}, func(d *roadmap.ItemDetails) { d.Effort = ptr(5) })},
		{name: "product with a rationale", on: editFixture(), cmd: roadmap.EditItem{Product: ptr("mobile"), Rationale: "the app team owns it"},
			want: edited("the app team owns it", []string{"product"}, func(d *roadmap.ItemDetails) { d.Product = "mobile" })},
		{name: "objectives with a rationale", on: editFixture(), cmd: roadmap.EditItem{ObjectiveIDs: &[]string{objA, objB}, Rationale: "churn too"},
			want: edited("churn too", []string{"objective_ids"}, func(d *roadmap.ItemDetails) { d.ObjectiveIDs = []string{objA, objB} })},
		{name: "a retired objective kept while another is added", on: func() roadmap.Item {
			it := editFixture()
			it.ObjectiveIDs = []string{objRetired}
			return it
		}(), cmd: roadmap.EditItem{ObjectiveIDs: &[]string{objRetired, objB}, Rationale: "churn too"},
			want: func() *roadmap.ItemEdited {
				e := edited("churn too", []string{"objective_ids"}, func(d *roadmap.ItemDetails) { d.ObjectiveIDs = []string{objRetired, objB} })
				e.Before.ObjectiveIDs = []string{objRetired}
				return e
			}()},
		{name: "parent cleared with a rationale", on: editFixture(), cmd: roadmap.EditItem{ParentID: ptr(""), Rationale: "stands alone"},
			want: edited("stands alone", []string{"parent_id"}, func(d *roadmap.ItemDetails) { d.ParentID = "" })},
		{name: "several fields, named in field order", on: editFixture(), cmd: roadmap.EditItem{Effort: ptr(8), Title: ptr("Bulk import"), Rationale: "bigger"},
			want: edited("bigger", []string{"title", "effort"}, func(d *roadmap.ItemDetails) { d.Title, d.Effort = "Bulk import", ptr(8) })},
		{name: "a removed item can be edited", on: func() roadmap.Item {
			it := editFixture()
			it.Status = roadmap.StatusRemoved
			return it
		}(), cmd: roadmap.EditItem{Title: ptr("Later maybe")},
			want: edited("", []string{"title"}, func(d *roadmap.ItemDetails) { d.Title = "Later maybe" })},

		{name: "nothing given changes nothing", on: editFixture(), cmd: roadmap.EditItem{}, wantErr: unchanged},
		{name: "the same values change nothing", on: editFixture(),
			cmd:     roadmap.EditItem{Title: ptr(" Faster import"), ObjectiveIDs: &[]string{objA}, Effort: ptr(3), Product: ptr("web"), Rationale: "r"},
			wantErr: unchanged},
		{name: "objectives in another order change nothing", on: func() roadmap.Item {
			it := editFixture()
			it.ObjectiveIDs = []string{objA, objB}
			return it
		}(), cmd: roadmap.EditItem{ObjectiveIDs: &[]string{objB, objA}, Rationale: "r"}, wantErr: unchanged},
		{name: "objectives need a rationale", on: editFixture(), cmd: roadmap.EditItem{ObjectiveIDs: &[]string{objB}}, wantErr: invalid("rationale")},
		{name: "parent needs a rationale", on: editFixture(), cmd: roadmap.EditItem{ParentID: ptr("")}, wantErr: invalid("rationale")},
		{name: "effort needs a rationale", on: editFixture(), cmd: roadmap.EditItem{Effort: ptr(1), Rationale: "  "}, wantErr: invalid("rationale")},
		{name: "product needs a rationale", on: editFixture(), cmd: roadmap.EditItem{Product: ptr("mobile"), Title: ptr("x")}, wantErr: invalid("rationale")},
		{name: "bad values, every one named", on: editFixture(),
			cmd: roadmap.EditItem{Title: ptr(" "), Kind: ptr(roadmap.Kind("epic")), ParentID: ptr("nope"), Product: ptr(""),
				ObjectiveIDs: &[]string{"x"}, Effort: ptr(-1), DependsOn: &[]string{"y"}, Risks: &[]string{""}, Evidence: []string{""}},
			wantErr: invalid("title", "kind", "parent_id", "product", "objective_ids[0]", "effort", "depends_on[0]", "risks[0]", "evidence[0]")},
		{name: "a bad product slug", on: editFixture(), cmd: roadmap.EditItem{Product: ptr("Web App"), Rationale: "r"}, wantErr: invalid("product")},
		{name: "a delivered item is final", on: delivered, cmd: roadmap.EditItem{Title: ptr("x")}, wantErr: conflict("delivered")},
		{name: "an unknown parent", on: editFixture(), cmd: roadmap.EditItem{ParentID: ptr(itemUnknown), Rationale: "r"}, wantErr: conflict("does not exist")},
		{name: "a parent that is an idea", on: editFixture(), cmd: roadmap.EditItem{ParentID: ptr(idea), Rationale: "r"}, wantErr: conflict("must be an initiative")},
		{name: "its own parent", on: asInitiative, cmd: roadmap.EditItem{ParentID: ptr(itemID), Rationale: "r"}, wantErr: conflict("its own parent")},
		{name: "a parent under the item", on: asInitiative, cmd: roadmap.EditItem{ParentID: ptr(child), Rationale: "r"}, wantErr: conflict("loop")},
		{name: "a parent stays an initiative", on: refs.items[initiative], cmd: roadmap.EditItem{Kind: ptr(roadmap.KindIdea)}, wantErr: conflict("stays an initiative")},
		{name: "an unknown dependency", on: editFixture(), cmd: roadmap.EditItem{DependsOn: &[]string{itemUnknown}}, wantErr: conflict("dependency")},
		{name: "a dependency on itself", on: editFixture(), cmd: roadmap.EditItem{DependsOn: &[]string{itemID}}, wantErr: conflict("dependency")},
		{name: "an unknown objective", on: editFixture(), cmd: roadmap.EditItem{ObjectiveIDs: &[]string{objA, objUnknown}, Rationale: "r"}, wantErr: conflict("does not exist")},
		{name: "a retired objective added", on: editFixture(), cmd: roadmap.EditItem{ObjectiveIDs: &[]string{objRetired}, Rationale: "r"}, wantErr: conflict("retired")},
		{name: "a now item moved to another product is an edit like any other", on: onNow, cmd: roadmap.EditItem{Product: ptr("mobile"), Rationale: "r"},
			want: edited("r", []string{"product"}, func(d *roadmap.ItemDetails) { d.Product = "mobile" })},
	}
	checkDecisions(t, func(it roadmap.Item, cmd roadmap.EditItem) (*roadmap.ItemEdited, error) {
		return roadmap.DecideEditItem(it, cmd, refs)
	}, tests)
}

func TestAnEditThatChangesNothingSaysSoWithoutAField(t *testing.T) {
	_, err := roadmap.DecideEditItem(editFixture(), roadmap.EditItem{Title: ptr("Faster import")}, newRefs())
	var ve *roadmap.ValidationError
	if !errors.Is(err, roadmap.ErrInvalid) || errors.As(err, &ve) {
		t.Fatalf("err = %v, want ErrInvalid with no field to blame", err)
	}
	if want := "the edit changes nothing"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to say %q", err, want)
	}
}

func TestAParentWithoutChildrenCanBecomeAnIdea(t *testing.T) {
	// References that cannot tell children (they do not implement
	// Children) let the kind change; the projections' state can.
	it := newRefs().items[initiative]
	if _, err := roadmap.DecideEditItem(it, roadmap.EditItem{Kind: ptr(roadmap.KindIdea)}, newRefs()); err != nil {
		t.Errorf("an initiative without children becoming an idea: %v", err)
	}
	refs := parentRefs{fakeRefs: newRefs(), parents: map[string]bool{}}
	if _, err := roadmap.DecideEditItem(it, roadmap.EditItem{Kind: ptr(roadmap.KindIdea)}, refs); err != nil {
		t.Errorf("an initiative that is no one's parent becoming an idea: %v", err)
	}
}

func TestDecideEditObjective(t *testing.T) {
	active := roadmap.Objective{ID: objA, Title: "Grow activation", Description: "d", KPI: "weekly actives", Target: "+10%", Product: "web", Status: roadmap.StatusActive}
	retired := active
	retired.Status = roadmap.StatusRetired
	before := roadmap.ObjectiveDetails{Title: "Grow activation", Description: "d", KPI: "weekly actives", Target: "+10%"}
	with := func(rationale string, changed []string, change func(*roadmap.ObjectiveDetails)) *roadmap.ObjectiveEdited {
		after := before
		change(&after)
		return &roadmap.ObjectiveEdited{Changed: changed, Before: before, After: after, Rationale: rationale}
	}
	type row = decisionCase[roadmap.Objective, roadmap.EditObjective, roadmap.ObjectiveEdited]
	checkDecisions(t, roadmap.DecideEditObjective, []row{
		{name: "title", on: active, cmd: roadmap.EditObjective{Title: ptr(" Grow activation fast ")},
			want: with("", []string{"title"}, func(d *roadmap.ObjectiveDetails) { d.Title = "Grow activation fast" })},
		{name: "description with evidence", on: active, cmd: roadmap.EditObjective{Description: ptr(""), Evidence: []string{"minutes"}},
			want: func() *roadmap.ObjectiveEdited {
				e := with("", []string{"description"}, func(d *roadmap.ObjectiveDetails) { d.Description = "" })
				e.Evidence = []string{"minutes"}
				return e
			}()},
		{name: "kpi and target with a rationale", on: active, cmd: roadmap.EditObjective{KPI: ptr("daily actives"), Target: ptr("+5%"), Rationale: "board ask"},
			want: with("board ask", []string{"kpi", "target"}, func(d *roadmap.ObjectiveDetails) { d.KPI, d.Target = "daily actives", "+5%" })},
		{name: "nothing changes", on: active, cmd: roadmap.EditObjective{Title: ptr("Grow activation"), KPI: ptr("weekly actives")}, wantErr: unchanged},
		{name: "kpi needs a rationale", on: active, cmd: roadmap.EditObjective{KPI: ptr("daily actives")}, wantErr: invalid("rationale")},
		{name: "target needs a rationale", on: active, cmd: roadmap.EditObjective{Target: ptr("+20%"), Title: ptr("x")}, wantErr: invalid("rationale")},
		{name: "blank required texts", on: active, cmd: roadmap.EditObjective{Title: ptr(""), KPI: ptr(" "), Target: ptr("")}, wantErr: invalid("title", "kpi", "target")},
		{name: "a retired objective is final", on: retired, cmd: roadmap.EditObjective{Title: ptr("x")}, wantErr: conflict("retired")},
	})
}

func TestEditsEvolve(t *testing.T) {
	e := edited("r", []string{"title", "effort", "depends_on"}, func(d *roadmap.ItemDetails) {
		d.Title, d.Effort, d.DependsOn = "Bulk import", ptr(8), []string{}
	})
	got := roadmap.EvolveItem(editFixture(), itemID, e)
	want := editFixture()
	want.Title, want.Plan = "Bulk import", &roadmap.Plan{Effort: ptr(8), Risks: []string{"vendor"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("edited item = %s, want %s", jsonString(got), jsonString(want))
	}

	o := roadmap.Objective{ID: objA, Title: "a", KPI: "k", Target: "t", Product: "web", Status: roadmap.StatusActive}
	oe := &roadmap.ObjectiveEdited{Changed: []string{"kpi"}, After: roadmap.ObjectiveDetails{Title: "a", KPI: "k2", Target: "t"}}
	if got := roadmap.EvolveObjective(o, objA, oe); got.KPI != "k2" || got.Product != "web" || got.Status != roadmap.StatusActive {
		t.Errorf("edited objective = %+v", got)
	}
}

func TestMovingANowItemToAnotherProductIsAMajorChange(t *testing.T) {
	onNow := editFixture()
	onNow.Status, onNow.Horizon = roadmap.StatusOnRoadmap, roadmap.Now
	onNext := onNow
	onNext.Horizon = roadmap.Next
	move := edited("r", []string{"product"}, func(d *roadmap.ItemDetails) { d.Product = "mobile" })
	rename := edited("", []string{"title"}, func(d *roadmap.ItemDetails) { d.Title = "x" })
	for _, c := range []struct {
		name string
		it   roadmap.Item
		e    roadmap.ItemDecision
		want bool
	}{
		{"a now item to another product", onNow, move, true},
		{"a next item to another product", onNext, move, false},
		{"a proposed item to another product", editFixture(), move, false},
		{"a now item renamed", onNow, rename, false},
	} {
		if got := roadmap.MajorChange(c.it, c.e) != ""; got != c.want {
			t.Errorf("%s: major %v, want %v", c.name, got, c.want)
		}
	}

	proposed := roadmap.ProposeChange(onNow, 7, move, roadmap.MajorChange(onNow, move))
	if proposed.Decision != roadmap.TypeItemEdited || proposed.Edit == nil || proposed.Placement != nil || proposed.Removal != nil {
		t.Fatalf("proposed change %s", jsonString(proposed))
	}
	c := roadmap.EvolveChange(roadmap.Change{}, "change", proposed, time.Unix(0, 0), "pm")
	got, ok := c.Decision().(*roadmap.ItemEdited)
	if !ok || got.After.Product != "mobile" || got.Rationale != "r" || got.Approval == nil || got.Approval.ChangeID != "change" || got.Approval.ProposedBy != "pm" {
		t.Errorf("the approved decision %s", jsonString(c.Decision()))
	}
	if move.Approval != nil || proposed.Edit.Approval != nil {
		t.Errorf("the approval leaked into the proposal")
	}
}
