package projections

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// Time travel: the state as it stood at any past sequence, or at the end of
// any moment. Current keeps a keyframe, a clone of the whole state, every
// KeyframeEvery events (a clone is cheap: views are replaced, never changed
// in place), and the ledger's clock at every event. A keyframe is not a
// signed checkpoint of the log (internal/proof): it is the projections' own
// shortcut, rebuilt by a replay or loaded from a snapshot (image.go).

// KeyframeEvery is how many events apart the keyframes of the state are
// kept, so time travel replays at most this many events from the log.
const KeyframeEvery = 5_000

// SequenceAt resolves a moment to a ledger position: the last sequence up to
// which every event was decided at or before t. Event times follow log order
// up to the few milliseconds two concurrent decisions may overlap; resolving
// against the running latest time keeps the answer monotonic and
// deterministic.
func (c *Current) SequenceAt(t time.Time) uint64 {
	us := t.UnixMicro()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return uint64(sort.Search(len(c.clock), func(i int) bool { return c.clock[i] > us }))
}

// At calls fn with the state as it stood at sequence seq (clamped to the live
// sequence). For a past sequence it starts from the nearest keyframe at or
// before it and replays fewer events than lie between keyframes from the
// log, so time travel never replays the whole log. fn must not keep the
// state.
func (c *Current) At(ctx context.Context, seq uint64, fn func(*State) error) error {
	c.mu.RLock()
	if seq >= c.state.Sequence {
		defer c.mu.RUnlock()
		return fn(c.state)
	}
	i := int(seq/c.every) - 1
	if loading := c.loading; loading != nil && i >= 0 && i < len(c.keyframes) && c.keyframes[i] == nil {
		// A restored keyframe still being decoded.
		c.mu.RUnlock()
		select {
		case <-loading:
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.RLock()
	}
	base := NewState()
	// The nearest keyframe at or before seq; one that could not be restored
	// leaves an earlier one, or the first event.
	for i = min(i, len(c.keyframes)-1); i >= 0; i-- {
		if k := c.keyframes[i]; k != nil {
			base = k
			break
		}
	}
	state := base.Clone()
	c.mu.RUnlock()

	if state.Sequence < seq {
		err := readRange(ctx, c.source, state.Sequence+1, seq, func(rec eventlog.Record) error {
			ev, err := Decode(rec)
			if err != nil {
				return err
			}
			state.Apply(ev)
			return nil
		})
		if err != nil {
			return fmt.Errorf("replay to sequence %d: %w", seq, err)
		}
	}
	return fn(state)
}
