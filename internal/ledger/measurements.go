package ledger

import (
	"context"
	"fmt"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// MeasureObjective records a measurement of an objective's KPI (event
// objective.measured), checked against the ledger's clock. It returns
// roadmap.ErrNotFound, roadmap.ErrInvalid, ErrPreconditionFailed.
func (s *Service) MeasureObjective(ctx context.Context, req Request, id string, cmd roadmap.Measure) (Result[projections.Measurement], error) {
	return write(ctx, s, req, measurementAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		o, ok := st.ObjectiveView(id)
		agg, err := existing(req, "objective", id, ok, o.Version, o.Head)
		agg.at = s.eventTime()
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideMeasure(o.Objective, cmd, agg.at) })
	}))
}

// measurementAnswer is the measurement the event at seq recorded.
func measurementAnswer(ctx context.Context, s *Service, agg aggregate, seq uint64) (projections.Measurement, error) {
	var m projections.Measurement
	var found bool
	if err := s.views.At(ctx, seq, func(st *projections.State) error {
		m, found = st.Measurement(agg.id, seq)
		return nil
	}); err != nil {
		return m, err
	}
	if !found {
		return m, fmt.Errorf("no measurement of objective %s at sequence %d", agg.id, seq)
	}
	return m, nil
}
