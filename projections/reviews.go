package projections

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Health-signal thresholds.
const (
	// StaleAfter is how long an item may sit on the roadmap without a
	// decision before a review flags it as stale.
	StaleAfter = 90 * 24 * time.Hour
	// ChurnMoves is how many moves in one period an item may make before a
	// review flags it as churning.
	ChurnMoves = 2
	// LongInLater is how long an item may sit in later, counted from the
	// decision that put it there, before a review flags it as backlog
	// gravity.
	LongInLater = 90 * 24 * time.Hour
)

// Reasons an item is flagged as backlog gravity.
const (
	// GravityLongInLater: in later for LongInLater or more.
	GravityLongInLater = "long-in-later"
	// GravityRaisedWithoutEvidence: reprioritised up in the period (into a
	// horizon nearer now, or to a better rank in its horizon) with no
	// evidence, or with the same evidence as its previous decision.
	GravityRaisedWithoutEvidence = "raised-without-evidence"
)

// SignalItem is a roadmap item a health signal points at.
type SignalItem struct {
	ID      string
	Title   string
	Product string
	Horizon roadmap.Horizon
	Rank    int
}

// StaleItem is an item with no decision for longer than StaleAfter.
type StaleItem struct {
	SignalItem
	LastDecisionAt time.Time
	DaysSince      int
}

// ChurnItem is an item moved more than ChurnMoves times in a period.
type ChurnItem struct {
	ID        string
	Title     string
	Moves     int
	Sequences []uint64
}

// GravityItem is an item that stays on the roadmap or rises on it by
// persistence rather than by evidence.
type GravityItem struct {
	ItemID  string
	Title   string
	Product string
	// Reason is GravityLongInLater or GravityRaisedWithoutEvidence.
	Reason string
	// Sequence is the decision behind the row: the one that put the item
	// in later, or the one that raised it.
	Sequence uint64
	// Since is when the item went into later; nil for a raise.
	Since *time.Time
}

// ObjectiveRef names an objective with its measure.
type ObjectiveRef struct {
	ID      string
	Title   string
	KPI     string
	Target  string
	Product string
}

// Signals are the health signals a review must see.
type Signals struct {
	// Orphans are roadmap items that serve no objective.
	Orphans []SignalItem
	// OrphanedObjectives are active objectives no roadmap item serves.
	OrphanedObjectives []ObjectiveRef
	// Stale are roadmap items with no decision for StaleAfter.
	Stale []StaleItem
	// Churn are items moved more than ChurnMoves times in the period: moved
	// within or between horizons, or off the roadmap.
	Churn []ChurnItem
	// BacklogGravity are the items in later for LongInLater or more, in
	// roadmap order, then the raises of the period without new evidence,
	// in log order.
	BacklogGravity []GravityItem
}

// Snapshot is a governance review: for an open one, the decisions since the
// previous closed review and the roadmap as it stands; for a closed one, the
// same frozen at the ledger position it closed at. A closed snapshot is a
// function of the log alone, so rebuilding gives the same snapshot.
type Snapshot struct {
	ID       string
	Period   string
	Title    string
	Status   roadmap.ReviewStatus
	OpenedAt time.Time
	ClosedAt *time.Time
	Notes    string
	// SinceSequence is the position of the previous closed review: the
	// period's decisions are those after it, up to Sequence.
	SinceSequence uint64
	Sequence      uint64
	Roadmap       RoadmapView
	Decisions     []AuditEvent
	Signals       Signals
	ChainHeads    *roadmap.ChainHeads
	// Checkpoint is the signed note of the ledger's checkpoint at Sequence,
	// made on closing; nil while open, and for a review closed before the
	// ledger signed checkpoints.
	Checkpoint *string
	Version    uint64
}

