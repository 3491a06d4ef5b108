package projections

import (
	"slices"
	"sync"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// ObjectiveView is an objective as it stands, with its version: the sequence
// of its last event, which is also its ETag.
type ObjectiveView struct {
	roadmap.Objective
	Version uint64
	// Head is the hash of the objective's last event, the link the next one
	// chains to.
	Head string
}

// ItemView is an item as it stands, with its place on the roadmap and its
// version.
type ItemView struct {
	roadmap.Item
	// Rank is the 1-based position within the horizon, 0 when off the roadmap.
	Rank    int
	Version uint64
	Head    string
}

// IdempotencyEntry remembers the request behind an event that came with an
// Idempotency-Key, and the answer it got, so a retry gets the same answer.
type IdempotencyEntry struct {
	RequestHash string
	Sequence    uint64
	EventType   string
	// Answer is the ObjectiveView or ItemView right after the event.
	Answer any
}

// Current is the state of every objective and item as of the last applied
// event: what decisions are checked against and what GETs answer from. It
// keeps, per product, the ordered list of items in each horizon, so ranks are
// positions applied in log order.
type Current struct {
	mu          sync.RWMutex
	objectives  map[string]*ObjectiveView
	items       map[string]*ItemView
	horizons    map[string]map[roadmap.Horizon][]string // product → horizon → item ids in rank order
	idempotency map[string]IdempotencyEntry
}

// NewCurrent returns an empty projection.
func NewCurrent() *Current {
	return &Current{
		objectives:  map[string]*ObjectiveView{},
		items:       map[string]*ItemView{},
		horizons:    map[string]map[roadmap.Horizon][]string{},
		idempotency: map[string]IdempotencyEntry{},
	}
}

var _ roadmap.References = (*Current)(nil)

// Apply implements Projection.
func (c *Current) Apply(ev Event) {
	if ev.Data == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	env := ev.Envelope
	var answer any
	switch env.AggregateType {
	case "objective":
		o := c.objectives[env.AggregateID]
		if o == nil {
			o = &ObjectiveView{}
			c.objectives[env.AggregateID] = o
		}
		o.Objective = roadmap.EvolveObjective(o.Objective, env.AggregateID, ev.Data)
		o.Version, o.Head = ev.Sequence, env.Hash
		answer = *o
	case "item":
		it := c.items[env.AggregateID]
		if it == nil {
			it = &ItemView{}
			c.items[env.AggregateID] = it
		}
		before := it.Item
		it.Item = roadmap.EvolveItem(it.Item, env.AggregateID, ev.Data)
		it.Version, it.Head = ev.Sequence, env.Hash
		c.move(before, it.Item, ev.Data)
		answer = c.itemLocked(env.AggregateID)
	}
	if ev.IdempotencyKey != "" {
		c.idempotency[ev.IdempotencyKey] = IdempotencyEntry{
			RequestHash: ev.RequestHash, Sequence: ev.Sequence, EventType: env.Type, Answer: answer,
		}
	}
}

// move keeps the horizon lists in step with a decision on one item.
func (c *Current) move(before, after roadmap.Item, e roadmap.Event) {
	if before.Status == roadmap.StatusOnRoadmap {
		list := c.horizons[before.Product][before.Horizon]
		if i := slices.Index(list, before.ID); i >= 0 {
			c.horizons[before.Product][before.Horizon] = slices.Delete(list, i, i+1)
		}
	}
	if after.Status != roadmap.StatusOnRoadmap {
		return
	}
	var rank *int
	switch e := e.(type) {
	case *roadmap.ItemPrioritised:
		rank = e.Rank
	case *roadmap.ItemReprioritised:
		rank = e.Rank
	}
	byHorizon := c.horizons[after.Product]
	if byHorizon == nil {
		byHorizon = map[roadmap.Horizon][]string{}
		c.horizons[after.Product] = byHorizon
	}
	list := byHorizon[after.Horizon]
	pos := len(list)
	if rank != nil {
		pos = min(max(*rank, 1)-1, len(list))
	}
	byHorizon[after.Horizon] = slices.Insert(list, pos, after.ID)
}

// Objective implements roadmap.References.
func (c *Current) Objective(id string) (roadmap.Objective, bool) {
	v, ok := c.ObjectiveView(id)
	return v.Objective, ok
}

// Item implements roadmap.References.
func (c *Current) Item(id string) (roadmap.Item, bool) {
	v, ok := c.ItemView(id)
	return v.Item, ok
}

// Position implements roadmap.References.
func (c *Current) Position(itemID string) (rank, size int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	it := c.items[itemID]
	if it == nil || it.Status != roadmap.StatusOnRoadmap {
		return 0, 0
	}
	list := c.horizons[it.Product][it.Horizon]
	return slices.Index(list, itemID) + 1, len(list)
}

// ObjectiveView returns the objective with the given id as it stands.
func (c *Current) ObjectiveView(id string) (ObjectiveView, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	o := c.objectives[id]
	if o == nil {
		return ObjectiveView{}, false
	}
	return *o, true
}

// ItemView returns the item with the given id as it stands.
func (c *Current) ItemView(id string) (ItemView, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.items[id] == nil {
		return ItemView{}, false
	}
	return c.itemLocked(id), true
}

func (c *Current) itemLocked(id string) ItemView {
	v := *c.items[id]
	v.Rank = 0
	if v.Status == roadmap.StatusOnRoadmap {
		v.Rank = slices.Index(c.horizons[v.Product][v.Horizon], id) + 1
	}
	return v
}

// Idempotency returns what the ledger remembers of the request made with key.
func (c *Current) Idempotency(key string) (IdempotencyEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.idempotency[key]
	return e, ok
}
