package projections

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// TestApplyReportsThePlacesBeforeAndAfter checks, over a random history of
// proposals, placements, moves, removals and edits across products, that
// the places apply reports for a decision on an item are the item's place
// right before and right after it, as Position finds them.
func TestApplyReportsThePlacesBeforeAndAfter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := NewState()
	var ids []string
	for seq := uint64(1); seq <= 5000; seq++ {
		var id string
		var data roadmap.Event
		switch n := rng.IntN(10); {
		case len(ids) < 5 || n == 0:
			id = fmt.Sprintf("item-%d", len(ids))
			ids = append(ids, id)
			data = &roadmap.ItemProposed{ItemBrief: roadmap.ItemBrief{Title: id, Kind: roadmap.KindIdea, Product: fmt.Sprintf("p%d", len(ids)%3)}}
		case n == 1:
			id, data = ids[rng.IntN(len(ids))], &roadmap.ItemRemoved{Rationale: "r"}
		case n == 2:
			// An edit: of the product (which moves an item on the roadmap)
			// or of the title (which keeps it where it is).
			id = ids[rng.IntN(len(ids))]
			it, _ := s.Item(id)
			e := &roadmap.ItemEdited{Changed: []string{"title"}, Before: it.Details(), After: it.Details()}
			e.After.Title += "!"
			if rng.IntN(2) == 0 {
				e.Changed, e.After.Title, e.After.Product = []string{"product"}, it.Title, fmt.Sprintf("p%d", rng.IntN(3))
			}
			data = e
		default:
			id = ids[rng.IntN(len(ids))]
			pl := roadmap.Placement{Horizon: roadmap.Horizons[rng.IntN(len(roadmap.Horizons))], Rationale: "r"}
			if r := rng.IntN(30); r > 0 {
				pl.Rank = &r
			}
			if n < 5 {
				data = &roadmap.ItemPrioritised{Placement: pl}
			} else {
				data = &roadmap.ItemReprioritised{Placement: pl}
			}
		}
		ev := Event{Record: eventlog.Record{Sequence: seq, Envelope: eventlog.Envelope{
			Type: data.EventType(), AggregateType: "item", AggregateID: id}}, Data: data}
		want := s.place(id)
		from, to, moved := s.apply(ev)
		if !moved || from != want || to != s.place(id) {
			t.Fatalf("sequence %d (%s of %s): apply says %v to %v (moved %v), Position says %v to %v",
				seq, data.EventType(), id, from, to, moved, want, s.place(id))
		}
	}
}
