package ledger

import (
	"cmp"
	"context"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

var viewAnswerOf = viewAnswer(nil, (*projections.State).SavedView)

// Publish shows an item on the public roadmap with a public summary (event
// item.published), or gives a published item a new one. Under the major
// approval policy it is held for approval: a public statement is made by
// two people. It returns roadmap.ErrNotFound, roadmap.ErrInvalid,
// roadmap.ErrConflict (not on the roadmap, or the same summary),
// ErrPreconditionFailed.
func (s *Service) Publish(ctx context.Context, req Request, id string, cmd roadmap.Publish) (Result[ItemOutcome], error) {
	return s.decideItem(ctx, req, id, func(it roadmap.Item, _ roadmap.References) (roadmap.ItemDecision, error) {
		return roadmap.DecidePublish(it, cmd)
	})
}

// Unpublish takes an item off the public roadmap (event item.unpublished),
// at once whatever the approval policy. It returns the errors of Publish.
func (s *Service) Unpublish(ctx context.Context, req Request, id string, cmd roadmap.Unpublish) (Result[ItemOutcome], error) {
	return s.decideItem(ctx, req, id, func(it roadmap.Item, _ roadmap.References) (roadmap.ItemDecision, error) {
		return roadmap.DecideUnpublish(it, cmd)
	})
}

// DefineView saves a new view (event view.defined). It returns
// roadmap.ErrInvalid and roadmap.ErrConflict (the slug is taken, an
// objective is unknown).
func (s *Service) DefineView(ctx context.Context, req Request, cmd roadmap.DefineView) (Result[projections.SavedView], error) {
	return write(ctx, s, req, viewAnswerOf, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		agg, err := fresh(req, "view", newID())
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideDefineView(cmd, st) })
	}))
}

// EditView changes the view with the given slug (event view.changed). It
// returns roadmap.ErrNotFound, roadmap.ErrInvalid, roadmap.ErrConflict,
// ErrPreconditionFailed.
func (s *Service) EditView(ctx context.Context, req Request, slug string, cmd roadmap.EditView) (Result[projections.SavedView], error) {
	return write(ctx, s, req, viewAnswerOf, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		v, ok := st.SavedViewBySlug(slug)
		agg, err := existing(req, "view", cmp.Or(v.ID, slug), ok, v.Version, v.Head)
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideEditView(v.View, cmd, st) })
	}))
}

// DeleteView deletes the view with the given slug (event view.deleted),
// freeing its slug. It returns roadmap.ErrNotFound, ErrPreconditionFailed.
func (s *Service) DeleteView(ctx context.Context, req Request, slug string) (Result[projections.SavedView], error) {
	return write(ctx, s, req, viewAnswerOf, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		v, ok := st.SavedViewBySlug(slug)
		agg, err := existing(req, "view", cmp.Or(v.ID, slug), ok, v.Version, v.Head)
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideDeleteView(v.View) })
	}))
}