// Snapshot builds the snapshot of review id. now is the moment an open
// review's stale items are measured against; a closed review uses the time
// it closed. It returns roadmap.ErrNotFound for an unknown review.
func (c *Current) Snapshot(ctx context.Context, id string, now time.Time) (Snapshot, error) {
	var (
		r       ReviewView
		ok      bool
		reviews []ReviewView
		live    uint64
	)
	c.Read(func(s *State) {
		r, ok = s.ReviewView(id)
		reviews = s.Reviews()
		live = s.Sequence
	})
	if !ok {
		return Snapshot{}, fmt.Errorf("%w: review %s", roadmap.ErrNotFound, id)
	}
	snap := Snapshot{
		ID: r.ID, Period: r.Period, Title: r.Title, Status: r.Status, OpenedAt: r.OpenedAt,
		Notes: r.Notes, Sequence: live, Version: r.Version, Decisions: []AuditEvent{},
	}
	if r.Status == roadmap.ReviewStatusClosed {
		closedAt, heads := r.ClosedAt, r.Heads
		snap.ClosedAt, snap.Sequence, snap.ChainHeads, now = &closedAt, r.Sequence, &heads, r.ClosedAt
		if r.Checkpoint != nil {
			note := r.Checkpoint.Note
			snap.Checkpoint = &note
		}
	}
	snap.SinceSequence = previousClose(reviews, id, snap.Sequence)

	var decisions []Record
	err := c.Scan(ctx, snap.SinceSequence+1, snap.Sequence, func(rec Record) (bool, error) {
		if IsDecision(rec.Type) {
			decisions = append(decisions, rec)
			snap.Decisions = append(snap.Decisions, NewAuditEvent(rec))
		}
		return true, nil
	})
	if err != nil {
		return Snapshot{}, err
	}
	prior, err := c.priorEvidence(ctx, snap.SinceSequence, decisions)
	if err != nil {
		return Snapshot{}, err
	}
	err = c.At(ctx, snap.Sequence, func(s *State) error {
		snap.Roadmap = s.Roadmap("")
		snap.Signals = s.Signals(now, decisions, prior)
		return nil
	})
	return snap, err
}

// priorEvidence returns, for every item raised in a period before any other
// decision of the period on it, the evidence of its last decision before
// the period: what the raise's evidence is compared with. The period's
// decisions follow sequence since.
func (c *Current) priorEvidence(ctx context.Context, since uint64, decisions []Record) (map[string][]string, error) {
	prior := map[string][]string{}
	var need []string
	decided := map[string]bool{}
	for _, d := range decisions {
		if !weighsEvidence(d) {
			continue
		}
		if raised(d) && !decided[d.AggregateID] {
			need = append(need, d.AggregateID)
		}
		decided[d.AggregateID] = true
	}
	if len(need) == 0 || since == 0 {
		return prior, nil
	}
	err := c.At(ctx, since, func(s *State) error {
		for _, id := range need {
			if it := s.items[id]; it != nil {
				prior[id] = it.evidence
			}
		}
		return nil
	})
	return prior, err
}

// previousClose returns the ledger position of the latest review, other than
// id, closed before sequence; 0 when none was.
func previousClose(reviews []ReviewView, id string, sequence uint64) uint64 {
	var since uint64
	for _, r := range reviews {
		if r.ID != id && r.Status == roadmap.ReviewStatusClosed && r.Sequence < sequence {
			since = max(since, r.Sequence)
		}
	}
	return since
}

