package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/pack"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Media types of the review pack.
const (
	mediaMarkdown = "text/markdown"
	mediaHTML     = "text/html"
)

// reviewPack answers the governance review pack of a review, as Markdown or
// as a standalone HTML document. A closed review's pack is made from its
// frozen snapshot alone, so it is the same bytes every time.
func (s *Server) reviewPack(c echo.Context) error {
	id, err := s.knownReview(c)
	if err != nil {
		return err
	}
	if q, err := query(c); err != nil || len(q) > 0 {
		return problem(ErrBadQuery, "the review pack takes no query parameters; choose its format with Accept")
	}
	media, err := negotiateFormat(c, "the review pack", mediaMarkdown, mediaHTML)
	if err != nil {
		return err
	}
	p, err := s.packOf(c.Request().Context(), id, time.Now())
	if err != nil {
		return err
	}
	render := pack.Markdown
	if media == mediaHTML {
		render = pack.HTML
	}
	var body bytes.Buffer
	if err := render(&body, p); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, media+"; charset=utf-8", body.Bytes())
}

// packOf assembles the pack of review id: for a closed review from the
// ledger as it stood when it closed, for an open one from the ledger now,
// with time-based signals measured at now.
func (s *Server) packOf(ctx context.Context, id string, now time.Time) (pack.Pack, error) {
	snap, err := s.views.Snapshot(ctx, id, now)
	if err != nil {
		return pack.Pack{}, err
	}
	p := pack.Pack{
		ReviewID: snap.ID, Period: snap.Period, Title: snap.Title, Status: string(snap.Status),
		OpenedAt: snap.OpenedAt, ClosedAt: snap.ClosedAt, Notes: snap.Notes,
		SinceSequence: snap.SinceSequence, Sequence: snap.Sequence, AsOf: snap.Roadmap.AsOf, MeasuredAt: now,
	}
	if snap.ClosedAt != nil {
		p.MeasuredAt = *snap.ClosedAt
	}
	if snap.ChainHeads != nil {
		p.ChainDigest = snap.ChainHeads.Digest
	}

	var goals projections.ObjectivesView
	err = s.views.At(ctx, snap.Sequence, func(st *projections.State) error {
		goals = st.ByObjective("")
		p.Capacity, p.Risks, p.Dependencies, p.Pending = packCommitments(st)
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
		p.Goals = append(p.Goals, pack.Goal{
			ObjectiveID: g.ID, Title: g.Title, KPI: g.KPI, Target: g.Target, Product: g.Product, Retired: retired, Items: items,
		})
	}
	p.Unaligned = goalItems(goals.Unaligned)

	moves := map[uint64]string{}
	for _, a := range snap.Decisions {
		if a.Type == roadmap.TypeItemDelivered {
			p.Progress = append(p.Progress, pack.ProgressRow{
				ItemID: a.AggregateID, Title: deref(a.Title), Product: deref(a.Product), Sequence: a.Sequence, At: a.At,
				Actor: a.Actor, Rationale: deref(a.Rationale), Evidence: a.Evidence,
			})
		}
		d := pack.DecisionRow{
			Sequence: a.Sequence, At: a.At, Actor: a.Actor, Type: a.Type, Kind: a.AggregateType, ID: a.AggregateID,
			Subject: deref(a.Title), Score: scoreText(a.Score), Rationale: deref(a.Rationale), Evidence: a.Evidence,
		}
		if a.From != nil && a.To != nil {
			from, to := packPlace(*a.From), packPlace(*a.To)
			d.From, d.To = &from, &to
			moves[a.Sequence] = d.Move()
		}
		p.Decisions = append(p.Decisions, d)
	}

	sig := snap.Signals
	for _, o := range sig.Orphans {
		p.Health.Orphans = append(p.Health.Orphans, healthItem(o))
	}
	for _, o := range sig.OrphanedObjectives {
		p.Health.OrphanedObjectives = append(p.Health.OrphanedObjectives, pack.ObjectiveRow{
			ObjectiveID: o.ID, Title: o.Title, KPI: o.KPI, Target: o.Target, Product: o.Product,
		})
	}
	for _, st := range sig.Stale {
		p.Health.Stale = append(p.Health.Stale, pack.StaleRow{HealthItem: healthItem(st.SignalItem), LastDecisionAt: st.LastDecisionAt, DaysSince: st.DaysSince})
	}
	for _, ch := range sig.Churn {
		p.Health.Churn = append(p.Health.Churn, pack.ChurnRow{ItemID: ch.ID, Title: ch.Title, Moves: ch.Moves, Sequences: ch.Sequences})
	}
	for _, g := range sig.BacklogGravity {
		row := pack.GravityRow{ItemID: g.ItemID, Title: g.Title, Product: g.Product, Reason: g.Reason, Sequence: g.Sequence, Since: g.Since}
		if g.Since == nil {
			row.Move = moves[g.Sequence]
		}
		p.Health.Gravity = append(p.Health.Gravity, row)
	}

	if prev, ok := s.previousReview(snap); ok {
		d, err := s.views.Diff(ctx, id, prev.ID)
		if err != nil {
			return pack.Pack{}, err
		}
		p.Diff = &pack.Diff{
			AgainstID: prev.ID, AgainstPeriod: prev.Period, AgainstSequence: d.From.Sequence,
			Added: diffRows(d.Added), Removed: diffRows(d.Removed), Moved: diffRows(d.Moved), Rescored: diffRows(d.Rescored),
		}
	}
	return p, nil
}

// packCommitments reads, from the state a pack is made at, the capacity of
// every product that set one against its commitments, the risks and
// dependencies of the roadmap's items (with what is out of order), and the
// changes waiting for approval.
func packCommitments(st *projections.State) ([]pack.CapacityRow, []pack.RiskRow, []pack.DependencyRow, []pack.PendingRow) {
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
		if c.Placement != nil {
			change += " (to " + string(c.Placement.Horizon) + ")"
			rationale = c.Placement.Rationale
		} else if c.Removal != nil {
			rationale = c.Removal.Rationale
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
func (s *Server) previousReview(snap projections.Snapshot) (projections.ReviewView, bool) {
	var prev projections.ReviewView
	found := false
	s.views.Read(func(st *projections.State) {
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
			ItemID: r.ItemID, Title: r.Title, Product: r.Product, From: packPlace(r.From), To: packPlace(r.To),
			FromScore: scoreText(r.FromScore), ToScore: scoreText(r.ToScore), Decisions: r.Decisions,
		})
	}
	return out
}

func packPlace(p projections.Place) pack.Place {
	return pack.Place{Horizon: string(p.Horizon), Rank: p.Rank}
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

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
