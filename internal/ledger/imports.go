package ledger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// ImportFile is an import's command: the rows of one file of one source
// (roadmap.SourceCSV, roadmap.SourceJira), read in file order.
type ImportFile struct {
	Source string
	Rows   []roadmap.ImportRow
	// DryRun plans the import and answers what it would do, recording
	// nothing.
	DryRun bool
}

// ImportOutcome is the answer to an import: what it did, or for a dry run
// what it would do, row by row.
type ImportOutcome struct {
	// ImportID names the import in the provenance and rationales of what
	// it recorded. A dry run's is not recorded anywhere.
	ImportID string
	DryRun   bool
	// Created, Updated and Unchanged count the rows that made a new item,
	// changed an existing one (an edit, a place on the roadmap, or a change
	// held for approval) and did nothing.
	Created, Updated, Unchanged int
	// Appended is how many events the import recorded, and Sequence the
	// log position of the last; both 0 for a dry run or an import that
	// changed nothing.
	Appended int
	Sequence uint64
}

// importEvent is one event an import records, on its aggregate.
type importEvent struct {
	kind, id string
	event    roadmap.Event
}

// Import records the rows of a file, all or nothing: every row is planned
// against one copy of the ledger as it stands, each row seeing the rows
// planned before it (a parent earlier or later in the file: a row waits for
// the row of its parent's external id), and if any row cannot be recorded
// the answer is a *roadmap.ImportError listing every such row (ErrInvalid)
// and nothing is appended. Otherwise the events are appended in order, each
// expecting its aggregate where the plan left it, and the answer waits for
// the projections to apply the last. Decisions the approval policy holds
// are recorded as changes proposed; a change already pending for the same
// place is not proposed again.
//
// The events are appended one by one: an import cut short (the process
// stopped, an aggregate moved meanwhile, which is roadmap.ErrConflict) has
// recorded its first events only, and importing the same file again
// completes it, since rows match the items already imported. Imports are
// serialised in the process.
func (s *Service) Import(ctx context.Context, req Request, file ImportFile) (ImportOutcome, error) {
	if file.Source != roadmap.SourceCSV && file.Source != roadmap.SourceJira {
		return ImportOutcome{}, fmt.Errorf("%w: unknown import source %q", roadmap.ErrInvalid, file.Source)
	}
	s.importMu.Lock()
	defer s.importMu.Unlock()
	if _, err := s.caughtUp(ctx); err != nil {
		return ImportOutcome{}, err
	}
	out := ImportOutcome{ImportID: newID(), DryRun: file.DryRun}
	var st *projections.State
	s.views.Read(func(live *projections.State) { st = live.Clone() })
	planner, err := s.planImport(req, file, st, &out)
	if err != nil || file.DryRun {
		return out, err
	}
	return out, s.appendImport(ctx, req, planner, &out)
}

// planImport plans every row of file against st, applying each planned
// event to st, and counts the outcomes in out. It returns the events to
// append, or an *roadmap.ImportError.
func (s *Service) planImport(req Request, file ImportFile, st *projections.State, out *ImportOutcome) (*importPlanner, error) {
	im := roadmap.NewImport(file.Source, out.ImportID, st.ImportedItems(), newID)
	pendingChanges := st.PendingChanges()
	planner := &importPlanner{s: s, req: req, st: st, seq: st.Sequence, at: s.eventTime(), heads: map[string]head{}}
	var rowErrors []roadmap.RowError

	// A row waits while the row of its parent's external id has not been
	// planned yet.
	unplanned := map[string]int{}
	for _, row := range file.Rows {
		if row.ExternalID != "" {
			unplanned[row.ExternalID]++
		}
	}
	pending := file.Rows
	for len(pending) > 0 {
		var later []roadmap.ImportRow
		for _, row := range pending {
			if p := row.ParentExternalID; p != "" && !im.HasExternal(p) && unplanned[p] > 0 && p != row.ExternalID {
				later = append(later, row)
				continue
			}
			if row.ExternalID != "" {
				unplanned[row.ExternalID]--
			}
			plan, errs := im.Plan(row, st)
			if len(errs) > 0 {
				rowErrors = append(rowErrors, errs...)
				continue
			}
			changed := planner.record(plan, pendingChanges)
			switch {
			case plan.Outcome == roadmap.Created:
				out.Created++
			case changed:
				out.Updated++
			default:
				out.Unchanged++
			}
		}
		if len(later) == len(pending) {
			// Parents in a cycle: none will come. Planning them says so.
			for _, row := range later {
				unplanned[row.ExternalID] = 0
			}
		}
		pending = later
	}
	if len(rowErrors) > 0 {
		slices.SortStableFunc(rowErrors, func(a, b roadmap.RowError) int { return cmp.Compare(a.Line, b.Line) })
		return nil, &roadmap.ImportError{Rows: rowErrors}
	}
	return planner, nil
}

