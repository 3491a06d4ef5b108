package projections

import (
	"cmp"
	"slices"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// CheckpointView is a signed checkpoint of the ledger as the log records it:
// on demand, as a checkpoint aggregate of its own (event checkpoint.signed),
// or on a review's close, in its review.closed event.
type CheckpointView struct {
	roadmap.CheckpointSigned
	// ID is the checkpoint aggregate's id, or, for a review's checkpoint,
	// the review's id.
	ID string
	// ReviewID is the review whose close made the checkpoint; empty for
	// one signed on demand.
	ReviewID string
	// Sequence is the position of the event that records the checkpoint,
	// which comes after every event the checkpoint covers. It is also the
	// checkpoint's version: a checkpoint never changes.
	Sequence uint64
	// Head is the hash of the checkpoint aggregate's event; empty for a
	// review's checkpoint, whose chain is the review's.
	Head string
}

// applyCheckpoint folds the event of a checkpoint aggregate into s.
func (s *State) applyCheckpoint(ev Event) {
	setView(s.checkpoints, ev, func(e *roadmap.CheckpointSigned) CheckpointView {
		return CheckpointView{CheckpointSigned: *e, ID: ev.Envelope.AggregateID, Sequence: ev.Sequence, Head: ev.Envelope.Hash}
	})
}

// reviewCheckpoint records the checkpoint a review's close carries.
func (s *State) reviewCheckpoint(reviewID string, seq uint64, e *roadmap.ReviewClosed) {
	if e.Checkpoint == nil {
		return
	}
	s.checkpoints[reviewID] = &CheckpointView{CheckpointSigned: *e.Checkpoint, ID: reviewID, ReviewID: reviewID, Sequence: seq}
}

// CheckpointView returns the checkpoint with the given id: a checkpoint
// aggregate's id, or a closed review's id for the checkpoint of its close.
func (s *State) CheckpointView(id string) (CheckpointView, bool) { return lookup(s.checkpoints, id) }

// Checkpoints returns every signed checkpoint, the largest first (of equal
// sizes, the one recorded last first).
func (s *State) Checkpoints() []CheckpointView {
	out := values(s.checkpoints)
	slices.SortFunc(out, func(a, b CheckpointView) int {
		return cmp.Or(cmp.Compare(b.Size, a.Size), cmp.Compare(b.Sequence, a.Sequence))
	})
	return out
}

// LatestCheckpoint returns the largest checkpoint (of equal sizes, the one
// recorded last), or false when none was signed yet.
func (s *State) LatestCheckpoint() (CheckpointView, bool) {
	var best *CheckpointView
	for _, c := range s.checkpoints {
		if best == nil || c.Size > best.Size || (c.Size == best.Size && c.Sequence > best.Sequence) {
			best = c
		}
	}
	if best == nil {
		return CheckpointView{}, false
	}
	return *best, true
}

// CheckpointOfSize returns a checkpoint of the given size (the one recorded
// first, when several were signed at the same size: they have the same
// root), or false when none was signed at that size.
func (s *State) CheckpointOfSize(size int64) (CheckpointView, bool) {
	var found *CheckpointView
	for _, c := range s.checkpoints {
		if c.Size == size && (found == nil || c.Sequence < found.Sequence) {
			found = c
		}
	}
	if found == nil {
		return CheckpointView{}, false
	}
	return *found, true
}

// CheckpointView returns the checkpoint with the given id as it stands.
func (c *Current) CheckpointView(id string) (CheckpointView, bool) {
	return readOne(c, (*State).CheckpointView, id)
}
