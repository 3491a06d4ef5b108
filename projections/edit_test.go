package projections

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// edit records an edit of item id by change, decided against the state c
// holds, as the ledger would.
func (b *logBuilder) edit(t *testing.T, c *Current, id string, cmd roadmap.EditItem) uint64 {
	t.Helper()
	var e *roadmap.ItemEdited
	var err error
	c.Read(func(s *State) {
		v, _ := s.ItemView(id)
		e, err = roadmap.DecideEditItem(v.Item, cmd, s)
	})
	if err != nil {
		t.Fatalf("edit of %s: %v", id, err)
	}
	return b.add("item", id, e)
}

// catchUp applies the events of b that c has not applied yet.
func catchUp(t *testing.T, c *Current, b *logBuilder) {
	t.Helper()
	for _, rec := range b.recs[c.Sequence():] {
		ev, err := Decode(rec)
		if err != nil {
			t.Fatal(err)
		}
		c.Apply(ev)
	}
}

// columnOf lists the items of a product's horizon as "id#rank".
func columnOf(s *State, product string, hz roadmap.Horizon) string {
	var out []string
	for _, e := range s.entries(product) {
		if s.items[e.ID].Horizon == hz {
			out = append(out, fmt.Sprintf("%s#%d", e.ID, e.Rank))
		}
	}
	return fmt.Sprint(out)
}

func TestAnEditKeepsTheItemsPlaceUnlessItMovesItToAnotherProduct(t *testing.T) {
	b := newLogBuilder()
	c := NewCurrent(sliceSource(nil), 0)
	for _, id := range []string{"a", "b", "c"} {
		b.propose(id)
		b.place(id, true, roadmap.Next, 0)
	}
	b.add("item", "m", &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "title of m", Kind: roadmap.KindIdea, Product: "mobile"}})
	b.place("m", true, roadmap.Next, 0)
	catchUp(t, c, b)

	// a's title changes: it stays first of web's next column, and its last
	// decision is still the placement.
	var placedAt uint64
	c.Read(func(s *State) { placedAt = s.items["a"].LastDecision.Sequence })
	b.edit(t, c, "a", roadmap.EditItem{Title: ptr("renamed")})
	catchUp(t, c, b)
	c.Read(func(s *State) {
		if got := columnOf(s, "web", roadmap.Next); got != "[a#1 b#2 c#3]" {
			t.Errorf("web next after a rename: %s", got)
		}
		v, _ := s.ItemView("a")
		if v.Title != "renamed" || v.LastDecision.Sequence != placedAt || v.Placed.Sequence != placedAt {
			t.Errorf("renamed a: title %q, last decision %d, placed %d; want the placement %d kept", v.Title, v.LastDecision.Sequence, v.Placed.Sequence, placedAt)
		}
	})

	// b moves to mobile: it leaves web's next column and goes last in
	// mobile's.
	seq := b.edit(t, c, "b", roadmap.EditItem{Product: ptr("mobile"), Rationale: "the app team owns it"})
	catchUp(t, c, b)
	c.Read(func(s *State) {
		if got := columnOf(s, "web", roadmap.Next); got != "[a#1 c#2]" {
			t.Errorf("web next after b moved: %s", got)
		}
		if got := columnOf(s, "mobile", roadmap.Next); got != "[m#1 b#2]" {
			t.Errorf("mobile next after b moved: %s", got)
		}
	})
	if st, err := c.hist.step(int64(seq) - 1); err != nil {
		t.Fatal(err)
	} else if m := st.m; m.from.unpack() != (Place{roadmap.Next, 2}) || m.to.unpack() != (Place{roadmap.Next, 2}) {
		t.Errorf("the move of b's edit: %v to %v, want next #2 (of web) to next #2 (of mobile)", m.from.unpack(), m.to.unpack())
	}
	if r, ok := c.RecentItem(seq); !ok || r.Rank != 2 || r.Product != "mobile" {
		t.Errorf("the answer to b's edit: %+v %v", r, ok)
	}
}

