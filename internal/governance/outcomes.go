package governance

import (
	"context"
	"fmt"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Metrics computes the roadmap's figures (projections.Metrics over the
// log).
type Metrics func(ctx context.Context, q projections.MetricsQuery) (projections.MetricsReport, error)

// Outcomes are a review's figures for its month beside those of the
// previous closed review's month: the one-page summary a board reads
// against the last one.
type Outcomes struct {
	ReviewID string
	Period   string
	// Sequence is the ledger position both are read up to: the review's
	// (frozen once it is closed).
	Sequence uint64
	Figures  projections.Figures
	// Previous is the previous closed review's month, nil for a first
	// review.
	Previous *PreviousOutcomes
}

// PreviousOutcomes are the figures of the previous closed review's month.
type PreviousOutcomes struct {
	ReviewID string
	Period   string
	Figures  projections.Figures
}

// Outcomes returns the figures of review id's month against those of the
// previous closed review's month, both read from the log up to the
// position the review shows, so a closed review's never change. It returns
// the errors of Pack and those of metrics.
func (p *Packs) Outcomes(ctx context.Context, id string, now time.Time, metrics Metrics) (Outcomes, error) {
	snap, err := p.views.Snapshot(ctx, id, now)
	if err != nil {
		return Outcomes{}, err
	}
	return p.outcomes(ctx, snap, metrics)
}

// outcomes are Outcomes of a review's snapshot.
func (p *Packs) outcomes(ctx context.Context, snap projections.Snapshot, metrics Metrics) (Outcomes, error) {
	var err error
	out := Outcomes{ReviewID: snap.ID, Period: snap.Period, Sequence: snap.Sequence}
	if out.Figures, err = monthFigures(ctx, metrics, snap.Period, snap.Sequence); err != nil {
		return Outcomes{}, err
	}
	if prev, ok := p.previousReview(snap); ok {
		figures, err := monthFigures(ctx, metrics, prev.Period, snap.Sequence)
		if err != nil {
			return Outcomes{}, err
		}
		out.Previous = &PreviousOutcomes{ReviewID: prev.ID, Period: prev.Period, Figures: figures}
	}
	return out, nil
}

// monthFigures are the figures of the month period (YYYY-MM), read up to
// the position last.
func monthFigures(ctx context.Context, metrics Metrics, period string, last uint64) (projections.Figures, error) {
	start, err := time.Parse("2006-01", period)
	if err != nil {
		return projections.Figures{}, fmt.Errorf("%w: review period %q", roadmap.ErrInvalid, period)
	}
	r, err := metrics(ctx, projections.MetricsQuery{From: start, To: start.AddDate(0, 1, 0), Last: last})
	return r.Total, err
}
