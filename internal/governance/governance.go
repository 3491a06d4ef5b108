// Package governance assembles the monthly governance review pack from the
// projections: a review's frozen snapshot, the roadmap grouped by objective
// at the snapshot's position, the commitments and pending changes of that
// moment, and the diff against the previous closed review. The pack it
// makes is internal/pack's plain model, which renders it; the API only
// negotiates the format and writes the bytes.
package governance

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/pack"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Views are what a pack is read from: a review's snapshot, the diff of two
// reviews, and the state of the ledger now and at a past position.
type Views interface {
	Snapshot(ctx context.Context, id string, now time.Time) (projections.Snapshot, error)
	Diff(ctx context.Context, id, against string) (projections.Diff, error)
	Read(fn func(*projections.State))
	At(ctx context.Context, seq uint64, fn func(*projections.State) error) error
}

var _ Views = (*projections.Current)(nil)

// Packs assembles governance review packs from the projections.
type Packs struct {
	views Views
	// metrics, when set, adds the figures to every pack (WithMetrics).
	metrics Metrics
}

// NewPacks returns the packs of the reviews views hold.
func NewPacks(views Views) *Packs { return &Packs{views: views} }

// Pack assembles the pack of review id: for a closed review from the
// ledger as it stood when it closed, so it is the same every time, and for
// an open one from the ledger now, with time-based signals measured at now.
// It returns an error wrapping roadmap.ErrNotFound for an unknown review;
// any other error is one of reading the log or travelling back in it (such
// as eventlog.ErrUnavailable, or ctx's error), passed on unchanged.
func (p *Packs) Pack(ctx context.Context, id string, now time.Time) (pack.Pack, error) {
	snap, err := p.views.Snapshot(ctx, id, now)
	if err != nil {
		return pack.Pack{}, err
	}
	out := pack.Pack{
		ReviewID: snap.ID, Period: snap.Period, Title: snap.Title, Status: string(snap.Status),
		OpenedAt: snap.OpenedAt, ClosedAt: snap.ClosedAt, Notes: snap.Notes,
		SinceSequence: snap.SinceSequence, Sequence: snap.Sequence, AsOf: snap.Roadmap.AsOf, MeasuredAt: now,
	}
	if snap.ClosedAt != nil {
		out.MeasuredAt = *snap.ClosedAt
	}
	if snap.ChainHeads != nil {
		out.ChainDigest = snap.ChainHeads.Digest
	}

	var goals projections.ObjectivesView
	err = p.views.At(ctx, snap.Sequence, func(st *projections.State) error {
		goals = st.ByObjective("")
		out.Capacity, out.Risks, out.Dependencies, out.Pending = commitments(st)
		return nil
	})
	if err != nil {
		return pack.Pack{}, err
	}
	for _, g := range goals.Objectives {
		items := goalItems(g.Horizons)
		retired := g.Status != roadmap.StatusActive
		if retired && len(items) == 0 {
			continue
		}
		out.Goals = append(out.Goals, pack.Goal{
			ObjectiveID: g.ID, Title: g.Title, KPI: g.KPI, Target: g.Target, Product: g.Product, Retired: retired, Items: items,
		})
	}
	out.Unaligned = goalItems(goals.Unaligned)

	moves := map[uint64]string{}
	for _, a := range snap.Decisions {
		if a.Type == roadmap.TypeItemDelivered {
			out.Progress = append(out.Progress, pack.ProgressRow{
				ItemID: a.AggregateID, Title: deref(a.Title), Product: deref(a.Product), Sequence: a.Sequence, At: a.At,
				Actor: a.Actor, Rationale: deref(a.Rationale), Evidence: a.Evidence,
			})
		}
		d := pack.DecisionRow{
			Sequence: a.Sequence, At: a.At, Actor: a.Actor, Type: a.Type, Kind: a.AggregateType, ID: a.AggregateID,
			Subject: deref(a.Title), Score: scoreText(a.Score), Rationale: deref(a.Rationale), Evidence: a.Evidence,
			Changes: fieldChanges(a.Changes),
		}
		if a.From != nil && a.To != nil {
			from, to := place(*a.From), place(*a.To)
			d.From, d.To = &from, &to
			moves[a.Sequence] = d.Move()
		}
		out.Decisions = append(out.Decisions, d)
	}

	sig := snap.Signals
	for _, o := range sig.Orphans {
		out.Health.Orphans = append(out.Health.Orphans, healthItem(o))
	}
	for _, o := range sig.OrphanedObjectives {
		out.Health.OrphanedObjectives = append(out.Health.OrphanedObjectives, pack.ObjectiveRow{
			ObjectiveID: o.ID, Title: o.Title, KPI: o.KPI, Target: o.Target, Product: o.Product,
		})
	}
	for _, st := range sig.Stale {
		out.Health.Stale = append(out.Health.Stale, pack.StaleRow{HealthItem: healthItem(st.SignalItem), LastDecisionAt: st.LastDecisionAt, DaysSince: st.DaysSince})
	}
	for _, ch := range sig.Churn {
		out.Health.Churn = append(out.Health.Churn, pack.ChurnRow{ItemID: ch.ID, Title: ch.Title, Moves: ch.Moves, Sequences: ch.Sequences})
	}
	for _, g := range sig.BacklogGravity {
		row := pack.GravityRow{ItemID: g.ItemID, Title: g.Title, Product: g.Product, Reason: g.Reason, Sequence: g.Sequence, Since: g.Since}
		if g.Since == nil {
			row.Move = moves[g.Sequence]
		}
		out.Health.Gravity = append(out.Health.Gravity, row)
	}

	if prev, ok := p.previousReview(snap); ok {
		d, err := p.views.Diff(ctx, id, prev.ID)
		if err != nil {
			return pack.Pack{}, err
		}
		out.Diff = &pack.Diff{
			AgainstID: prev.ID, AgainstPeriod: prev.Period, AgainstSequence: d.From.Sequence,
			Added: diffRows(d.Added), Removed: diffRows(d.Removed), Moved: diffRows(d.Moved), Rescored: diffRows(d.Rescored),
		}
	}
	if p.metrics != nil {
		if out.Numbers, err = p.numbers(ctx, snap, out.Goals); err != nil {
			return pack.Pack{}, err
		}
	}
	return out, nil
}

