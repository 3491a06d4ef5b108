package projections_test

import (
	"slices"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// backlogState is a small ledger with a bit of everything a list filters
// and sorts by. Items are proposed in the order i3, i1, i5, i2, i4, i6, so
// the order of proposal is not the order of ids.
//
//	id  title          product kind        status      place      score objectives parent version
//	i3  Straße bauen   web     initiative  proposed    -          -     o1         -      4
//	i1  apple Pie      web     idea        on_roadmap  now 1      5     o1 o2      i3     16
//	i5  Banana         app     idea        on_roadmap  now 1      9     -          -      11
//	i2  Zebra          app     idea        on_roadmap  next 1     5     o2         -      12
//	i4  éclair         web     idea        on_roadmap  later 1    -     -          i3     13
//	i6  cherry         web     idea        removed     -          1     -          -      15
//
// i1's description is "Éclair recipe". Objectives: o1 "Grow revenue" (web,
// "growth of ARR"), o2 "Delight users" (app, retired last), o3 "ÜBER
// growth" (web).
func backlogState(t *testing.T) *projections.State {
	t.Helper()
	h := &history{}
	h.add("objective", "o1", &roadmap.ObjectiveDefined{Title: "Grow revenue", Description: "growth of ARR", Product: "web"})
	h.add("objective", "o2", &roadmap.ObjectiveDefined{Title: "Delight users", Product: "app"})
	h.add("objective", "o3", &roadmap.ObjectiveDefined{Title: "ÜBER growth", Product: "web"})
	propose := func(id, title, description, product string, kind roadmap.Kind, parent string, objectives ...string) {
		h.add("item", id, &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{
			Title: title, Description: description, Kind: kind, Product: product, ParentID: parent, ObjectiveIDs: objectives,
		}})
	}
	propose("i3", "Straße bauen", "", "web", roadmap.KindInitiative, "", "o1")
	propose("i1", "apple Pie", "Éclair recipe", "web", roadmap.KindIdea, "i3", "o1", "o2")
	propose("i5", "Banana", "", "app", roadmap.KindIdea, "")
	propose("i2", "Zebra", "", "app", roadmap.KindIdea, "", "o2")
	propose("i4", "éclair", "", "web", roadmap.KindIdea, "i3")
	propose("i6", "cherry", "", "web", roadmap.KindIdea, "")
	scored := func(hz roadmap.Horizon, value float64, objectives ...string) roadmap.Placement {
		pl := placement(hz, 0)
		pl.Score, pl.ObjectiveIDs = &roadmap.Score{Framework: roadmap.FrameworkMoSCoW, Version: 1, Category: "must", Value: value}, objectives
		return pl
	}
	h.add("item", "i1", &roadmap.ItemPrioritised{Placement: scored(roadmap.Now, 5, "o1", "o2")})
	h.add("item", "i5", &roadmap.ItemPrioritised{Placement: scored(roadmap.Now, 9)})
	h.add("item", "i2", &roadmap.ItemPrioritised{Placement: scored(roadmap.Next, 5, "o2")})
	h.place("i4", roadmap.Later, 0)
	h.add("item", "i6", &roadmap.ItemPrioritised{Placement: scored(roadmap.Next, 1)})
	h.add("item", "i6", &roadmap.ItemRemoved{Rationale: "r"})
	h.add("item", "i1", &roadmap.ItemReprioritised{Placement: scored(roadmap.Now, 5, "o1", "o2")})
	h.add("objective", "o2", &roadmap.ObjectiveRetired{Rationale: "r"})
	return fold(projections.NewState(), h.events)
}

func itemIDs(views []projections.ItemView) []string {
	out := []string{}
	for _, v := range views {
		out = append(out, v.ID)
	}
	return out
}

