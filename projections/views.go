package projections

import (
	"cmp"
	"slices"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// SavedView is a view (a saved selection of the roadmap for one audience)
// as it stands, with its version.
type SavedView struct {
	roadmap.View
	Version uint64
	Head    string
}

// ViewEntry is an item as a view shows it: everything a view may show of
// it; the API writes only the fields the view names.
type ViewEntry struct {
	Entry
	Horizon     roadmap.Horizon
	Status      roadmap.ItemStatus
	Description string
	// Summary is the item's public summary, "" when it is not published.
	Summary string
	// Published is the decision behind the public summary, nil when it is
	// not published.
	Published *Decision
	Effort    *int
	DependsOn []string
	Risks     []string
}

var _ roadmap.ViewReferences = (*State)(nil)

func (s *State) applyView(ev Event) {
	env := ev.Envelope
	v := copyOf(s.views[env.AggregateID])
	v.View = roadmap.EvolveView(v.View, env.AggregateID, ev.Data)
	v.Version, v.Head = ev.Sequence, env.Hash
	s.views[env.AggregateID] = &v
}

// ViewBySlug implements roadmap.ViewReferences: the view, not deleted,
// with the slug.
func (s *State) ViewBySlug(slug string) (string, bool) {
	v, ok := s.SavedViewBySlug(slug)
	return v.ID, ok
}

// SavedView returns the view with the given id, deleted or not.
func (s *State) SavedView(id string) (SavedView, bool) { return lookup(s.views, id) }

// SavedViewBySlug returns the view, not deleted, with the slug.
func (s *State) SavedViewBySlug(slug string) (SavedView, bool) {
	for _, v := range s.views {
		if v.Slug == slug && !v.Deleted {
			return *v, true
		}
	}
	return SavedView{}, false
}

// SavedViews returns every view not deleted, by slug.
func (s *State) SavedViews() []SavedView {
	out := make([]SavedView, 0, len(s.views))
	for _, v := range s.views {
		if !v.Deleted {
			out = append(out, *v)
		}
	}
	slices.SortFunc(out, func(a, b SavedView) int { return cmp.Compare(a.Slug, b.Slug) })
	return out
}

// ViewEntries returns the items v selects, by product, horizon and rank. A
// public view selects only published items, and names only the objectives
// it makes public (its own objective_ids) among those each item serves.
func (s *State) ViewEntries(v roadmap.ViewSpec) []ViewEntry {
	out := []ViewEntry{}
	for _, e := range s.entries(v.Product) {
		it := s.items[e.ID]
		if !v.Selects(it.Item) {
			continue
		}
		if v.Audience == roadmap.AudiencePublic {
			if it.Public == nil || it.Published == nil {
				continue
			}
			e.Objectives = slices.DeleteFunc(e.Objectives, func(r Ref) bool { return !slices.Contains(v.ObjectiveIDs, r.ID) })
		}
		ve := ViewEntry{
			Entry: e, Horizon: it.Horizon, Status: it.Status, Description: it.Description,
			Published: it.Published, Effort: it.Effort(), DependsOn: it.DependsOn(), Risks: it.Risks(),
		}
		if it.Public != nil {
			ve.Summary = it.Public.Summary
		}
		out = append(out, ve)
	}
	return out
}
