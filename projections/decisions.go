package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Place is where an item stood on the roadmap: a horizon and a rank. The zero
// Place is off the roadmap.
type Place struct {
	Horizon roadmap.Horizon
	Rank    int
}

// move is where one event took its item from and to, packed into eight
// bytes so the projection can keep one per event of a long ledger.
type move struct {
	from, to packedPlace
}

// packedPlace is a Place in 32 bits: the horizon index in the top two (0
// off the roadmap, else 1 + its index in roadmap.Horizons) and the rank in
// the other thirty. No horizon holds a billion items: a ledger would need
// a billion events to place them.
type packedPlace uint32

const rankBits = 30

func pack(p Place) packedPlace {
	if p.Rank == 0 {
		return 0
	}
	return packPlace(uint8(slices.Index(roadmap.Horizons, p.Horizon)+1), uint32(p.Rank))
}

func packPlace(horizon uint8, rank uint32) packedPlace {
	return packedPlace(uint32(horizon)<<rankBits | rank&(1<<rankBits-1))
}

func (p packedPlace) horizon() uint8 { return uint8(p >> rankBits) }
func (p packedPlace) rank() uint32   { return uint32(p) & (1<<rankBits - 1) }

func (p packedPlace) unpack() Place {
	if p.horizon() == 0 {
		return Place{}
	}
	return Place{Horizon: roadmap.Horizons[p.horizon()-1], Rank: int(p.rank())}
}

func (s *State) place(itemID string) Place {
	rank, _ := s.Position(itemID)
	if rank == 0 {
		return Place{}
	}
	return Place{Horizon: s.items[itemID].Horizon, Rank: rank}
}

// Record is one event of the ledger with what the projections know of it:
// who did what, when and why, where the item went, and the hash chain links.
// The API shows it as an AuditEvent.
type Record struct {
	Sequence      uint64
	EventID       string
	Type          string
	At            time.Time
	Actor         string
	AggregateType string
	AggregateID   string
	Product       string
	Title         string
	Rationale     string
	Evidence      []string
	From          *Place
	To            *Place
	Score         *roadmap.Score
	ObjectiveIDs  []string
	// Changes are the fields an edit changed (or, for a change held for
	// approval, will change), in field order; nil for other events.
	Changes []FieldChange
	// Provenance is where an imported item came from, on the proposal or
	// edit an import made; nil otherwise.
	Provenance *roadmap.Provenance
	PrevHash   string
	Hash       string
}

// FieldChange is one field an edit changed, by its name in the API
// ("title", "objective_ids", ...), with its value before and after: a
// string, a list of strings, an effort in points (an int), or nil for no
// parent or no effort.
type FieldChange struct {
	Field  string
	Before any
	After  any
}

// itemChanges returns the fields e changed with their values.
func EditChanges(e *roadmap.ItemEdited) []FieldChange {
	out := make([]FieldChange, 0, len(e.Changed))
	for _, f := range e.Changed {
		out = append(out, FieldChange{Field: f, Before: itemField(e.Before, f), After: itemField(e.After, f)})
	}
	return out
}

// itemField is the value of one field of d, as FieldChange holds it.
func itemField(d roadmap.ItemDetails, field string) any {
	switch field {
	case "title":
		return d.Title
	case "description":
		return d.Description
	case "kind":
		return string(d.Kind)
	case "parent_id":
		if d.ParentID == "" {
			return nil
		}
		return d.ParentID
	case "product":
		return d.Product
	case "objective_ids":
		return NonNil(d.ObjectiveIDs)
	case "effort":
		if d.Effort == nil {
			return nil
		}
		return *d.Effort
	case "depends_on":
		return NonNil(d.DependsOn)
	case "risks":
		return NonNil(d.Risks)
	}
	return nil
}

// objectiveChanges returns the fields e changed with their values.
func objectiveChanges(e *roadmap.ObjectiveEdited) []FieldChange {
	value := func(d roadmap.ObjectiveDetails, field string) any {
		return map[string]string{"title": d.Title, "description": d.Description, "kpi": d.KPI, "target": d.Target}[field]
	}
	out := make([]FieldChange, 0, len(e.Changed))
	for _, f := range e.Changed {
		out = append(out, FieldChange{Field: f, Before: value(e.Before, f), After: value(e.After, f)})
	}
	return out
}

// IsDecision reports whether an event type is a decision a review goes
// through: a prioritisation, reprioritisation, removal, delivery or edit of
// an item, the definition, retirement or edit of an objective, or a step
// of a major change.
func IsDecision(eventType string) bool {
	switch eventType {
	case roadmap.TypeItemPrioritised, roadmap.TypeItemReprioritised, roadmap.TypeItemRemoved, roadmap.TypeItemDelivered,
		roadmap.TypeItemEdited, roadmap.TypeObjectiveDefined, roadmap.TypeObjectiveRetired, roadmap.TypeObjectiveEdited,
		roadmap.TypeItemPublished, roadmap.TypeItemUnpublished, roadmap.TypeChangeProposed, roadmap.TypeChangeApproved, roadmap.TypeChangeRejected:
		return true
	}
	return false
}

