package projections

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// The backlog: every item (or objective) of a state that passes a filter,
// in one total order, a window at a time. A list is a pure query of one
// State, so the pages of a list read at one sequence never overlap or miss
// an item.

// ListSort is an order of a list of items or objectives.
type ListSort string

// The orders of the lists.
const (
	// SortRank is roadmap order: items on the roadmap by horizon (now,
	// next, later), rank, product and id; then the rest.
	SortRank ListSort = "rank"
	// SortCreated is the order of proposal (of definition, for objectives).
	SortCreated ListSort = "created"
	// SortUpdated is the order of the last event: the version.
	SortUpdated ListSort = "updated"
	// SortScore is the score's value; items without a score are the rest.
	SortScore ListSort = "score"
	// SortTitle is the title in Unicode collation order, case ignored.
	SortTitle ListSort = "title"
)

// ItemSorts and ObjectiveSorts are the orders each list takes, the default
// first.
var (
	ItemSorts      = []ListSort{SortRank, SortCreated, SortUpdated, SortScore, SortTitle}
	ObjectiveSorts = []ListSort{SortCreated, SortUpdated, SortTitle}
)

// Order is a sort and its direction. Descending reverses the order of the
// views that have the sort's key; those without it (items off the roadmap
// for SortRank, without a score for SortScore) come last either way, in
// the order of proposal.
type Order struct {
	Sort       ListSort
	Descending bool
}

// ItemFilter says which items a list holds; a zero field lets every item
// through, and the fields combine.
type ItemFilter struct {
	Product string
	Status  roadmap.ItemStatus
	// Horizon keeps the items on the roadmap in that horizon.
	Horizon     roadmap.Horizon
	Kind        roadmap.Kind
	ObjectiveID string
	ParentID    string
	// Text keeps the items whose title or description contains it, with
	// full Unicode case folding ("STRASSE" finds "Straße") on both sides,
	// compared in canonical composition (NFC).
	Text string
}

// ObjectiveFilter says which objectives a list holds, as ItemFilter does
// for items; Text is matched against the title and description.
type ObjectiveFilter struct {
	Product string
	Status  roadmap.ObjectiveStatus
	Text    string
}

// ItemList returns the items of s that pass f, in order o, from the
// offset-th on and at most limit of them (every one from offset on when
// limit is 0), each with its rank; and how many pass f in all.
func (s *State) ItemList(f ItemFilter, o Order, offset, limit int) (page []ItemView, total int) {
	ranks := make([]int, len(s.ids)) // by handle, 0 when off the roadmap
	for _, byHorizon := range s.horizons {
		for _, list := range byHorizon {
			for i, h := range list {
				ranks[h] = i + 1
			}
		}
	}
	contains := textMatcher(f.Text)
	var found []ItemView // in order of proposal
	for _, id := range s.ids {
		it := s.items[id]
		if !f.passes(it) || !contains(it.Title, it.Description) {
			continue
		}
		v := *it
		v.Rank = ranks[it.handle]
		found = append(found, v)
	}
	sortList(found, itemOrdering(o.Sort, found), o.Descending)
	return window(found, offset, limit), len(found)
}

func (f ItemFilter) passes(it *ItemView) bool {
	switch {
	case f.Product != "" && it.Product != f.Product,
		f.Status != "" && it.Status != f.Status,
		f.Horizon != "" && (it.Status != roadmap.StatusOnRoadmap || it.Horizon != f.Horizon),
		f.Kind != "" && it.Kind != f.Kind,
		f.ObjectiveID != "" && !slices.Contains(it.ObjectiveIDs, f.ObjectiveID),
		f.ParentID != "" && it.ParentID != f.ParentID:
		return false
	}
	return true
}

// ObjectiveList returns the objectives of s that pass f, in order o, as
// ItemList does for items. Objective ids are time-ordered, so SortCreated
// is their order.
func (s *State) ObjectiveList(f ObjectiveFilter, o Order, offset, limit int) (page []ObjectiveView, total int) {
	contains := textMatcher(f.Text)
	var found []ObjectiveView
	for _, ov := range s.objectives {
		if (f.Product == "" || ov.Product == f.Product) && (f.Status == "" || ov.Status == f.Status) && contains(ov.Title, ov.Description) {
			found = append(found, *ov)
		}
	}
	sortList(found, objectiveOrdering(o.Sort, found), o.Descending)
	return window(found, offset, limit), len(found)
}

