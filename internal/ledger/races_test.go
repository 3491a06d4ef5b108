package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/proof"
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

// TestAReviewClosedTwiceAtOnce holds the first close of a review after it
// has read the review open and before it appends (at its wait for the log's
// end, where it freezes the review), while a second close runs to the end.
// The held close, released, is refused as a conflict: the log holds one
// review.closed, the second's.
func TestAReviewClosedTwiceAtOnce(t *testing.T) {
	l := newLedger(t)
	review := l.openReview(nextMonth())
	last := l.last()
	svc := l.gated()
	// As serve runs it: a close signs a checkpoint between its read and
	// its append.
	skey, _, err := proof.LoadOrCreateKey(t.TempDir(), "roadmap-ledger/test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := proof.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	svc.SignCheckpoints(l.tree, signer)

	h := newHoldOnce()
	first := make(chan error, 1)
	go func() {
		_, err := svc.CloseReview(context.WithValue(l.ctx, holdKey{}, h), as("chair"), review, roadmap.CloseReview{})
		first <- err
	}()
	select {
	case <-h.applied:
	case err := <-first:
		t.Fatalf("the first close was not held: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the first close did not reach its wait within 30s")
	}
	second, err := svc.CloseReview(l.ctx, as("cpo"), review, roadmap.CloseReview{})
	if err != nil {
		t.Fatalf("the second close: %v", err)
	}
	close(h.resume)
	select {
	case err = <-first:
	case <-time.After(30 * time.Second):
		t.Fatal("the first close did not end within 30s of its release")
	}
	wantErr(t, err, roadmap.ErrConflict)

	recs := l.records(last + 1)
	if len(recs) != 1 || recs[0].Envelope.Type != roadmap.TypeReviewClosed || recs[0].Envelope.Actor != "cpo" || recs[0].Sequence != second.Sequence {
		t.Fatalf("two closes appended %d events (%+v), want one review.closed by cpo at %d", len(recs), recs, second.Sequence)
	}
	ev, err := projections.Decode(recs[0])
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := ev.Data.(*roadmap.ReviewClosed); !ok || c.Checkpoint == nil || c.Sequence != last {
		t.Errorf("the close is %+v; want one frozen at %d with its signed checkpoint", ev.Data, last)
	}
	if r, _ := l.current.ReviewView(review); r.Status != roadmap.ReviewStatusClosed || r.Version != second.Sequence {
		t.Errorf("the review is %s at version %d, want closed at %d", r.Status, r.Version, second.Sequence)
	}
}

// TestADecisionAppendedBeforeItsTokensRevocationCompletes holds a decision
// right after its event is applied, before it reads its answer, while an
// admin revokes the token that took it. Released, the decision completes
// with its own answer: it was appended before the revocation, and the log
// says so in that order. (The API refuses a request whose token is revoked
// before its decision is read: api's
// TestATokenRevokedWhileItsRequestIsInFlight.)
func TestADecisionAppendedBeforeItsTokensRevocationCompletes(t *testing.T) {
	l := newLedger(t)
	tok := must(l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "leaving@example.com", Role: roadmap.RoleEditor}))(t)
	svc := l.gated()

	h := newHoldOnce()
	type outcome struct {
		res ledger.Result[ledger.ItemOutcome]
		err error
	}
	held := make(chan outcome, 1)
	go func() {
		res, err := svc.ProposeItem(context.WithValue(l.ctx, holdKey{}, h), as(tok.Answer.Name), roadmap.ProposeItem{Title: "Last idea", Kind: roadmap.KindIdea})
		held <- outcome{res, err}
	}()
	select {
	case <-h.applied:
	case o := <-held:
		t.Fatalf("the decision was not held: %+v", o)
	case <-time.After(30 * time.Second):
		t.Fatal("the decision was not applied within 30s")
	}
	revoked := must(svc.RevokeToken(l.ctx, as("admin"), tok.Answer.ID, roadmap.RevokeToken{Reason: "left"}))(t)
	close(h.resume)
	var o outcome
	select {
	case o = <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the decision did not end within 30s of its release")
	}
	if o.err != nil {
		t.Fatalf("a decision appended before the revocation was answered %v", o.err)
	}
	if o.res.Sequence >= revoked.Sequence || o.res.Answer.Item.Version != o.res.Sequence || o.res.Answer.Item.Title != "Last idea" {
		t.Errorf("the decision answered at %d (item version %d, %q), the revocation at %d; want the decision's own answer, before the revocation",
			o.res.Sequence, o.res.Answer.Item.Version, o.res.Answer.Item.Title, revoked.Sequence)
	}
	if t2, _ := l.current.TokenView(tok.Answer.ID); t2.StatusAt(time.Time{}) != roadmap.TokenStatusRevoked {
		t.Errorf("the token is %s, want revoked", t2.StatusAt(time.Time{}))
	}
}

