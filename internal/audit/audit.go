// Package audit answers what an auditor asks of the log: the history of an
// item or an objective, an item's why chain up to the objectives, the events
// of the whole ledger that pass a filter, and the signed manifest of an
// export bundle. It reads the events from the log itself, each verified as
// it is read and each aggregate's chain checked link by link, and takes from the projections only
// what the log does not say (where a decision moved its item, the state a
// why chain is read from). It returns typed values; the API encodes them.
package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Log is the event log as the audit trail reads it.
type Log interface {
	// Read calls fn with one aggregate's events, oldest first, verified.
	Read(ctx context.Context, aggregateType, aggregateID string, fn func(eventlog.Record) error) error
	// Follow calls fn with every event from a sequence on, in order.
	Follow(ctx context.Context, from uint64, fn func(eventlog.Record) error) error
}

// Views are the projections the audit trail reads beside the log.
type Views interface {
	// Read calls fn with the live state.
	Read(fn func(*projections.State))
	// Record is a stored event as the audit trail shows it, with the
	// places its item moved between.
	Record(rec eventlog.Record) (projections.Record, error)
	// Scan calls fn with the records from sequence from to to, in order,
	// until fn returns false.
	Scan(ctx context.Context, from, to uint64, fn func(projections.Record) (bool, error)) error
	// Clock turns moments into ledger positions.
	Clock
}

var (
	_ Log   = (*eventlog.Log)(nil)
	_ Views = (*projections.Current)(nil)
)

// MaxWhyDepth bounds the chain of parents a why chain follows.
const MaxWhyDepth = 32

// errStop ends a read of the log early.
var errStop = errors.New("stop reading")

// Trail is the audit trail of a ledger.
type Trail struct {
	log   Log
	views Views
}

// New returns the audit trail of log, with the places and the state views
// give.
func New(log Log, views Views) *Trail { return &Trail{log: log, views: views} }

// History returns every event of item id up to the ledger's position as it
// stands, oldest first, and that position. It returns roadmap.ErrNotFound
// for an unknown item, and an error wrapping eventlog.ErrTampered when a
// stored event or a link of the item's chain does not verify.
func (t *Trail) History(ctx context.Context, id string) (uint64, []projections.Record, error) {
	return t.history(ctx, "item", id, func(st *projections.State) bool {
		_, ok := st.ItemView(id)
		return ok
	})
}

// ObjectiveHistory returns every event of objective id as History does for
// an item.
func (t *Trail) ObjectiveHistory(ctx context.Context, id string) (uint64, []projections.Record, error) {
	return t.history(ctx, "objective", id, func(st *projections.State) bool {
		_, ok := st.ObjectiveView(id)
		return ok
	})
}

// history returns every event of the aggregate of a type and id up to the
// ledger's position as it stands, and that position; known says whether
// the state holds it.
func (t *Trail) history(ctx context.Context, aggregateType, id string, known func(*projections.State) bool) (uint64, []projections.Record, error) {
	var found bool
	var seq uint64
	t.views.Read(func(st *projections.State) {
		found, seq = known(st), st.Sequence
	})
	if !found {
		return 0, nil, fmt.Errorf("%w: no %s %q", roadmap.ErrNotFound, aggregateType, id)
	}
	records, err := t.records(ctx, aggregateType, id, seq)
	return seq, records, err
}

// Why returns the why chain of item id: the item, the objectives it serves
// and its parent initiative (and the parent's own), each link with the
// decision that made it, all as of one position of the ledger, which it
// also returns. It returns the errors of History.
func (t *Trail) Why(ctx context.Context, id string) (uint64, *projections.WhyNode, error) {
	// The chain is taken from one state, so it is consistent, and the log
	// is read only up to that state's sequence.
	var root *projections.WhyNode
	var seq uint64
	t.views.Read(func(st *projections.State) {
		seq = st.Sequence
		var child *projections.WhyNode
		seen := map[string]bool{}
		for next := id; next != "" && !seen[next] && len(seen) < MaxWhyDepth; {
			seen[next] = true
			v, ok := st.ItemView(next)
			if !ok {
				break
			}
			node := whyNode(st, v)
			if child == nil {
				root = node
			} else {
				child.Parent = node
			}
			child, next = node, v.ParentID
		}
	})
	if root == nil {
		return 0, nil, fmt.Errorf("%w: no item %q", roadmap.ErrNotFound, id)
	}
	for node := root; node != nil; node = node.Parent {
		history, err := t.records(ctx, "item", node.ID, seq)
		if err != nil {
			return 0, nil, err
		}
		links := projections.ObjectiveLinks(history)
		for i := range node.Objectives {
			if r, ok := links[node.Objectives[i].ID]; ok {
				link := projections.NewWhyLink(r)
				node.Objectives[i].LinkedBy = &link
			}
		}
		if node.Parent != nil {
			if r, ok := projections.ParentLinkOf(history); ok {
				link := projections.NewWhyLink(r)
				node.Parent.LinkedBy = &link
			}
		}
	}
	return seq, root, nil
}

