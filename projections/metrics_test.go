package projections

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// metricsLog builds a log event by event, at the times given.
type metricsLog struct{ events []Event }

func (l *metricsLog) add(at string, aggregateType, id string, data roadmap.Event) {
	t, err := time.Parse("2006-01-02 15:04", at)
	if err != nil {
		panic(err)
	}
	l.events = append(l.events, Event{
		Record: eventlog.Record{Sequence: uint64(len(l.events) + 1), Envelope: eventlog.Envelope{
			Type: data.EventType(), AggregateType: aggregateType, AggregateID: id, Time: t, Actor: "pm",
		}},
		Data: data,
	})
}

func (l *metricsLog) propose(at, id, product string, objectives ...string) {
	l.add(at, "item", id, &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: id, Kind: roadmap.KindIdea, Product: product, ObjectiveIDs: objectives}})
}

func (l *metricsLog) prioritise(at, id string, h roadmap.Horizon, objectives ...string) {
	l.add(at, "item", id, &roadmap.ItemPrioritised{Placement: roadmap.Placement{Horizon: h, ObjectiveIDs: append([]string{}, objectives...), Rationale: "r"}})
}

func (l *metricsLog) reprioritise(at, id string, h roadmap.Horizon, objectives ...string) {
	l.add(at, "item", id, &roadmap.ItemReprioritised{Placement: roadmap.Placement{Horizon: h, ObjectiveIDs: append([]string{}, objectives...), Rationale: "r"}})
}

// november is the scenario whose figures are worked out by hand in
// TestMetricsOfAMonthByHand: in product web, E in now since October; A,
// B, C and D into now in November (B through a change approved in 6
// hours), A and B delivered, C removed; G in later, reprioritised, and a
// change on it rejected after 24 hours; F, of product app, into now and
// delivered; objectives O1 and O2 of web, O3 of app.
func november() *metricsLog {
	l := &metricsLog{}
	for _, o := range []struct{ id, product string }{{"O1", "web"}, {"O2", "web"}, {"O3", "app"}} {
		l.add("2026-10-01 00:00", "objective", o.id, &roadmap.ObjectiveDefined{Title: o.id, Product: o.product})
	}
	l.propose("2026-10-02 00:00", "E", "web", "O1")
	l.prioritise("2026-10-20 00:00", "E", roadmap.Now, "O1")
	for _, id := range []string{"A", "B", "C", "D", "G"} {
		l.propose("2026-10-03 00:00", id, "web")
	}
	l.propose("2026-10-03 00:00", "F", "app", "O3")

	l.prioritise("2026-11-01 00:00", "B", roadmap.Next, "O1")
	l.prioritise("2026-11-02 00:00", "A", roadmap.Now, "O1")
	l.add("2026-11-03 00:00", "change", "X1", &roadmap.ChangeProposed{ItemID: "B", Decision: roadmap.TypeItemReprioritised})
	l.add("2026-11-03 06:00", "change", "X1", &roadmap.ChangeApproved{Rationale: "ok"})
	l.reprioritise("2026-11-03 06:00", "B", roadmap.Now, "O1")
	l.prioritise("2026-11-05 00:00", "C", roadmap.Now)
	l.prioritise("2026-11-06 00:00", "D", roadmap.Now, "O1")
	l.prioritise("2026-11-07 00:00", "F", roadmap.Now, "O3")
	l.add("2026-11-08 00:00", "item", "F", &roadmap.ItemDelivered{Rationale: "shipped"})
	l.prioritise("2026-11-08 00:00", "G", roadmap.Later)
	l.reprioritise("2026-11-09 00:00", "G", roadmap.Later)
	l.add("2026-11-09 12:00", "change", "X2", &roadmap.ChangeProposed{ItemID: "G", Decision: roadmap.TypeItemReprioritised})
	l.add("2026-11-10 00:00", "item", "C", &roadmap.ItemRemoved{Rationale: "dropped"})
	l.add("2026-11-10 12:00", "change", "X2", &roadmap.ChangeRejected{Rationale: "no"})
	l.add("2026-11-12 12:00", "item", "A", &roadmap.ItemDelivered{Rationale: "shipped"})
	l.add("2026-11-20 06:00", "item", "B", &roadmap.ItemDelivered{Rationale: "shipped"})
	// December.
	l.add("2026-12-05 00:00", "item", "D", &roadmap.ItemDelivered{Rationale: "shipped"})
	l.prioritise("2026-12-06 00:00", "C", roadmap.Next)
	return l
}

func (l *metricsLog) metrics(product, from, to string) MetricsReport {
	q := MetricsQuery{Product: product, From: utcDay(from), To: utcDay(to), Last: uint64(len(l.events))}
	f := newMetricsFold(q)
	for _, ev := range l.events {
		if !ev.Envelope.Time.Before(q.To) {
			break
		}
		f.apply(ev)
	}
	return f.report()
}

