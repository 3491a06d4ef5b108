package api

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// countingLog is a log in memory that counts how many times it is read.
type countingLog struct {
	Log
	records []eventlog.Record
	reads   int
}

func (l *countingLog) Follow(ctx context.Context, from uint64, fn func(eventlog.Record) error) error {
	l.reads++
	for _, r := range l.records[from-1:] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (l *countingLog) add(at time.Time, id string, ev roadmap.Event) {
	l.records = append(l.records, eventlog.Record{Sequence: uint64(len(l.records) + 1), Decoded: ev, Envelope: eventlog.Envelope{
		Type: ev.EventType(), SchemaVersion: 1, AggregateType: "item", AggregateID: id, Time: at, Actor: "pm",
	}})
}

// TestFiguresOfAnEndedPeriodAreComputedOnce asks for November's figures
// while the log grows: while November is open every new position reads
// the log again, and once an event of December is in the log, November's
// figures are read once more and then answered from the cache at every
// later position, the same figures with the position asked for.
func TestFiguresOfAnEndedPeriodAreComputedOnce(t *testing.T) {
	log := &countingLog{}
	s := &Server{cfg: Config{Log: log}, figures: newMetricsCache()}
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	nov := projections.MetricsQuery{From: day(11, 1), To: day(12, 1)}
	ask := func(last uint64) projections.MetricsReport {
		t.Helper()
		q := nov
		q.Last = last
		r, err := s.metrics(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if r.Last != last {
			t.Errorf("the answer stands at %d, want the position asked for, %d", r.Last, last)
		}
		return r
	}
	log.add(day(11, 2), "a", &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "A", Kind: roadmap.KindIdea, Product: "web"}})
	log.add(day(11, 2), "a", &roadmap.ItemPrioritised{Placement: roadmap.Placement{Horizon: roadmap.Now, Rationale: "r"}})
	ask(2)
	ask(2)
	if log.reads != 1 {
		t.Errorf("the same question read the log %d times, want once", log.reads)
	}
	log.add(day(11, 20), "a", &roadmap.ItemDelivered{Rationale: "shipped"})
	if r := ask(3); r.Total.Delivered != 1 || log.reads != 2 {
		t.Errorf("a new position in an open month: %d delivered after %d reads, want 1 after 2", r.Total.Delivered, log.reads)
	}
	log.add(day(12, 3), "b", &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "B", Kind: roadmap.KindIdea, Product: "web"}})
	ended := ask(4)
	log.add(day(12, 4), "b", &roadmap.ItemPrioritised{Placement: roadmap.Placement{Horizon: roadmap.Now, Rationale: "r"}})
	later := ask(5)
	if log.reads != 3 {
		t.Errorf("November read the log %d times, want 3: once more when it had ended, then never", log.reads)
	}
	later.Last = ended.Last
	if !reflect.DeepEqual(later, ended) || ended.Total.Delivered != 1 || ended.Total.InNow != 1 {
		t.Errorf("November's figures changed once it had ended:\n%+v\n%+v", ended.Total, later.Total)
	}
	// A position before the one at which November was seen to end is not
	// served from the ended answer.
	ask(3)
	if log.reads != 3 {
		t.Errorf("an earlier position already asked for read the log again (%d reads)", log.reads)
	}
	ask(1)
	if log.reads != 4 {
		t.Errorf("a position never asked for was answered from the cache (%d reads)", log.reads)
	}
}
