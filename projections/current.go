package projections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// CheckpointEvery is how many events apart the checkpoints of the state are
// kept, so time travel replays at most this many events from the log.
const CheckpointEvery = 5_000

// IdempotencyEntry remembers the request behind an event that came with an
// Idempotency-Key, so a retry gets the same answer: the aggregate as it stood
// right after that event, which the ledger rebuilds when asked. It keeps no
// copy of the answer: a ledger with a million keyed decisions holds a million
// entries.
type IdempotencyEntry struct {
	RequestHash   [sha256.Size]byte
	Sequence      uint64
	EventType     string
	AggregateType string
	AggregateID   string
}

// Current is the live state of the ledger as of the last applied event, what
// decisions are checked against and GETs answer from, with what it takes to
// go back in time: a checkpoint of the state every CheckpointEvery events and
// the time of every event.
type Current struct {
	source Source // read for time travel; may be nil when never asked to travel
	every  uint64 // events between checkpoints

	mu          sync.RWMutex
	state       *State
	idempotency map[string]IdempotencyEntry
	clock       []int64 // by sequence-1: the latest event time (Unix µs) up to that sequence
	moves       []move  // by sequence-1: where an item decision took its item from and to
	recent      [recentAnswers]recentAnswer
	checkpoints []*State // checkpoints[i] is the state at sequence (i+1)*every
}

// NewCurrent returns the projection of an empty ledger; it reads source to
// travel back in time, keeping a checkpoint every checkpointEvery events
// (CheckpointEvery when 0).
func NewCurrent(source Source, checkpointEvery uint64) *Current {
	if checkpointEvery == 0 {
		checkpointEvery = CheckpointEvery
	}
	return &Current{source: source, every: checkpointEvery, state: NewState(), idempotency: map[string]IdempotencyEntry{}}
}

var _ roadmap.References = (*Current)(nil)

// Reserve implements Reserver: room for the move and the time of each event
// up to the given count, so a replay never copies them to grow.
func (c *Current) Reserve(events uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := int(events); n > len(c.moves) {
		c.moves = slices.Grow(c.moves, n-len(c.moves))
		c.clock = slices.Grow(c.clock, n-len(c.clock))
	}
}

// Apply implements Projection.
func (c *Current) Apply(ev Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m move
	// A decision on an item says where it moved; an event the state skips
	// (of an unknown type) leaves the item where it was.
	item := ev.Envelope.AggregateType == "item"
	if item && ev.Data == nil {
		m.from = pack(c.state.place(ev.Envelope.AggregateID))
	}
	if from, to, moved := c.state.apply(ev); moved {
		m.from, m.to = pack(from), pack(to)
	} else if item {
		m.to = pack(c.state.place(ev.Envelope.AggregateID))
	}
	c.moves = append(c.moves, m)
	c.remember(ev, m.to)
	at := ev.Envelope.Time.UnixMicro()
	if n := len(c.clock); n > 0 {
		at = max(at, c.clock[n-1])
	}
	c.clock = append(c.clock, at)
	if ev.Sequence%c.every == 0 {
		c.checkpoints = append(c.checkpoints, c.state.Clone())
	}
	if ev.IdempotencyKey != "" && ev.Data != nil {
		var hash [sha256.Size]byte
		_, _ = hex.Decode(hash[:], []byte(ev.RequestHash))
		// The event's strings point into the message it was read from:
		// the type and aggregate strings are shared with the state, the
		// key is cloned, so no message is kept alive by the index.
		it := c.state.aggregateKey(ev.Envelope.AggregateType, ev.Envelope.AggregateID)
		c.idempotency[strings.Clone(ev.IdempotencyKey)] = IdempotencyEntry{
			RequestHash: hash, Sequence: ev.Sequence, EventType: eventTypeName(ev.Envelope.Type),
			AggregateType: it.kind, AggregateID: it.id,
		}
	}
}

// recentAnswers is how many of the last events' aggregates are remembered as
// they stood right after each, for answering a write when another decision
// on the same aggregate has landed since.
const recentAnswers = 1024

// recentAnswer is an aggregate right after one event: views are never
// changed in place, so keeping the pointer costs nothing.
type recentAnswer struct {
	seq       uint64
	objective *ObjectiveView
	item      *ItemView
	review    *ReviewView
	rank      uint32
}

func (c *Current) remember(ev Event, to packedPlace) {
	id := ev.Envelope.AggregateID
	a := recentAnswer{seq: ev.Sequence, rank: to.rank}
	switch ev.Envelope.AggregateType {
	case "objective":
		a.objective = c.state.objectives[id]
	case "item":
		a.item = c.state.items[id]
	case "review":
		a.review = c.state.reviews[id]
	}
	c.recent[ev.Sequence%recentAnswers] = a
}

