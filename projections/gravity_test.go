package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// logBuilder writes events as the log would hold them, one sequence each,
// on a clock that moves a minute an event unless told to wait longer.
type logBuilder struct {
	at   time.Time
	recs []eventlog.Record
}

func newLogBuilder() *logBuilder {
	return &logBuilder{at: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (b *logBuilder) add(aggType, id string, data roadmap.Event) uint64 {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	seq := uint64(len(b.recs) + 1)
	b.at = b.at.Add(time.Minute)
	b.recs = append(b.recs, eventlog.Record{Sequence: seq, Envelope: eventlog.Envelope{
		ID: fmt.Sprintf("e%d", seq), Type: data.EventType(), SchemaVersion: 1, AggregateType: aggType, AggregateID: id,
		Time: b.at, Actor: "pm", Data: raw, Hash: fmt.Sprintf("h%d", seq),
	}})
	return seq
}

func (b *logBuilder) wait(d time.Duration) { b.at = b.at.Add(d) }

func (b *logBuilder) propose(id string) uint64 {
	return b.add("item", id, &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: "title of " + id, Kind: roadmap.KindIdea, Product: "web"}})
}

// place prioritises (first) or reprioritises an item; rank 0 means last.
func (b *logBuilder) place(id string, first bool, hz roadmap.Horizon, rank int, evidence ...string) uint64 {
	pl := roadmap.Placement{Horizon: hz, Rationale: "r", Evidence: evidence}
	if rank > 0 {
		pl.Rank = &rank
	}
	if first {
		return b.add("item", id, &roadmap.ItemPrioritised{Placement: pl})
	}
	return b.add("item", id, &roadmap.ItemReprioritised{Placement: pl})
}

func (b *logBuilder) rescore(id string) uint64 {
	return b.add("item", id, &roadmap.ItemReprioritised{Placement: roadmap.Placement{
		Score: &roadmap.Score{Framework: roadmap.FrameworkMoSCoW, Version: 1, Category: "must", Value: 4}, Rationale: "r",
	}})
}

func (b *logBuilder) remove(id string) uint64 {
	return b.add("item", id, &roadmap.ItemRemoved{Rationale: "r"})
}

// sliceSource serves a built log to the projection's time travel.
type sliceSource []eventlog.Record

