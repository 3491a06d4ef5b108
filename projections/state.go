package projections

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Decision is the last decision behind an item, as the roadmap shows it.
type Decision struct {
	Sequence  uint64
	Type      string
	Rationale string
	Actor     string
	At        time.Time
}

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
	// LastDecision is the item's last prioritisation, reprioritisation or
	// removal; nil while it is only proposed.
	LastDecision *Decision
	// Placed is the decision that put the item in the horizon it is in: a
	// move within the horizon keeps it, a move to another horizon or a
	// return to the roadmap replaces it. Nil while the item is off the
	// roadmap.
	Placed *Decision
	// Published is the decision behind the item's public statement (its
	// roadmap.Publication); nil while it is not published.
	Published *Decision
	// evidence is the evidence of LastDecision: a review compares the next
	// decision's with it to tell a raise backed by new evidence from one
	// that is not.
	evidence []string
	// handle is the item's index in State.ids: horizon lists hold handles,
	// which compare and move far faster than ids.
	handle uint32
}

// ReviewView is a governance review as it stands.
type ReviewView struct {
	roadmap.Review
	Version  uint64
	Head     string
	OpenedAt time.Time
	ClosedAt time.Time
}

// State is the ledger folded up to one sequence: every objective, item,
// review and signed checkpoint, and per product the ordered list of items in
// each horizon, so ranks are positions applied in log order. It is not safe
// for concurrent use; a Clone is cheap (views are never changed in place,
// only replaced), which is what makes checkpoints for time travel affordable.
type State struct {
	Sequence   uint64
	At         time.Time // time of the event at Sequence
	began      time.Time // time of the first event
	objectives map[string]*ObjectiveView
	items      map[string]*ItemView
	reviews    map[string]*ReviewView
	horizons   map[string]map[roadmap.Horizon][]uint32 // product → horizon → item handles in rank order
	ids        []string                                // item handle → id, in order of proposal

	// checkpoints are the signed checkpoints, by checkpoint aggregate id or,
	// for a review's, by review id.
	checkpoints map[string]*CheckpointView
	tokens      tokens
	changes     map[string]*ChangeView
	capacity    map[string]*CapacityView // by product
	webhooks    map[string]*WebhookView
	views       map[string]*SavedView // the saved views of audiences, by id
	// measurements are the KPI measurements of each objective, in log
	// order; a list is only ever replaced by a longer one.
	measurements map[string][]Measurement
	// withDependencies counts the items that declared dependencies, so
	// a ledger without any looks for no conflicts.
	withDependencies int
	// children counts the items under each parent, by the parent's id.
	children map[string]int
}

// NewState returns the state of an empty ledger.
func NewState() *State {
	return &State{
		objectives: map[string]*ObjectiveView{},
		items:      map[string]*ItemView{},
		reviews:    map[string]*ReviewView{},
		horizons:   map[string]map[roadmap.Horizon][]uint32{},

		checkpoints: map[string]*CheckpointView{},
		tokens:      newTokens(),
		changes:     map[string]*ChangeView{},
		capacity:    map[string]*CapacityView{},
		webhooks:    map[string]*WebhookView{},
		views:       map[string]*SavedView{},
		children:    map[string]int{},

		measurements: map[string][]Measurement{},
	}
}

// Clone returns an independent copy of s.
func (s *State) Clone() *State {
	c := &State{
		Sequence: s.Sequence, At: s.At, began: s.began,
		objectives: maps.Clone(s.objectives),
		items:      maps.Clone(s.items),
		reviews:    maps.Clone(s.reviews),
		horizons:   make(map[string]map[roadmap.Horizon][]uint32, len(s.horizons)),
		// Shared: ids only grow, and a clipped copy appends elsewhere.
		ids: slices.Clip(s.ids),

		checkpoints: maps.Clone(s.checkpoints),
		tokens:      s.tokens.clone(),
		changes:     maps.Clone(s.changes),
		capacity:    maps.Clone(s.capacity),
		webhooks:    maps.Clone(s.webhooks),
		views:       maps.Clone(s.views),

		measurements: maps.Clone(s.measurements),

		withDependencies: s.withDependencies,
		children:         maps.Clone(s.children),
	}
	for product, byHorizon := range s.horizons {
		cp := make(map[roadmap.Horizon][]uint32, len(byHorizon))
		for h, ids := range byHorizon {
			cp[h] = slices.Clone(ids)
		}
		c.horizons[product] = cp
	}
	return c
}

// Apply folds one event into s.
func (s *State) Apply(ev Event) { s.apply(ev) }