func TestStateKnowsWhichItemsAreParents(t *testing.T) {
	b := newLogBuilder()
	c := NewCurrent(sliceSource(nil), 0)
	for _, id := range []string{"p", "q"} {
		b.add("item", id, &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: id, Kind: roadmap.KindInitiative, Product: "web"}})
	}
	b.add("item", "x", &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "x", Kind: roadmap.KindIdea, Product: "web", ParentID: "p"}})
	catchUp(t, c, b)
	parents := func() (p, q bool) {
		c.Read(func(s *State) { p, q = s.HasChildren("p"), s.HasChildren("q") })
		return p, q
	}
	if p, q := parents(); !p || q {
		t.Fatalf("after x is proposed under p: p %v, q %v", p, q)
	}
	keyframe := c.state.Clone()
	// An item id that is not a UUID would not pass the domain's check, so
	// the edit is written as the ledger would record it.
	b.add("item", "x", &roadmap.ItemEdited{Changed: []string{"parent_id"},
		Before: roadmap.ItemDetails{Title: "x", Kind: roadmap.KindIdea, ParentID: "p", Product: "web"},
		After:  roadmap.ItemDetails{Title: "x", Kind: roadmap.KindIdea, ParentID: "q", Product: "web"}, Rationale: "r"})
	catchUp(t, c, b)
	if p, q := parents(); p || !q {
		t.Errorf("after x moved under q: p %v, q %v", p, q)
	}
	if !keyframe.HasChildren("p") || keyframe.HasChildren("q") {
		t.Errorf("a clone made before the edit changed with it")
	}
	// The state is what the domain asks: q is a parent, so it stays an
	// initiative; p is no longer one.
	c.Read(func(s *State) {
		q, _ := s.Item("q")
		if _, err := roadmap.DecideEditItem(q, roadmap.EditItem{Kind: ptr(roadmap.KindIdea)}, s); err == nil {
			t.Errorf("q, a parent, became an idea")
		}
		p, _ := s.Item("p")
		if _, err := roadmap.DecideEditItem(p, roadmap.EditItem{Kind: ptr(roadmap.KindIdea)}, s); err != nil {
			t.Errorf("p, no longer a parent, cannot become an idea: %v", err)
		}
	})
}

