package projections

import (
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// ChangeView is a major change held for approval, as it stands.
type ChangeView struct {
	roadmap.Change
	Version uint64
	Head    string
	// ApprovedSequence is the position of the change.approved event, and
	// AppliedSequence that of the decision it recorded on the item; 0 while
	// there is none.
	ApprovedSequence uint64
	AppliedSequence  uint64
}

// applyChange folds the event of a change aggregate into s.
func (s *State) applyChange(ev Event) {
	env := ev.Envelope
	c := copyOf(s.changes[env.AggregateID])
	c.Change = roadmap.EvolveChange(c.Change, env.AggregateID, ev.Data, env.Time, env.Actor)
	c.Version, c.Head = ev.Sequence, env.Hash
	if _, ok := ev.Data.(*roadmap.ChangeApproved); ok {
		c.ApprovedSequence = ev.Sequence
	}
	s.changes[env.AggregateID] = &c
}

// applyApproval notes that an item decision recorded an approved change.
func (s *State) applyApproval(seq uint64, e roadmap.Event) {
	d, ok := e.(roadmap.ItemDecision)
	if !ok {
		return
	}
	a := d.Approved()
	if a == nil || s.changes[a.ChangeID] == nil {
		return
	}
	c := *s.changes[a.ChangeID]
	c.AppliedSequence = seq
	s.changes[a.ChangeID] = &c
}

// ChangeView returns the change with the given id.
func (s *State) ChangeView(id string) (ChangeView, bool) { return lookup(s.changes, id) }

// Changes returns the changes with the given status (every change for ""),
// oldest first.
func (s *State) Changes(status roadmap.ChangeStatus) []ChangeView {
	out := []ChangeView{}
	for _, c := range s.changes {
		if status == "" || c.Status == status {
			out = append(out, *c)
		}
	}
	oldestFirst(out, func(c ChangeView) (time.Time, string) { return c.ProposedAt, c.ID })
	return out
}

// ChangeView returns the change with the given id as it stands.
func (c *Current) ChangeView(id string) (ChangeView, bool) {
	return readOne(c, (*State).ChangeView, id)
}

// Changes returns the changes with the given status as they stand.
func (c *Current) Changes(status roadmap.ChangeStatus) (out []ChangeView) {
	c.Read(func(s *State) { out = s.Changes(status) })
	return out
}
