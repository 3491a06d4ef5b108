package eventlog_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// BenchmarkAppendConcurrentlyOnACluster is BenchmarkAppendConcurrently on
// a three-node cluster on 127.0.0.1, every node syncing every write, the
// stream replicated three times: there the server stages an atomic batch
// in memory, not in a file store of its own.
//
//	go test ./internal/eventlog -run '^$' -bench AppendConcurrentlyOnACluster -benchtime 1000x
func BenchmarkAppendConcurrentlyOnACluster(b *testing.B) {
	c := apptest.StartCluster(b, true)
	for round := range 3 {
		for _, grouped := range []bool{false, true} {
			name := "one-by-one"
			if grouped {
				name = "group-commit"
			}
			b.Run(fmt.Sprintf("%s/%d", name, round+1), func(b *testing.B) {
				// One stream throughout: each open sets its atomic publish.
				l, err := eventlog.Open(context.Background(), eventlog.Config{NatsURL: c.URLs, SystemURL: c.SysURLs, Replicas: 3, GroupCommit: grouped})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				b.SetParallelism(16 / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						e := &eventlog.Envelope{ID: uuid.NewString(), Type: "item.removed", SchemaVersion: 1, AggregateType: "item", AggregateID: uuid.NewString(),
							Time: time.Now().UTC(), Actor: "bench", Data: []byte(`{"rationale":"r","evidence":[]}`)}
						if _, err := l.Append(context.Background(), e, "", eventlog.AppendOptions{}); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
				if batches, appends := l.GroupCommitStats(); batches > 0 {
					b.ReportMetric(float64(appends)/float64(batches), "appends/batch")
				}
			})
		}
	}
}
