package projections

import "github.com/roadmap-ledger/roadmap/internal/roadmap"

// publicOnly reports whether e changes only what the public roadmap says
// of an item, which leaves it where it is on the roadmap.
func publicOnly(e roadmap.Event) bool {
	switch e.(type) {
	case *roadmap.ItemPublished, *roadmap.ItemUnpublished:
		return true
	}
	return false
}

// published is the decision behind the public statement of it right after
// ev: ev itself for a publication, the one before while the statement
// stands, nil once it is withdrawn (by an unpublication, a removal or a
// delivery).
func published(it ItemView, ev Event) *Decision {
	if it.Public == nil {
		return nil
	}
	if e, ok := ev.Data.(*roadmap.ItemPublished); ok {
		return &Decision{Sequence: ev.Sequence, Type: ev.Envelope.Type, Rationale: e.Rationale, Actor: ev.Envelope.Actor, At: ev.Envelope.Time}
	}
	return it.Published
}
