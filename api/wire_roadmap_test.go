package api

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// BenchmarkRoadmapRender measures what a GET /v1/roadmap not yet kept costs
// beyond building the view: converting 500 entries to the wire and encoding
// them.
func BenchmarkRoadmapRender(b *testing.B) {
	v := roadmapOf500()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(roadmapWire(v)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoadmapWire measures the conversion alone.
func BenchmarkRoadmapWire(b *testing.B) {
	v := roadmapOf500()
	b.ReportAllocs()
	for b.Loop() {
		_ = roadmapWire(v)
	}
}

// roadmapOf500 is a roadmap of 500 items as GET /v1/roadmap shows one: each
// item with a score, two objectives, its last decision, and every fifth
// under a parent.
func roadmapOf500() projections.RoadmapView {
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	v := projections.RoadmapView{Sequence: 5000, AsOf: &at, Horizons: projections.Horizons{}}
	for i := range 500 {
		e := projections.Entry{
			ID: fmt.Sprintf("0b6c7a3e-0000-4000-8000-%012d", i), Title: fmt.Sprintf("Item number %d of the roadmap", i),
			Kind: roadmap.KindIdea, Product: "default", Rank: i%200 + 1,
			Score:      &roadmap.Score{Framework: roadmap.FrameworkMoSCoW, Version: 1, Category: "must", Value: 4},
			Objectives: []projections.Ref{{ID: "objective-1", Title: "Reduce onboarding time"}, {ID: "objective-2", Title: "Grow activation"}},
			LastDecision: &projections.Decision{
				Sequence: uint64(4000 + i), Type: roadmap.TypeItemPrioritised, Rationale: "Cheapest fix for the top churn reason",
				Actor: "pm@example.com", At: at.Add(time.Duration(i) * time.Minute),
			},
		}
		if i%5 == 0 {
			e.Parent = &projections.Ref{ID: "parent", Title: "An initiative"}
		}
		col := &v.Horizons.Later
		switch {
		case i < 100:
			col = &v.Horizons.Now
		case i < 300:
			col = &v.Horizons.Next
		}
		*col = append(*col, e)
	}
	return v
}
