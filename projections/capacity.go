package projections

import (
	"cmp"
	"slices"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// CapacityView is a product's capacity per horizon, as last set.
type CapacityView struct {
	Product  string
	Capacity roadmap.Capacity
	Version  uint64
	Head     string
}

// applyProduct folds the event of a product aggregate into s.
func (s *State) applyProduct(ev Event) {
	setView(s.capacity, ev, func(e *roadmap.CapacitySet) CapacityView {
		return CapacityView{Product: ev.Envelope.AggregateID, Capacity: e.Capacity, Version: ev.Sequence, Head: ev.Envelope.Hash}
	})
}

// setView sets the view of ev's aggregate in views to view of ev's data
// when that is an E, and leaves views alone otherwise: for an aggregate
// whose view is made whole by each of its events of one type.
func setView[E, V any](views map[string]*V, ev Event, view func(*E) V) {
	if e, ok := any(ev.Data).(*E); ok {
		v := view(e)
		views[ev.Envelope.AggregateID] = &v
	}
}

// CapacityView returns the capacity of a product, if set.
func (s *State) CapacityView(product string) (CapacityView, bool) { return lookup(s.capacity, product) }

// Committed returns the effort points of the items of a product in a
// horizon; items without an estimate count as 0.
func (s *State) Committed(product string, h roadmap.Horizon) int {
	total := 0
	for _, handle := range s.horizons[product][h] {
		if e := s.items[s.ids[handle]].Effort(); e != nil {
			total += *e
		}
	}
	return total
}

// CapacityRow is one horizon of one product: its capacity, what is
// committed to it, and whether that is more.
type CapacityRow struct {
	Product   string
	Horizon   roadmap.Horizon
	Capacity  *int
	Committed int
	Over      bool
}

// CapacityRows returns a row per horizon of every product with a capacity
// set, products in order.
func (s *State) CapacityRows() []CapacityRow {
	out := []CapacityRow{}
	products := make([]string, 0, len(s.capacity))
	for p := range s.capacity {
		products = append(products, p)
	}
	slices.Sort(products)
	for _, p := range products {
		for _, h := range roadmap.Horizons {
			out = append(out, s.capacityRow(p, h))
		}
	}
	return out
}

func (s *State) capacityRow(product string, h roadmap.Horizon) CapacityRow {
	row := CapacityRow{Product: product, Horizon: h, Committed: s.Committed(product, h)}
	if c := s.capacity[product]; c != nil {
		row.Capacity = c.Capacity.Of(h)
	}
	row.Over = row.Capacity != nil && row.Committed > *row.Capacity
	return row
}

// DependencyConflict is a roadmap item that depends on an item that is not
// on the roadmap ahead of or beside it: off the roadmap (proposed or
// removed), or in a later horizon.
type DependencyConflict struct {
	ItemID         string
	Title          string
	Horizon        roadmap.Horizon
	DependsOn      string
	DependsOnTitle string
	// DependencyStatus and DependencyHorizon say where the dependency is.
	DependencyStatus  roadmap.ItemStatus
	DependencyHorizon *roadmap.Horizon
}

// DependencyConflicts returns every conflict on the roadmap, by item and
// dependency in order.
func (s *State) DependencyConflicts() []DependencyConflict {
	out := []DependencyConflict{}
	for _, it := range s.items {
		out = append(out, s.conflictsOf(it)...)
	}
	slices.SortFunc(out, func(a, b DependencyConflict) int {
		return cmp.Or(cmp.Compare(a.ItemID, b.ItemID), cmp.Compare(a.DependsOn, b.DependsOn))
	})
	return out
}

func (s *State) conflictsOf(it *ItemView) []DependencyConflict {
	if it.Status != roadmap.StatusOnRoadmap {
		return nil
	}
	var out []DependencyConflict
	for _, id := range it.DependsOn() {
		dep := s.items[id]
		if dep == nil || dep.Status == roadmap.StatusDelivered {
			continue
		}
		if dep.Status == roadmap.StatusOnRoadmap && horizonOrder(dep.Horizon) <= horizonOrder(it.Horizon) {
			continue
		}
		c := DependencyConflict{ItemID: it.ID, Title: it.Title, Horizon: it.Horizon, DependsOn: id, DependsOnTitle: dep.Title, DependencyStatus: dep.Status}
		if dep.Status == roadmap.StatusOnRoadmap {
			h := dep.Horizon
			c.DependencyHorizon = &h
		}
		out = append(out, c)
	}
	return out
}

// Flag is a warning on a decision that was accepted: a horizon over its
// capacity, or a dependency out of order.
type Flag struct {
	// Kind is "over-capacity" or "dependency".
	Kind   string
	Detail string
	// Capacity is set for an over-capacity flag, Dependency for a
	// dependency flag.
	Capacity   *CapacityRow
	Dependency *DependencyConflict
}

// ItemFlags returns the warnings that concern an item as it stands: its
// horizon over capacity, and the dependency conflicts it is part of, as the
// item that depends or the one depended on.
func (s *State) ItemFlags(id string) []Flag {
	return s.itemFlags(id, s.conflicts())
}

// FlagsOf returns the ItemFlags of each of views, in turn, finding the
// dependency conflicts of the roadmap once for all of them.
func (s *State) FlagsOf(views []ItemView) [][]Flag {
	conflicts := s.conflicts()
	out := make([][]Flag, len(views))
	for i, v := range views {
		out[i] = s.itemFlags(v.ID, conflicts)
	}
	return out
}

// conflicts returns the DependencyConflicts, none when no item declared
// dependencies.
func (s *State) conflicts() []DependencyConflict {
	if s.withDependencies == 0 {
		return nil
	}
	return s.DependencyConflicts()
}

// itemFlags is ItemFlags, with the roadmap's dependency conflicts given.
func (s *State) itemFlags(id string, conflicts []DependencyConflict) []Flag {
	it := s.items[id]
	if it == nil {
		return nil
	}
	var out []Flag
	if _, set := s.capacity[it.Product]; set && it.Status == roadmap.StatusOnRoadmap {
		if row := s.capacityRow(it.Product, it.Horizon); row.Over {
			out = append(out, Flag{Kind: "over-capacity", Capacity: &row,
				Detail: string(it.Horizon) + " of " + it.Product + " is over its capacity"})
		}
	}
	for _, c := range conflicts {
		if c.ItemID == id || c.DependsOn == id {
			c := c
			out = append(out, Flag{Kind: "dependency", Dependency: &c,
				Detail: "\"" + c.Title + "\" (" + string(c.Horizon) + ") depends on \"" + c.DependsOnTitle + "\", which is not on the roadmap ahead of it"})
		}
	}
	return out
}

// RiskRow is a roadmap item with the risks it declared.
type RiskRow struct {
	ItemID  string
	Title   string
	Product string
	Horizon roadmap.Horizon
	Risks   []string
}

// Risks returns the roadmap items with risks, in roadmap order.
func (s *State) Risks() []RiskRow {
	out := []RiskRow{}
	for _, e := range s.entries("") {
		if it := s.items[e.ID]; it != nil && len(it.Risks()) > 0 {
			out = append(out, RiskRow{ItemID: it.ID, Title: it.Title, Product: it.Product, Horizon: it.Horizon, Risks: it.Risks()})
		}
	}
	return out
}

// CapacityView returns a product's capacity as it stands.
func (c *Current) CapacityView(product string) (CapacityView, bool) {
	return readOne(c, (*State).CapacityView, product)
}

// ItemFlags returns the warnings of an item as it stands.
func (c *Current) ItemFlags(id string) (out []Flag) {
	c.Read(func(s *State) { out = s.ItemFlags(id) })
	return out
}
