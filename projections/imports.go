package projections

import "github.com/roadmap-ledger/roadmap/internal/roadmap"

// ImportedItems returns every item an import brought in (those with a
// provenance), in order of proposal: what an import matches its rows
// against by external id and title.
func (s *State) ImportedItems() []roadmap.Item {
	var out []roadmap.Item
	for _, id := range s.ids {
		if it := s.items[id]; it != nil && it.Provenance != nil {
			out = append(out, it.Item)
		}
	}
	return out
}

// PendingChanges returns the changes held for approval, by the item they
// would change.
func (s *State) PendingChanges() map[string][]roadmap.Change {
	out := map[string][]roadmap.Change{}
	for _, c := range s.changes {
		if c.Status == roadmap.ChangeStatusPending {
			out[c.ItemID] = append(out[c.ItemID], c.Change)
		}
	}
	return out
}

// provenanceOf returns the provenance an event records: set on a proposal
// or an edit an import made, nil otherwise.
func provenanceOf(e roadmap.Event) *roadmap.Provenance {
	switch e := e.(type) {
	case *roadmap.ItemProposed:
		return e.Provenance
	case *roadmap.ItemEdited:
		return e.Provenance
	}
	return nil
}
