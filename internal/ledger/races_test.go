package ledger_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

type holdKey struct{}

// holdOnce is where a request is held: right after the projections have
// applied the first event it waits for, until resume is closed.
type holdOnce struct {
	once            sync.Once
	applied, resume chan struct{}
}

func newHoldOnce() *holdOnce {
	return &holdOnce{applied: make(chan struct{}), resume: make(chan struct{})}
}

// onceGatedWaiter waits like the runner, then holds a request whose context
// carries a holdOnce at its first wait: between the first of its events
// being applied and whatever it does next.
type onceGatedWaiter struct{ runner *projections.Runner }

func (w onceGatedWaiter) WaitFor(ctx context.Context, seq uint64) error {
	err := w.runner.WaitFor(ctx, seq)
	if h, ok := ctx.Value(holdKey{}).(*holdOnce); ok && err == nil {
		h.once.Do(func() {
			close(h.applied)
			<-h.resume
		})
	}
	return err
}

// gated returns a second service over l's log and projections whose waits
// a holdOnce in a request's context can hold.
func (l *testLedger) gated() *ledger.Service {
	svc := ledger.New(l.log, l.current, l.requests, onceGatedWaiter{l.runner}, nil)
	svc.SetApprovals(roadmap.ApprovalsMajor)
	return svc
}

// TestTwoApproversApproveOneChangeAtOnce is the race of two approvers on one
// change, made deterministic: bob's approval is held right after his
// change.approved is applied, before he records the decision on the item;
// carol approves then, finds the change approved but not applied, and
// completes it. Bob, whose approval is the one recorded, must not be told
// that it failed: both answer with the change as applied, and the log holds
// one approval and one decision.
func TestTwoApproversApproveOneChangeAtOnce(t *testing.T) {
	l, id := approvalsLedger(t)
	c := hold(l, id)
	last := l.last()
	svc := l.gated()

	h := newHoldOnce()
	type outcome struct {
		res ledger.Result[projections.ChangeView]
		err error
	}
	bob := make(chan outcome, 1)
	go func() {
		res, err := svc.ApproveChange(context.WithValue(l.ctx, holdKey{}, h), as("bob"), c.ID, roadmap.DecideChange{Rationale: "agreed"})
		bob <- outcome{res, err}
	}()
	select {
	case <-h.applied:
	case o := <-bob:
		t.Fatalf("bob's approval was not held: %+v", o)
	case <-time.After(30 * time.Second):
		t.Fatal("bob's change.approved was not applied within 30s")
	}

	carol, carolErr := svc.ApproveChange(l.ctx, as("carol"), c.ID, roadmap.DecideChange{Rationale: "me too"})
	close(h.resume)
	var b outcome
	select {
	case b = <-bob:
	case <-time.After(30 * time.Second):
		t.Fatal("bob's approval did not end within 30s of its release")
	}

	if b.err != nil {
		t.Errorf("bob, whose approval is recorded, was answered %v", b.err)
	}
	if carolErr != nil {
		t.Errorf("carol, who completed the approval, was answered %v", carolErr)
	}
	recs := l.records(last + 1)
	if len(recs) != 2 {
		t.Fatalf("two approvals appended %d events, want 2 (one approval, one decision)", len(recs))
	}
	approved, decided := recs[0], recs[1]
	if approved.Envelope.Type != roadmap.TypeChangeApproved || approved.Envelope.Actor != "bob" {
		t.Errorf("the first event is %s by %s, want %s by bob", approved.Envelope.Type, approved.Envelope.Actor, roadmap.TypeChangeApproved)
	}
	if decided.Envelope.Type != roadmap.TypeItemPrioritised || decided.Envelope.AggregateID != id {
		t.Errorf("the second event is %s on %s, want %s on the item", decided.Envelope.Type, decided.Envelope.AggregateID, roadmap.TypeItemPrioritised)
	}
	for who, res := range map[string]ledger.Result[projections.ChangeView]{"bob": b.res, "carol": carol} {
		ch := res.Answer
		if ch.Status != roadmap.ChangeStatusApproved || ch.DecidedBy != "bob" || ch.AppliedSequence != decided.Sequence || res.Sequence != approved.Sequence {
			t.Errorf("%s's answer: the change %s by %q, applied at %d, sequence %d; want approved by bob, applied at %d, sequence %d",
				who, ch.Status, ch.DecidedBy, ch.AppliedSequence, res.Sequence, decided.Sequence, approved.Sequence)
		}
	}
	if it := l.item(id); it.Horizon != roadmap.Now || it.Version != decided.Sequence {
		t.Errorf("the item is in %s at version %d, want now at %d", it.Horizon, it.Version, decided.Sequence)
	}
}
