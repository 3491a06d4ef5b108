package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

type gateKey struct{}

// gatedWaiter waits like the runner, then, for a request whose context
// carries a gate, holds the request until the gate says so: the moment
// between "my event is applied" and "I read my answer" that another request
// can use.
type gatedWaiter struct{ runner *projections.Runner }

type gate struct{ applied, resume chan struct{} }

func (w gatedWaiter) WaitFor(ctx context.Context, seq uint64) error {
	err := w.runner.WaitFor(ctx, seq)
	if g, ok := ctx.Value(gateKey{}).(*gate); ok && err == nil {
		close(g.applied)
		<-g.resume
	}
	return err
}

// TestWriteAnswersWithItsOwnVersion is the deterministic form of what the
// concurrency suite (api/concurrency_test.go) finds now and then: a write
// answers with the aggregate right after its own decision, so its version
// (and ETag) is the sequence of its own event, even when another decision on
// the same aggregate lands before the answer is read.
func TestWriteAnswersWithItsOwnVersion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(log.Close)
	current := projections.NewCurrent(log, 0)
	requests := projections.NewIdempotency(log)
	runner := projections.NewRunner(log, nil, current, requests)
	runCtx, stop := context.WithCancel(context.Background())
	t.Cleanup(func() { stop(); <-runner.Done() })
	if err := runner.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	svc := ledger.New(log, current, requests, gatedWaiter{runner}, nil)

	req := ledger.Request{Actor: "test"}
	proposed, err := svc.ProposeItem(ctx, req, roadmap.ProposeItem{Title: "A", Kind: roadmap.KindIdea})
	if err != nil {
		t.Fatal(err)
	}
	id := proposed.Answer.Item.ID
	for _, it := range []string{"B", "C"} {
		other, err := svc.ProposeItem(ctx, req, roadmap.ProposeItem{Title: it, Kind: roadmap.KindIdea})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Prioritise(ctx, req, other.Answer.Item.ID, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Prioritise(ctx, req, id, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "r"}); err != nil {
		t.Fatal(err)
	}

	// A moves the item to the top; once its event is applied, and before
	// it reads its answer, B moves the item to #2.
	g := &gate{applied: make(chan struct{}), resume: make(chan struct{})}
	rank1, rank2 := 1, 2
	type outcome struct {
		res ledger.Result[ledger.ItemOutcome]
		err error
	}
	a := make(chan outcome, 1)
	go func() {
		res, err := svc.Reprioritise(context.WithValue(ctx, gateKey{}, g), req, id, roadmap.Reprioritise{Rank: &rank1, Rationale: "A: to the top"})
		a <- outcome{res, err}
	}()
	select {
	case <-g.applied:
	case o := <-a:
		t.Fatalf("A: %+v %v", o.res, o.err)
	}
	b, err := svc.Reprioritise(ctx, req, id, roadmap.Reprioritise{Rank: &rank2, Rationale: "B: second"})
	close(g.resume)
	if err != nil {
		t.Fatalf("B: %v", err)
	}
	resA := <-a
	if resA.err != nil {
		t.Fatalf("A: %v", resA.err)
	}
	for name, res := range map[string]ledger.Result[ledger.ItemOutcome]{"A": resA.res, "B": b} {
		v := res.Answer.Item
		if v.Version != res.Sequence {
			t.Errorf("%s's event is at sequence %d, but its answer shows the item at version %d (rank %d): the state after another decision", name, res.Sequence, v.Version, v.Rank)
		}
	}
	if v := resA.res.Answer.Item; v.Rank != 1 {
		t.Errorf("A moved the item to #1, and its answer shows it at #%d", v.Rank)
	}
}