// commitments reads, from the state a pack is made at, the capacity of
// every product that set one against its commitments, the risks and
// dependencies of the roadmap's items (with what is out of order), and the
// changes waiting for approval.
func commitments(st *projections.State) ([]pack.CapacityRow, []pack.RiskRow, []pack.DependencyRow, []pack.PendingRow) {
	var capacity []pack.CapacityRow
	for _, r := range st.CapacityRows() {
		capacity = append(capacity, pack.CapacityRow{Product: r.Product, Horizon: string(r.Horizon), Capacity: r.Capacity, Committed: r.Committed, Over: r.Over})
	}
	var risks []pack.RiskRow
	for _, r := range st.Risks() {
		risks = append(risks, pack.RiskRow{ItemID: r.ItemID, Title: r.Title, Risks: r.Risks})
	}
	flags := map[string][]string{}
	for _, c := range st.DependencyConflicts() {
		where := string(c.DependencyStatus)
		if c.DependencyHorizon != nil {
			where = "in " + string(*c.DependencyHorizon)
		}
		flags[c.ItemID] = append(flags[c.ItemID], fmt.Sprintf("%s is %s, behind this item in %s", c.DependsOnTitle, where, c.Horizon))
	}
	var deps []pack.DependencyRow
	hz := st.Roadmap("").Horizons
	for _, e := range slices.Concat(hz.Now, hz.Next, hz.Later) {
		it, _ := st.ItemView(e.ID)
		if len(it.DependsOn()) == 0 {
			continue
		}
		deps = append(deps, pack.DependencyRow{ItemID: it.ID, Title: it.Title, DependsOn: it.DependsOn(), Flag: strings.Join(flags[it.ID], "; ")})
	}
	var pending []pack.PendingRow
	for _, c := range st.Changes(roadmap.ChangeStatusPending) {
		it, _ := st.ItemView(c.ItemID)
		change := c.Reason
		rationale := ""
		if held := c.Held(); held != nil {
			rationale, _ = held.Why()
		}
		if c.Placement != nil {
			change += " (to " + string(c.Placement.Horizon) + ")"
		} else if c.Edit != nil {
			change += " (to " + c.Edit.After.Product + ")"
		}
		pending = append(pending, pack.PendingRow{
			ID: c.ID, ItemID: c.ItemID, Title: it.Title, Change: change, ProposedBy: c.ProposedBy, ProposedAt: c.ProposedAt, Rationale: rationale,
		})
	}
	return capacity, risks, deps, pending
}

