package ledger_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// testLedger is the ledger's service as serve builds it, short of HTTP: a
// real embedded JetStream in a temporary directory, the Current projection
// and the Merkle tree, the runner that feeds them, and the service over
// them (approvals off, no signing key, until a test says otherwise; the
// token key testTokenKey).
type testLedger struct {
	tb      testing.TB
	ctx     context.Context
	dir     string
	log     *eventlog.Log
	current *projections.Current
	tree    *proof.Tree
	runner  *projections.Runner
	// requests is the idempotency index the service reads.
	requests *projections.Idempotency
	svc      *ledger.Service
	close    func()
}

// newLedger returns a ledger on an empty log.
func newLedger(tb testing.TB) *testLedger {
	tb.Helper()
	return openLedger(tb, tb.TempDir())
}

// openLedger returns a ledger on the log kept in dir, its projections
// rebuilt from it; the ledger is closed when the test ends.
func openLedger(tb testing.TB, dir string) *testLedger {
	tb.Helper()
	return openLedgerWith(tb, eventlog.Config{DataDir: dir})
}

// openLedgerWith is openLedger on the log cfg opens.
func openLedgerWith(tb testing.TB, cfg eventlog.Config) *testLedger {
	tb.Helper()
	dir := cfg.DataDir
	ctx, cancel := context.WithTimeout(tb.Context(), time.Minute)
	tb.Cleanup(cancel)
	log, err := eventlog.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("open the log: %v", err)
	}
	current := projections.NewCurrent(log, 0)
	requests := projections.NewIdempotency(log)
	tree := proof.NewTree()
	runner := projections.NewRunner(log, nil, current, requests, projections.Bodies(tree.Append))
	runCtx, stop := context.WithCancel(context.Background())
	if err := runner.Start(runCtx); err != nil {
		stop()
		log.Close()
		tb.Fatalf("start the projections: %v", err)
	}
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			stop()
			<-runner.Done()
			log.Close()
		})
	}
	tb.Cleanup(closeAll)
	if err := runner.WaitReady(ctx); err != nil {
		tb.Fatalf("replay the log: %v", err)
	}
	return &testLedger{
		tb: tb, ctx: ctx, dir: dir, log: log, current: current, requests: requests, tree: tree, runner: runner,
		svc: newService(log, current, requests, runner), close: closeAll,
	}
}

// testTokenKey keys the token secrets of every test ledger, and survives
// their restarts; otherTokenKey is another ledger's.
var testTokenKey, otherTokenKey = randomTokenKey(), randomTokenKey()

func randomTokenKey() roadmap.TokenKey {
	key := make([]byte, roadmap.TokenKeySize)
	rand.Read(key)
	return roadmap.NewTokenKey(key)
}

// newService returns the service of a test ledger, with its token key, as
// serve sets it.
func newService(log *eventlog.Log, current *projections.Current, requests *projections.Idempotency, runner *projections.Runner) *ledger.Service {
	svc := ledger.New(log, current, requests, runner, nil)
	svc.SetTokenKey(testTokenKey)
	return svc
}

// in returns the ledger for a subtest of the test that opened it: the
// same ledger, failing the subtest.
func (l *testLedger) in(tb testing.TB) *testLedger {
	sub := *l
	sub.tb = tb
	return &sub
}

// restart closes the ledger and opens it again on the same log, as a new
// process would: a fresh log connection, projections and service.
func (l *testLedger) restart() *testLedger {
	l.tb.Helper()
	l.close()
	return openLedger(l.tb, l.dir)
}

// signCheckpoints gives the service a signing key, as serve does, and
// returns its verifier key.
func (l *testLedger) signCheckpoints() (verifierKey string) {
	l.tb.Helper()
	skey, vkey, err := proof.LoadOrCreateKey(l.tb.TempDir(), "roadmap-ledger/test")
	if err != nil {
		l.tb.Fatalf("make a signing key: %v", err)
	}
	signer, err := proof.NewSigner(skey)
	if err != nil {
		l.tb.Fatalf("signer: %v", err)
	}
	l.svc.SignCheckpoints(l.tree, signer)
	return vkey
}

// last returns the sequence of the log's last event.
func (l *testLedger) last() uint64 {
	l.tb.Helper()
	seq, err := l.log.LastSequence(l.ctx)
	if err != nil {
		l.tb.Fatalf("last sequence: %v", err)
	}
	return seq
}

