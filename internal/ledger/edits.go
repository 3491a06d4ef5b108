package ledger

import (
	"context"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// EditItem changes what an item is (event item.edited): its title,
// description, kind, parent, product, objectives, effort, dependencies or
// risks. Under the major approval policy, moving a now item to another
// product is held for approval like the other major changes. It returns
// roadmap.ErrNotFound, roadmap.ErrInvalid (bad values, a missing rationale,
// an edit that changes nothing), roadmap.ErrConflict, ErrPreconditionFailed.
func (s *Service) EditItem(ctx context.Context, req Request, id string, cmd roadmap.EditItem) (Result[ItemOutcome], error) {
	return s.decideItem(ctx, req, id, func(it roadmap.Item, refs roadmap.References) (roadmap.ItemDecision, error) {
		return roadmap.DecideEditItem(it, cmd, refs)
	})
}

// EditObjective changes what an objective is (event objective.edited): its
// title, description, KPI or target. It returns roadmap.ErrNotFound,
// roadmap.ErrInvalid, roadmap.ErrConflict (a retired objective),
// ErrPreconditionFailed.
func (s *Service) EditObjective(ctx context.Context, req Request, id string, cmd roadmap.EditObjective) (Result[projections.ObjectiveView], error) {
	return write(ctx, s, req, objectiveAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		o, ok := st.ObjectiveView(id)
		agg, err := existing(req, "objective", id, ok, o.Version, o.Head)
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideEditObjective(o.Objective, cmd) })
	}))
}
