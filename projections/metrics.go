package projections

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// MetricsQuery asks for the roadmap's figures of one product (every
// product when empty) from From (inclusive) to To (exclusive), per
// calendar month (UTC) and in total.
type MetricsQuery struct {
	Product  string
	From, To time.Time
	// Last is the last sequence read: the ledger position the figures
	// stand at.
	Last uint64
}

// Percentiles are the 50th and 90th percentiles of a set of durations,
// by the nearest rank; nil when the set is empty.
type Percentiles struct {
	P50, P90 float64
}

// Figures are the roadmap's figures over one period; docs/metrics.md
// defines each.
type Figures struct {
	Start, End time.Time
	// InNow counts the items in now at some moment of the period;
	// DeliveredFromNow those of them delivered from now in it.
	InNow, DeliveredFromNow int
	// Delivered counts every delivery of the period, from any horizon.
	Delivered    int
	DeliveryRate *float64
	// CycleTimeDays is first prioritisation → delivery, TimeInNowDays
	// the time spent in now before delivery, of the items delivered in
	// the period.
	CycleTimeDays, TimeInNowDays *Percentiles
	// Reprioritisations of RoadmapItems, the items on the roadmap at
	// some moment of the period: Churn is their ratio.
	Reprioritisations, RoadmapItems int
	Churn                           *float64
	// ApprovalTimeHours is proposed → approved or rejected, of the
	// changes decided in the period.
	ApprovalTimeHours *Percentiles
	// At the period's end: the items on the roadmap, those serving no
	// objective, the active objectives and those served by one of them.
	ItemsAtEnd, UnalignedAtEnd, ActiveObjectives, CoveredObjectives int
	UnalignedShare, ObjectiveCoverage                               *float64
	// Removed counts removals in the period, RemovedFromNow those of a
	// now item.
	Removed, RemovedFromNow int
}

// MetricsReport is the answer to a MetricsQuery.
type MetricsReport struct {
	MetricsQuery
	Periods []Figures
	Total   Figures
}

// metricItem is what the figures follow of one item.
type metricItem struct {
	roadmap.Item
	firstPrioritised time.Time
	nowSince         time.Time
	inNow            time.Duration
}

// period gathers one period's figures as the log is read.
type period struct {
	Figures
	inNow, onRoadmap                map[string]bool
	cycle, timeInNow, approvalHours []float64
}

// metricsFold reads the log in order and gathers the figures: from the
// log alone, so the figures of a past period never change.
type metricsFold struct {
	q          MetricsQuery
	items      map[string]*metricItem
	objectives map[string]roadmap.Objective
	proposed   map[string]time.Time // change id → when proposed
	changeItem map[string]string    // change id → item id
	months     []*period
	total      *period
	next       int  // the month now open
	started    bool // whether From is reached
}