// importPlanner applies an import's planned events to its copy of the
// ledger, holding those the approval policy holds, and keeps them in
// order with where each aggregate stood before the import.
type importPlanner struct {
	s   *Service
	req Request
	st  *projections.State
	seq uint64    // the copy's last sequence, one per planned event
	at  time.Time // the time of every event of the import
	// events are the events to append, in order; heads are the versions and
	// chain heads of their aggregates as the ledger had them.
	events []importEvent
	heads  map[string]head
}

// head is where an aggregate's chain stands: its version (the sequence of
// its last event) and the hash of that event.
type head struct {
	version uint64
	hash    string
}

// record applies the events of a row's plan to the copy of the ledger,
// turning a decision the approval policy holds into a change proposed, and
// dropping one already pending. It reports whether it kept any event.
func (p *importPlanner) record(plan roadmap.RowPlan, pendingChanges map[string][]roadmap.Change) bool {
	kept := false
	for _, pe := range plan.Events {
		kind, id, e := "item", pe.ItemID, pe.Event
		if d, ok := e.(roadmap.ItemDecision); ok && p.s.approvals == roadmap.ApprovalsMajor {
			it, _ := p.st.ItemView(id)
			if reason := roadmap.MajorChange(it.Item, d); reason != "" {
				if heldAlready(pendingChanges[id], e) {
					continue
				}
				kind, id, e = "change", newID(), roadmap.ProposeChange(it.Item, it.Version, d, reason)
			}
		}
		p.apply(kind, id, e)
		kept = true
	}
	return kept
}

// apply applies e, on the aggregate kind/id, to the copy of the ledger and
// keeps it to append, noting where the aggregate stood before the import.
func (p *importPlanner) apply(kind, id string, e roadmap.Event) {
	key := kind + "/" + id
	if _, ok := p.heads[key]; !ok {
		var h head
		if v, ok := p.st.ItemView(id); ok && kind == "item" {
			h = head{v.Version, v.Head}
		}
		p.heads[key] = h
	}
	p.seq++
	p.st.Apply(projections.Event{
		Record: eventlog.Record{Sequence: p.seq, Envelope: eventlog.Envelope{
			Type: e.EventType(), AggregateType: kind, AggregateID: id, Time: p.at, Actor: p.req.Actor,
		}},
		Data: e,
	})
	p.events = append(p.events, importEvent{kind: kind, id: id, event: e})
}

// heldAlready reports whether one of the pending changes of an item would
// already place it where the decision e does.
func heldAlready(pending []roadmap.Change, e roadmap.Event) bool {
	var pl roadmap.Placement
	switch e := e.(type) {
	case *roadmap.ItemPrioritised:
		pl = e.Placement
	case *roadmap.ItemReprioritised:
		pl = e.Placement
	default:
		return false
	}
	return slices.ContainsFunc(pending, func(c roadmap.Change) bool {
		return c.ChangeProposed.Decision == e.EventType() && c.Placement != nil &&
			c.Placement.Horizon == pl.Horizon && equalRank(c.Placement.Rank, pl.Rank)
	})
}

func equalRank(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// appendImport appends the planned events in order, each expecting its
// aggregate where the plan left it, then waits for the projections to apply
// the last. A client that hangs up does not stop it.
func (s *Service) appendImport(ctx context.Context, req Request, p *importPlanner, out *ImportOutcome) error {
	ctx = context.WithoutCancel(ctx)
	for i, ev := range p.events {
		key := ev.kind + "/" + ev.id
		h := p.heads[key]
		if c, ok := ev.event.(*roadmap.ChangeProposed); ok {
			c.ItemVersion = p.heads["item/"+c.ItemID].version
		}
		env, err := eventlog.NewEnvelope(ev.event, eventlog.Meta{ID: newID(), AggregateType: ev.kind, AggregateID: ev.id, Time: p.at, Actor: req.Actor})
		if err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, writeTimeout)
		ack, err := s.store.Append(actx, env, h.hash, eventlog.AppendOptions{ExpectedSequence: h.version})
		cancel()
		if err != nil {
			if errors.Is(err, eventlog.ErrConflict) {
				err = fmt.Errorf("%w: %v", roadmap.ErrConflict, err)
			}
			return fmt.Errorf("import %s recorded %d of its %d events, then: %w; import the same file again to complete it", out.ImportID, i, len(p.events), err)
		}
		p.heads[key] = head{ack.Sequence, env.Hash}
		out.Appended, out.Sequence = i+1, ack.Sequence
	}
	if out.Sequence == 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	return s.wait.WaitFor(wctx, out.Sequence)
}
