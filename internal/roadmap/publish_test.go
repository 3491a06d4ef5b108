package roadmap_test

import (
	"errors"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func onRoadmap(h roadmap.Horizon) roadmap.Item {
	return roadmap.Item{ID: itemID, ItemBrief: roadmap.ItemBrief{Title: "T", Kind: roadmap.KindIdea, Product: "default"}, Status: roadmap.StatusOnRoadmap, Horizon: h}
}

func published(summary string) roadmap.Item {
	it := onRoadmap(roadmap.Next)
	it.Public = &roadmap.Publication{Summary: summary}
	return it
}

func TestDecidePublish(t *testing.T) {
	proposed := roadmap.Item{ID: itemID, Status: roadmap.StatusProposed}
	checkDecisions(t, roadmap.DecidePublish, []decisionCase[roadmap.Item, roadmap.Publish, roadmap.ItemPublished]{
		{name: "an item on the roadmap is published, its summary and rationale trimmed", on: onRoadmap(roadmap.Next),
			cmd:  roadmap.Publish{Summary: " Guided setup ", Rationale: " announced ", Evidence: []string{"https://example.com"}},
			want: &roadmap.ItemPublished{Summary: "Guided setup", Rationale: "announced", Evidence: []string{"https://example.com"}}},
		{name: "a published item gets a new summary", on: published("Old"),
			cmd: roadmap.Publish{Summary: "New", Rationale: "r"}, want: &roadmap.ItemPublished{Summary: "New", Rationale: "r", Evidence: []string{}}},
		{name: "the same summary again changes nothing", on: published("Same"), cmd: roadmap.Publish{Summary: "Same", Rationale: "r"}, wantErr: conflict("already published")},
		{name: "an item off the roadmap cannot be published", on: proposed, cmd: roadmap.Publish{Summary: "S", Rationale: "r"}, wantErr: conflict("only an item on the roadmap")},
		{name: "a summary and a rationale are required", on: onRoadmap(roadmap.Now), cmd: roadmap.Publish{Summary: " ", Rationale: ""}, wantErr: invalid("summary", "rationale")},
	})
}

func TestDecideUnpublish(t *testing.T) {
	checkDecisions(t, roadmap.DecideUnpublish, []decisionCase[roadmap.Item, roadmap.Unpublish, roadmap.ItemUnpublished]{
		{name: "a published item is withdrawn", on: published("S"), cmd: roadmap.Unpublish{Rationale: "slipped"},
			want: &roadmap.ItemUnpublished{Rationale: "slipped", Evidence: []string{}}},
		{name: "an item not published cannot be withdrawn", on: onRoadmap(roadmap.Now), cmd: roadmap.Unpublish{Rationale: "r"}, wantErr: conflict("not published")},
		{name: "a rationale is required", on: published("S"), cmd: roadmap.Unpublish{}, wantErr: invalid("rationale")},
	})
}

// TestAPublicStatementIsAMajorChange checks the one approval rule on the
// public roadmap: saying something new in public takes two people,
// withdrawing it does not, and a now item's rule still holds.
func TestAPublicStatementIsAMajorChange(t *testing.T) {
	for _, tc := range []struct {
		name string
		it   roadmap.Item
		e    roadmap.ItemDecision
		want string
	}{
		{"a publication", onRoadmap(roadmap.Later), &roadmap.ItemPublished{Summary: "S"}, "a publication on the public roadmap"},
		{"a new summary", published("Old"), &roadmap.ItemPublished{Summary: "New"}, "a publication on the public roadmap"},
		{"an unpublication", published("S"), &roadmap.ItemUnpublished{}, ""},
		{"a removal of a published later item", published("S"), &roadmap.ItemRemoved{}, ""},
		{"a removal of a now item", onRoadmap(roadmap.Now), &roadmap.ItemRemoved{}, "the removal of a now item"},
	} {
		if got := roadmap.MajorChange(tc.it, tc.e); got != tc.want {
			t.Errorf("%s: MajorChange = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestLeavingTheRoadmapUnpublishes folds publications, withdrawals and a
// removal into an item.
func TestLeavingTheRoadmapUnpublishes(t *testing.T) {
	placed := &roadmap.ItemPrioritised{Placement: roadmap.Placement{Horizon: roadmap.Next, ObjectiveIDs: []string{}}}
	proposedEvent := &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "T", Kind: roadmap.KindIdea, Product: "default", ObjectiveIDs: []string{}}}
	base := roadmap.EvolveItem(roadmap.EvolveItem(roadmap.Item{}, itemID, proposedEvent), itemID, placed)
	pub := base
	pub.Public = &roadmap.Publication{Summary: "S"}
	removed := base
	removed.Status, removed.Horizon = roadmap.StatusRemoved, ""
	testEvolve(t, roadmap.EvolveItem, itemID, []evolveCase[roadmap.Item]{
		{"published", []roadmap.Event{proposedEvent, placed, &roadmap.ItemPublished{Summary: "S"}}, pub},
		{"withdrawn", []roadmap.Event{proposedEvent, placed, &roadmap.ItemPublished{Summary: "S"}, &roadmap.ItemUnpublished{}}, base},
		{"removed while published", []roadmap.Event{proposedEvent, placed, &roadmap.ItemPublished{Summary: "S"}, &roadmap.ItemRemoved{}}, removed},
	})
}

// viewRefs is what decisions on views see: one objective and one taken
// slug.
type viewRefs struct{ fakeRefs }

func (viewRefs) ViewBySlug(slug string) (string, bool) { return "taken-id", slug == "taken" }

func TestDecideDefineView(t *testing.T) {
	refs := viewRefs{newRefs()}
	decide := func(_ struct{}, cmd roadmap.DefineView) (*roadmap.ViewDefined, error) {
		return roadmap.DecideDefineView(cmd, refs)
	}
	spec := func(audience roadmap.Audience, fields ...string) roadmap.DefineView {
		return roadmap.DefineView{Name: " Customers ", Slug: "customers", Audience: audience, ObjectiveIDs: []string{objA}, Fields: fields}
	}
	checkDecisions(t, decide, []decisionCase[struct{}, roadmap.DefineView, roadmap.ViewDefined]{
		{name: "a public view of public fields", cmd: spec(roadmap.AudiencePublic, "summary", "horizon", "objectives"),
			want: &roadmap.ViewDefined{ViewSpec: roadmap.ViewSpec{Name: "Customers", Slug: "customers", Audience: roadmap.AudiencePublic,
				ObjectiveIDs: []string{objA}, Kinds: []roadmap.Kind{}, Horizons: []roadmap.Horizon{}, Fields: []string{"summary", "horizon", "objectives"}}}},
		{name: "a public view may not show a rationale, a score or a title", cmd: spec(roadmap.AudiencePublic, "summary", "rationale", "score", "title"),
			wantErr: invalid("fields[1]", "fields[2]", "fields[3]")},
		{name: "an internal view may", cmd: spec(roadmap.AudienceInternal, "title", "rationale", "score"),
			want: &roadmap.ViewDefined{ViewSpec: roadmap.ViewSpec{Name: "Customers", Slug: "customers", Audience: roadmap.AudienceInternal,
				ObjectiveIDs: []string{objA}, Kinds: []roadmap.Kind{}, Horizons: []roadmap.Horizon{}, Fields: []string{"title", "rationale", "score"}}}},
		{name: "bad values are named", cmd: roadmap.DefineView{Slug: "No", Audience: "everyone", Kinds: []roadmap.Kind{"epic"}, Horizons: []roadmap.Horizon{"soon"}, Fields: []string{"title", "title"}},
			wantErr: invalid("name", "slug", "audience", "kinds[0]", "horizons[0]", "fields[1]")},
		{name: "a taken slug", cmd: roadmap.DefineView{Name: "N", Slug: "taken", Audience: roadmap.AudienceInternal, Fields: []string{"title"}}, wantErr: conflict("taken")},
		{name: "an unknown objective", cmd: roadmap.DefineView{Name: "N", Slug: "n", Audience: roadmap.AudienceInternal, ObjectiveIDs: []string{objUnknown}, Fields: []string{"title"}}, wantErr: conflict("does not exist")},
	})
}

func TestViewsSelectItemsOnTheRoadmap(t *testing.T) {
	v := roadmap.ViewSpec{Product: "web", Kinds: []roadmap.Kind{roadmap.KindIdea}, Horizons: []roadmap.Horizon{roadmap.Now}, ObjectiveIDs: []string{objA}}
	it := roadmap.Item{ItemBrief: roadmap.ItemBrief{Kind: roadmap.KindIdea, Product: "web", ObjectiveIDs: []string{objB, objA}}, Status: roadmap.StatusOnRoadmap, Horizon: roadmap.Now}
	if !v.Selects(it) {
		t.Errorf("the view does not select an item matching every filter")
	}
	for name, change := range map[string]func(*roadmap.Item){
		"another product":  func(it *roadmap.Item) { it.Product = "app" },
		"another kind":     func(it *roadmap.Item) { it.Kind = roadmap.KindInitiative },
		"another horizon":  func(it *roadmap.Item) { it.Horizon = roadmap.Next },
		"other objectives": func(it *roadmap.Item) { it.ObjectiveIDs = []string{objB} },
		"off the roadmap":  func(it *roadmap.Item) { it.Status = roadmap.StatusRemoved },
		"only delivered":   func(it *roadmap.Item) { it.Status = roadmap.StatusDelivered },
	} {
		other := it
		change(&other)
		if v.Selects(other) {
			t.Errorf("the view selects an item of %s", name)
		}
	}
}

func TestDecideEditView(t *testing.T) {
	refs := viewRefs{newRefs()}
	v := roadmap.View{ID: "v", ViewSpec: roadmap.ViewSpec{Name: "N", Slug: "n", Audience: roadmap.AudienceInternal,
		ObjectiveIDs: []string{}, Kinds: []roadmap.Kind{}, Horizons: []roadmap.Horizon{}, Fields: []string{"title", "rationale"}}}
	if _, err := roadmap.DecideEditView(v, roadmap.EditView{Name: ptr("N")}, refs); !wantInvalid(err) {
		t.Errorf("an edit that changes nothing: %v, want ErrInvalid", err)
	}
	if _, err := roadmap.DecideEditView(v, roadmap.EditView{Audience: ptr(roadmap.AudiencePublic)}, refs); !wantInvalid(err) {
		t.Errorf("making public a view that shows rationales: %v, want ErrInvalid", err)
	}
	e, err := roadmap.DecideEditView(v, roadmap.EditView{Audience: ptr(roadmap.AudiencePublic), Fields: &[]string{"summary"}}, refs)
	if err != nil || e.Audience != roadmap.AudiencePublic || e.Slug != "n" {
		t.Errorf("made public: %v, %v", e, err)
	}
	deleted := roadmap.EvolveView(v, "v", &roadmap.ViewDeleted{})
	if _, err := roadmap.DecideDeleteView(deleted); err == nil {
		t.Errorf("a deleted view deleted again")
	}
}

func wantInvalid(err error) bool { return errors.Is(err, roadmap.ErrInvalid) }