func TestTimeTravelShowsTheValuesBeforeAnEdit(t *testing.T) {
	b := newLogBuilder()
	b.propose("a")
	b.place("a", true, roadmap.Now, 0)
	b.add("objective", "o", &roadmap.ObjectiveDefined{Title: "Grow", KPI: "actives", Target: "+10%", Product: "web"})
	// A keyframe every two events, so travelling back starts from one
	// made before the edits and replays from the log.
	c := NewCurrent(nil, 2)
	catchUp(t, c, b)
	before := c.Sequence()
	b.edit(t, c, "a", roadmap.EditItem{Title: ptr("renamed"), Product: ptr("mobile"), Effort: ptr(5), Rationale: "r"})
	b.add("objective", "o", &roadmap.ObjectiveEdited{Changed: []string{"kpi"},
		Before: roadmap.ObjectiveDetails{Title: "Grow", KPI: "actives", Target: "+10%"},
		After:  roadmap.ObjectiveDetails{Title: "Grow", KPI: "weekly actives", Target: "+10%"}, Rationale: "sharper"})
	b.propose("z")
	b.propose("y")
	c.source = sliceSource(b.recs)
	catchUp(t, c, b)

	err := c.At(context.Background(), before, func(s *State) error {
		a, _ := s.ItemView("a")
		o, _ := s.ObjectiveView("o")
		if a.Title != "title of a" || a.Product != "web" || a.Effort() != nil || a.Rank != 1 || o.KPI != "actives" {
			t.Errorf("at %d: item %q in %s (effort %v, rank %d), objective KPI %q; want the values before the edits", before, a.Title, a.Product, a.Effort(), a.Rank, o.KPI)
		}
		if got := columnOf(s, "web", roadmap.Now); got != "[a#1]" {
			t.Errorf("web now at %d: %s", before, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Read(func(s *State) {
		a, _ := s.ItemView("a")
		o, _ := s.ObjectiveView("o")
		if a.Title != "renamed" || a.Product != "mobile" || *a.Effort() != 5 || o.KPI != "weekly actives" || o.Product != "web" {
			t.Errorf("now: item %q in %s, objective KPI %q; want the edited values", a.Title, a.Product, o.KPI)
		}
		if got := columnOf(s, "mobile", roadmap.Now) + columnOf(s, "web", roadmap.Now); got != "[a#1][]" {
			t.Errorf("now columns of mobile and web: %s", got)
		}
	})
}

func TestTheAuditRecordOfAnEditSaysWhatChanged(t *testing.T) {
	b := newLogBuilder()
	c := NewCurrent(nil, 0)
	b.add("objective", "o", &roadmap.ObjectiveDefined{Title: "Grow", KPI: "actives", Target: "+10%", Product: "web"})
	imported := &roadmap.Provenance{Source: roadmap.SourceJira, ExternalID: "WEB-7", ImportID: "imp"}
	b.add("item", "a", &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "A", Kind: roadmap.KindIdea, Product: "web", ObjectiveIDs: []string{}}, Provenance: imported})
	edit := &roadmap.ItemEdited{Changed: []string{"title", "parent_id", "objective_ids", "effort"},
		Before:    roadmap.ItemDetails{Title: "A", Kind: roadmap.KindIdea, Product: "web", ObjectiveIDs: []string{}, DependsOn: []string{}, Risks: []string{}},
		After:     roadmap.ItemDetails{Title: "B", Kind: roadmap.KindIdea, ParentID: "p", Product: "web", ObjectiveIDs: []string{"o"}, Effort: ptr(3), DependsOn: []string{}, Risks: []string{}},
		Rationale: "clearer", Evidence: []string{"doc"}}
	b.add("item", "a", edit)
	b.add("objective", "o", &roadmap.ObjectiveEdited{Changed: []string{"target"},
		Before: roadmap.ObjectiveDetails{Title: "Grow", KPI: "actives", Target: "+10%"},
		After:  roadmap.ObjectiveDetails{Title: "Grow", KPI: "actives", Target: "+20%"}})
	c.source = sliceSource(b.recs)
	catchUp(t, c, b)

	var got []AuditEvent
	var records []Record
	for _, rec := range b.recs {
		r, err := c.Record(rec)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, r)
		got = append(got, NewAuditEvent(r))
	}
	proposal, itemEdit, objectiveEdit := got[1], got[2], got[3]
	if proposal.Changes != nil || !reflect.DeepEqual(proposal.Provenance, imported) {
		t.Errorf("proposal: changes %v, provenance %+v", proposal.Changes, proposal.Provenance)
	}
	wantChanges := []FieldChange{
		{"title", "A", "B"}, {"parent_id", nil, "p"}, {"objective_ids", []string{}, []string{"o"}}, {"effort", nil, 3},
	}
	if !reflect.DeepEqual(itemEdit.Changes, wantChanges) {
		t.Errorf("item edit changes %#v, want %#v", itemEdit.Changes, wantChanges)
	}
	if itemEdit.Rationale == nil || *itemEdit.Rationale != "clearer" || !reflect.DeepEqual(itemEdit.Evidence, []string{"doc"}) ||
		!reflect.DeepEqual(itemEdit.ObjectiveIDs, []string{"o"}) || itemEdit.Actor != "pm" || itemEdit.Provenance != nil {
		t.Errorf("item edit %+v", itemEdit)
	}
	if itemEdit.From == nil || *itemEdit.From != (Place{}) || *itemEdit.To != (Place{}) {
		t.Errorf("item edit of a proposed item: from %v to %v, want off the roadmap both", itemEdit.From, itemEdit.To)
	}
	if !reflect.DeepEqual(objectiveEdit.Changes, []FieldChange{{"target", "+10%", "+20%"}}) || objectiveEdit.Rationale == nil || *objectiveEdit.Rationale != "" ||
		objectiveEdit.Evidence == nil || objectiveEdit.ObjectiveIDs != nil {
		t.Errorf("objective edit %+v", objectiveEdit)
	}
	for _, a := range got[2:] {
		if !IsDecision(a.Type) {
			t.Errorf("%s is not a decision a review goes through", a.Type)
		}
	}
	// The why chain: the edit linked the objective and the parent.
	if link, ok := ParentLinkOf(records[1:3]); !ok || link.Sequence != 3 {
		t.Errorf("parent link %d %v, want the edit 3", link.Sequence, ok)
	}
	if links := ObjectiveLinks(records[1:3]); links["o"].Sequence != 3 {
		t.Errorf("objective links %v, want o linked by the edit 3", links)
	}
}

func TestAnEditIsNotARaiseNorItsEvidence(t *testing.T) {
	// The item is raised in the period with the evidence its placement had
	// before the period; an edit in between, with new evidence, does not
	// make the raise one with new evidence.
	b := newLogBuilder()
	b.propose("a")
	b.propose("b")
	b.place("b", true, roadmap.Later, 0)
	b.place("a", true, roadmap.Later, 0, "survey")
	since := uint64(len(b.recs))
	b.add("item", "a", &roadmap.ItemEdited{Changed: []string{"title"},
		Before: roadmap.ItemDetails{Title: "title of a", Kind: roadmap.KindIdea, Product: "web"},
		After:  roadmap.ItemDetails{Title: "title of a", Kind: roadmap.KindIdea, Product: "web"}, Evidence: []string{"new doc"}})
	raise := b.place("a", false, roadmap.Later, 1, "survey")
	got, _ := gravity(t, b, since, b.at)
	if want := []string{fmt.Sprintf("%s a@%d", GravityRaisedWithoutEvidence, raise)}; !reflect.DeepEqual(got, want) {
		t.Errorf("gravity %v, want %v", got, want)
	}
}

func ptr[T any](v T) *T { return &v }
