package governance

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/pack"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// WithMetrics makes p's packs end with the review's figures against the
// previous review's and each objective's KPI over time (pack.Numbers),
// computed by metrics. It returns p.
func (p *Packs) WithMetrics(metrics Metrics) *Packs {
	p.metrics = metrics
	return p
}

// Delivery is the delivery of an item that served an objective.
type Delivery struct {
	ItemID, Title string
	Sequence      uint64
	At            time.Time
}

// Deliveries returns the delivered items of st that serve objective id,
// each with its delivery, in the order they were delivered: what an
// objective's KPI is read against.
func Deliveries(st *projections.State, objectiveID string) []Delivery {
	items, _ := st.ItemList(projections.ItemFilter{Status: roadmap.StatusDelivered, ObjectiveID: objectiveID},
		projections.Order{Sort: projections.SortCreated}, 0, 0)
	var out []Delivery
	for _, it := range items {
		// A delivered item's last decision is its delivery: nothing
		// decides on it after.
		if d := it.LastDecision; d != nil && d.Type == roadmap.TypeItemDelivered {
			out = append(out, Delivery{ItemID: it.ID, Title: it.Title, Sequence: d.Sequence, At: d.At})
		}
	}
	slices.SortFunc(out, func(a, b Delivery) int { return cmp.Compare(a.Sequence, b.Sequence) })
	return out
}

// numbers makes the pack's figures of snap's review against the previous
// closed review's (the figures of GET /v1/reviews/{id}/outcomes), and the
// KPI over time of the objectives the pack lists.
func (p *Packs) numbers(ctx context.Context, snap projections.Snapshot, goals []pack.Goal) (*pack.Numbers, error) {
	o, err := p.outcomes(ctx, snap, p.metrics)
	if err != nil {
		return nil, err
	}
	n := &pack.Numbers{Period: o.Period, Sequence: o.Sequence}
	var previous *projections.Figures
	if o.Previous != nil {
		n.PreviousID, n.PreviousPeriod, previous = o.Previous.ReviewID, o.Previous.Period, &o.Previous.Figures
	}
	n.Figures = figureRows(previous, o.Figures)
	err = p.views.At(ctx, snap.Sequence, func(st *projections.State) error {
		for _, g := range goals {
			k := pack.KPISeries{ObjectiveID: g.ObjectiveID, Title: g.Title, KPI: g.KPI, Target: g.Target}
			for _, m := range st.Measurements(g.ObjectiveID) {
				k.Measurements = append(k.Measurements, pack.KPIPoint{At: m.At, Value: m.Value, Source: m.Source, Note: m.Note})
			}
			for _, d := range Deliveries(st, g.ObjectiveID) {
				k.Deliveries = append(k.Deliveries, pack.KPIDelivery{At: d.At, ItemID: d.ItemID, Title: d.Title})
			}
			n.Objectives = append(n.Objectives, k)
		}
		return nil
	})
	return n, err
}

// figureRows are the summary's figures, previous (nil for a first review)
// and now, in the order of docs/metrics.md.
func figureRows(previous *projections.Figures, now projections.Figures) []pack.FigureRow {
	type get func(projections.Figures) *float64
	count := func(f func(projections.Figures) int) get {
		return func(p projections.Figures) *float64 { v := float64(f(p)); return &v }
	}
	pct := func(f func(projections.Figures) *projections.Percentiles, p90 bool) get {
		return func(p projections.Figures) *float64 {
			v := f(p)
			switch {
			case v == nil:
				return nil
			case p90:
				return &v.P90
			}
			return &v.P50
		}
	}
	cycle := func(p projections.Figures) *projections.Percentiles { return p.CycleTimeDays }
	approval := func(p projections.Figures) *projections.Percentiles { return p.ApprovalTimeHours }
	rows := []struct {
		name, unit string
		get        get
	}{
		{"Items in now", "", count(func(p projections.Figures) int { return p.InNow })},
		{"Delivered from now", "", count(func(p projections.Figures) int { return p.DeliveredFromNow })},
		{"Delivery rate", "%", func(p projections.Figures) *float64 { return p.DeliveryRate }},
		{"Cycle time p50 (days)", "", pct(cycle, false)},
		{"Cycle time p90 (days)", "", pct(cycle, true)},
		{"Churn (reprioritisations per roadmap item)", "", func(p projections.Figures) *float64 { return p.Churn }},
		{"Approval time p50 (hours)", "", pct(approval, false)},
		{"Approval time p90 (hours)", "", pct(approval, true)},
		{"Unaligned share at the end", "%", func(p projections.Figures) *float64 { return p.UnalignedShare }},
		{"Objective coverage at the end", "%", func(p projections.Figures) *float64 { return p.ObjectiveCoverage }},
		{"Removed", "", count(func(p projections.Figures) int { return p.Removed })},
		{"Removed from now", "", count(func(p projections.Figures) int { return p.RemovedFromNow })},
	}
	out := make([]pack.FigureRow, len(rows))
	for i, r := range rows {
		out[i] = pack.FigureRow{Name: r.name, Unit: r.unit, Now: r.get(now)}
		if previous != nil {
			out[i].Previous = r.get(*previous)
		}
	}
	return out
}