// recentAt returns what is remembered of the event at seq, if it is among
// the last events applied.
func (c *Current) recentAt(seq uint64) (recentAnswer, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a := c.recent[seq%recentAnswers]
	return a, a.seq == seq
}

// RecentObjective returns the objective of the event at seq as it stood
// right after it, if seq is among the last events applied and was on an
// objective.
func (c *Current) RecentObjective(seq uint64) (ObjectiveView, bool) {
	if a, ok := c.recentAt(seq); ok && a.objective != nil {
		return *a.objective, true
	}
	return ObjectiveView{}, false
}

// RecentItem returns the item of the event at seq as it stood right after
// it, rank included, if seq is among the last events applied and was on an
// item.
func (c *Current) RecentItem(seq uint64) (ItemView, bool) {
	if a, ok := c.recentAt(seq); ok && a.item != nil {
		v := *a.item
		v.Rank = int(a.rank)
		return v, true
	}
	return ItemView{}, false
}

// RecentReview returns the review of the event at seq as it stood right
// after it, if seq is among the last events applied and was on a review.
func (c *Current) RecentReview(seq uint64) (ReviewView, bool) {
	if a, ok := c.recentAt(seq); ok && a.review != nil {
		return *a.review, true
	}
	return ReviewView{}, false
}

// Read calls fn with the live state, which fn must not keep or change.
func (c *Current) Read(fn func(*State)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	fn(c.state)
}

// Objective implements roadmap.References.
func (c *Current) Objective(id string) (o roadmap.Objective, ok bool) {
	c.Read(func(s *State) { o, ok = s.Objective(id) })
	return o, ok
}

// Item implements roadmap.References.
func (c *Current) Item(id string) (it roadmap.Item, ok bool) {
	c.Read(func(s *State) { it, ok = s.Item(id) })
	return it, ok
}

// Position implements roadmap.References.
func (c *Current) Position(itemID string) (rank, size int) {
	c.Read(func(s *State) { rank, size = s.Position(itemID) })
	return rank, size
}

// ReviewForPeriod implements roadmap.ReviewReferences.
func (c *Current) ReviewForPeriod(period string) (id string, ok bool) {
	c.Read(func(s *State) { id, ok = s.ReviewForPeriod(period) })
	return id, ok
}

// ObjectiveView returns the objective with the given id as it stands.
func (c *Current) ObjectiveView(id string) (v ObjectiveView, ok bool) {
	c.Read(func(s *State) { v, ok = s.ObjectiveView(id) })
	return v, ok
}

// ItemView returns the item with the given id as it stands.
func (c *Current) ItemView(id string) (v ItemView, ok bool) {
	c.Read(func(s *State) { v, ok = s.ItemView(id) })
	return v, ok
}

// ReviewView returns the review with the given id as it stands.
func (c *Current) ReviewView(id string) (v ReviewView, ok bool) {
	c.Read(func(s *State) { v, ok = s.ReviewView(id) })
	return v, ok
}

// Idempotency returns what the ledger remembers of the request made with key.
func (c *Current) Idempotency(key string) (IdempotencyEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.idempotency[key]
	return e, ok
}

// Sequence returns the sequence of the last applied event.
func (c *Current) Sequence() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.Sequence
}

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
// sequence). For a past sequence it starts from the nearest checkpoint at or
// before it and replays fewer events than lie between checkpoints from the log, so time
// travel never replays the whole log. fn must not keep the state.
func (c *Current) At(ctx context.Context, seq uint64, fn func(*State) error) error {
	c.mu.RLock()
	if seq >= c.state.Sequence {
		defer c.mu.RUnlock()
		return fn(c.state)
	}
	base := NewState()
	if i := int(seq/c.every) - 1; i >= 0 && i < len(c.checkpoints) {
		base = c.checkpoints[i]
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

// aggregateRef names an aggregate with strings the state already holds.
type aggregateRef struct{ kind, id string }

// aggregateKey returns the kind and id of an aggregate as the state stores
// them, so an index that names it holds no other copy.
func (s *State) aggregateKey(kind, id string) aggregateRef {
	switch kind {
	case "objective":
		if o := s.objectives[id]; o != nil {
			return aggregateRef{"objective", o.ID}
		}
	case "item":
		if it := s.items[id]; it != nil {
			return aggregateRef{"item", it.ID}
		}
	case "review":
		if r := s.reviews[id]; r != nil {
			return aggregateRef{"review", r.ID}
		}
	}
	return aggregateRef{strings.Clone(kind), strings.Clone(id)}
}

// eventTypeName returns the catalogue's own string for a known event type.
func eventTypeName(t string) string {
	for known := range roadmap.SchemaVersions {
		if known == t {
			return known
		}
	}
	return strings.Clone(t)
}
