package eventlog

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// benchBody is a stored reprioritisation as the ledger writes it, the kind
// of nearly every event of a long ledger.
func benchBody(b *testing.B) []byte {
	b.Helper()
	rank := 3
	reach, impact, confidence, effort := 1200.0, 2.0, 0.8, 3.0
	_, body := sealed(b, roadmap.ItemReprioritised{Placement: roadmap.Placement{
		Horizon: roadmap.Next, Rank: &rank,
		Score: &roadmap.Score{Framework: "rice", Version: 1, Reach: &reach, Impact: &impact, Confidence: &confidence,
			Effort: &effort, Value: 640},
		ObjectiveIDs: []string{"01a205a0-38db-7709-b8d4-f4d69e80948a"},
		Rationale:    "Blocked on the identity team until January",
		Evidence:     []string{"https://example.com/research/onboarding"},
	}}, Meta{ID: "01a205a0-464d-7caf-ae2b-69c5709021e3", AggregateType: "item", AggregateID: "01a205a0-38db-7709-b8d4-f4d69e80948a",
		Time: time.Date(2026, 11, 1, 9, 30, 0, 123456000, time.UTC), Actor: "pm@example.com"},
		"5ff3e6a702e77f648d9092f672254e1e2f95e23a68b9c54abb8c59518ccd1a7d")
	return body
}

// BenchmarkReadEvent reads a stored reprioritisation into its envelope and
// domain event: "replay" as the replay does (the parser with DomainData,
// which reads the placement with placementData), "general" with the
// general decoders (the envelope, then its data, by the JSON v2 decoder).
func BenchmarkReadEvent(b *testing.B) {
	body := benchBody(b)
	b.Run("replay", func(b *testing.B) {
		p := newParser(DomainData)
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var rec Record
			if err := p.parse(body, &rec); err != nil || rec.Decoded == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("general", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var rec Record
			if err := jsonv2.Unmarshal(body, &rec.Envelope); err != nil {
				b.Fatal(err)
			}
			if ev, err := rec.Event(); err != nil || ev == nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecodePlacement decodes the data of a stored reprioritisation:
// "placementData" with the placements' own decoder, "general" with the JSON
// v2 decoder, which the fast path of the envelope uses for the other types.
func BenchmarkDecodePlacement(b *testing.B) {
	var rec Record
	if err := newParser(nil).parse(benchBody(b), &rec); err != nil {
		b.Fatal(err)
	}
	data := []byte(rec.Envelope.Data)
	b.Run("placementData", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			d := DomainData(roadmap.TypeItemReprioritised).(dataDecoder)
			if n, ok := d.DecodeData(data); !ok || n != len(data) {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("general", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if err := jsonv2.Unmarshal(data, new(roadmap.ItemReprioritised)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyEvent checks a stored reprioritisation as an auditor's
// verify does, in each of decode's ways: "plain" (parsePlain and
// appendPlain, the way nearly every stored event takes), "decoders" (the
// JSON v2 decoder, then appendPlain) and "canonical" (decodeCanonical, the
// definition: encoding/json's decoder, its encoder, and a second encoding
// for the hash).
func BenchmarkVerifyEvent(b *testing.B) {
	body := benchBody(b)
	var v Verifier
	for _, way := range []struct {
		name   string
		verify func() bool
	}{
		{"plain", func() bool { _, err := v.Verify(body); return err == nil }},
		{"decoders", func() bool { _, ok := v.decodeGeneral(body); return ok }},
		{"canonical", func() bool { _, err := decodeCanonical(body); return err == nil }},
	} {
		b.Run(way.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if !way.verify() {
					b.Fatal("does not verify")
				}
			}
		})
	}
}

// BenchmarkAppendConcurrently appends from 16 goroutines at once, each
// event on an aggregate of its own, with every write synced, one publish per
// append ("one-by-one") and with group commit ("group-commit"), alternating
// three times so that a disk that changes speed shows in both. It reports
// appends/s and, with group commit, the appends per atomic batch.
//
//	go test ./internal/eventlog -run '^$' -bench AppendConcurrently -benchtime 3000x
func BenchmarkAppendConcurrently(b *testing.B) {
	for round := range 3 {
		for _, grouped := range []bool{false, true} {
			name := "one-by-one"
			if grouped {
				name = "group-commit"
			}
			b.Run(fmt.Sprintf("%s/%d", name, round+1), func(b *testing.B) {
				l, err := Open(context.Background(), Config{DataDir: b.TempDir(), GroupCommit: grouped})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				b.SetParallelism(16 / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						e := &Envelope{ID: uuid.NewString(), Type: "item.removed", SchemaVersion: 1, AggregateType: "item", AggregateID: uuid.NewString(),
							Time: time.Now().UTC(), Actor: "bench", Data: []byte(`{"rationale":"r","evidence":[]}`)}
						if _, err := l.Append(context.Background(), e, "", AppendOptions{}); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
				if l.commits != nil && l.commits.batches.Load() > 0 {
					b.ReportMetric(float64(l.commits.batched.Load())/float64(l.commits.batches.Load()), "appends/batch")
				}
			})
		}
	}
}