func (s sliceSource) ReadRange(_ context.Context, from, to uint64, fn func(eventlog.Record) error) error {
	for _, r := range s {
		if r.Sequence >= from && r.Sequence <= to {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s sliceSource) Follow(ctx context.Context, from uint64, fn func(eventlog.Record) error) error {
	return s.ReadRange(ctx, from, ^uint64(0), fn)
}

func (s sliceSource) LastSequence(context.Context) (uint64, error) { return uint64(len(s)), nil }

// gravity folds the log into a projection (with a checkpoint every three
// events, so the period's start is reached by time travel) and returns the
// backlog gravity of the period after sequence since, measured at now, as
// "reason item@sequence" strings.
func gravity(t *testing.T, b *logBuilder, since uint64, now time.Time) ([]string, Signals) {
	t.Helper()
	c := NewCurrent(sliceSource(b.recs), 3)
	for _, rec := range b.recs {
		ev, err := Decode(rec)
		if err != nil {
			t.Fatal(err)
		}
		c.Apply(ev)
	}
	var decisions []Record
	for _, rec := range b.recs[since:] {
		r, err := c.Record(rec)
		if err != nil {
			t.Fatal(err)
		}
		if IsDecision(r.Type) {
			decisions = append(decisions, r)
		}
	}
	prior, err := c.priorEvidence(context.Background(), since, decisions)
	if err != nil {
		t.Fatal(err)
	}
	var sig Signals
	c.Read(func(s *State) { sig = s.Signals(now, decisions, prior) })
	var out []string
	for _, g := range sig.BacklogGravity {
		row := fmt.Sprintf("%s %s@%d", g.Reason, g.ItemID, g.Sequence)
		if (g.Since != nil) != (g.Reason == GravityLongInLater) {
			t.Errorf("%s: since %v; want a time for long-in-later only", row, g.Since)
		}
		if g.Title != "title of "+g.ItemID || g.Product != "web" {
			t.Errorf("%s: title %q, product %q", row, g.Title, g.Product)
		}
		out = append(out, row)
	}
	return out, sig
}

const day = 24 * time.Hour

func TestLongInLaterCountsFromTheDecisionThatPutTheItemThere(t *testing.T) {
	b := newLogBuilder()
	for _, id := range []string{"a", "b", "c", "d"} {
		b.propose(id)
	}
	aIn := b.place("a", true, roadmap.Later, 0) // stays, reranked within later
	b.place("b", true, roadmap.Later, 0)        // leaves later, comes back
	b.place("c", true, roadmap.Next, 0)         // never in later
	dIn := b.place("d", true, roadmap.Later, 0) // in later, then removed
	b.wait(30 * day)
	b.place("a", false, roadmap.Later, 3) // a move within later keeps the date
	b.place("b", false, roadmap.Next, 0)
	b.wait(10 * day)
	bBack := b.place("b", false, roadmap.Later, 0)
	b.remove("d")
	start := b.recs[aIn-1].Envelope.Time
	longInLater := func(now time.Time) []string {
		rows, _ := gravity(t, b, 0, now)
		var out []string
		for _, r := range rows {
			if strings.HasPrefix(r, GravityLongInLater+" ") {
				out = append(out, r)
			}
		}
		return out
	}

	got := longInLater(start.Add(90*day - time.Second))
	if len(got) != 0 {
		t.Errorf("a second before 90 days: %v, want nothing", got)
	}
	got = longInLater(start.Add(90 * day))
	if want := fmt.Sprint([]string{fmt.Sprintf("long-in-later a@%d", aIn)}); fmt.Sprint(got) != want {
		t.Errorf("at 90 days: %v, want %s (b came back to later 40 days on, c is in next, d was removed)", got, want)
	}
	got = longInLater(start.Add(140 * day))
	if want := fmt.Sprint([]string{fmt.Sprintf("long-in-later a@%d", aIn), fmt.Sprintf("long-in-later b@%d", bBack)}); fmt.Sprint(got) != want {
		t.Errorf("at 140 days: %v, want %s", got, want)
	}
	if strings.Contains(fmt.Sprint(got), fmt.Sprintf("@%d", dIn)) {
		t.Errorf("a removed item is flagged: %v", got)
	}
}

func TestRaisesWithoutNewEvidenceAreBacklogGravity(t *testing.T) {
	b := newLogBuilder()
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		b.propose(id)
	}
	b.place("a", true, roadmap.Later, 0, "https://example.com/a")
	b.place("b", true, roadmap.Later, 0, "https://example.com/b1", "https://example.com/b2")
	b.place("c", true, roadmap.Later, 0, "https://example.com/c")
	b.place("d", true, roadmap.Now, 0)
	b.place("e", true, roadmap.Next, 0)
	b.place("f", true, roadmap.Next, 0)
	since := uint64(len(b.recs)) // the period starts here

	aUp := b.place("a", false, roadmap.Next, 0)                                                    // up, no evidence
	bUp := b.place("b", false, roadmap.Now, 0, "https://example.com/b2", "https://example.com/b1") // up, the same set as before the period
	b.place("c", false, roadmap.Now, 0, "https://example.com/c", "https://example.com/new")        // up, with new evidence
	b.place("d", false, roadmap.Later, 0)                                                          // down
	b.rescore("e")                                                                                 // no move
	fUp := b.place("f", false, roadmap.Next, 1, "https://example.com/f")                           // up a rank in next, evidence new
	fAgain := b.place("f", false, roadmap.Now, 0, "https://example.com/f")                         // up again, the same as its previous decision in the period
	b.remove("c")

	got, sig := gravity(t, b, since, b.at)
	want := []string{
		fmt.Sprintf("raised-without-evidence a@%d", aUp),
		fmt.Sprintf("raised-without-evidence b@%d", bUp),
		fmt.Sprintf("raised-without-evidence f@%d", fAgain),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("gravity %v, want %v (c had new evidence, d went down, e only rescored, f's first raise at %d had new evidence)", got, want, fUp)
	}

	// The same log folded again gives the same rows.
	_, again := gravity(t, b, since, b.at)
	if !reflect.DeepEqual(sig, again) {
		t.Errorf("signals differ between two folds of the same log:\n%+v\n%+v", sig, again)
	}
	want0 := GravityItem{ItemID: "a", Title: "title of a", Product: "web", Reason: GravityRaisedWithoutEvidence, Sequence: aUp}
	if len(sig.BacklogGravity) == 0 || sig.BacklogGravity[0] != want0 {
		t.Errorf("backlog gravity %+v, want first %+v, with no since", sig.BacklogGravity, want0)
	}
}

func TestARaiseIsAMoveUpOfItsOwn(t *testing.T) {
	place := func(h roadmap.Horizon, rank int) *Place { return &Place{Horizon: h, Rank: rank} }
	off := &Place{}
	for _, tc := range []struct {
		name     string
		typ      string
		from, to *Place
		want     bool
	}{
		{"later to next", roadmap.TypeItemReprioritised, place(roadmap.Later, 1), place(roadmap.Next, 4), true},
		{"next to now", roadmap.TypeItemReprioritised, place(roadmap.Next, 1), place(roadmap.Now, 9), true},
		{"a better rank in the same horizon", roadmap.TypeItemReprioritised, place(roadmap.Next, 3), place(roadmap.Next, 2), true},
		{"the same place", roadmap.TypeItemReprioritised, place(roadmap.Next, 2), place(roadmap.Next, 2), false},
		{"a worse rank", roadmap.TypeItemReprioritised, place(roadmap.Now, 1), place(roadmap.Now, 2), false},
		{"now to later", roadmap.TypeItemReprioritised, place(roadmap.Now, 3), place(roadmap.Later, 1), false},
		{"a first placement", roadmap.TypeItemPrioritised, off, place(roadmap.Now, 1), false},
		{"a removal", roadmap.TypeItemRemoved, place(roadmap.Later, 1), off, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := raised(Record{Type: tc.typ, AggregateType: "item", From: tc.from, To: tc.to}); got != tc.want {
				t.Errorf("raised %v, want %v", got, tc.want)
			}
		})
	}
}
