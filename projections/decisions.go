package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
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

// move is where one event took its item from and to, packed into twelve
// bytes so the projection can keep one per event of a long ledger.
type move struct {
	from, to packedPlace
}

// packedPlace is a Place as a horizon index (0 off the roadmap, else 1 + its
// index in roadmap.Horizons) and a rank.
type packedPlace struct {
	horizon uint8
	rank    uint32
}

func pack(p Place) packedPlace {
	if p.Rank == 0 {
		return packedPlace{}
	}
	return packedPlace{horizon: uint8(slices.Index(roadmap.Horizons, p.Horizon) + 1), rank: uint32(p.Rank)}
}

func (p packedPlace) unpack() Place {
	if p.horizon == 0 {
		return Place{}
	}
	return Place{Horizon: roadmap.Horizons[p.horizon-1], Rank: int(p.rank)}
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
	// Provenance is where an import's proposal or edit came from; nil for
	// any other event.
	Provenance *roadmap.Provenance
	PrevHash   string
	Hash       string
}

// IsDecision reports whether an event type is a decision a review goes
// through: a prioritisation, reprioritisation or removal of an item, or the
// definition or retirement of an objective.
func IsDecision(eventType string) bool {
	switch eventType {
	case roadmap.TypeItemPrioritised, roadmap.TypeItemReprioritised, roadmap.TypeItemRemoved, roadmap.TypeItemDelivered,
		roadmap.TypeObjectiveDefined, roadmap.TypeObjectiveRetired,
		roadmap.TypeChangeProposed, roadmap.TypeChangeApproved, roadmap.TypeChangeRejected:
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
	if rec.Sequence >= 1 && rec.Sequence <= uint64(len(c.moves)) && env.AggregateType == "item" {
		m := c.moves[rec.Sequence-1]
		from, to := m.from.unpack(), m.to.unpack()
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
		r.ObjectiveIDs = e.ObjectiveIDs
	case *roadmap.ItemPrioritised:
		r.Rationale, r.Evidence, r.Score, r.ObjectiveIDs = e.Rationale, e.Evidence, e.Score, e.ObjectiveIDs
	case *roadmap.ItemReprioritised:
		r.Rationale, r.Evidence, r.Score, r.ObjectiveIDs = e.Rationale, e.Evidence, e.Score, e.ObjectiveIDs
	case *roadmap.ItemRemoved:
		r.Rationale, r.Evidence = e.Rationale, e.Evidence
	case *roadmap.ItemDelivered:
		r.Rationale, r.Evidence = e.Rationale, e.Evidence
	case *roadmap.ChangeProposed:
		if e.Placement != nil {
			r.Rationale, r.Evidence, r.Score = e.Placement.Rationale, e.Placement.Evidence, e.Placement.Score
		} else if e.Removal != nil {
			r.Rationale, r.Evidence = e.Removal.Rationale, e.Removal.Evidence
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
func (c *Current) FirstSequenceFrom(t time.Time) uint64 {
	us := t.UnixMicro()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return uint64(sort.Search(len(c.clock), func(i int) bool { return c.clock[i] >= us })) + 1
}