// Signals computes the health signals of s at moment now, with churn and
// raises counted over the given decisions of the period, in log order. prior
// holds, for items the period raises, the evidence of their last decision
// before the period (an item it lacks had none).
func (s *State) Signals(now time.Time, decisions []Record, prior map[string][]string) Signals {
	sig := Signals{
		Orphans: []SignalItem{}, OrphanedObjectives: []ObjectiveRef{}, Stale: []StaleItem{}, Churn: []ChurnItem{},
		BacklogGravity: []GravityItem{},
	}
	served := map[string]bool{}
	for _, e := range s.entries("") {
		it := s.items[e.ID]
		item := SignalItem{ID: e.ID, Title: e.Title, Product: e.Product, Horizon: it.Horizon, Rank: e.Rank}
		for _, oid := range it.ObjectiveIDs {
			served[oid] = true
		}
		if len(it.ObjectiveIDs) == 0 {
			sig.Orphans = append(sig.Orphans, item)
		}
		if d := it.LastDecision; d != nil && now.Sub(d.At) > StaleAfter {
			sig.Stale = append(sig.Stale, StaleItem{SignalItem: item, LastDecisionAt: d.At, DaysSince: int(now.Sub(d.At) / (24 * time.Hour))})
		}
		if p := it.Placed; it.Horizon == roadmap.Later && p != nil && now.Sub(p.At) >= LongInLater {
			since := p.At
			sig.BacklogGravity = append(sig.BacklogGravity, GravityItem{
				ItemID: e.ID, Title: e.Title, Product: e.Product, Reason: GravityLongInLater, Sequence: p.Sequence, Since: &since,
			})
		}
	}
	for id, o := range s.objectives {
		if o.Status == roadmap.StatusActive && !served[id] {
			sig.OrphanedObjectives = append(sig.OrphanedObjectives, ObjectiveRef{ID: id, Title: o.Title, KPI: o.KPI, Target: o.Target, Product: o.Product})
		}
	}
	slices.SortFunc(sig.OrphanedObjectives, func(a, b ObjectiveRef) int { return cmp.Compare(a.ID, b.ID) })

	moves := map[string]*ChurnItem{}
	var order []string
	for _, d := range decisions {
		// A move takes an item from a place on the roadmap somewhere else:
		// first placements are not moves, removals are.
		if d.AggregateType != "item" || d.From == nil || d.To == nil || d.From.Rank == 0 || *d.From == *d.To {
			continue
		}
		m := moves[d.AggregateID]
		if m == nil {
			m = &ChurnItem{ID: d.AggregateID, Title: d.Title}
			moves[d.AggregateID] = m
			order = append(order, d.AggregateID)
		}
		m.Moves++
		m.Sequences = append(m.Sequences, d.Sequence)
	}
	for _, id := range order {
		if m := moves[id]; m.Moves > ChurnMoves {
			sig.Churn = append(sig.Churn, *m)
		}
	}

	evidence := map[string][]string{}
	for _, d := range decisions {
		if !weighsEvidence(d) {
			continue
		}
		before, seen := evidence[d.AggregateID]
		if !seen {
			before = prior[d.AggregateID]
		}
		evidence[d.AggregateID] = d.Evidence
		if raised(d) && (len(d.Evidence) == 0 || sameSet(d.Evidence, before)) {
			sig.BacklogGravity = append(sig.BacklogGravity, GravityItem{
				ItemID: d.AggregateID, Title: d.Title, Product: d.Product, Reason: GravityRaisedWithoutEvidence, Sequence: d.Sequence,
			})
		}
	}
	return sig
}

// weighsEvidence reports whether a decision is one on an item whose
// evidence a later raise of the item is compared with: any but an edit,
// which says what the item is, not where it stands.
func weighsEvidence(d Record) bool {
	return d.AggregateType == "item" && d.Type != roadmap.TypeItemEdited
}

// raised reports whether a decision is a reprioritisation that moved its
// item up the roadmap: into a horizon nearer now, or to a better rank in
// the same horizon. The places are the item's own just before and after
// the decision, so no other item's move counts.
func raised(d Record) bool {
	if d.Type != roadmap.TypeItemReprioritised || d.From == nil || d.To == nil || d.From.Rank == 0 || d.To.Rank == 0 {
		return false
	}
	if d.From.Horizon != d.To.Horizon {
		return horizonOrder(d.To.Horizon) < horizonOrder(d.From.Horizon)
	}
	return d.To.Rank < d.From.Rank
}

// sameSet reports whether two lists hold the same entries, whatever their
// order or repeats.
func sameSet(a, b []string) bool {
	x, y := slices.Compact(slices.Sorted(slices.Values(a))), slices.Compact(slices.Sorted(slices.Values(b)))
	return slices.Equal(x, y)
}

// ReviewPoint names one end of a diff.
type ReviewPoint struct {
	ReviewID string
	Period   string
	Sequence uint64
}

// DiffRow is one item that changed between two snapshots, with the
// sequences of its decisions in between.
type DiffRow struct {
	ItemID    string
	Title     string
	Product   string
	From      Place
	To        Place
	FromScore *roadmap.Score
	ToScore   *roadmap.Score
	Decisions []uint64
}

// Diff is what changed on the roadmap between two reviews.
type Diff struct {
	From     ReviewPoint
	To       ReviewPoint
	Added    []DiffRow
	Removed  []DiffRow
	Moved    []DiffRow
	Rescored []DiffRow
}

