package projections

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/chunkfile"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Current is the read model of the ledger as it stands: the State folded up
// to the last applied event, which decisions are checked against and GETs
// answer from, with what it takes to go back in time (timetravel.go: a
// keyframe of the state every KeyframeEvery events, handed to its
// Keyframes, and the time of every event), where each item decision moved its item (for the audit trail),
// and the aggregates of the last events as they stood right after each
// (recent.go, for the answers to writes).
type Current struct {
	source Source // read for time travel; may be nil when never asked to travel
	every  uint64 // events between keyframes

	mu    sync.RWMutex
	state *State
	// hist keeps, by sequence-1, the latest event time (Unix µs) up to
	// that sequence and where an item decision took its item from and to.
	hist   history
	recent [recentAnswers]recentAnswer

	keyframes Keyframes // set before the first event, never changed after

	// The stored events since the last keyframe, framed for a segment
	// (AppendSegmentEvent), when keyframes is an EventSegments: segN
	// events after segFrom, or segN < 0 until the next keyframe when an
	// event was missed (a start from a snapshot between keyframes). Only
	// the runner's goroutine, in Apply, touches them.
	segFrom uint64
	segN    int
	seg     []byte

	// travels holds a slot for each travel into the past under way, at
	// most one a CPU: a burst of requests for the past then queues for
	// the CPU here, each holding a keyframe and a replayed state only once
	// it runs, rather than all of them at once.
	travels chan struct{}
}

// NewCurrent returns the projection of an empty ledger; it reads source to
// travel back in time, keeping a keyframe every keyframeEvery events
// (KeyframeEvery when 0) in memory until UseKeyframes says where else.
func NewCurrent(source Source, keyframeEvery uint64) *Current {
	if keyframeEvery == 0 {
		keyframeEvery = KeyframeEvery
	}
	return &Current{source: source, every: keyframeEvery, state: NewState(), keyframes: NewMemoryKeyframes(),
		travels: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
}

// UseKeyframes makes k keep the keyframes of the state from now on. It must
// be called before the projection is fed or asked to travel in time.
func (c *Current) UseKeyframes(k Keyframes) { c.keyframes = k }

// State implements roadmap.References, roadmap.Children and
// roadmap.ReviewReferences: a decision is checked against the state read
// once (Read), never against Current lock by lock.
var (
	_ roadmap.References       = (*State)(nil)
	_ roadmap.ReviewReferences = (*State)(nil)
	_ roadmap.Children         = (*State)(nil)
)

// Reserve implements Reserver: room for the move and the time of each event
// up to the given count, so a replay never copies them to grow.
func (c *Current) Reserve(events uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hist.reserve(int64(events))
}

// KeepHistoryIn makes Current keep its history of the clock and the moves
// in a file at path, made anew (whatever is there, a link included, is
// removed first), but for the last few thousand steps. It must be called
// before the projection is fed; Close closes the file.
func (c *Current) KeepHistoryIn(path string) error {
	f, err := chunkfile.Create(path, stepChunkBytes)
	if err != nil {
		return fmt.Errorf("the history file: %w", err)
	}
	c.hist = history{file: f}
	return nil
}

// Close closes the history's file, if it has one.
func (c *Current) Close() error {
	if c.hist.file == nil {
		return nil
	}
	return c.hist.file.Close()
}

// Sync makes the history's file durable up to the chunks written, so an
// image may name them.
func (c *Current) Sync() error {
	if c.hist.file == nil {
		return nil
	}
	return c.hist.file.Sync()
}

// Apply implements Projection. At a keyframe's sequence it hands a clone
// of the state to its Keyframes, after letting go of the state.
func (c *Current) Apply(ev Event) {
	keyframe := c.apply(ev)
	if segs, ok := c.keyframes.(EventSegments); ok {
		c.buffer(segs, ev)
	}
	if keyframe != nil {
		c.keyframes.Keep(keyframe, true)
	}
}

// buffer adds ev's stored bytes to the segment being gathered, and hands
// the segment to segs once whole, at the next keyframe. A segment segs
// keeps already, as a full replay finds every one but the last, is not
// gathered again.
func (c *Current) buffer(segs EventSegments, ev Event) {
	if (ev.Sequence-1)%c.every == 0 { // the first event after a keyframe
		c.segFrom, c.segN = ev.Sequence-1, 0
		if segs.HasEvents(c.segFrom, int(c.every)) {
			c.segN = -1
		}
	}
	if c.segN < 0 || ev.Sequence != c.segFrom+uint64(c.segN)+1 {
		c.segN = -1
		return
	}
	c.seg = AppendSegmentEvent(c.seg, ev.Body)
	c.segN++
	if ev.Sequence%c.every == 0 {
		segs.KeepEvents(c.segFrom, c.segN, c.seg, true)
		// The segment kept is never changed: the next one starts anew,
		// about as large.
		c.seg = make([]byte, 0, cap(c.seg))
	}
}

// apply folds ev into the projection and returns the keyframe it makes, if
// any.
func (c *Current) apply(ev Event) (keyframe *State) {
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
	c.remember(ev, m.to)
	at := ev.Envelope.Time.UnixMicro()
	if c.hist.len() > 0 {
		at = max(at, c.hist.last)
	}
	c.hist.push(step{at: at, m: m})
	if ev.Sequence%c.every == 0 {
		return c.state.Clone()
	}
	return nil
}

// Read calls fn with the live state, which fn must not keep or change.
func (c *Current) Read(fn func(*State)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	fn(c.state)
}

// ObjectiveView returns the objective with the given id as it stands.
func (c *Current) ObjectiveView(id string) (ObjectiveView, bool) {
	return readOne(c, (*State).ObjectiveView, id)
}

// ItemView returns the item with the given id as it stands.
func (c *Current) ItemView(id string) (ItemView, bool) {
	return readOne(c, (*State).ItemView, id)
}

// ReviewView returns the review with the given id as it stands.
func (c *Current) ReviewView(id string) (ReviewView, bool) {
	return readOne(c, (*State).ReviewView, id)
}

// Sequence returns the sequence of the last applied event.
func (c *Current) Sequence() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state.Sequence
}

// readOne looks up one thing in the state as it stands, by key.
func readOne[V any](c *Current, find func(*State, string) (V, bool), key string) (v V, ok bool) {
	c.Read(func(s *State) { v, ok = find(s, key) })
	return v, ok
}

// oldestFirst sorts views by the time each was made, then by id; made says
// both of a view.
func oldestFirst[V any](views []V, made func(V) (time.Time, string)) {
	slices.SortFunc(views, func(a, b V) int {
		at, aid := made(a)
		bt, bid := made(b)
		return cmp.Or(at.Compare(bt), cmp.Compare(aid, bid))
	})
}

// lookup returns a copy of the view of key in views, if any: views are
// never changed in place, so the copy is the view as it stands.
func lookup[V any](views map[string]*V, key string) (V, bool) {
	if v := views[key]; v != nil {
		return *v, true
	}
	var zero V
	return zero, false
}

// values returns a copy of every view in views, in no order.
func values[V any](views map[string]*V) []V {
	out := make([]V, 0, len(views))
	for _, v := range views {
		out = append(out, *v)
	}
	return out
}

// copyOf is a copy of the view old points at, to evolve without touching
// it: the zero view when old is nil, for an aggregate not seen before.
func copyOf[V any](old *V) V {
	var v V
	if old != nil {
		v = *old
	}
	return v
}
