package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// BenchmarkRoadmapRender measures what a GET /v1/roadmap not yet kept costs
// beyond building the view: converting 500 entries to the wire and encoding
// them, with the API's encoder and, beside it, encoding/json, whose bytes
// it writes.
func BenchmarkRoadmapRender(b *testing.B) {
	v := roadmapOf500()
	b.Run("api", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = appendAnswer(buf[:0], roadmapWire(v)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(roadmapWire(v)); err != nil {
				b.Fatal(err)
			}
		}
	})
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

// FuzzAnswerEncoding holds answerBody's encoder to encoding/json's bytes for
// both views of the roadmap, over the text and numbers an answer can carry:
// HTML characters, line and paragraph separators, control characters,
// invalid UTF-8, and floats on both sides of the exponent notation's
// thresholds.
func FuzzAnswerEncoding(f *testing.F) {
	for _, s := range []string{"", "a<b>&c", "\u2028\u2029", "\x00\x01\x1f\x7f", "bad\xff\xfeutf8", "é日本\U0001F600", `"\/`, "\t\n\r\b\f", "\xed\xa0\x80"} {
		for _, v := range []float64{0, 1, -1, 0.1, 1e20, 1e21, 1e-6, 1e-7, 123456789.123, math.MaxFloat64, math.SmallestNonzeroFloat64, 2.5e-10, math.Copysign(0, -1)} {
			f.Add(s, v, int64(1_700_000_000_123_456_789))
		}
	}
	f.Fuzz(func(t *testing.T, s string, value float64, nanos int64) {
		if math.IsNaN(value) || math.IsInf(value, 0) {
			return // no score holds one: both encoders refuse it
		}
		at := time.Unix(0, nanos).In(time.FixedZone("", int(nanos%50_000)))
		v := roadmapOf500()
		v.AsOf, v.Product = &at, s
		e := &v.Horizons.Now[0]
		e.Title, e.Kind, e.Score.Category, e.Score.Value = s, roadmap.Kind(s), s, value
		e.Score.Reach = &value
		e.Objectives[0].Title, e.LastDecision.Rationale, e.LastDecision.At = s, s, at
		objectives := projections.ObjectivesView{Sequence: 7, AsOf: &at, Product: s, Unaligned: v.Horizons, Objectives: []projections.ObjectiveGroup{
			{Objective: roadmap.Objective{ID: s, Title: s, KPI: s, Target: s, Product: s}, Horizons: v.Horizons}, {},
		}}
		for _, answer := range []any{roadmapWire(v), objectivesWire(objectives)} {
			want, err := json.Marshal(answer)
			if err != nil {
				return // a time beyond year 9999, which neither encodes
			}
			got, err := answerBody(answer)
			if err != nil {
				t.Fatalf("answerBody: %v; encoding/json encodes it", err)
			}
			if want = append(want, '\n'); !bytes.Equal(got, want) {
				t.Fatalf("answerBody differs from encoding/json:\n got %.400q\nwant %.400q", got, want)
			}
		}
	})
}