func TestItemListFilters(t *testing.T) {
	st := backlogState(t)
	created := projections.Order{Sort: projections.SortCreated}
	for _, tc := range []struct {
		name   string
		filter projections.ItemFilter
		want   []string
	}{
		{"no filter", projections.ItemFilter{}, []string{"i3", "i1", "i5", "i2", "i4", "i6"}},
		{"product", projections.ItemFilter{Product: "web"}, []string{"i3", "i1", "i4", "i6"}},
		{"unknown product", projections.ItemFilter{Product: "nope"}, []string{}},
		{"status on the roadmap", projections.ItemFilter{Status: roadmap.StatusOnRoadmap}, []string{"i1", "i5", "i2", "i4"}},
		{"status proposed", projections.ItemFilter{Status: roadmap.StatusProposed}, []string{"i3"}},
		{"status removed", projections.ItemFilter{Status: roadmap.StatusRemoved}, []string{"i6"}},
		{"status delivered", projections.ItemFilter{Status: roadmap.StatusDelivered}, []string{}},
		{"horizon now", projections.ItemFilter{Horizon: roadmap.Now}, []string{"i1", "i5"}},
		// i6 was in next before its removal: a horizon is where an item is.
		{"horizon next", projections.ItemFilter{Horizon: roadmap.Next}, []string{"i2"}},
		{"horizon later", projections.ItemFilter{Horizon: roadmap.Later}, []string{"i4"}},
		{"kind initiative", projections.ItemFilter{Kind: roadmap.KindInitiative}, []string{"i3"}},
		{"kind idea", projections.ItemFilter{Kind: roadmap.KindIdea}, []string{"i1", "i5", "i2", "i4", "i6"}},
		{"objective", projections.ItemFilter{ObjectiveID: "o2"}, []string{"i1", "i2"}},
		{"parent", projections.ItemFilter{ParentID: "i3"}, []string{"i1", "i4"}},
		{"text in a title", projections.ItemFilter{Text: "pie"}, []string{"i1"}},
		{"text in a title or a description", projections.ItemFilter{Text: "éclair"}, []string{"i1", "i4"}},
		{"text upper case", projections.ItemFilter{Text: "ÉCLAIR"}, []string{"i1", "i4"}},
		{"text decomposed", projections.ItemFilter{Text: "E\u0301CLAIR"}, []string{"i1", "i4"}},
		{"text without its accent is another text", projections.ItemFilter{Text: "eclair"}, []string{}},
		{"text with full case folding", projections.ItemFilter{Text: "STRASSE"}, []string{"i3"}},
		{"text matching nothing", projections.ItemFilter{Text: "kiwi"}, []string{}},
		{"product and kind and text", projections.ItemFilter{Product: "web", Kind: roadmap.KindIdea, Text: "ÉCLAIR"}, []string{"i1", "i4"}},
		{"status and horizon and parent", projections.ItemFilter{Status: roadmap.StatusOnRoadmap, Horizon: roadmap.Later, ParentID: "i3"}, []string{"i4"}},
		{"objective and product", projections.ItemFilter{ObjectiveID: "o2", Product: "app"}, []string{"i2"}},
		{"filters that exclude each other", projections.ItemFilter{Status: roadmap.StatusProposed, Horizon: roadmap.Now}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, total := st.ItemList(tc.filter, created, 0, 0)
			if got := itemIDs(page); !slices.Equal(got, tc.want) || total != len(tc.want) {
				t.Errorf("got %v (total %d), want %v", got, total, tc.want)
			}
		})
	}
}

func TestItemListSorts(t *testing.T) {
	st := backlogState(t)
	for _, tc := range []struct {
		sort      projections.ListSort
		asc, desc []string
	}{
		// Roadmap order: now (rank 1 of app, then of web), next, later;
		// then the rest in order of proposal, either way.
		{projections.SortRank, []string{"i5", "i1", "i2", "i4", "i3", "i6"}, []string{"i4", "i2", "i1", "i5", "i3", "i6"}},
		{projections.SortCreated, []string{"i3", "i1", "i5", "i2", "i4", "i6"}, []string{"i6", "i4", "i2", "i5", "i1", "i3"}},
		{projections.SortUpdated, []string{"i3", "i5", "i2", "i4", "i6", "i1"}, []string{"i1", "i6", "i4", "i2", "i5", "i3"}},
		// A tie on 5 goes to the id (reversed when descending); no score
		// comes last either way, in order of proposal.
		{projections.SortScore, []string{"i6", "i1", "i2", "i5", "i3", "i4"}, []string{"i5", "i2", "i1", "i6", "i3", "i4"}},
		// Collation order, case ignored: é sorts with e, ß with ss.
		{projections.SortTitle, []string{"i1", "i5", "i6", "i4", "i3", "i2"}, []string{"i2", "i3", "i4", "i6", "i5", "i1"}},
	} {
		t.Run(string(tc.sort), func(t *testing.T) {
			asc, _ := st.ItemList(projections.ItemFilter{}, projections.Order{Sort: tc.sort}, 0, 0)
			if got := itemIDs(asc); !slices.Equal(got, tc.asc) {
				t.Errorf("ascending %v, want %v", got, tc.asc)
			}
			desc, _ := st.ItemList(projections.ItemFilter{}, projections.Order{Sort: tc.sort, Descending: true}, 0, 0)
			if got := itemIDs(desc); !slices.Equal(got, tc.desc) {
				t.Errorf("descending %v, want %v", got, tc.desc)
			}
		})
	}
}

func TestItemListTitleTiesGoToTheID(t *testing.T) {
	h := &history{}
	for _, id := range []string{"b", "c", "a"} {
		h.add("item", id, &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "Same", Kind: roadmap.KindIdea, Product: "default"}})
	}
	st := fold(projections.NewState(), h.events)
	for desc, want := range map[bool][]string{false: {"a", "b", "c"}, true: {"c", "b", "a"}} {
		page, _ := st.ItemList(projections.ItemFilter{}, projections.Order{Sort: projections.SortTitle, Descending: desc}, 0, 0)
		if got := itemIDs(page); !slices.Equal(got, want) {
			t.Errorf("descending %v: %v, want %v", desc, got, want)
		}
	}
}