func utcDay(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestMetricsOfAMonthByHand(t *testing.T) {
	r := november().metrics("web", "2026-11-01", "2026-12-01")
	if len(r.Periods) != 1 {
		t.Fatalf("%d periods, want November alone", len(r.Periods))
	}
	nov := r.Periods[0]
	checkFigures(t, "November", nov, Figures{
		Start: utcDay("2026-11-01"), End: utcDay("2026-12-01"),
		// E (since October), A, B, C, D; not F (app).
		InNow: 5, DeliveredFromNow: 2, Delivered: 2, DeliveryRate: num(2.0 / 5),
		// A: 2 Nov 00:00 → 12 Nov 12:00; B: 1 Nov 00:00 → 20 Nov 06:00.
		CycleTimeDays: &Percentiles{P50: 10.5, P90: 19.25},
		// A: 10.5 days in now; B: 3 Nov 06:00 → 20 Nov 06:00.
		TimeInNowDays: &Percentiles{P50: 10.5, P90: 17},
		// B and G, over A, B, C, D, E, G.
		Reprioritisations: 2, RoadmapItems: 6, Churn: num(2.0 / 6),
		// X1 in 6 hours, X2 in 24.
		ApprovalTimeHours: &Percentiles{P50: 6, P90: 24},
		// At the end: D (O1), E (O1), G (none); O1 of O1 and O2.
		ItemsAtEnd: 3, UnalignedAtEnd: 1, UnalignedShare: num(1.0 / 3),
		ActiveObjectives: 2, CoveredObjectives: 1, ObjectiveCoverage: num(0.5),
		Removed: 1, RemovedFromNow: 1,
	})
	checkFigures(t, "the total", r.Total, nov)

	all := november().metrics("", "2026-11-01", "2026-12-01").Total
	if all.InNow != 6 || all.DeliveredFromNow != 3 || *all.DeliveryRate != 0.5 || all.ActiveObjectives != 3 {
		t.Errorf("every product: in now %d, delivered from now %d, rate %v, active objectives %d; want 6, 3, 0.5, 3",
			all.InNow, all.DeliveredFromNow, *all.DeliveryRate, all.ActiveObjectives)
	}
}

// TestMetricsOfAPastMonthNeverChange computes November again once
// December has happened: the same figures.
func TestMetricsOfAPastMonthNeverChange(t *testing.T) {
	then := november().metrics("web", "2026-11-01", "2026-12-01").Periods[0]
	later := november().metrics("web", "2026-11-01", "2027-01-01")
	if len(later.Periods) != 2 {
		t.Fatalf("%d periods, want November and December", len(later.Periods))
	}
	checkFigures(t, "November, read in January", later.Periods[0], then)
	dec := later.Periods[1]
	// D and E in now; D delivered after 29 days; C back on the roadmap.
	if dec.InNow != 2 || dec.DeliveredFromNow != 1 || dec.CycleTimeDays.P50 != 29 || dec.RoadmapItems != 4 || dec.Removed != 0 {
		t.Errorf("December: %+v", dec)
	}
	if later.Total.InNow != 5 || later.Total.Delivered != 3 || later.Total.CycleTimeDays.P90 != 29 {
		t.Errorf("the total of two months: %+v", later.Total)
	}
}

func TestPercentilesByNearestRank(t *testing.T) {
	if p := percentiles(nil); p != nil {
		t.Errorf("no values: %v, want nil", p)
	}
	p := percentiles([]float64{7, 1, 3, 9, 5, 2, 8, 4, 6, 10})
	if p.P50 != 5 || p.P90 != 9 {
		t.Errorf("1..10: %+v, want p50 5 and p90 9", p)
	}
}

func num(v float64) *float64 { return &v }

func checkFigures(t *testing.T, name string, got, want Figures) {
	t.Helper()
	eqf := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || math.Abs(*a-*b) < 1e-9) }
	eqp := func(a, b *Percentiles) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	ok := got.Start.Equal(want.Start) && got.End.Equal(want.End) &&
		got.InNow == want.InNow && got.DeliveredFromNow == want.DeliveredFromNow && got.Delivered == want.Delivered &&
		eqf(got.DeliveryRate, want.DeliveryRate) && eqp(got.CycleTimeDays, want.CycleTimeDays) && eqp(got.TimeInNowDays, want.TimeInNowDays) &&
		got.Reprioritisations == want.Reprioritisations && got.RoadmapItems == want.RoadmapItems && eqf(got.Churn, want.Churn) &&
		eqp(got.ApprovalTimeHours, want.ApprovalTimeHours) &&
		got.ItemsAtEnd == want.ItemsAtEnd && got.UnalignedAtEnd == want.UnalignedAtEnd && eqf(got.UnalignedShare, want.UnalignedShare) &&
		got.ActiveObjectives == want.ActiveObjectives && got.CoveredObjectives == want.CoveredObjectives && eqf(got.ObjectiveCoverage, want.ObjectiveCoverage) &&
		got.Removed == want.Removed && got.RemovedFromNow == want.RemovedFromNow
	if !ok {
		t.Errorf("%s:\n got %s\nwant %s", name, jsonOf(got), jsonOf(want))
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