// Diff compares the roadmap of review against (from) with that of review
// id (to): items added, removed, moved (by a decision of their own) and
// rescored. An open review counts at the ledger's current position. It
// returns roadmap.ErrNotFound for an unknown review.
func (c *Current) Diff(ctx context.Context, id, against string) (Diff, error) {
	from, err := c.reviewPoint(against)
	if err != nil {
		return Diff{}, err
	}
	to, err := c.reviewPoint(id)
	if err != nil {
		return Diff{}, err
	}
	return c.DiffBetween(ctx, from, to)
}

// DiffBetween compares the roadmap at the position of from with that at
// the position of to, as Diff compares two reviews': the web app's
// "compare with" of two dates asks it of two positions that are no
// review's. It returns the errors of At.
func (c *Current) DiffBetween(ctx context.Context, from, to ReviewPoint) (Diff, error) {
	type entry struct {
		place   Place
		score   *roadmap.Score
		title   string
		product string
	}
	roadmapAt := func(seq uint64) (map[string]entry, error) {
		out := map[string]entry{}
		err := c.At(ctx, seq, func(s *State) error {
			for _, e := range s.entries("") {
				out[e.ID] = entry{place: s.place(e.ID), score: e.Score, title: e.Title, product: e.Product}
			}
			return nil
		})
		return out, err
	}
	before, err := roadmapAt(from.Sequence)
	if err != nil {
		return Diff{}, err
	}
	after, err := roadmapAt(to.Sequence)
	if err != nil {
		return Diff{}, err
	}
	decided := map[string][]uint64{}
	lo, hi := min(from.Sequence, to.Sequence), max(from.Sequence, to.Sequence)
	err = c.Scan(ctx, lo+1, hi, func(r Record) (bool, error) {
		if r.AggregateType == "item" && IsDecision(r.Type) {
			decided[r.AggregateID] = append(decided[r.AggregateID], r.Sequence)
		}
		return true, nil
	})
	if err != nil {
		return Diff{}, err
	}

	d := Diff{From: from, To: to, Added: []DiffRow{}, Removed: []DiffRow{}, Moved: []DiffRow{}, Rescored: []DiffRow{}}
	row := func(id string, b, a entry) DiffRow {
		r := DiffRow{ItemID: id, From: b.place, To: a.place, FromScore: b.score, ToScore: a.score, Decisions: decided[id]}
		r.Title, r.Product = cmp.Or(a.title, b.title), cmp.Or(a.product, b.product)
		if r.Decisions == nil {
			r.Decisions = []uint64{}
		}
		return r
	}
	for id, a := range after {
		b, was := before[id]
		switch {
		case !was:
			d.Added = append(d.Added, row(id, entry{}, a))
		default:
			if a.place != b.place && len(decided[id]) > 0 {
				d.Moved = append(d.Moved, row(id, b, a))
			}
			if !a.score.Equal(b.score) {
				d.Rescored = append(d.Rescored, row(id, b, a))
			}
		}
	}
	for id, b := range before {
		if _, still := after[id]; !still {
			d.Removed = append(d.Removed, row(id, b, entry{}))
		}
	}
	for _, rows := range [][]DiffRow{d.Added, d.Removed, d.Moved, d.Rescored} {
		slices.SortFunc(rows, func(x, y DiffRow) int {
			return cmp.Or(cmp.Compare(x.Product, y.Product), cmp.Compare(horizonOrder(x.To.Horizon), horizonOrder(y.To.Horizon)),
				cmp.Compare(x.To.Rank, y.To.Rank), cmp.Compare(horizonOrder(x.From.Horizon), horizonOrder(y.From.Horizon)),
				cmp.Compare(x.From.Rank, y.From.Rank), cmp.Compare(x.ItemID, y.ItemID))
		})
	}
	return d, nil
}

func (c *Current) reviewPoint(id string) (ReviewPoint, error) {
	var (
		r    ReviewView
		ok   bool
		live uint64
	)
	c.Read(func(s *State) { r, ok = s.ReviewView(id); live = s.Sequence })
	if !ok {
		return ReviewPoint{}, fmt.Errorf("%w: review %s", roadmap.ErrNotFound, id)
	}
	p := ReviewPoint{ReviewID: id, Period: r.Period, Sequence: live}
	if r.Status == roadmap.ReviewStatusClosed {
		p.Sequence = r.Sequence
	}
	return p, nil
}

func horizonOrder(h roadmap.Horizon) int {
	if i := slices.Index(roadmap.Horizons, h); i >= 0 {
		return i
	}
	return len(roadmap.Horizons)
}