// TestGroupCommitKeepsDecisionsAndRetriesExact runs a ledger whose log
// gathers decisions into atomic batches. Sixteen writers each propose an
// item with an Idempotency-Key, retry the proposal, and decide on their
// item five times, while four more race on one shared item with the same
// If-Match. Every retry must be answered as the first request, with no
// second event; exactly one of the racers must win; every item's events
// must form an exact chain at the versions the answers gave; and some of
// the events must have been stored in atomic batches.
func TestGroupCommitKeepsDecisionsAndRetriesExact(t *testing.T) {
	l := openLedgerWith(t, eventlog.Config{DataDir: t.TempDir(), GroupCommit: true})
	shared := l.propose("Shared item")
	sharedVersion := l.item(shared).Version

	const writers, decisions, racers = 16, 5, 4
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		versions = map[string][]uint64{} // item → the versions its answers gave, in order
		wins     int
	)
	for w := range writers {
		wg.Go(func() {
			actor := fmt.Sprintf("writer-%d", w)
			cmd := roadmap.ProposeItem{Title: actor + "'s idea", Kind: roadmap.KindIdea}
			first, err := l.svc.ProposeItem(l.ctx, keyed(actor, "propose", actor), cmd)
			if err != nil {
				t.Errorf("%s: propose: %v", actor, err)
				return
			}
			retry, err := l.svc.ProposeItem(l.ctx, keyed(actor, "propose", actor), cmd)
			if err != nil || !retry.Replayed || retry.Sequence != first.Sequence || retry.Answer.Item.ID != first.Answer.Item.ID {
				t.Errorf("%s: the retry got %+v, %v; want the first answer, replayed", actor, retry, err)
				return
			}
			id := first.Answer.Item.ID
			seen := []uint64{first.Answer.Item.Version}
			for n := range decisions {
				horizon := []roadmap.Horizon{roadmap.Next, roadmap.Later}[n%2]
				res, err := l.svc.Reprioritise(l.ctx, as(actor), id, roadmap.Reprioritise{Horizon: horizon, Rationale: fmt.Sprintf("round %d", n)})
				if n == 0 {
					res, err = l.svc.Prioritise(l.ctx, as(actor), id, roadmap.Prioritise{Horizon: horizon, Rationale: "first"})
				}
				if err != nil {
					t.Errorf("%s: decision %d: %v", actor, n, err)
					return
				}
				seen = append(seen, res.Answer.Item.Version)
			}
			mu.Lock()
			versions[id] = seen
			mu.Unlock()
		})
	}
	for r := range racers {
		wg.Go(func() {
			_, err := l.svc.Prioritise(l.ctx, ifMatch(fmt.Sprintf("racer-%d", r), sharedVersion), shared, roadmap.Prioritise{Horizon: roadmap.Later, Rationale: "mine"})
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, ledger.ErrPreconditionFailed) && !errors.Is(err, roadmap.ErrConflict):
				t.Errorf("racer %d: %v", r, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d racers on one version won, want 1", wins)
	}
	for id, seen := range versions {
		var events []eventlog.Envelope
		var seqs []uint64
		if err := l.log.Read(l.ctx, "item", id, func(r eventlog.Record) error {
			events, seqs = append(events, r.Envelope), append(seqs, r.Sequence)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := eventlog.VerifyChain(events); err != nil {
			t.Errorf("item %s: %v", id, err)
		}
		if !slices.Equal(seqs, seen) {
			t.Errorf("item %s is stored at %v, its answers gave %v", id, seqs, seen)
		}
	}
	stream, err := l.log.JetStream().Stream(l.ctx, l.log.Stream())
	if err != nil {
		t.Fatal(err)
	}
	batched := 0
	for seq := uint64(1); seq <= l.last(); seq++ {
		msg, err := stream.GetMsg(l.ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Header.Get("Nats-Batch-Id") != "" {
			batched++
		}
	}
	t.Logf("%d of %d events stored in atomic batches", batched, l.last())
	if batched == 0 {
		t.Error("no event was stored in an atomic batch")
	}
}