func TestItemListWindowsAndRanks(t *testing.T) {
	st := backlogState(t)
	order := projections.Order{Sort: projections.SortRank}
	for _, tc := range []struct {
		offset, limit int
		want          []string
	}{
		{0, 2, []string{"i5", "i1"}},
		{2, 2, []string{"i2", "i4"}},
		{4, 2, []string{"i3", "i6"}},
		{5, 50, []string{"i6"}},
		{6, 2, []string{}},
		{100, 2, []string{}},
		{1, 0, []string{"i1", "i2", "i4", "i3", "i6"}},
	} {
		page, total := st.ItemList(projections.ItemFilter{}, order, tc.offset, tc.limit)
		if got := itemIDs(page); !slices.Equal(got, tc.want) || total != 6 {
			t.Errorf("offset %d limit %d: %v (total %d), want %v (total 6)", tc.offset, tc.limit, got, total, tc.want)
		}
	}
	page, _ := st.ItemList(projections.ItemFilter{}, order, 0, 0)
	for _, v := range page {
		want, _ := st.Position(v.ID)
		if v.Rank != want {
			t.Errorf("%s: rank %d, want %d", v.ID, v.Rank, want)
		}
	}
	empty, total := projections.NewState().ItemList(projections.ItemFilter{}, order, 0, 50)
	if len(empty) != 0 || total != 0 {
		t.Errorf("an empty ledger lists %v (total %d)", empty, total)
	}
}

func TestObjectiveList(t *testing.T) {
	st := backlogState(t)
	ids := func(views []projections.ObjectiveView) []string {
		out := []string{}
		for _, v := range views {
			out = append(out, v.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		filter projections.ObjectiveFilter
		order  projections.Order
		want   []string
	}{
		{"all, created", projections.ObjectiveFilter{}, projections.Order{Sort: projections.SortCreated}, []string{"o1", "o2", "o3"}},
		{"all, created descending", projections.ObjectiveFilter{}, projections.Order{Sort: projections.SortCreated, Descending: true}, []string{"o3", "o2", "o1"}},
		{"all, updated", projections.ObjectiveFilter{}, projections.Order{Sort: projections.SortUpdated}, []string{"o1", "o3", "o2"}},
		{"all, updated descending", projections.ObjectiveFilter{}, projections.Order{Sort: projections.SortUpdated, Descending: true}, []string{"o2", "o3", "o1"}},
		{"all, title", projections.ObjectiveFilter{}, projections.Order{Sort: projections.SortTitle}, []string{"o2", "o1", "o3"}},
		{"all, title descending", projections.ObjectiveFilter{}, projections.Order{Sort: projections.SortTitle, Descending: true}, []string{"o3", "o1", "o2"}},
		{"product", projections.ObjectiveFilter{Product: "web"}, projections.Order{Sort: projections.SortCreated}, []string{"o1", "o3"}},
		{"status", projections.ObjectiveFilter{Status: roadmap.StatusRetired}, projections.Order{Sort: projections.SortCreated}, []string{"o2"}},
		{"text folded", projections.ObjectiveFilter{Text: "über"}, projections.Order{Sort: projections.SortCreated}, []string{"o3"}},
		{"text in a title or a description", projections.ObjectiveFilter{Text: "GROWTH"}, projections.Order{Sort: projections.SortCreated}, []string{"o1", "o3"}},
		{"product and status", projections.ObjectiveFilter{Product: "app", Status: roadmap.StatusActive}, projections.Order{Sort: projections.SortCreated}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, total := st.ObjectiveList(tc.filter, tc.order, 0, 0)
			if got := ids(page); !slices.Equal(got, tc.want) || total != len(tc.want) {
				t.Errorf("got %v (total %d), want %v", got, total, tc.want)
			}
		})
	}
	page, total := st.ObjectiveList(projections.ObjectiveFilter{}, projections.Order{Sort: projections.SortCreated}, 1, 1)
	if got := ids(page); !slices.Equal(got, []string{"o2"}) || total != 3 {
		t.Errorf("the second of one a page: %v (total %d), want [o2] (total 3)", got, total)
	}
}

func TestFlagsOfIsItemFlags(t *testing.T) {
	h := &history{}
	h.add("item", "base", &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "base", Kind: roadmap.KindIdea, Product: "default"}})
	h.add("item", "top", &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "top", Kind: roadmap.KindIdea, Product: "default"}, DependsOn: []string{"base"}})
	h.place("top", roadmap.Now, 0)
	st := fold(projections.NewState(), h.events)
	page, _ := st.ItemList(projections.ItemFilter{}, projections.Order{Sort: projections.SortCreated}, 0, 0)
	flags := st.FlagsOf(page)
	for i, v := range page {
		if want := st.ItemFlags(v.ID); len(want) != 1 || len(flags[i]) != 1 || flags[i][0].Detail != want[0].Detail {
			t.Errorf("%s: flags %v, want %v (one dependency flag)", v.ID, flags[i], want)
		}
	}
}
