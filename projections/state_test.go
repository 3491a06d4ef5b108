package projections_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// history builds events as the log would hold them, one sequence each.
type history struct {
	seq    uint64
	events []projections.Event
}

func (h *history) add(aggType, id string, data roadmap.Event) {
	h.seq++
	raw, _ := json.Marshal(data)
	h.events = append(h.events, projections.Event{
		Record: eventlog.Record{Sequence: h.seq, Envelope: eventlog.Envelope{
			ID: fmt.Sprintf("e%d", h.seq), Type: data.EventType(), SchemaVersion: 1, AggregateType: aggType, AggregateID: id,
			Time: time.Date(2026, 11, 1, 0, 0, int(h.seq), 0, time.UTC), Actor: "pm", Data: raw, Hash: fmt.Sprintf("h%d", h.seq),
		}},
		Data: data,
	})
}

func (h *history) propose(id string) {
	h.add("item", id, &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: id, Kind: roadmap.KindIdea, Product: "default"}})
}

// placement puts an item in hz at rank, or last for a rank of 0.
func placement(hz roadmap.Horizon, rank int) roadmap.Placement {
	pl := roadmap.Placement{Horizon: hz, Rationale: "r"}
	if rank > 0 {
		pl.Rank = &rank
	}
	return pl
}

func (h *history) place(id string, hz roadmap.Horizon, rank int) {
	h.add("item", id, &roadmap.ItemPrioritised{Placement: placement(hz, rank)})
}

// placeLast places each of ids last in hz, in turn.
func (h *history) placeLast(hz roadmap.Horizon, ids ...string) {
	for _, id := range ids {
		h.place(id, hz, 0)
	}
}

// proposeAll proposes each of ids, in turn.
func (h *history) proposeAll(ids ...string) {
	for _, id := range ids {
		h.propose(id)
	}
}

// proposeAndPlace proposes each of ids and places it last in hz, in turn.
func (h *history) proposeAndPlace(hz roadmap.Horizon, ids ...string) {
	for _, id := range ids {
		h.propose(id)
		h.place(id, hz, 0)
	}
}

func (h *history) move(id string, hz roadmap.Horizon, rank int) {
	h.add("item", id, &roadmap.ItemReprioritised{Placement: placement(hz, rank)})
}

func fold(s *projections.State, evs []projections.Event) *projections.State {
	for _, ev := range evs {
		s.Apply(ev)
	}
	return s
}

func column(s *projections.State, hz roadmap.Horizon) string {
	v := s.Roadmap("default")
	var ids []string
	for _, e := range map[roadmap.Horizon][]projections.Entry{roadmap.Now: v.Horizons.Now, roadmap.Next: v.Horizons.Next, roadmap.Later: v.Horizons.Later}[hz] {
		ids = append(ids, fmt.Sprintf("%s#%d", e.ID, e.Rank))
	}
	return fmt.Sprint(ids)
}

func TestRanksArePositionsAppliedInLogOrder(t *testing.T) {
	cases := []struct {
		name  string
		build func(h *history)
		want  string
	}{
		{"without a rank an item goes last", func(h *history) {
			h.proposeAll("a", "b")
			h.placeLast(roadmap.Now, "a", "b")
		}, "[a#1 b#2]"},
		{"a rank inserts and shifts the rest down", func(h *history) {
			h.proposeAll("a", "b", "c")
			h.placeLast(roadmap.Now, "a", "b")
			h.place("c", roadmap.Now, 2)
		}, "[a#1 c#2 b#3]"},
		{"a rank beyond the end is clamped to last", func(h *history) {
			h.proposeAll("a", "b")
			h.placeLast(roadmap.Now, "a")
			h.place("b", roadmap.Now, 40)
		}, "[a#1 b#2]"},
		{"moving within a horizon closes the gap it leaves", func(h *history) {
			h.proposeAndPlace(roadmap.Now, "a", "b", "c")
			h.move("c", roadmap.Now, 1)
		}, "[c#1 a#2 b#3]"},
		{"leaving a horizon moves the ones below up", func(h *history) {
			h.proposeAndPlace(roadmap.Now, "a", "b", "c")
			h.move("a", roadmap.Later, 0)
		}, "[b#1 c#2]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := &history{}
			tc.build(h)
			if got := column(fold(projections.NewState(), h.events), roadmap.Now); got != tc.want {
				t.Errorf("now: %s, want %s", got, tc.want)
			}
		})
	}
}

func TestACloneIsIndependentOfItsOrigin(t *testing.T) {
	h := &history{}
	h.proposeAndPlace(roadmap.Now, "a", "b", "c")
	origin := fold(projections.NewState(), h.events)
	before := column(origin, roadmap.Now)

	clone := origin.Clone()
	more := &history{seq: h.seq}
	more.move("c", roadmap.Now, 1)
	more.propose("d")
	more.place("d", roadmap.Now, 2)
	more.add("item", "a", &roadmap.ItemRemoved{Rationale: "r"})
	fold(clone, more.events)

	if got := column(origin, roadmap.Now); got != before {
		t.Errorf("origin changed with its clone: %s, want %s", got, before)
	}
	if it, _ := origin.ItemView("a"); it.Status != roadmap.StatusOnRoadmap {
		t.Errorf("origin's item a is %s after the clone removed it", it.Status)
	}
	if got, want := column(clone, roadmap.Now), "[c#1 d#2 b#3]"; got != want {
		t.Errorf("clone: %s, want %s", got, want)
	}
}

func TestHeadsDigestChangesWithAnyHead(t *testing.T) {
	h := &history{}
	h.propose("a")
	h.propose("b")
	s := fold(projections.NewState(), h.events)
	first := s.Heads()
	if first.Aggregates != 2 || len(first.Digest) != 64 {
		t.Fatalf("heads %+v", first)
	}
	if again := fold(projections.NewState(), h.events).Heads(); again != first {
		t.Errorf("heads of the same history differ: %+v vs %+v", again, first)
	}
	more := &history{seq: h.seq}
	more.place("b", roadmap.Now, 0)
	fold(s, more.events)
	if s.Heads().Digest == first.Digest {
		t.Error("heads digest did not change when b's head did")
	}
}

func TestTheStateRemembersWhenTheLedgerBegan(t *testing.T) {
	h := &history{}
	h.add("review", "r1", &roadmap.ReviewOpened{Period: "2026-11", Title: "November"})
	h.add("review", "r1", &roadmap.ReviewCancelled{Rationale: "wrong month", Evidence: []string{}})
	h.propose("a")

	s := projections.NewState()
	if !s.Began().IsZero() {
		t.Errorf("an empty ledger began at %v, want the zero time", s.Began())
	}
	s.Apply(h.events[0])
	first := h.events[0].Envelope.Time
	if !s.Began().Equal(first) {
		t.Errorf("began %v, want the first event's time %v", s.Began(), first)
	}
	if id, ok := s.ReviewForPeriod("2026-11"); !ok || id != "r1" {
		t.Errorf("the open review's period: %q, %v; want r1", id, ok)
	}
	clone := s.Clone()
	fold(s, h.events[1:])
	if !s.Began().Equal(first) || !clone.Began().Equal(first) {
		t.Errorf("began %v (clone %v) after later events, want %v", s.Began(), clone.Began(), first)
	}
	if id, ok := s.ReviewForPeriod("2026-11"); ok {
		t.Errorf("a cancelled review %s still holds its period", id)
	}
	if r, _ := s.ReviewView("r1"); r.Status != roadmap.ReviewStatusCancelled {
		t.Errorf("the review is %s, want cancelled", r.Status)
	}
}