// apply folds one event into s. For a decision on an item it also returns
// where the item stood right before and right after it, and moved is true.
func (s *State) apply(ev Event) (from, to Place, moved bool) {
	s.Sequence, s.At = ev.Sequence, ev.Envelope.Time
	if s.began.IsZero() {
		s.began = ev.Envelope.Time
	}
	if ev.Data == nil {
		return from, to, false
	}
	env := ev.Envelope
	switch env.AggregateType {
	case "objective":
		o := copyOf(s.objectives[env.AggregateID])
		o.Objective = roadmap.EvolveObjective(o.Objective, env.AggregateID, ev.Data)
		o.Version, o.Head = ev.Sequence, env.Hash
		s.objectives[env.AggregateID] = &o
		s.applyMeasurement(ev)
	case "item":
		it := ItemView{}
		if old := s.items[env.AggregateID]; old != nil {
			it = *old
		} else {
			it.handle = uint32(len(s.ids))
			s.ids = append(s.ids, env.AggregateID)
		}
		before := it.Item
		it.Item = roadmap.EvolveItem(it.Item, env.AggregateID, ev.Data)
		it.Version, it.Head = ev.Sequence, env.Hash
		if rationale, evidence, ok := decisionOf(ev.Data); ok {
			d := &Decision{Sequence: ev.Sequence, Type: env.Type, Rationale: rationale, Actor: env.Actor, At: env.Time}
			it.LastDecision, it.evidence = d, evidence
			switch {
			case it.Status != roadmap.StatusOnRoadmap:
				it.Placed = nil
			case before.Status != roadmap.StatusOnRoadmap || before.Horizon != it.Horizon:
				it.Placed = d
			}
		}
		it.Published = published(it, ev)
		s.items[env.AggregateID] = &it
		s.relink(before, it.Item)
		fromRank, toRank := s.move(it.handle, before, it.Item, ev.Data)
		if fromRank > 0 {
			from = Place{Horizon: before.Horizon, Rank: fromRank}
		}
		if toRank > 0 {
			to = Place{Horizon: it.Horizon, Rank: toRank}
		}
		moved = true
		s.applyApproval(ev.Sequence, ev.Data)
	case "review":
		r := copyOf(s.reviews[env.AggregateID])
		r.Review = roadmap.EvolveReview(r.Review, env.AggregateID, ev.Data)
		r.Version, r.Head = ev.Sequence, env.Hash
		switch e := ev.Data.(type) {
		case *roadmap.ReviewOpened:
			r.OpenedAt = env.Time
		case *roadmap.ReviewClosed:
			r.ClosedAt = env.Time
			s.reviewCheckpoint(env.AggregateID, ev.Sequence, e)
		}
		s.reviews[env.AggregateID] = &r
	case "checkpoint":
		s.applyCheckpoint(ev)
	case "token":
		s.applyToken(ev)
	case "change":
		s.applyChange(ev)
	case "product":
		s.applyProduct(ev)
	case "webhook":
		s.applyWebhook(ev)
	case "view":
		s.applyView(ev)
	}
	return from, to, moved
}

// decisionOf returns the rationale and evidence of an item decision, and
// false for an event that is not one.
func decisionOf(e roadmap.Event) (rationale string, evidence []string, ok bool) {
	switch e := e.(type) {
	case *roadmap.ItemPrioritised:
		return e.Rationale, e.Evidence, true
	case *roadmap.ItemReprioritised:
		return e.Rationale, e.Evidence, true
	case *roadmap.ItemRemoved:
		return e.Rationale, e.Evidence, true
	case *roadmap.ItemDelivered:
		return e.Rationale, e.Evidence, true
	}
	return "", nil, false
}

// relink keeps the counts of parents' children and of items with
// dependencies in step with an item's event, which took it from before (the
// zero Item for a proposal) to after.
func (s *State) relink(before, after roadmap.Item) {
	if before.ParentID != after.ParentID {
		if before.ParentID != "" {
			if s.children[before.ParentID]--; s.children[before.ParentID] <= 0 {
				delete(s.children, before.ParentID)
			}
		}
		if after.ParentID != "" {
			s.children[after.ParentID]++
		}
	}
	switch had, has := len(before.DependsOn()) > 0, len(after.DependsOn()) > 0; {
	case has && !had:
		s.withDependencies++
	case had && !has:
		s.withDependencies--
	}
}

// HasChildren implements roadmap.Children: whether any item has the given
// item as its parent.
func (s *State) HasChildren(itemID string) bool { return s.children[itemID] > 0 }

