package governance_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// TestAClosedReviewsOutcomesNeverChange reads October's closed review's
// figures, then November's beside them: October's are the same read again
// once November has happened, and November's review compares with them.
func TestAClosedReviewsOutcomesNeverChange(t *testing.T) {
	b := openBoard(t, roadmap.ApprovalsOff)
	metrics := func(ctx context.Context, q projections.MetricsQuery) (projections.MetricsReport, error) {
		return projections.Metrics(ctx, b.app.Log.Follow, q)
	}
	delivered := b.item(roadmap.ProposeItem{Title: "Delivered in October"})
	b.prioritise(delivered, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r"})
	b.decided(b.app.Ledger.Deliver(b.ctx, pm, delivered, roadmap.Deliver{Rationale: "shipped"}))
	notes := "ok"
	october, _ := b.review("2026-10", "October", &notes)
	before, err := b.packs.Outcomes(b.ctx, october, b.clock.Now(), metrics)
	if err != nil {
		t.Fatal(err)
	}
	if before.Previous != nil || before.Figures.Delivered != 1 || before.Figures.InNow != 1 {
		t.Errorf("October: %+v", before)
	}

	b.clock.Advance(31 * 24 * time.Hour)
	removed := b.item(roadmap.ProposeItem{Title: "Removed in November"})
	b.prioritise(removed, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r"})
	b.decided(b.app.Ledger.Remove(b.ctx, pm, removed, roadmap.Remove{Rationale: "dropped"}))
	november, _ := b.review("2026-11", "November", nil)

	after, err := b.packs.Outcomes(b.ctx, october, b.clock.Now(), metrics)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("October's outcomes changed once November happened:\nbefore %+v\nafter  %+v", before, after)
	}
	nov, err := b.packs.Outcomes(b.ctx, november, b.clock.Now(), metrics)
	if err != nil {
		t.Fatal(err)
	}
	if nov.Previous == nil || nov.Previous.ReviewID != october || !reflect.DeepEqual(nov.Previous.Figures, before.Figures) {
		t.Fatalf("November compares with %+v, want October's figures %+v", nov.Previous, before.Figures)
	}
	if nov.Figures.Removed != 1 || nov.Figures.Delivered != 0 || nov.Figures.InNow != 1 {
		t.Errorf("November: %+v", nov.Figures)
	}
}
