package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Deliver records an item on the roadmap as delivered. It returns the errors
// of Prioritise.
func (s *Service) Deliver(ctx context.Context, req Request, id string, cmd roadmap.Deliver) (Result[ItemOutcome], error) {
	return s.decideItem(ctx, req, id, func(it roadmap.Item, _ roadmap.References) (roadmap.ItemDecision, error) {
		return roadmap.DecideDeliver(it, cmd)
	})
}

// ApproveChange approves a pending change and records its decision on the
// item: change.approved, then the decision itself, with the approver as its
// actor and the change in its approval. It returns roadmap.ErrNotFound,
// roadmap.ErrInvalid, roadmap.ErrForbidden (the approver proposed it),
// roadmap.ErrConflict (not pending, or the item changed since the proposal),
// ErrPreconditionFailed. The answer is the change once applied.
//
// The two appends are not one: a change approved whose decision is not
// recorded (the process stopped in between) is completed by approving it
// again. Two approvers at once record one approval and one decision: the
// one whose change.approved lands first is answered with the change as
// applied, whoever recorded the decision; the other gets the same answer
// when it found the change approved, else ErrConflict.
func (s *Service) ApproveChange(ctx context.Context, req Request, id string, cmd roadmap.DecideChange) (Result[projections.ChangeView], error) {
	if c, ok := s.views.ChangeView(id); ok && c.Status == roadmap.ChangeStatusApproved && c.AppliedSequence == 0 {
		if req.Actor == c.ProposedBy {
			return Result[projections.ChangeView]{}, fmt.Errorf("%w: %s proposed change %s and cannot complete its approval", roadmap.ErrForbidden, req.Actor, id)
		}
		return s.applyApproved(ctx, req.Actor, c, Result[projections.ChangeView]{Sequence: c.ApprovedSequence})
	}
	res, err := write(ctx, s, req, changeAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		c, agg, err := change(st, req, id)
		if err != nil {
			return agg, nil, err
		}
		it, ok := st.ItemView(c.ItemID)
		if !ok {
			return agg, nil, fmt.Errorf("%w: item %s", roadmap.ErrNotFound, c.ItemID)
		}
		e, err := roadmap.DecideApproveChange(c.Change, req.Actor, it.Version, cmd)
		return agg, e, err
	}))
	if err != nil {
		return res, err
	}
	if res.Replayed {
		return s.approvedAgain(ctx, req.Actor, res)
	}
	return s.applyApproved(ctx, req.Actor, res.Answer, res)
}

// approvedAgain answers a retried approval as the first request was
// answered: the change once its decision is recorded on the item. When the
// first request was cut short before that, the retry completes it.
func (s *Service) approvedAgain(ctx context.Context, actor string, res Result[projections.ChangeView]) (Result[projections.ChangeView], error) {
	c, ok := s.views.ChangeView(res.Answer.ID)
	if !ok || c.Status != roadmap.ChangeStatusApproved {
		return res, nil
	}
	if c.AppliedSequence == 0 {
		return s.applyApproved(ctx, actor, c, res)
	}
	applied, err := changeAnswer(ctx, s, aggregate{kind: "change", id: c.ID}, c.AppliedSequence)
	res.Answer = applied
	return res, err
}

// applyApproved records the decision of an approved change on its item,
// expecting the item still at the version the change was decided against,
// with actor (the approver, or whoever completes the approval) as its actor.
func (s *Service) applyApproved(ctx context.Context, actor string, c projections.ChangeView, res Result[projections.ChangeView]) (Result[projections.ChangeView], error) {
	item, _ := s.views.ItemView(c.ItemID)
	if _, err := write(ctx, s, Request{Actor: actor}, itemAnswer, func() (aggregate, roadmap.Event, error) {
		if item.Version != c.ItemVersion {
			return aggregate{}, nil, fmt.Errorf("%w: change %s is approved, but item %s has changed since it was proposed (version %d then, %d now), so its decision is not recorded",
				roadmap.ErrConflict, c.ID, c.ItemID, c.ItemVersion, item.Version)
		}
		agg := aggregate{kind: "item", id: c.ItemID, version: c.ItemVersion, head: item.Head}
		return agg, c.Change.Decision(), nil
	}); err != nil {
		if applied, ok := s.appliedMeanwhile(ctx, c.ID, err); ok {
			res.Answer = applied
			return res, nil
		}
		return Result[projections.ChangeView]{}, fmt.Errorf("change %s is approved, but its decision could not be recorded: %w", c.ID, err)
	}
	applied, _ := s.views.ChangeView(c.ID)
	res.Answer = applied
	return res, nil
}

// appliedMeanwhile returns the change once applied when err, the conflict
// of recording its decision, is there because another request recorded
// that very decision first: two approvers at once, or an approval and the
// approval that completes it. The approval recorded is then answered as
// done, not as failed.
func (s *Service) appliedMeanwhile(ctx context.Context, id string, err error) (projections.ChangeView, bool) {
	if !errors.Is(err, roadmap.ErrConflict) {
		return projections.ChangeView{}, false
	}
	// The other decision may be stored and not yet applied.
	if _, err := s.caughtUp(ctx); err != nil {
		return projections.ChangeView{}, false
	}
	c, ok := s.views.ChangeView(id)
	if !ok || c.AppliedSequence == 0 {
		return projections.ChangeView{}, false
	}
	applied, err := changeAnswer(ctx, s, aggregate{kind: "change", id: id}, c.AppliedSequence)
	return applied, err == nil
}

// RejectChange drops a pending change. It returns roadmap.ErrNotFound,
// roadmap.ErrInvalid, roadmap.ErrConflict (not pending),
// ErrPreconditionFailed.
func (s *Service) RejectChange(ctx context.Context, req Request, id string, cmd roadmap.DecideChange) (Result[projections.ChangeView], error) {
	return write(ctx, s, req, changeAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		c, agg, err := change(st, req, id)
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideRejectChange(c.Change, cmd) })
	}))
}

// change looks a change up in st for a decision on it.
func change(st *projections.State, req Request, id string) (projections.ChangeView, aggregate, error) {
	c, ok := st.ChangeView(id)
	agg, err := existing(req, "change", id, ok, c.Version, c.Head)
	return c, agg, err
}

// SetCapacity sets a product's capacity per horizon (event
// product.capacity_set). It returns roadmap.ErrInvalid,
// ErrPreconditionFailed.
func (s *Service) SetCapacity(ctx context.Context, req Request, product string, c roadmap.Capacity) (Result[projections.CapacityView], error) {
	return write(ctx, s, req, capacityAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		agg := aggregate{kind: "product", id: product}
		if v, ok := st.CapacityView(product); ok {
			agg.version, agg.head = v.Version, v.Head
		}
		if req.IfMatch != nil && *req.IfMatch != agg.version {
			return agg, nil, fmt.Errorf("%w: the capacity of %s is at version %d, not %d", ErrPreconditionFailed, product, agg.version, *req.IfMatch)
		}
		e, err := roadmap.DecideSetCapacity(c)
		return agg, e, err
	}))
}