// Metrics reads the log with follow, from its first event to q.Last or
// the first event at or after q.To, and returns the figures.
func Metrics(ctx context.Context, follow func(ctx context.Context, from uint64, fn func(eventlog.Record) error) error, q MetricsQuery) (MetricsReport, error) {
	f := newMetricsFold(q)
	errStop := errors.New("stop")
	if q.Last > 0 {
		err := follow(ctx, 1, func(rec eventlog.Record) error {
			ev, err := Decode(rec)
			if err != nil {
				return err
			}
			if !ev.Envelope.Time.Before(q.To) {
				return errStop
			}
			f.apply(ev)
			if rec.Sequence >= q.Last {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return MetricsReport{}, err
		}
	}
	return f.report(), nil
}

func newMetricsFold(q MetricsQuery) *metricsFold {
	f := &metricsFold{q: q, items: map[string]*metricItem{}, objectives: map[string]roadmap.Objective{},
		proposed: map[string]time.Time{}, changeItem: map[string]string{}}
	from := q.From.UTC()
	for start := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); start.Before(q.To); start = start.AddDate(0, 1, 0) {
		p := newPeriod(maxTime(start, q.From), minTime(start.AddDate(0, 1, 0), q.To))
		f.months = append(f.months, p)
	}
	f.total = newPeriod(q.From, q.To)
	return f
}

func newPeriod(start, end time.Time) *period {
	return &period{Figures: Figures{Start: start, End: end}, inNow: map[string]bool{}, onRoadmap: map[string]bool{}}
}

// open returns the periods open at t, having closed those that ended
// and opened those that began by then: none before From.
func (f *metricsFold) open(t time.Time) []*period {
	if t.Before(f.q.From) {
		return nil
	}
	if !f.started {
		f.started = true
		f.begin(f.total)
		if len(f.months) > 0 {
			f.begin(f.months[0])
		}
	}
	for f.next < len(f.months) && !t.Before(f.months[f.next].End) {
		f.close(f.months[f.next])
		f.next++
		if f.next < len(f.months) {
			f.begin(f.months[f.next])
		}
	}
	if f.next >= len(f.months) {
		return []*period{f.total}
	}
	return []*period{f.months[f.next], f.total}
}

// begin opens p with what stands at its start: the items in now and on
// the roadmap then.
func (f *metricsFold) begin(p *period) {
	for id, it := range f.items {
		if f.ofProduct(it.Item) && it.Status == roadmap.StatusOnRoadmap {
			p.onRoadmap[id] = true
			if it.Horizon == roadmap.Now {
				p.inNow[id] = true
			}
		}
	}
}

// close ends p with what stands at its end.
func (f *metricsFold) close(p *period) {
	covered := map[string]bool{}
	for _, it := range f.items {
		if !f.ofProduct(it.Item) || it.Status != roadmap.StatusOnRoadmap {
			continue
		}
		p.ItemsAtEnd++
		if len(it.ObjectiveIDs) == 0 {
			p.UnalignedAtEnd++
		}
		for _, id := range it.ObjectiveIDs {
			covered[id] = true
		}
	}
	for id, o := range f.objectives {
		if o.Status == roadmap.StatusActive && (f.q.Product == "" || o.Product == f.q.Product) {
			p.ActiveObjectives++
			if covered[id] {
				p.CoveredObjectives++
			}
		}
	}
	p.InNow, p.RoadmapItems = len(p.inNow), len(p.onRoadmap)
	p.DeliveryRate = ratio(p.DeliveredFromNow, p.InNow)
	p.Churn = ratio(p.Reprioritisations, p.RoadmapItems)
	p.UnalignedShare = ratio(p.UnalignedAtEnd, p.ItemsAtEnd)
	p.ObjectiveCoverage = ratio(p.CoveredObjectives, p.ActiveObjectives)
	p.CycleTimeDays, p.TimeInNowDays, p.ApprovalTimeHours = percentiles(p.cycle), percentiles(p.timeInNow), percentiles(p.approvalHours)
}

func (f *metricsFold) ofProduct(it roadmap.Item) bool {
	return f.q.Product == "" || it.Product == f.q.Product
}

func (f *metricsFold) apply(ev Event) {
	if ev.Data == nil {
		return
	}
	t, env := ev.Envelope.Time, ev.Envelope
	periods := f.open(t)
	switch env.AggregateType {
	case "objective":
		f.objectives[env.AggregateID] = roadmap.EvolveObjective(f.objectives[env.AggregateID], env.AggregateID, ev.Data)
	case "change":
		switch e := ev.Data.(type) {
		case *roadmap.ChangeProposed:
			f.proposed[env.AggregateID], f.changeItem[env.AggregateID] = t, e.ItemID
		case *roadmap.ChangeApproved, *roadmap.ChangeRejected:
			it := f.items[f.changeItem[env.AggregateID]]
			if proposed, ok := f.proposed[env.AggregateID]; ok && it != nil && f.ofProduct(it.Item) {
				for _, p := range periods {
					p.approvalHours = append(p.approvalHours, t.Sub(proposed).Hours())
				}
			}
		}
	case "item":
		f.applyItem(ev, periods)
	}
}

func (f *metricsFold) applyItem(ev Event, periods []*period) {
	t, id := ev.Envelope.Time, ev.Envelope.AggregateID
	it := f.items[id]
	if it == nil {
		it = &metricItem{}
		f.items[id] = it
	}
	before := it.Item
	it.Item = roadmap.EvolveItem(it.Item, id, ev.Data)
	wasNow, isNow := nowItem(before), nowItem(it.Item)
	switch {
	case !wasNow && isNow:
		it.nowSince = t
	case wasNow && !isNow:
		it.inNow += t.Sub(it.nowSince)
	}
	if _, ok := ev.Data.(*roadmap.ItemPrioritised); ok && it.firstPrioritised.IsZero() {
		it.firstPrioritised = t
	}
	for _, p := range periods {
		if f.ofProduct(it.Item) && it.Status == roadmap.StatusOnRoadmap {
			p.onRoadmap[id] = true
			if isNow {
				p.inNow[id] = true
			}
		}
		if !f.ofProduct(before) {
			continue
		}
		switch ev.Data.(type) {
		case *roadmap.ItemReprioritised:
			p.Reprioritisations++
		case *roadmap.ItemDelivered:
			p.Delivered++
			if wasNow {
				p.DeliveredFromNow++
			}
			if !it.firstPrioritised.IsZero() {
				p.cycle = append(p.cycle, t.Sub(it.firstPrioritised).Hours()/24)
			}
			p.timeInNow = append(p.timeInNow, it.inNow.Hours()/24)
		case *roadmap.ItemRemoved:
			p.Removed++
			if wasNow {
				p.RemovedFromNow++
			}
		}
	}
}

func (f *metricsFold) report() MetricsReport {
	f.open(f.q.To) // closes every month
	f.close(f.total)
	r := MetricsReport{MetricsQuery: f.q, Total: f.total.Figures}
	for _, p := range f.months {
		r.Periods = append(r.Periods, p.Figures)
	}
	return r
}

func nowItem(it roadmap.Item) bool {
	return it.Status == roadmap.StatusOnRoadmap && it.Horizon == roadmap.Now
}

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

// percentiles returns the 50th and 90th percentiles of values by the
// nearest rank: the value at rank ⌈p × n⌉ of the sorted values.
func percentiles(values []float64) *Percentiles {
	if len(values) == 0 {
		return nil
	}
	v := slices.Clone(values)
	slices.Sort(v)
	at := func(p float64) float64 {
		rank := int(math.Ceil(p * float64(len(v))))
		return v[max(rank, 1)-1]
	}
	return &Percentiles{P50: at(0.5), P90: at(0.9)}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