// previousReview returns the review a pack compares with: of the reviews of
// an earlier period, the latest one closed at or before the position the
// snapshot shows. A review closed after a closed one was does not change
// its pack.
func (p *Packs) previousReview(snap projections.Snapshot) (projections.ReviewView, bool) {
	var prev projections.ReviewView
	found := false
	p.views.Read(func(st *projections.State) {
		for _, r := range st.Reviews() { // oldest period first
			if r.Period < snap.Period && r.Status == roadmap.ReviewStatusClosed && r.Sequence <= snap.Sequence {
				prev, found = r, true
			}
		}
	})
	return prev, found
}

func goalItems(h projections.Horizons) []pack.GoalItem {
	var out []pack.GoalItem
	for _, col := range []struct {
		horizon roadmap.Horizon
		entries []projections.Entry
	}{{roadmap.Now, h.Now}, {roadmap.Next, h.Next}, {roadmap.Later, h.Later}} {
		for _, e := range col.entries {
			out = append(out, pack.GoalItem{ItemID: e.ID, Title: e.Title, Product: e.Product, Place: pack.Place{Horizon: string(col.horizon), Rank: e.Rank}})
		}
	}
	return out
}

func healthItem(s projections.SignalItem) pack.HealthItem {
	return pack.HealthItem{ItemID: s.ID, Title: s.Title, Product: s.Product, Place: pack.Place{Horizon: string(s.Horizon), Rank: s.Rank}}
}

func diffRows(rows []projections.DiffRow) []pack.DiffRow {
	out := make([]pack.DiffRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, pack.DiffRow{
			ItemID: r.ItemID, Title: r.Title, Product: r.Product, From: place(r.From), To: place(r.To),
			FromScore: scoreText(r.FromScore), ToScore: scoreText(r.ToScore), Decisions: r.Decisions,
		})
	}
	return out
}

func place(at projections.Place) pack.Place {
	return pack.Place{Horizon: string(at.Horizon), Rank: at.Rank}
}

// scoreText reads a score as its framework and value ("rice 640"), MoSCoW
// as its category ("moscow must"); empty for none.
func scoreText(s *roadmap.Score) string {
	switch {
	case s == nil:
		return ""
	case s.Category != "":
		return s.Framework + " " + s.Category
	}
	return s.Framework + " " + strconv.FormatFloat(s.Value, 'f', -1, 64)
}

// fieldChanges reads the fields an edit changed as text: a list joined
// with commas, "none" for no value or an empty list.
func fieldChanges(changes []projections.FieldChange) []pack.FieldChange {
	if len(changes) == 0 {
		return nil
	}
	text := func(v any) string {
		switch v := v.(type) {
		case nil:
			return "none"
		case string:
			return cmp.Or(v, "none")
		case []string:
			if len(v) == 0 {
				return "none"
			}
			return strings.Join(v, ", ")
		}
		return fmt.Sprint(v)
	}
	out := make([]pack.FieldChange, len(changes))
	for i, c := range changes {
		out[i] = pack.FieldChange{Field: c.Field, Before: text(c.Before), After: text(c.After)}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
