package projections

import (
	"cmp"
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Ref names another aggregate by id and title.
type Ref struct {
	ID    string
	Title string
}

// Entry is one item on the roadmap.
type Entry struct {
	ID           string
	Title        string
	Kind         roadmap.Kind
	Product      string
	Rank         int
	Score        *roadmap.Score
	Objectives   []Ref
	Parent       *Ref
	LastDecision *Decision
}

// Horizons are the three columns of a roadmap, each ranked.
type Horizons struct {
	Now   []Entry
	Next  []Entry
	Later []Entry
}

func (h *Horizons) column(hz roadmap.Horizon) *[]Entry {
	switch hz {
	case roadmap.Now:
		return &h.Now
	case roadmap.Next:
		return &h.Next
	}
	return &h.Later
}

// Len returns the number of entries in every horizon.
func (h Horizons) Len() int { return len(h.Now) + len(h.Next) + len(h.Later) }

// RoadmapView is the roadmap at one ledger position.
type RoadmapView struct {
	Sequence uint64
	AsOf     *time.Time
	// Product is the product shown; empty for the whole portfolio.
	Product  string
	Horizons Horizons
}

// ObjectiveGroup is an objective with the roadmap entries that serve it.
type ObjectiveGroup struct {
	roadmap.Objective
	Horizons Horizons
}

// ObjectivesView is the roadmap grouped under the objectives it serves: the
// theme view for executives. Items that serve no objective are unaligned.
type ObjectivesView struct {
	Sequence   uint64
	AsOf       *time.Time
	Product    string
	Objectives []ObjectiveGroup
	Unaligned  Horizons
}

// Roadmap returns the roadmap of one product, or of every product (ordered
// by product, then rank) when product is empty.
func (s *State) Roadmap(product string) RoadmapView {
	v := RoadmapView{Sequence: s.Sequence, AsOf: s.asOf(), Product: product, Horizons: emptyHorizons()}
	for _, e := range s.entries(product) {
		col := v.Horizons.column(s.items[e.ID].Horizon)
		*col = append(*col, e)
	}
	return v
}

// ByObjective returns the roadmap grouped under objectives: every objective
// some entry serves, and every active objective (of the product, when one is
// given) even when nothing serves it, in the order they were defined.
func (s *State) ByObjective(product string) ObjectivesView {
	v := ObjectivesView{Sequence: s.Sequence, AsOf: s.asOf(), Product: product, Unaligned: emptyHorizons(), Objectives: []ObjectiveGroup{}}
	groups := map[string]*ObjectiveGroup{}
	group := func(id string) *ObjectiveGroup {
		if g := groups[id]; g != nil {
			return g
		}
		o := s.objectives[id]
		g := &ObjectiveGroup{Objective: o.Objective, Horizons: emptyHorizons()}
		groups[id] = g
		return g
	}
	for id, o := range s.objectives {
		if o.Status == roadmap.StatusActive && (product == "" || o.Product == product) {
			group(id)
		}
	}
	for _, e := range s.entries(product) {
		hz := s.items[e.ID].Horizon
		if len(e.Objectives) == 0 {
			col := v.Unaligned.column(hz)
			*col = append(*col, e)
		}
		for _, o := range e.Objectives {
			col := group(o.ID).Horizons.column(hz)
			*col = append(*col, e)
		}
	}
	for _, g := range groups {
		v.Objectives = append(v.Objectives, *g)
	}
	slices.SortFunc(v.Objectives, func(a, b ObjectiveGroup) int { return cmp.Compare(a.ID, b.ID) })
	return v
}

// entries lists the roadmap's entries, by product then horizon then rank.
func (s *State) entries(product string) []Entry {
	products := make([]string, 0, len(s.horizons))
	for p := range s.horizons {
		if product == "" || p == product {
			products = append(products, p)
		}
	}
	slices.Sort(products)
	var out []Entry
	for _, p := range products {
		for _, hz := range roadmap.Horizons {
			for i, h := range s.horizons[p][hz] {
				out = append(out, s.entry(s.ids[h], i+1))
			}
		}
	}
	return out
}

func (s *State) entry(id string, rank int) Entry {
	it := s.items[id]
	e := Entry{
		ID: id, Title: it.Title, Kind: it.Kind, Product: it.Product, Rank: rank,
		Score: it.Score, Objectives: make([]Ref, 0, len(it.ObjectiveIDs)), LastDecision: it.LastDecision,
	}
	for _, oid := range it.ObjectiveIDs {
		if o := s.objectives[oid]; o != nil {
			e.Objectives = append(e.Objectives, Ref{ID: oid, Title: o.Title})
		}
	}
	if p := s.items[it.ParentID]; p != nil {
		e.Parent = &Ref{ID: p.ID, Title: p.Title}
	}
	return e
}

func (s *State) asOf() *time.Time {
	if s.Sequence == 0 {
		return nil
	}
	t := s.At
	return &t
}

func emptyHorizons() Horizons {
	return Horizons{Now: []Entry{}, Next: []Entry{}, Later: []Entry{}}
}