// Record returns the audit record of one stored event, with its item's
// places before and after from the projection.
func (c *Current) Record(rec eventlog.Record) (Record, error) {
	ev, err := Decode(rec)
	if err != nil {
		return Record{}, err
	}
	env := rec.Envelope
	r := Record{
		Sequence: rec.Sequence, EventID: env.ID, Type: env.Type, At: env.Time, Actor: env.Actor,
		AggregateType: env.AggregateType, AggregateID: env.AggregateID, PrevHash: env.PrevHash, Hash: env.Hash,
	}
	c.mu.RLock()
	if rec.Sequence >= 1 && int64(rec.Sequence) <= c.hist.len() && env.AggregateType == "item" {
		s, err := c.hist.step(int64(rec.Sequence) - 1)
		if err != nil {
			c.mu.RUnlock()
			return Record{}, err
		}
		from, to := s.m.from.unpack(), s.m.to.unpack()
		r.From, r.To = &from, &to
	}
	switch env.AggregateType {
	case "item":
		if it := c.state.items[env.AggregateID]; it != nil {
			r.Product, r.Title = it.Product, it.Title
		}
	case "objective":
		if o := c.state.objectives[env.AggregateID]; o != nil {
			r.Product, r.Title = o.Product, o.Title
		}
	case "review":
		if rv := c.state.reviews[env.AggregateID]; rv != nil {
			r.Title = rv.Title
		}
	case "change":
		// A change reads as a decision on its item.
		if ch := c.state.changes[env.AggregateID]; ch != nil {
			if it := c.state.items[ch.ItemID]; it != nil {
				r.Product, r.Title = it.Product, it.Title
			}
		}
	}
	c.mu.RUnlock()

	switch e := ev.Data.(type) {
	case *roadmap.ItemProposed:
		r.ObjectiveIDs, r.Provenance = e.ObjectiveIDs, e.Provenance
	case *roadmap.ItemEdited:
		r.Rationale, r.Evidence, r.ObjectiveIDs = e.Rationale, e.Evidence, e.After.ObjectiveIDs
		r.Changes, r.Provenance = EditChanges(e), e.Provenance
	case *roadmap.ObjectiveEdited:
		r.Rationale, r.Evidence, r.Changes = e.Rationale, e.Evidence, objectiveChanges(e)
	case *roadmap.ItemPrioritised:
		r.Rationale, r.Evidence, r.Score, r.ObjectiveIDs = e.Rationale, e.Evidence, e.Score, e.ObjectiveIDs
	case *roadmap.ItemReprioritised:
		r.Rationale, r.Evidence, r.Score, r.ObjectiveIDs = e.Rationale, e.Evidence, e.Score, e.ObjectiveIDs
	case *roadmap.ItemRemoved:
		r.Rationale, r.Evidence = e.Rationale, e.Evidence
	case *roadmap.ItemDelivered:
		r.Rationale, r.Evidence = e.Rationale, e.Evidence
	case *roadmap.ItemPublished:
		r.Rationale, r.Evidence = e.Rationale, e.Evidence
	case *roadmap.ItemUnpublished:
		r.Rationale, r.Evidence = e.Rationale, e.Evidence
	case *roadmap.ChangeProposed:
		if held := e.Held(); held != nil {
			r.Rationale, r.Evidence = held.Why()
		}
		if e.Placement != nil {
			r.Score = e.Placement.Score
		}
		if e.Edit != nil {
			r.Changes = EditChanges(e.Edit)
		}
	case *roadmap.ChangeApproved:
		r.Rationale, r.Evidence = e.Rationale, e.Evidence
	case *roadmap.ChangeRejected:
		r.Rationale, r.Evidence = e.Rationale, e.Evidence
	case *roadmap.TokenRevoked:
		r.Rationale = e.Reason
	case *roadmap.ObjectiveRetired:
		r.Rationale = e.Rationale
	case *roadmap.ReviewClosed:
		r.Rationale = e.Notes
	case *roadmap.ReviewCancelled:
		r.Rationale, r.Evidence = e.Rationale, e.Evidence
	}
	r.Provenance = provenanceOf(ev.Data)
	return r, nil
}

// errEnough stops a scan early.
var errEnough = errors.New("enough")

// Scan calls fn with the audit record of every event with a sequence from
// from to to (both included; to is clamped to the projection's sequence), in
// log order, streaming from the log: nothing is gathered in memory. Each
// event is verified as it is read (eventlog.Decode); a stored event that does
// not verify stops the scan with eventlog.ErrTampered. fn returns false to
// stop early.
func (c *Current) Scan(ctx context.Context, from, to uint64, fn func(Record) (bool, error)) error {
	to = min(to, c.Sequence())
	from = max(from, 1)
	if from > to {
		return nil
	}
	err := c.source.ReadRange(ctx, from, to, func(rec eventlog.Record) error {
		if _, err := eventlog.Decode(rec.Body); err != nil {
			return fmt.Errorf("sequence %d: %w", rec.Sequence, err)
		}
		r, err := c.Record(rec)
		if err != nil {
			return err
		}
		more, err := fn(r)
		if err != nil {
			return err
		}
		if !more {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		return nil
	}
	return err
}

// FirstSequenceFrom returns the first sequence whose event may have been
// decided at or after t: every event before it was decided before t.
func (c *Current) FirstSequenceFrom(t time.Time) (uint64, error) {
	us := t.UnixMicro()
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, err := c.hist.search(func(at int64) bool { return at >= us })
	return uint64(i) + 1, err
}