// ordering is how one sort orders views: has says whether a view has the
// sort's key, and compare orders two views that have it, totally (its last
// resort is the id).
type ordering[V any] struct {
	has     func(V) bool
	compare func(a, b V) int
}

// sortList sorts views by: the views with the key first, by compare
// (reversed when descending), then the others in the order they are in.
func sortList[V any](views []V, by ordering[V], descending bool) {
	slices.SortStableFunc(views, func(a, b V) int {
		hasA, hasB := by.has == nil || by.has(a), by.has == nil || by.has(b)
		switch {
		case hasA && hasB:
			if descending {
				return by.compare(b, a)
			}
			return by.compare(a, b)
		case hasA:
			return -1
		case hasB:
			return 1
		}
		return 0
	})
}

func itemOrdering(sort ListSort, views []ItemView) ordering[ItemView] {
	byID := func(a, b ItemView) int { return cmp.Compare(a.ID, b.ID) }
	switch sort {
	case SortCreated:
		return ordering[ItemView]{compare: func(a, b ItemView) int { return cmp.Compare(a.handle, b.handle) }}
	case SortUpdated:
		return ordering[ItemView]{compare: func(a, b ItemView) int { return cmp.Or(cmp.Compare(a.Version, b.Version), byID(a, b)) }}
	case SortScore:
		return ordering[ItemView]{
			has:     func(v ItemView) bool { return v.Score != nil },
			compare: func(a, b ItemView) int { return cmp.Or(cmp.Compare(a.Score.Value, b.Score.Value), byID(a, b)) },
		}
	case SortTitle:
		key := titleKeys(views, func(v ItemView) (string, string) { return v.ID, v.Title })
		return ordering[ItemView]{compare: func(a, b ItemView) int { return cmp.Or(bytes.Compare(key[a.ID], key[b.ID]), byID(a, b)) }}
	}
	return ordering[ItemView]{
		has: func(v ItemView) bool { return v.Rank > 0 },
		compare: func(a, b ItemView) int {
			return cmp.Or(cmp.Compare(horizonOrder(a.Horizon), horizonOrder(b.Horizon)), cmp.Compare(a.Rank, b.Rank),
				cmp.Compare(a.Product, b.Product), byID(a, b))
		},
	}
}

func objectiveOrdering(sort ListSort, views []ObjectiveView) ordering[ObjectiveView] {
	byID := func(a, b ObjectiveView) int { return cmp.Compare(a.ID, b.ID) }
	switch sort {
	case SortUpdated:
		return ordering[ObjectiveView]{compare: func(a, b ObjectiveView) int { return cmp.Or(cmp.Compare(a.Version, b.Version), byID(a, b)) }}
	case SortTitle:
		key := titleKeys(views, func(v ObjectiveView) (string, string) { return v.ID, v.Title })
		return ordering[ObjectiveView]{compare: func(a, b ObjectiveView) int { return cmp.Or(bytes.Compare(key[a.ID], key[b.ID]), byID(a, b)) }}
	}
	return ordering[ObjectiveView]{compare: byID}
}

// titleKeys returns the collation key of each view's title, by id: the
// Unicode Collation Algorithm's root order, case ignored.
func titleKeys[V any](views []V, title func(V) (id, title string)) map[string][]byte {
	c := collate.New(language.Und, collate.IgnoreCase)
	var buf collate.Buffer
	keys := make(map[string][]byte, len(views))
	for _, v := range views {
		id, t := title(v)
		keys[id] = c.KeyFromString(&buf, t)
	}
	return keys
}

// textMatcher returns whether any of some texts contains text, both
// case-folded and composed; every text contains the empty one.
func textMatcher(text string) func(texts ...string) bool {
	if text == "" {
		return func(...string) bool { return true }
	}
	folder := cases.Fold()
	fold := func(s string) string { return norm.NFC.String(folder.String(norm.NFC.String(s))) }
	needle := fold(text)
	return func(texts ...string) bool {
		for _, t := range texts {
			if strings.Contains(fold(t), needle) {
				return true
			}
		}
		return false
	}
}

// window returns views[offset:offset+limit], clipped to views; limit 0 is
// everything from offset on.
func window[V any](views []V, offset, limit int) []V {
	if offset >= len(views) {
		return nil
	}
	views = views[offset:]
	if limit > 0 && limit < len(views) {
		views = views[:limit]
	}
	return views
}