// move keeps the horizon lists in step with a decision on one item. It
// changes the lists in place: a clone owns copies of them. It returns the
// item's rank before and after, 0 when off the roadmap: an item is in one
// list at most, so these are its Position before and after. An edit moves
// an item only when it changes the item's product, to the end of the same
// horizon of the new product.
func (s *State) move(handle uint32, before, after roadmap.Item, e roadmap.Event) (fromRank, toRank int) {
	if _, edit := e.(*roadmap.ItemEdited); (edit && before.Product == after.Product) || publicOnly(e) {
		rank := 0
		if after.Status == roadmap.StatusOnRoadmap {
			rank = slices.Index(s.horizons[after.Product][after.Horizon], handle) + 1
		}
		return rank, rank
	}
	if before.Status == roadmap.StatusOnRoadmap {
		list := s.horizons[before.Product][before.Horizon]
		if i := slices.Index(list, handle); i >= 0 {
			s.horizons[before.Product][before.Horizon] = slices.Delete(list, i, i+1)
			fromRank = i + 1
		}
	}
	if after.Status != roadmap.StatusOnRoadmap {
		return fromRank, 0
	}
	var rank *int
	switch e := e.(type) {
	case *roadmap.ItemPrioritised:
		rank = e.Rank
	case *roadmap.ItemReprioritised:
		rank = e.Rank
	}
	byHorizon := s.horizons[after.Product]
	if byHorizon == nil {
		byHorizon = map[roadmap.Horizon][]uint32{}
		s.horizons[after.Product] = byHorizon
	}
	list := byHorizon[after.Horizon]
	pos := len(list)
	if rank != nil {
		pos = min(max(*rank, 1)-1, len(list))
	}
	byHorizon[after.Horizon] = slices.Insert(list, pos, handle)
	return fromRank, pos + 1
}

// Objective implements roadmap.References.
func (s *State) Objective(id string) (roadmap.Objective, bool) {
	o := s.objectives[id]
	if o == nil {
		return roadmap.Objective{}, false
	}
	return o.Objective, true
}

// Item implements roadmap.References.
func (s *State) Item(id string) (roadmap.Item, bool) {
	it := s.items[id]
	if it == nil {
		return roadmap.Item{}, false
	}
	return it.Item, true
}

// Position implements roadmap.References.
func (s *State) Position(itemID string) (rank, size int) {
	it := s.items[itemID]
	if it == nil || it.Status != roadmap.StatusOnRoadmap {
		return 0, 0
	}
	list := s.horizons[it.Product][it.Horizon]
	return slices.Index(list, it.handle) + 1, len(list)
}

// Began implements roadmap.ReviewReferences: the time of the ledger's first
// event, zero before it.
func (s *State) Began() time.Time { return s.began }

// ReviewForPeriod implements roadmap.ReviewReferences: a cancelled review
// leaves its period free.
func (s *State) ReviewForPeriod(period string) (string, bool) {
	for id, r := range s.reviews {
		if r.Period == period && r.Status != roadmap.ReviewStatusCancelled {
			return id, true
		}
	}
	return "", false
}

// ObjectiveView returns the objective with the given id.
func (s *State) ObjectiveView(id string) (ObjectiveView, bool) { return lookup(s.objectives, id) }

// ItemView returns the item with the given id, with its rank.
func (s *State) ItemView(id string) (ItemView, bool) {
	it := s.items[id]
	if it == nil {
		return ItemView{}, false
	}
	v := *it
	v.Rank, _ = s.Position(id)
	return v, true
}

// ReviewView returns the review with the given id.
func (s *State) ReviewView(id string) (ReviewView, bool) { return lookup(s.reviews, id) }

// Reviews returns every review, oldest period first.
func (s *State) Reviews() []ReviewView {
	out := values(s.reviews)
	slices.SortFunc(out, func(a, b ReviewView) int {
		if a.Period != b.Period {
			return cmp.Compare(a.Period, b.Period)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Heads returns the chain heads of every aggregate in s.
func (s *State) Heads() roadmap.ChainHeads {
	lines := make([]string, 0, len(s.objectives)+len(s.items)+len(s.reviews)+len(s.checkpoints))
	for id, o := range s.objectives {
		lines = append(lines, "objective/"+id+" "+o.Head+"\n")
	}
	for id, it := range s.items {
		lines = append(lines, "item/"+id+" "+it.Head+"\n")
	}
	for id, r := range s.reviews {
		lines = append(lines, "review/"+id+" "+r.Head+"\n")
	}
	for id, c := range s.checkpoints {
		if c.ReviewID == "" { // a review's checkpoint is in the review's chain
			lines = append(lines, "checkpoint/"+id+" "+c.Head+"\n")
		}
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
	}
	return roadmap.ChainHeads{Aggregates: len(lines), Digest: hex.EncodeToString(h.Sum(nil))}
}