// wantLast fails the test unless the log's last event is at want: a refused
// or replayed request appends nothing.
func (l *testLedger) wantLast(want uint64) {
	l.tb.Helper()
	if got := l.last(); got != want {
		l.tb.Errorf("the log's last sequence is %d, want %d: %d events appended", got, want, got-want)
	}
}

// records returns the events of the log from sequence from on.
func (l *testLedger) records(from uint64) []eventlog.Record {
	l.tb.Helper()
	var out []eventlog.Record
	to := l.last()
	if from > to {
		return nil
	}
	if err := l.log.ReadRange(l.ctx, from, to, func(r eventlog.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		l.tb.Fatalf("read the log from %d to %d: %v", from, to, err)
	}
	return out
}

// item returns the item as the projections have it now.
func (l *testLedger) item(id string) projections.ItemView {
	l.tb.Helper()
	it, ok := l.current.ItemView(id)
	if !ok {
		l.tb.Fatalf("no item %s in the projections", id)
	}
	return it
}

// objective defines an objective and returns its id.
func (l *testLedger) objective(title string) string {
	l.tb.Helper()
	res, err := l.svc.DefineObjective(l.ctx, as("pm"), roadmap.DefineObjective{Title: title, KPI: "weekly active teams", Target: "+10% by Q3"})
	if err != nil {
		l.tb.Fatalf("define objective %q: %v", title, err)
	}
	return res.Answer.ID
}

// propose proposes an idea and returns its id.
func (l *testLedger) propose(title string) string {
	l.tb.Helper()
	return l.proposeItem(roadmap.ProposeItem{Title: title, Kind: roadmap.KindIdea})
}

// proposeItem proposes an item and returns its id.
func (l *testLedger) proposeItem(cmd roadmap.ProposeItem) string {
	l.tb.Helper()
	res, err := l.svc.ProposeItem(l.ctx, as("pm"), cmd)
	if err != nil {
		l.tb.Fatalf("propose %q: %v", cmd.Title, err)
	}
	return res.Answer.Item.ID
}

// prioritise puts an item last in a horizon and returns it as answered.
func (l *testLedger) prioritise(id string, h roadmap.Horizon) projections.ItemView {
	l.tb.Helper()
	res, err := l.svc.Prioritise(l.ctx, as("pm"), id, roadmap.Prioritise{Horizon: h, Rationale: "the top request of the quarter"})
	if err != nil {
		l.tb.Fatalf("prioritise %s into %s: %v", id, h, err)
	}
	if res.Answer.Held != nil {
		l.tb.Fatalf("prioritise %s into %s was held for approval", id, h)
	}
	return res.Answer.Item
}

// nextMonth is the month after this one, YYYY-MM: a period a review of a
// ledger made by the test may be opened for, whenever it began.
func nextMonth() string {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
}

// openReview opens the review of a period and returns its id.
func (l *testLedger) openReview(period string) string {
	l.tb.Helper()
	res, err := l.svc.OpenReview(l.ctx, as("pm"), roadmap.OpenReview{Period: period})
	if err != nil {
		l.tb.Fatalf("open the review of %s: %v", period, err)
	}
	return res.Answer.ID
}

// as is a request by actor, without If-Match or Idempotency-Key.
func as(actor string) ledger.Request { return ledger.Request{Actor: actor} }

// keyed is a request by actor with an Idempotency-Key and the hash of
// body as its request hash, as the API makes them.
func keyed(actor, key, body string) ledger.Request {
	h := sha256.Sum256([]byte(body))
	return ledger.Request{Actor: actor, IdempotencyKey: actor + " " + key, RequestHash: hex.EncodeToString(h[:])}
}

// ifMatch is a request by actor expecting the aggregate at version.
func ifMatch(actor string, version uint64) ledger.Request {
	return ledger.Request{Actor: actor, IfMatch: &version}
}

// wantErr fails the test at once unless err is want.
func wantErr(tb testing.TB, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("err = %v, want %v", err, want)
	}
}

// must returns the value of a call that must not fail, once given the
// test to fail at once otherwise: must(l.svc.ProposeItem(...))(t).
// errOf is the error of a call that also returns a value the caller does
// not look at.
func errOf[T any](_ T, err error) error { return err }

func must[T any](v T, err error) func(testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func ptr[T any](v T) *T { return &v }