// whyNode is the node of the why chain for an item, without its parent and
// links.
func whyNode(st *projections.State, v projections.ItemView) *projections.WhyNode {
	it := v.Item
	n := &projections.WhyNode{
		ID: it.ID, Title: it.Title, Kind: it.Kind, Product: it.Product, Status: it.Status,
		Version: v.Version, LastDecision: v.LastDecision, Objectives: []projections.WhyObjective{},
	}
	if v.Rank > 0 {
		n.Place = projections.Place{Horizon: it.Horizon, Rank: v.Rank}
	}
	for _, oid := range it.ObjectiveIDs {
		o, ok := st.ObjectiveView(oid)
		if !ok {
			continue
		}
		n.Objectives = append(n.Objectives, projections.WhyObjective{
			ID: oid, Title: o.Title, KPI: o.KPI, Target: o.Target, Product: o.Product, Status: o.Status,
		})
	}
	return n
}

// records returns the records of the events of the aggregate of a type
// and id up to sequence upTo, oldest first, read from the log, which
// verifies each event's hash; it checks that they link up into the
// aggregate's hash chain.
func (t *Trail) records(ctx context.Context, aggregateType, id string, upTo uint64) ([]projections.Record, error) {
	var out []projections.Record
	prev := ""
	err := t.log.Read(ctx, aggregateType, id, func(rec eventlog.Record) error {
		if rec.Sequence > upTo {
			return errStop
		}
		if rec.Envelope.PrevHash != prev {
			return fmt.Errorf("%w: event %d of %s %s does not link to the one before it", eventlog.ErrTampered, rec.Sequence, aggregateType, id)
		}
		prev = rec.Envelope.Hash
		r, err := t.views.Record(rec)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, fmt.Errorf("read %s %s: %w", aggregateType, id, err)
	}
	return out, nil
}

// Filter says which events Scan gives.
type Filter struct {
	// Item, when set, is the one item whose events are read: from its
	// own subject, not the whole log.
	Item string
	// Since and Until, when set, keep only the events decided at or after
	// Since and at or before Until.
	Since, Until *time.Time
	// Match, when set, keeps only the records it says true of.
	Match func(projections.Record) bool
}

// UntilSlack is how far past Until a scan reads before it stops: event
// times follow log order only up to the few milliseconds concurrent
// decisions overlap, so an event decided before Until may come after one
// decided just past it.
const UntilSlack = time.Minute

// Clock is where moments fall in the log, as the projections know it.
type Clock interface {
	FirstSequenceFrom(t time.Time) (uint64, error)
	SequenceAt(t time.Time) (uint64, error)
}

// Span narrows the sequences from to to to those of the events that may
// have been decided from since to until (either may be nil): from the
// first event whose clock reaches since, to the last whose clock is at
// most slack past until.
func Span(c Clock, since, until *time.Time, slack time.Duration, from, to uint64) (uint64, uint64, error) {
	if since != nil {
		first, err := c.FirstSequenceFrom(*since)
		if err != nil {
			return 0, 0, err
		}
		from = max(from, first)
	}
	if until != nil {
		last, err := c.SequenceAt(until.Add(slack))
		if err != nil {
			return 0, 0, err
		}
		to = min(to, last)
	}
	return from, to, nil
}

// Scan calls fn with every record from sequence from to to that passes f,
// in log order, until fn returns false or an error, which Scan returns.
func (t *Trail) Scan(ctx context.Context, f Filter, from, to uint64, fn func(projections.Record) (bool, error)) error {
	from, to, err := Span(t.views, f.Since, f.Until, UntilSlack, from, to)
	if err != nil {
		return err
	}
	if from > to {
		return nil
	}
	keep := func(r projections.Record) bool {
		switch {
		case f.Since != nil && r.At.Before(*f.Since), f.Until != nil && r.At.After(*f.Until):
			return false
		}
		return f.Match == nil || f.Match(r)
	}
	if f.Item == "" {
		return t.views.Scan(ctx, from, to, func(r projections.Record) (bool, error) {
			if !keep(r) {
				return true, nil
			}
			return fn(r)
		})
	}
	err = t.log.Read(ctx, "item", f.Item, func(rec eventlog.Record) error {
		if rec.Sequence < from {
			return nil
		}
		if rec.Sequence > to {
			return errStop
		}
		r, err := t.views.Record(rec)
		if err != nil || !keep(r) {
			return err
		}
		more, err := fn(r)
		if err == nil && !more {
			err = errStop
		}
		return err
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}
