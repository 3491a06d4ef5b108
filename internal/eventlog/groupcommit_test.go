package eventlog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// openGrouped opens a log that gathers appends into atomic batches. With
// gated, its first batch waits until the returned function is called, so
// that a test can queue the appends of one batch first.
func openGrouped(t testing.TB, gated bool) (*Log, func()) {
	t.Helper()
	gate := make(chan struct{})
	cfg := Config{DataDir: t.TempDir(), GroupCommit: true}
	if gated {
		cfg.commitGate = gate
	} else {
		close(gate)
	}
	l, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	if l.commits == nil {
		t.Fatal("no committer: the server took no atomic batches")
	}
	var once sync.Once
	return l, func() { once.Do(func() { close(gate) }) }
}

func groupEvent(id, actor string) *Envelope {
	return &Envelope{ID: uuid.NewString(), Type: "item.removed", SchemaVersion: 1, AggregateType: "item", AggregateID: id,
		Time: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC), Actor: actor, Data: []byte(`{"rationale":"r","evidence":[]}`)}
}

// single stores e on its own, outside the committer.
func single(t testing.TB, l *Log, e *Envelope, prevHash string, opts AppendOptions) uint64 {
	t.Helper()
	msg, err := NewMessage(e, prevHash, l.name, opts)
	if err != nil {
		t.Fatal(err)
	}
	ack, _, err := l.publish(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

type appendResult struct {
	ack Appended
	err error
}

// queue starts one Append per call of each, in order, each once the one
// before it is queued for the committer, then opens the gate and returns
// their answers in the order of appends.
func queue(t testing.TB, l *Log, open func(), appends ...func() (Appended, error)) []appendResult {
	t.Helper()
	results := make([]appendResult, len(appends))
	var wg sync.WaitGroup
	for i, a := range appends {
		wg.Go(func() {
			ack, err := a()
			results[i] = appendResult{ack, err}
		})
		deadline := time.Now().Add(10 * time.Second)
		for len(l.commits.in) < i+1 {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d appends queued", len(l.commits.in), len(appends))
			}
			time.Sleep(time.Millisecond)
		}
	}
	open()
	wg.Wait()
	return results
}

func chainOf(t testing.TB, l *Log, id string) []Envelope {
	t.Helper()
	var events []Envelope
	if err := l.Read(context.Background(), "item", id, func(r Record) error {
		events = append(events, r.Envelope)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := VerifyChain(events); err != nil {
		t.Fatalf("chain of %s: %v", id, err)
	}
	return events
}

// TestGroupCommitKeepsEveryChainExact has 16 writers append to 24
// aggregates at random, each reading the aggregate's head first, as the
// ledger does, so that writers race on the same aggregate while others are
// gathered into batches. Every acknowledged append must be stored at the
// sequence it was given, on its aggregate's chain, and every refused one
// must be absent.
func TestGroupCommitKeepsEveryChainExact(t *testing.T) {
	l, _ := openGrouped(t, false)
	ctx := context.Background()
	ids := make([]string, 24)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	var (
		mu        sync.Mutex
		acked     = map[string]uint64{} // event id → sequence
		refused   = map[string]bool{}
		wg        sync.WaitGroup
		conflicts int
	)
	for w := range 16 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for n := range 40 {
				id := ids[rng.IntN(len(ids))]
				seq, head, err := l.Head(ctx, "item", id)
				if err != nil {
					t.Error(err)
					return
				}
				e := groupEvent(id, fmt.Sprintf("writer-%d-%d", w, n))
				ack, err := l.Append(ctx, e, head, AppendOptions{ExpectedSequence: seq})
				mu.Lock()
				switch {
				case errors.Is(err, ErrConflict):
					refused[e.ID] = true
					conflicts++
				case err != nil:
					t.Errorf("append: %v", err)
				default:
					acked[e.ID] = ack.Sequence
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stored := 0
	for _, id := range ids {
		for _, e := range chainOf(t, l, id) {
			stored++
			if refused[e.ID] {
				t.Errorf("event %s was refused as a conflict, yet stored", e.ID)
			}
			if _, ok := acked[e.ID]; !ok {
				t.Errorf("event %s is stored but was never acknowledged", e.ID)
			}
		}
	}
	if stored != len(acked) {
		t.Errorf("%d events stored, %d acknowledged", stored, len(acked))
	}
	if err := l.ReadRange(ctx, 1, uint64(stored), func(r Record) error {
		if seq, ok := acked[r.Envelope.ID]; !ok || seq != r.Sequence {
			t.Errorf("event %s is at sequence %d, acknowledged at %d (%v)", r.Envelope.ID, r.Sequence, seq, ok)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b, m := l.commits.batches.Load(), l.commits.batched.Load()
	t.Logf("%d appends acknowledged, %d conflicts; %d atomic batches held %d appends; %d batches sent again one by one", len(acked), conflicts, b, m, l.commits.refused.Load())
	if b == 0 || m < 2*b {
		t.Errorf("%d batches held %d appends: the appends were not gathered", b, m)
	}
}

// TestAConflictInABatchRefusesThatAppendOnly puts three appends in one
// batch, one of them expecting a sequence its aggregate has moved past:
// that one is a conflict, and the two others are stored.
func TestAConflictInABatchRefusesThatAppendOnly(t *testing.T) {
	l, open := openGrouped(t, true)
	ctx := context.Background()
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	first := groupEvent(a, "setup")
	seqA := single(t, l, first, "", AppendOptions{})
	single(t, l, groupEvent(b, "setup"), "", AppendOptions{})

	results := queue(t, l, open,
		func() (Appended, error) {
			return l.Append(ctx, groupEvent(a, "right"), first.Hash, AppendOptions{ExpectedSequence: seqA})
		},
		func() (Appended, error) { return l.Append(ctx, groupEvent(b, "stale"), "", AppendOptions{}) },
		func() (Appended, error) { return l.Append(ctx, groupEvent(c, "new"), "", AppendOptions{}) },
	)
	if !errors.Is(results[1].err, ErrConflict) {
		t.Errorf("the stale append: %v, want a conflict", results[1].err)
	}
	for _, i := range []int{0, 2} {
		if results[i].err != nil {
			t.Errorf("append %d: %v, want it stored", i, results[i].err)
		}
	}
	if got := len(chainOf(t, l, a)); got != 2 {
		t.Errorf("%s holds %d events, want 2", a, got)
	}
	if got := len(chainOf(t, l, b)); got != 1 {
		t.Errorf("%s holds %d events, want 1: the stale append was stored", b, got)
	}
	if got := len(chainOf(t, l, c)); got != 1 {
		t.Errorf("%s holds %d events, want 1", c, got)
	}
	if got := l.commits.refused.Load(); got != 1 {
		t.Errorf("%d batches refused, want the one", got)
	}
}

// TestAppendsToOneAggregateGoInSuccessiveBatches queues two chained appends
// to one aggregate beside appends to others: the server takes one expected
// sequence per subject and batch, so the second goes in the next batch and
// its expectation, the first's sequence, holds.
func TestAppendsToOneAggregateGoInSuccessiveBatches(t *testing.T) {
	l, open := openGrouped(t, true)
	ctx := context.Background()
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	one, two := groupEvent(a, "one"), groupEvent(a, "two")
	// one's hash is known once it is sealed: seal it now, as Append will.
	if _, err := one.Seal(""); err != nil {
		t.Fatal(err)
	}
	head := one.Hash // Append seals one again, meanwhile
	results := queue(t, l, open,
		func() (Appended, error) { return l.Append(ctx, one, "", AppendOptions{}) },
		func() (Appended, error) { return l.Append(ctx, groupEvent(b, "b"), "", AppendOptions{}) },
		func() (Appended, error) { return l.Append(ctx, two, head, AppendOptions{ExpectedSequence: 1}) },
		func() (Appended, error) { return l.Append(ctx, groupEvent(c, "c"), "", AppendOptions{}) },
	)
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("append %d: %v", i, r.err)
		}
	}
	if results[0].ack.Sequence != 1 || results[2].ack.Sequence != 4 {
		t.Errorf("a's events at %d and %d, want 1 (first batch) and 4 (the next)", results[0].ack.Sequence, results[2].ack.Sequence)
	}
	if got := len(chainOf(t, l, a)); got != 2 {
		t.Errorf("%s holds %d events, want 2", a, got)
	}
	if b, m := l.commits.batches.Load(), l.commits.batched.Load(); b != 1 || m != 3 {
		t.Errorf("%d batches held %d appends, want one of 3 and the fourth on its own", b, m)
	}
}

// TestARetryInABatchIsTheStoredCopy puts in one batch an append whose
// message id (its request's idempotency key) the stream already holds:
// JetStream refuses the whole batch, and, sent again one by one, the retry
// is acknowledged as a duplicate of the stored copy while the other append
// is stored.
func TestARetryInABatchIsTheStoredCopy(t *testing.T) {
	l, open := openGrouped(t, true)
	ctx := context.Background()
	keyed := AppendOptions{IdempotencyKey: "key-1", RequestHash: "hash-1"}
	stored := single(t, l, groupEvent(uuid.NewString(), "first try"), "", keyed)
	other := uuid.NewString()

	// A retried proposal makes a new item id, so its subject is new too.
	results := queue(t, l, open,
		func() (Appended, error) { return l.Append(ctx, groupEvent(uuid.NewString(), "retry"), "", keyed) },
		func() (Appended, error) { return l.Append(ctx, groupEvent(other, "other"), "", AppendOptions{}) },
	)
	if r := results[0]; r.err != nil || !r.ack.Duplicate || r.ack.Sequence != stored {
		t.Errorf("the retry: %+v, %v; want a duplicate of sequence %d", r.ack, r.err, stored)
	}
	if r := results[1]; r.err != nil || r.ack.Duplicate {
		t.Errorf("the other append: %+v, %v; want it stored", r.ack, r.err)
	}
	if got := len(chainOf(t, l, other)); got != 1 {
		t.Errorf("%s holds %d events, want 1", other, got)
	}
	if last, err := l.LastSequence(ctx); err != nil || last != 2 {
		t.Errorf("the log ends at %d (%v), want 2: the retry was stored twice", last, err)
	}
}

// TestGroupCommitFallsBackWhenTheStreamRefusesBatches turns atomic publish
// off on the stream under a running log, as an operator of an external
// cluster might: the batch is refused, every append is stored on its own,
// and the log stops trying batches.
func TestGroupCommitFallsBackWhenTheStreamRefusesBatches(t *testing.T) {
	l, open := openGrouped(t, true)
	ctx := context.Background()
	cfg := l.stream.CachedInfo().Config
	cfg.AllowAtomicPublish = false
	if _, err := l.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	appends := make([]func() (Appended, error), 3)
	for i := range appends {
		appends[i] = func() (Appended, error) { return l.Append(ctx, groupEvent(uuid.NewString(), "x"), "", AppendOptions{}) }
	}
	for i, r := range queue(t, l, open, appends...) {
		if r.err != nil {
			t.Errorf("append %d: %v", i, r.err)
		}
	}
	if !l.commits.off.Load() {
		t.Error("the log still tries atomic batches")
	}
	if last, err := l.LastSequence(ctx); err != nil || last != 3 {
		t.Errorf("the log ends at %d (%v), want 3", last, err)
	}
}

// TestGroupCommitIsOffByDefault: a log opened without GroupCommit publishes
// one append at a time and leaves the stream's configuration as it was.
func TestGroupCommitIsOffByDefault(t *testing.T) {
	l, err := Open(context.Background(), Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.commits != nil || l.stream.CachedInfo().Config.AllowAtomicPublish {
		t.Error("group commit is on without GroupCommit")
	}
}

// TestAnAppendAfterCloseFailsAtOnce: an append that reaches the committer
// after the log closed is refused, not left waiting for its deadline.
func TestAnAppendAfterCloseFailsAtOnce(t *testing.T) {
	l, _ := openGrouped(t, false)
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	for range 50 {
		if _, err := l.Append(ctx, groupEvent(uuid.NewString(), "late"), "", AppendOptions{}); err == nil {
			t.Fatal("an append after Close was acknowledged")
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("50 appends after Close took %s to fail", took)
	}
}
