package api

import (
	"context"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/projections"
)

// metricsKept is how many answers of the roadmap's figures are kept. The
// figures are computed by reading the log from its first event, which
// costs tens of microseconds an event (about a minute for a million
// events on a busy machine); the numbers page, the API and every review
// pack ask for the same few periods again and again.
const metricsKept = 256

// metricsCache keeps answers of projections.Metrics. An answer is a
// function of the log up to its Last, which never changes, so it is kept
// under its query. A period that has ended in the log (the reading met an
// event at or after To, at sequence S) has the same figures for every Last
// from S on: that answer is kept once, under its query without Last, and
// serves every later position.
type metricsCache struct {
	answers *lru.Cache[metricsKey, metricsAnswer]
}

// metricsKey is a query; last is 0 for a period that has ended.
type metricsKey struct {
	product  string
	from, to int64
	last     uint64
}

type metricsAnswer struct {
	report projections.MetricsReport
	// endedAt is the sequence of the first event at or after To, for a
	// period that has ended; 0 otherwise.
	endedAt uint64
}

func newMetricsCache() *metricsCache {
	answers, err := lru.New[metricsKey, metricsAnswer](metricsKept)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &metricsCache{answers: answers}
}

// metrics computes the roadmap's figures from the log, or answers them
// from the cache.
func (s *Server) metrics(ctx context.Context, q projections.MetricsQuery) (projections.MetricsReport, error) {
	ended := metricsKey{product: q.Product, from: q.From.UnixNano(), to: q.To.UnixNano()}
	at := ended
	at.last = q.Last
	if a, ok := s.figures.answers.Get(ended); ok && a.endedAt <= q.Last {
		r := a.report
		r.Last = q.Last
		return r, nil
	}
	if a, ok := s.figures.answers.Get(at); ok {
		return a.report, nil
	}
	var seen uint64
	var seenAt time.Time
	follow := func(ctx context.Context, from uint64, fn func(eventlog.Record) error) error {
		return s.follow(ctx, from, func(rec eventlog.Record) error {
			seen, seenAt = rec.Sequence, rec.Envelope.Time
			return fn(rec)
		})
	}
	r, err := projections.Metrics(ctx, follow, q)
	if err != nil {
		return r, err
	}
	if seen > 0 && !seenAt.Before(q.To) {
		s.figures.answers.Add(ended, metricsAnswer{report: r, endedAt: seen})
	} else {
		s.figures.answers.Add(at, metricsAnswer{report: r})
	}
	return r, nil
}
