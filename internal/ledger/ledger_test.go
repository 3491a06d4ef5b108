package ledger_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// written is what every write answers, whatever its aggregate: whether it
// made it, where its event is, and the aggregate's id and version in the
// answer and, once the write has returned, in the projections.
type written struct {
	created  bool
	sequence uint64
	id       string
	version  uint64
	live     uint64
}

// itemWritten is what a decision on item id answers: the item it shows and,
// once it has returned, the item in the projections.
func (l *testLedger) itemWritten(id string) func(ledger.Result[ledger.ItemOutcome], error) (written, error) {
	return func(res ledger.Result[ledger.ItemOutcome], err error) (written, error) {
		it := res.Answer.Item
		return written{res.Created, res.Sequence, it.ID, it.Version, l.item(id).Version}, err
	}
}

func TestAWriteAnswersItsAggregateRightAfterItsEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		write   func(l *testLedger) (written, error)
		created bool
	}{
		{
			name:    "defining an objective makes it",
			created: true,
			write: func(l *testLedger) (written, error) {
				res, err := l.svc.DefineObjective(l.ctx, as("pm"), roadmap.DefineObjective{Title: "Activation", KPI: "teams", Target: "+10%"})
				live, _ := l.current.ObjectiveView(res.Answer.ID)
				return written{res.Created, res.Sequence, res.Answer.ID, res.Answer.Version, live.Version}, err
			},
		},
		{
			name: "retiring an objective changes it",
			write: func(l *testLedger) (written, error) {
				id := l.objective("Activation")
				res, err := l.svc.RetireObjective(l.ctx, as("pm"), id, roadmap.RetireObjective{Rationale: "met"})
				live, _ := l.current.ObjectiveView(id)
				return written{res.Created, res.Sequence, res.Answer.ID, res.Answer.Version, live.Version}, err
			},
		},
		{
			name:    "proposing an item makes it",
			created: true,
			write: func(l *testLedger) (written, error) {
				res, err := l.svc.ProposeItem(l.ctx, as("pm"), roadmap.ProposeItem{Title: "Guided setup", Kind: roadmap.KindIdea})
				it := res.Answer.Item
				live, _ := l.current.ItemView(it.ID)
				return written{res.Created, res.Sequence, it.ID, it.Version, live.Version}, err
			},
		},
		{
			name: "prioritising an item changes it",
			write: func(l *testLedger) (written, error) {
				id := l.propose("Guided setup")
				return l.itemWritten(id)(l.svc.Prioritise(l.ctx, as("pm"), id, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "churn"}))
			},
		},
		{
			name: "reprioritising an item changes it",
			write: func(l *testLedger) (written, error) {
				id := l.propose("Guided setup")
				l.prioritise(id, roadmap.Next)
				return l.itemWritten(id)(l.svc.Reprioritise(l.ctx, as("pm"), id, roadmap.Reprioritise{Horizon: roadmap.Later, Rationale: "blocked"}))
			},
		},
		{
			name: "removing an item changes it",
			write: func(l *testLedger) (written, error) {
				id := l.propose("Guided setup")
				l.prioritise(id, roadmap.Next)
				return l.itemWritten(id)(l.svc.Remove(l.ctx, as("pm"), id, roadmap.Remove{Rationale: "superseded"}))
			},
		},
		{
			name: "delivering an item changes it",
			write: func(l *testLedger) (written, error) {
				id := l.propose("Guided setup")
				l.prioritise(id, roadmap.Next)
				return l.itemWritten(id)(l.svc.Deliver(l.ctx, as("pm"), id, roadmap.Deliver{Rationale: "shipped in 4.2"}))
			},
		},
		{
			name:    "a decision held for approval makes a change",
			created: true,
			write: func(l *testLedger) (written, error) {
				l.svc.SetApprovals(roadmap.ApprovalsMajor)
				id := l.propose("Guided setup")
				res, err := l.svc.Prioritise(l.ctx, as("pm"), id, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "churn"})
				if err != nil || res.Answer.Held == nil {
					return written{}, errors.Join(err, errors.New("the decision was not held"))
				}
				c := res.Answer.Held
				live, _ := l.current.ChangeView(c.ID)
				return written{res.Created, res.Sequence, c.ID, c.Version, live.Version}, nil
			},
		},
		{
			name: "rejecting a change changes it",
			write: func(l *testLedger) (written, error) {
				l.svc.SetApprovals(roadmap.ApprovalsMajor)
				id := l.propose("Guided setup")
				held := must(l.svc.Prioritise(l.ctx, as("pm"), id, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "churn"}))(l.tb)
				res, err := l.svc.RejectChange(l.ctx, as("cpo"), held.Answer.Held.ID, roadmap.DecideChange{Rationale: "not now"})
				live, _ := l.current.ChangeView(res.Answer.ID)
				return written{res.Created, res.Sequence, res.Answer.ID, res.Answer.Version, live.Version}, err
			},
		},
		{
			name:    "opening a review makes it",
			created: true,
			write: func(l *testLedger) (written, error) {
				res, err := l.svc.OpenReview(l.ctx, as("pm"), roadmap.OpenReview{Period: nextMonth()})
				live, _ := l.current.ReviewView(res.Answer.ID)
				return written{res.Created, res.Sequence, res.Answer.ID, res.Answer.Version, live.Version}, err
			},
		},
		{
			name: "closing a review changes it",
			write: func(l *testLedger) (written, error) {
				id := l.openReview(nextMonth())
				res, err := l.svc.CloseReview(l.ctx, as("cpo"), id, roadmap.CloseReview{Notes: "agreed"})
				live, _ := l.current.ReviewView(id)
				return written{res.Created, res.Sequence, res.Answer.ID, res.Answer.Version, live.Version}, err
			},
		},
		{
			name:    "signing a checkpoint makes one",
			created: true,
			write: func(l *testLedger) (written, error) {
				l.signCheckpoints()
				l.propose("Guided setup")
				res, err := l.svc.SignCheckpoint(l.ctx, as("cpo"))
				live, _ := l.current.CheckpointView(res.Answer.ID)
				return written{res.Created, res.Sequence, res.Answer.ID, res.Answer.Sequence, live.Sequence}, err
			},
		},
		{
			name:    "creating a token makes it",
			created: true,
			write: func(l *testLedger) (written, error) {
				res, err := l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "pm@example.com", Role: roadmap.RoleEditor})
				live, _ := l.current.TokenView(res.Answer.ID)
				return written{res.Created, res.Sequence, res.Answer.ID, res.Answer.Version, live.Version}, err
			},
		},
		{
			name: "revoking a token changes it",
			write: func(l *testLedger) (written, error) {
				tok := must(l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "pm@example.com", Role: roadmap.RoleEditor}))(l.tb)
				res, err := l.svc.RevokeToken(l.ctx, as("admin"), tok.Answer.ID, roadmap.RevokeToken{Reason: "left"})
				live, _ := l.current.TokenView(res.Answer.ID)
				return written{res.Created, res.Sequence, res.Answer.ID, res.Answer.Version, live.Version}, err
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t)
			// Another aggregate's event first, so a version that is a
			// count of the aggregate's own events shows.
			l.propose("Something else")
			got, err := tc.write(l)
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			if want := l.last(); got.sequence != want {
				t.Errorf("the answer's sequence is %d, want %d, the log's last event", got.sequence, want)
			}
			if got.version != got.sequence {
				t.Errorf("the answer shows version %d, want %d, the sequence of its own event", got.version, got.sequence)
			}
			if got.live != got.sequence {
				t.Errorf("once the write returned the projections show version %d, want %d: the write did not wait for them", got.live, got.sequence)
			}
			if got.created != tc.created {
				t.Errorf("Created is %v, want %v", got.created, tc.created)
			}
			if !roadmap.ValidID(got.id) {
				t.Errorf("the answer's id %q is not an aggregate id to locate it by", got.id)
			}
		})
	}
}

func TestItemDecisionsAnswerTheItemsRankAndHorizon(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	proposed := must(l.svc.ProposeItem(l.ctx, as("pm"), roadmap.ProposeItem{Title: "A", Kind: roadmap.KindIdea}))(t)
	a := proposed.Answer.Item.ID
	b, c, d := l.propose("B"), l.propose("C"), l.propose("D")
	l.prioritise(d, roadmap.Later)
	top := 1

	tests := []struct {
		name    string
		decide  func() (ledger.Result[ledger.ItemOutcome], error)
		status  roadmap.ItemStatus
		horizon roadmap.Horizon
		rank    int
	}{
		{
			name:   "a proposed item is off the roadmap",
			decide: func() (ledger.Result[ledger.ItemOutcome], error) { return proposed, nil },
			status: roadmap.StatusProposed,
		},
		{
			name: "the first item into a horizon is its first",
			decide: func() (ledger.Result[ledger.ItemOutcome], error) {
				return l.svc.Prioritise(l.ctx, as("pm"), a, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "r"})
			},
			status: roadmap.StatusOnRoadmap, horizon: roadmap.Next, rank: 1,
		},
		{
			name: "an item without a rank goes last",
			decide: func() (ledger.Result[ledger.ItemOutcome], error) {
				return l.svc.Prioritise(l.ctx, as("pm"), b, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "r"})
			},
			status: roadmap.StatusOnRoadmap, horizon: roadmap.Next, rank: 2,
		},
		{
			name: "an item placed at the top is first",
			decide: func() (ledger.Result[ledger.ItemOutcome], error) {
				return l.svc.Prioritise(l.ctx, as("pm"), c, roadmap.Prioritise{Horizon: roadmap.Next, Rank: &top, Rationale: "r"})
			},
			status: roadmap.StatusOnRoadmap, horizon: roadmap.Next, rank: 1,
		},
		{
			name: "a move to another horizon goes last there",
			decide: func() (ledger.Result[ledger.ItemOutcome], error) {
				return l.svc.Reprioritise(l.ctx, as("pm"), a, roadmap.Reprioritise{Horizon: roadmap.Later, Rationale: "r"})
			},
			status: roadmap.StatusOnRoadmap, horizon: roadmap.Later, rank: 2,
		},
		{
			name: "a move within the horizon answers the new rank",
			decide: func() (ledger.Result[ledger.ItemOutcome], error) {
				return l.svc.Reprioritise(l.ctx, as("pm"), b, roadmap.Reprioritise{Rank: &top, Rationale: "r"})
			},
			status: roadmap.StatusOnRoadmap, horizon: roadmap.Next, rank: 1,
		},
		{
			name: "a removed item is off the roadmap",
			decide: func() (ledger.Result[ledger.ItemOutcome], error) {
				return l.svc.Remove(l.ctx, as("pm"), c, roadmap.Remove{Rationale: "r"})
			},
			status: roadmap.StatusRemoved,
		},
		{
			name: "a delivered item is off the roadmap",
			decide: func() (ledger.Result[ledger.ItemOutcome], error) {
				return l.svc.Deliver(l.ctx, as("pm"), d, roadmap.Deliver{Rationale: "r"})
			},
			status: roadmap.StatusDelivered,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.decide()
			if err != nil {
				t.Fatalf("decide: %v", err)
			}
			it := res.Answer.Item
			if res.Answer.Held != nil {
				t.Fatalf("the decision was held: %+v", res.Answer.Held)
			}
			if got, want := it.Status, tc.status; got != want {
				t.Errorf("status %s, want %s", got, want)
			}
			if got, want := it.Horizon, tc.horizon; got != want {
				t.Errorf("horizon %q, want %q", got, want)
			}
			if got, want := it.Rank, tc.rank; got != want {
				t.Errorf("rank %d, want %d", got, want)
			}
			if got, want := it.Version, res.Sequence; got != want {
				t.Errorf("version %d, want %d", got, want)
			}
			if got, want := l.item(it.ID).Rank, tc.rank; got != want {
				t.Errorf("the projections rank it %d, want %d", got, want)
			}
		})
	}
}

// outcome is a write's result with its answer of any type, so the answers
// of every use case compare alike.
type outcome struct {
	Created  bool
	Replayed bool
	Sequence uint64
	Answer   any
}

func erase[T any](res ledger.Result[T], err error) (outcome, error) {
	return outcome{res.Created, res.Replayed, res.Sequence, res.Answer}, err
}

// retryCase is a use case retried with the same Idempotency-Key: arrange
// prepares the ledger and returns the id the write targets, write runs it,
// meanwhile (if set) changes the aggregate between the first request and
// its retry, so a retry answered from the ledger as it stands shows.
type retryCase struct {
	name      string
	actor     string
	arrange   func(l *testLedger) string
	write     func(l *testLedger, id string, req ledger.Request) (outcome, error)
	meanwhile func(l *testLedger, id string)
}

func retryCases() []retryCase {
	top := 1
	return []retryCase{
		{
			name:    "defining an objective",
			arrange: func(l *testLedger) string { return "" },
			write: func(l *testLedger, _ string, req ledger.Request) (outcome, error) {
				return erase(l.svc.DefineObjective(l.ctx, req, roadmap.DefineObjective{Title: "Activation", KPI: "teams", Target: "+10%"}))
			},
		},
		{
			name:    "retiring an objective",
			arrange: func(l *testLedger) string { return l.objective("Activation") },
			write: func(l *testLedger, id string, req ledger.Request) (outcome, error) {
				return erase(l.svc.RetireObjective(l.ctx, req, id, roadmap.RetireObjective{Rationale: "met"}))
			},
		},
		{
			name:    "proposing an item",
			arrange: func(l *testLedger) string { return "" },
			write: func(l *testLedger, _ string, req ledger.Request) (outcome, error) {
				return erase(l.svc.ProposeItem(l.ctx, req, roadmap.ProposeItem{Title: "Guided setup", Kind: roadmap.KindIdea}))
			},
		},
		{
			name:    "prioritising an item, since pushed down by another",
			arrange: func(l *testLedger) string { return l.propose("Guided setup") },
			write: func(l *testLedger, id string, req ledger.Request) (outcome, error) {
				return erase(l.svc.Prioritise(l.ctx, req, id, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "churn"}))
			},
			meanwhile: func(l *testLedger, id string) {
				other := l.propose("Other")
				must(l.svc.Prioritise(l.ctx, as("pm"), other, roadmap.Prioritise{Horizon: roadmap.Next, Rank: &top, Rationale: "urgent"}))(l.tb)
			},
		},
		{
			name: "reprioritising an item, since moved again",
			arrange: func(l *testLedger) string {
				id := l.propose("Guided setup")
				l.prioritise(id, roadmap.Next)
				return id
			},
			write: func(l *testLedger, id string, req ledger.Request) (outcome, error) {
				return erase(l.svc.Reprioritise(l.ctx, req, id, roadmap.Reprioritise{Horizon: roadmap.Later, Rationale: "blocked"}))
			},
			meanwhile: func(l *testLedger, id string) {
				must(l.svc.Reprioritise(l.ctx, as("pm"), id, roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "unblocked"}))(l.tb)
			},
		},
		{
			name: "removing an item",
			arrange: func(l *testLedger) string {
				id := l.propose("Guided setup")
				l.prioritise(id, roadmap.Next)
				return id
			},
			write: func(l *testLedger, id string, req ledger.Request) (outcome, error) {
				return erase(l.svc.Remove(l.ctx, req, id, roadmap.Remove{Rationale: "superseded"}))
			},
		},
		{
			name: "a decision held for approval",
			arrange: func(l *testLedger) string {
				l.svc.SetApprovals(roadmap.ApprovalsMajor)
				return l.propose("Guided setup")
			},
			write: func(l *testLedger, id string, req ledger.Request) (outcome, error) {
				return erase(l.svc.Prioritise(l.ctx, req, id, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "churn"}))
			},
		},
		{
			name:  "approving a change",
			actor: "cpo",
			arrange: func(l *testLedger) string {
				l.svc.SetApprovals(roadmap.ApprovalsMajor)
				id := l.propose("Guided setup")
				res := must(l.svc.Prioritise(l.ctx, as("pm"), id, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "churn"}))(l.tb)
				return res.Answer.Held.ID
			},
			write: func(l *testLedger, id string, req ledger.Request) (outcome, error) {
				return erase(l.svc.ApproveChange(l.ctx, req, id, roadmap.DecideChange{Rationale: "agreed"}))
			},
		},
		{
			name:  "rejecting a change",
			actor: "cpo",
			arrange: func(l *testLedger) string {
				l.svc.SetApprovals(roadmap.ApprovalsMajor)
				id := l.propose("Guided setup")
				res := must(l.svc.Prioritise(l.ctx, as("pm"), id, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "churn"}))(l.tb)
				return res.Answer.Held.ID
			},
			write: func(l *testLedger, id string, req ledger.Request) (outcome, error) {
				return erase(l.svc.RejectChange(l.ctx, req, id, roadmap.DecideChange{Rationale: "not now"}))
			},
		},
		{
			name:    "opening a review",
			arrange: func(l *testLedger) string { return "" },
			write: func(l *testLedger, _ string, req ledger.Request) (outcome, error) {
				return erase(l.svc.OpenReview(l.ctx, req, roadmap.OpenReview{Period: nextMonth()}))
			},
		},
		{
			name:    "closing a review",
			actor:   "cpo",
			arrange: func(l *testLedger) string { return l.openReview(nextMonth()) },
			write: func(l *testLedger, id string, req ledger.Request) (outcome, error) {
				return erase(l.svc.CloseReview(l.ctx, req, id, roadmap.CloseReview{Notes: "agreed"}))
			},
			meanwhile: func(l *testLedger, _ string) { l.propose("After the close") },
		},
		{
			name:  "signing a checkpoint",
			actor: "cpo",
			arrange: func(l *testLedger) string {
				l.signCheckpoints()
				return ""
			},
			write: func(l *testLedger, _ string, req ledger.Request) (outcome, error) {
				return erase(l.svc.SignCheckpoint(l.ctx, req))
			},
			meanwhile: func(l *testLedger, _ string) { l.propose("After the checkpoint") },
		},
		{
			name:    "setting a product's capacity",
			actor:   "admin",
			arrange: func(l *testLedger) string { return "" },
			write: func(l *testLedger, _ string, req ledger.Request) (outcome, error) {
				return erase(l.svc.SetCapacity(l.ctx, req, "default", roadmap.Capacity{Now: ptr(8)}))
			},
		},
		{
			name:    "creating a token",
			actor:   "admin",
			arrange: func(l *testLedger) string { return "" },
			write: func(l *testLedger, _ string, req ledger.Request) (outcome, error) {
				res, err := l.svc.CreateToken(l.ctx, req, roadmap.CreateToken{Name: "pm@example.com", Role: roadmap.RoleEditor})
				// The secret is answered once only; TestTokens checks it.
				return erase(ledger.Result[projections.TokenView]{Created: res.Created, Replayed: res.Replayed, Sequence: res.Sequence, Answer: res.Answer.TokenView}, err)
			},
		},
		{
			name:  "revoking a token",
			actor: "admin",
			arrange: func(l *testLedger) string {
				res := must(l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "pm@example.com", Role: roadmap.RoleEditor}))(l.tb)
				return res.Answer.ID
			},
			write: func(l *testLedger, id string, req ledger.Request) (outcome, error) {
				return erase(l.svc.RevokeToken(l.ctx, req, id, roadmap.RevokeToken{Reason: "left"}))
			},
		},
	}
}

// TestAnIdempotencyKeyAnswersItsRetryAndRefusesAnotherRequest retries each
// use case with the same Idempotency-Key and request, then sends another
// request with the key: the retry gets the first answer, as the aggregate
// stood right after the first request's event, and appends nothing; the
// other request is refused and appends nothing. After a restart the key
// index is rebuilt from the log, so the same holds.
func TestAnIdempotencyKeyAnswersItsRetryAndRefusesAnotherRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range retryCases() {
		for _, restart := range []bool{false, true} {
			name := tc.name
			if restart {
				name += " after a restart"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				actor := tc.actor
				if actor == "" {
					actor = "pm"
				}
				l := newLedger(t)
				id := tc.arrange(l)
				first := must(tc.write(l, id, keyed(actor, "k-1", "body")))(t)
				if first.Replayed {
					t.Fatalf("the first request is answered as replayed")
				}
				if tc.meanwhile != nil {
					tc.meanwhile(l, id)
				}
				if restart {
					l = l.restart()
				}
				last := l.last()

				retry := must(tc.write(l, id, keyed(actor, "k-1", "body")))(t)
				if !retry.Replayed {
					t.Errorf("the retry is not answered as replayed")
				}
				l.wantLast(last)

				_, err := tc.write(l, id, keyed(actor, "k-1", "another body"))
				wantErr(t, err, ledger.ErrIdempotencyMismatch)
				l.wantLast(last)

				retry.Replayed = false
				if !reflect.DeepEqual(retry, first) {
					t.Errorf("the retry got\n%+v\nwant the first answer\n%+v", retry, first)
				}
			})
		}
	}
}

func TestIfMatchNamingAnotherVersionIsRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		arrange func(l *testLedger) (write func() error)
	}{
		{
			name: "a decision on an item that moved since",
			arrange: func(l *testLedger) func() error {
				id := l.propose("Guided setup")
				stale := l.prioritise(id, roadmap.Next).Version
				must(l.svc.Reprioritise(l.ctx, as("pm"), id, roadmap.Reprioritise{Horizon: roadmap.Later, Rationale: "blocked"}))(l.tb)
				return func() error {
					_, err := l.svc.Reprioritise(l.ctx, ifMatch("pm", stale), id, roadmap.Reprioritise{Horizon: roadmap.Now, Rationale: "unblocked"})
					return err
				}
			},
		},
		{
			name: "retiring an objective at another version",
			arrange: func(l *testLedger) func() error {
				id := l.objective("Activation")
				return func() error {
					_, err := l.svc.RetireObjective(l.ctx, ifMatch("pm", 99), id, roadmap.RetireObjective{Rationale: "met"})
					return err
				}
			},
		},
		{
			name: "closing a review at another version",
			arrange: func(l *testLedger) func() error {
				id := l.openReview(nextMonth())
				return func() error {
					_, err := l.svc.CloseReview(l.ctx, ifMatch("cpo", 99), id, roadmap.CloseReview{})
					return err
				}
			},
		},
		{
			name: "revoking a token at another version",
			arrange: func(l *testLedger) func() error {
				tok := must(l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "pm", Role: roadmap.RoleEditor}))(l.tb)
				return func() error {
					_, err := l.svc.RevokeToken(l.ctx, ifMatch("admin", tok.Sequence+1), tok.Answer.ID, roadmap.RevokeToken{})
					return err
				}
			},
		},
		{
			name: "setting a capacity at another version",
			arrange: func(l *testLedger) func() error {
				set := must(l.svc.SetCapacity(l.ctx, as("admin"), "default", roadmap.Capacity{Now: ptr(5)}))(l.tb)
				return func() error {
					_, err := l.svc.SetCapacity(l.ctx, ifMatch("admin", set.Sequence-1), "default", roadmap.Capacity{Now: ptr(8)})
					return err
				}
			},
		},
		{
			name: "defining an objective, which has no version yet",
			arrange: func(l *testLedger) func() error {
				return func() error {
					_, err := l.svc.DefineObjective(l.ctx, ifMatch("pm", l.last()), roadmap.DefineObjective{Title: "A", KPI: "k", Target: "t"})
					return err
				}
			},
		},
		{
			name: "proposing an item, which has no version yet",
			arrange: func(l *testLedger) func() error {
				return func() error {
					_, err := l.svc.ProposeItem(l.ctx, ifMatch("pm", l.last()), roadmap.ProposeItem{Title: "A", Kind: roadmap.KindIdea})
					return err
				}
			},
		},
		{
			name: "opening a review, which has no version yet",
			arrange: func(l *testLedger) func() error {
				return func() error {
					_, err := l.svc.OpenReview(l.ctx, ifMatch("pm", 0), roadmap.OpenReview{Period: nextMonth()})
					return err
				}
			},
		},
		{
			name: "creating a token, which has no version yet",
			arrange: func(l *testLedger) func() error {
				return func() error {
					_, err := l.svc.CreateToken(l.ctx, ifMatch("admin", l.last()), roadmap.CreateToken{Name: "pm", Role: roadmap.RoleEditor})
					return err
				}
			},
		},
		{
			name: "signing a checkpoint, which has no version yet",
			arrange: func(l *testLedger) func() error {
				l.signCheckpoints()
				return func() error {
					_, err := l.svc.SignCheckpoint(l.ctx, ifMatch("cpo", l.last()))
					return err
				}
			},
		},
	}
	shared := newLedger(t)
	shared.propose("Something first")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := shared.in(t)
			write := tc.arrange(l)
			last := l.last()
			wantErr(t, write(), ledger.ErrPreconditionFailed)
			l.wantLast(last)
		})
	}
}

func TestIfMatchNamingTheCurrentVersionIsAccepted(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	id := l.propose("Guided setup")
	current := l.prioritise(id, roadmap.Next).Version
	res, err := l.svc.Reprioritise(l.ctx, ifMatch("pm", current), id, roadmap.Reprioritise{Horizon: roadmap.Later, Rationale: "blocked"})
	if err != nil {
		t.Fatalf("reprioritise at the current version: %v", err)
	}
	if got, want := res.Answer.Item.Horizon, roadmap.Later; got != want {
		t.Errorf("horizon %s, want %s", got, want)
	}
}

func TestDomainErrorsPassThroughWrapped(t *testing.T) {
	t.Parallel()
	const unknown = "0197a3c1-0000-7000-8000-000000000000"
	tests := []struct {
		name string
		// write is the write refused, when it needs nothing arranged;
		// arrange, when it does, arranges it and returns it.
		write   func(l *testLedger) error
		arrange func(l *testLedger) (write func() error)
		want    error
		// field, for ErrInvalid, is the field the validation error names.
		field string
	}{
		{name: "prioritising an unknown item is not found", want: roadmap.ErrNotFound, write: func(l *testLedger) error {
			return errOf(l.svc.Prioritise(l.ctx, as("pm"), unknown, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "r"}))
		}},
		{name: "reprioritising an unknown item is not found", want: roadmap.ErrNotFound, write: func(l *testLedger) error {
			return errOf(l.svc.Reprioritise(l.ctx, as("pm"), unknown, roadmap.Reprioritise{Horizon: roadmap.Next, Rationale: "r"}))
		}},
		{name: "removing an unknown item is not found", want: roadmap.ErrNotFound, write: func(l *testLedger) error {
			return errOf(l.svc.Remove(l.ctx, as("pm"), unknown, roadmap.Remove{Rationale: "r"}))
		}},
		{name: "delivering an unknown item is not found", want: roadmap.ErrNotFound, write: func(l *testLedger) error {
			return errOf(l.svc.Deliver(l.ctx, as("pm"), unknown, roadmap.Deliver{Rationale: "r"}))
		}},
		{name: "retiring an unknown objective is not found", want: roadmap.ErrNotFound, write: func(l *testLedger) error {
			return errOf(l.svc.RetireObjective(l.ctx, as("pm"), unknown, roadmap.RetireObjective{Rationale: "r"}))
		}},
		{name: "closing an unknown review is not found", want: roadmap.ErrNotFound, write: func(l *testLedger) error {
			return errOf(l.svc.CloseReview(l.ctx, as("cpo"), unknown, roadmap.CloseReview{}))
		}},
		{name: "approving an unknown change is not found", want: roadmap.ErrNotFound, write: func(l *testLedger) error {
			return errOf(l.svc.ApproveChange(l.ctx, as("cpo"), unknown, roadmap.DecideChange{Rationale: "r"}))
		}},
		{name: "rejecting an unknown change is not found", want: roadmap.ErrNotFound, write: func(l *testLedger) error {
			return errOf(l.svc.RejectChange(l.ctx, as("cpo"), unknown, roadmap.DecideChange{Rationale: "r"}))
		}},
		{name: "revoking an unknown token is not found", want: roadmap.ErrNotFound, write: func(l *testLedger) error {
			return errOf(l.svc.RevokeToken(l.ctx, as("admin"), unknown, roadmap.RevokeToken{}))
		}},
		{
			name: "a decision without a rationale is invalid",
			want: roadmap.ErrInvalid, field: "rationale",
			arrange: func(l *testLedger) func() error {
				id := l.propose("Guided setup")
				return func() error {
					_, err := l.svc.Prioritise(l.ctx, as("pm"), id, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "  "})
					return err
				}
			},
		},
		{name: "an item without a title is invalid", want: roadmap.ErrInvalid, field: "title", write: func(l *testLedger) error {
			return errOf(l.svc.ProposeItem(l.ctx, as("pm"), roadmap.ProposeItem{Kind: roadmap.KindIdea}))
		}},
		{name: "a review of a period that is not a month is invalid", want: roadmap.ErrInvalid, field: "period", write: func(l *testLedger) error {
			return errOf(l.svc.OpenReview(l.ctx, as("pm"), roadmap.OpenReview{Period: "2026-13"}))
		}},
		{name: "a review of a month the ledger never saw is invalid", want: roadmap.ErrInvalid, field: "period", write: func(l *testLedger) error {
			return errOf(l.svc.OpenReview(l.ctx, as("pm"), roadmap.OpenReview{Period: "9999-12"}))
		}},
		{name: "a token with an unknown role is invalid", want: roadmap.ErrInvalid, field: "role", write: func(l *testLedger) error {
			return errOf(l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "pm", Role: "owner"}))
		}},
		{name: "a negative capacity is invalid", want: roadmap.ErrInvalid, field: "next", write: func(l *testLedger) error {
			return errOf(l.svc.SetCapacity(l.ctx, as("admin"), "default", roadmap.Capacity{Next: ptr(-1)}))
		}},
		{
			name: "prioritising an item already on the roadmap is a conflict",
			want: roadmap.ErrConflict,
			arrange: func(l *testLedger) func() error {
				id := l.propose("Guided setup")
				l.prioritise(id, roadmap.Next)
				return func() error {
					_, err := l.svc.Prioritise(l.ctx, as("pm"), id, roadmap.Prioritise{Horizon: roadmap.Later, Rationale: "r"})
					return err
				}
			},
		},
		{name: "an item serving an unknown objective is a conflict", want: roadmap.ErrConflict, write: func(l *testLedger) error {
			return errOf(l.svc.ProposeItem(l.ctx, as("pm"), roadmap.ProposeItem{Title: "A", Kind: roadmap.KindIdea, ObjectiveIDs: []string{unknown}}))
		}},
		{
			name: "retiring a retired objective is a conflict",
			want: roadmap.ErrConflict,
			arrange: func(l *testLedger) func() error {
				id := l.objective("Activation")
				must(l.svc.RetireObjective(l.ctx, as("pm"), id, roadmap.RetireObjective{Rationale: "met"}))(l.tb)
				return func() error {
					_, err := l.svc.RetireObjective(l.ctx, as("pm"), id, roadmap.RetireObjective{Rationale: "again"})
					return err
				}
			},
		},
	}
	shared := newLedger(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := shared.in(t)
			write := func() error { return tc.write(l) }
			if tc.arrange != nil {
				write = tc.arrange(l)
			}
			last := l.last()
			err := write()
			wantErr(t, err, tc.want)
			if tc.field != "" {
				var invalid *roadmap.ValidationError
				if !errors.As(err, &invalid) {
					t.Fatalf("err = %#v, want a *roadmap.ValidationError", err)
				}
				if !slices.ContainsFunc(invalid.Fields, func(f roadmap.FieldError) bool { return f.Field == tc.field }) {
					t.Errorf("the validation error names %+v, want %q among them", invalid.Fields, tc.field)
				}
			}
			l.wantLast(last)
		})
	}
}

// barrierViews are the projections as two racing decisions see them: each
// reads the state it decides on, then waits until the other has read it too, so both
// decide against the same version and only JetStream's expected sequence
// can tell them apart.
type barrierViews struct {
	*projections.Current
	read *sync.WaitGroup
}

func (v barrierViews) Read(fn func(*projections.State)) {
	v.Current.Read(fn)
	v.read.Done()
	v.read.Wait()
}

func TestOfTwoRacingDecisionsOnAnItemOneLands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ifMatch bool
		want    error
	}{
		{name: "without If-Match the other is a conflict", want: roadmap.ErrConflict},
		{name: "with If-Match the other's precondition fails", ifMatch: true, want: ledger.ErrPreconditionFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t)
			id := l.propose("Guided setup")
			seen := l.prioritise(id, roadmap.Next)
			var read sync.WaitGroup
			read.Add(2)
			svc := ledger.New(l.log, barrierViews{l.current, &read}, l.requests, l.runner, nil)
			last := l.last()

			req := as("pm")
			if tc.ifMatch {
				req = ifMatch("pm", seen.Version)
			}
			type decision struct {
				horizon roadmap.Horizon
				res     ledger.Result[ledger.ItemOutcome]
				err     error
			}
			out := make(chan decision, 2)
			for _, h := range []roadmap.Horizon{roadmap.Now, roadmap.Later} {
				go func() {
					res, err := svc.Reprioritise(l.ctx, req, id, roadmap.Reprioritise{Horizon: h, Rationale: "to " + string(h)})
					out <- decision{h, res, err}
				}()
			}
			var landed []decision
			for range 2 {
				d := <-out
				switch {
				case d.err == nil:
					landed = append(landed, d)
				case !errors.Is(d.err, tc.want):
					t.Errorf("the move to %s: err = %v, want %v", d.horizon, d.err, tc.want)
				}
			}
			if len(landed) != 1 {
				t.Fatalf("%d decisions landed, want 1", len(landed))
			}
			l.wantLast(last + 1)
			won := landed[0]
			it := l.item(id)
			if got, want := it.Horizon, won.horizon; got != want {
				t.Errorf("the item is in %s, want %s, where the decision that landed put it", got, want)
			}
			if got, want := it.Version, won.res.Sequence; got != want {
				t.Errorf("the item is at version %d, want %d", got, want)
			}
		})
	}
}

// approvalsLedger returns a ledger that holds major changes for approval,
// with an item alice proposed.
func approvalsLedger(tb testing.TB) (*testLedger, string) {
	tb.Helper()
	l := newLedger(tb)
	l.svc.SetApprovals(roadmap.ApprovalsMajor)
	res, err := l.svc.ProposeItem(l.ctx, as("alice"), roadmap.ProposeItem{Title: "Guided setup", Kind: roadmap.KindIdea})
	if err != nil {
		tb.Fatalf("propose: %v", err)
	}
	return l, res.Answer.Item.ID
}

// hold asks alice's prioritisation of id into now and returns the change
// held in its place.
func hold(l *testLedger, id string) projections.ChangeView {
	l.tb.Helper()
	res, err := l.svc.Prioritise(l.ctx, as("alice"), id, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "activation is flat"})
	if err != nil {
		l.tb.Fatalf("prioritise into now: %v", err)
	}
	if res.Answer.Held == nil {
		l.tb.Fatalf("prioritising into now was recorded at once: %+v", res.Answer.Item)
	}
	return *res.Answer.Held
}

func TestApprovals(t *testing.T) {
	t.Parallel()
	t.Run("a move into now is held, and the item stays as it was", func(t *testing.T) {
		t.Parallel()
		l, id := approvalsLedger(t)
		before := l.item(id)
		res, err := l.svc.Prioritise(l.ctx, as("alice"), id, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "activation is flat"})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Answer.Held
		if c == nil {
			t.Fatalf("the decision was recorded at once: %+v", res.Answer.Item)
		}
		if !res.Created {
			t.Errorf("Created is false, want true: the change is new")
		}
		if res.Answer.Flags != nil {
			t.Errorf("a held decision carries flags %+v, want none", res.Answer.Flags)
		}
		want := roadmap.Change{
			ID: c.ID, Status: roadmap.ChangeStatusPending, ProposedBy: "alice", ProposedAt: c.ProposedAt,
			ChangeProposed: roadmap.ChangeProposed{
				ItemID: id, ItemVersion: before.Version, Decision: roadmap.TypeItemPrioritised, Reason: "a prioritisation into now",
				Placement: &roadmap.Placement{Horizon: roadmap.Now, Rationale: "activation is flat", ObjectiveIDs: []string{}, Evidence: []string{}},
			},
		}
		if !reflect.DeepEqual(c.Change, want) {
			t.Errorf("the held change is\n%+v\nwant\n%+v", c.Change, want)
		}
		if got, want := c.Version, res.Sequence; got != want {
			t.Errorf("the change's version %d, want %d", got, want)
		}
		after := l.item(id)
		if after.Version != before.Version || after.Status != roadmap.StatusProposed || after.Horizon != "" {
			t.Errorf("the item is %s %q at version %d, want it proposed at version %d", after.Status, after.Horizon, after.Version, before.Version)
		}
	})

	t.Run("a move that is not major is recorded at once", func(t *testing.T) {
		t.Parallel()
		l, id := approvalsLedger(t)
		res := must(l.svc.Prioritise(l.ctx, as("alice"), id, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "r"}))(t)
		if res.Answer.Held != nil {
			t.Fatalf("a prioritisation into next was held: %+v", res.Answer.Held)
		}
		if got, want := res.Answer.Item.Horizon, roadmap.Next; got != want {
			t.Errorf("horizon %s, want %s", got, want)
		}
	})

	t.Run("the proposer cannot approve their own change", func(t *testing.T) {
		t.Parallel()
		l, id := approvalsLedger(t)
		c := hold(l, id)
		last := l.last()
		_, err := l.svc.ApproveChange(l.ctx, as("alice"), c.ID, roadmap.DecideChange{Rationale: "mine"})
		wantErr(t, err, roadmap.ErrForbidden)
		l.wantLast(last)
	})

	t.Run("another's approval records the approval, then the decision", func(t *testing.T) {
		t.Parallel()
		l, id := approvalsLedger(t)
		c := hold(l, id)
		last := l.last()
		res, err := l.svc.ApproveChange(l.ctx, as("bob"), c.ID, roadmap.DecideChange{Rationale: "agreed"})
		if err != nil {
			t.Fatal(err)
		}
		recs := l.records(last + 1)
		if len(recs) != 2 {
			t.Fatalf("the approval appended %d events, want 2", len(recs))
		}
		approved, decided := recs[0], recs[1]
		if got, want := [4]string{approved.Envelope.Type, approved.Envelope.AggregateType, approved.Envelope.AggregateID, approved.Envelope.Actor},
			[4]string{roadmap.TypeChangeApproved, "change", c.ID, "bob"}; got != want {
			t.Errorf("the first event is %v, want %v", got, want)
		}
		if got, want := [4]string{decided.Envelope.Type, decided.Envelope.AggregateType, decided.Envelope.AggregateID, decided.Envelope.Actor},
			[4]string{roadmap.TypeItemPrioritised, "item", id, "bob"}; got != want {
			t.Errorf("the second event is %v, want %v", got, want)
		}
		ev, err := projections.Decode(decided)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := ev.Data.(*roadmap.ItemPrioritised); !ok || p.Approval == nil || *p.Approval != (roadmap.Approval{ChangeID: c.ID, ProposedBy: "alice"}) {
			t.Errorf("the decision carries %+v, want the approval of change %s proposed by alice", ev.Data, c.ID)
		}

		if got, want := res.Sequence, approved.Sequence; got != want {
			t.Errorf("the answer's sequence is %d, want %d, the approval's", got, want)
		}
		ch := res.Answer
		if ch.Status != roadmap.ChangeStatusApproved || ch.DecidedBy != "bob" || ch.Rationale != "agreed" {
			t.Errorf("the change is %s by %q (%q), want approved by bob (agreed)", ch.Status, ch.DecidedBy, ch.Rationale)
		}
		if got, want := ch.AppliedSequence, decided.Sequence; got != want {
			t.Errorf("the change's applied sequence is %d, want %d, the decision's", got, want)
		}
		it := l.item(id)
		if it.Horizon != roadmap.Now || it.Rank != 1 || it.Version != decided.Sequence || it.LastDecision == nil || it.LastDecision.Actor != "bob" {
			t.Errorf("the item is %s#%d at version %d, decided by %+v; want now#1 at %d, decided by bob", it.Horizon, it.Rank, it.Version, it.LastDecision, decided.Sequence)
		}
	})

	t.Run("approving a change twice is a conflict", func(t *testing.T) {
		t.Parallel()
		l, id := approvalsLedger(t)
		c := hold(l, id)
		must(l.svc.ApproveChange(l.ctx, as("bob"), c.ID, roadmap.DecideChange{Rationale: "agreed"}))(t)
		last := l.last()
		_, err := l.svc.ApproveChange(l.ctx, as("carol"), c.ID, roadmap.DecideChange{Rationale: "again"})
		wantErr(t, err, roadmap.ErrConflict)
		l.wantLast(last)
	})

	t.Run("rejecting drops the change and leaves the item", func(t *testing.T) {
		t.Parallel()
		l, id := approvalsLedger(t)
		before := l.item(id)
		c := hold(l, id)
		res, err := l.svc.RejectChange(l.ctx, as("bob"), c.ID, roadmap.DecideChange{Rationale: "not this quarter"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.Answer.Status, roadmap.ChangeStatusRejected; got != want {
			t.Errorf("status %s, want %s", got, want)
		}
		if got, want := res.Answer.AppliedSequence, uint64(0); got != want {
			t.Errorf("a rejected change has applied sequence %d, want %d", got, want)
		}
		l.wantLast(res.Sequence)
		if got := l.item(id); got.Version != before.Version || got.Status != roadmap.StatusProposed {
			t.Errorf("the item is %s at version %d, want proposed at %d", got.Status, got.Version, before.Version)
		}
		_, err = l.svc.ApproveChange(l.ctx, as("carol"), c.ID, roadmap.DecideChange{Rationale: "after all"})
		wantErr(t, err, roadmap.ErrConflict)
		l.wantLast(res.Sequence)
	})

	t.Run("approving a change whose item moved since is a conflict, and appends nothing", func(t *testing.T) {
		t.Parallel()
		l, id := approvalsLedger(t)
		c := hold(l, id)
		l.prioritise(id, roadmap.Next) // not major: recorded at once
		last := l.last()
		_, err := l.svc.ApproveChange(l.ctx, as("bob"), c.ID, roadmap.DecideChange{Rationale: "agreed"})
		wantErr(t, err, roadmap.ErrConflict)
		l.wantLast(last)
		if got, _ := l.current.ChangeView(c.ID); got.Status != roadmap.ChangeStatusPending {
			t.Errorf("the change is %s, want still pending", got.Status)
		}
		if got := l.item(id); got.Horizon != roadmap.Next {
			t.Errorf("the item is in %s, want next", got.Horizon)
		}
	})

	t.Run("an approval cut short is completed by approving again", func(t *testing.T) {
		t.Parallel()
		l, id := approvalsLedger(t)
		c := hold(l, id)
		// change.approved without its decision, as a process stopped
		// between the two appends leaves it.
		ack, err := l.log.Append(l.ctx, &eventlog.Envelope{
			ID: "0197a3c1-0000-7000-8000-0000000000aa", Type: roadmap.TypeChangeApproved, SchemaVersion: 1,
			AggregateType: "change", AggregateID: c.ID, Time: time.Now().UTC().Truncate(time.Microsecond), Actor: "bob",
			Data: []byte(`{"rationale":"agreed","evidence":[]}`),
		}, c.Head, eventlog.AppendOptions{ExpectedSequence: c.Version})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.runner.WaitFor(l.ctx, ack.Sequence); err != nil {
			t.Fatal(err)
		}

		_, err = l.svc.ApproveChange(l.ctx, as("alice"), c.ID, roadmap.DecideChange{Rationale: "finish"})
		wantErr(t, err, roadmap.ErrForbidden)
		l.wantLast(ack.Sequence)

		res, err := l.svc.ApproveChange(l.ctx, as("carol"), c.ID, roadmap.DecideChange{Rationale: "finish"})
		if err != nil {
			t.Fatal(err)
		}
		recs := l.records(ack.Sequence + 1)
		if len(recs) != 1 || recs[0].Envelope.Type != roadmap.TypeItemPrioritised || recs[0].Envelope.Actor != "carol" {
			t.Fatalf("completing the approval appended %d events, want the decision by carol alone", len(recs))
		}
		if got, want := res.Answer.AppliedSequence, recs[0].Sequence; got != want {
			t.Errorf("applied sequence %d, want %d", got, want)
		}
		if got, want := res.Answer.DecidedBy, "bob"; got != want {
			t.Errorf("decided by %q, want %q, who approved it", got, want)
		}
		if got := l.item(id); got.Horizon != roadmap.Now {
			t.Errorf("the item is in %q, want now", got.Horizon)
		}
	})
}

func TestFlags(t *testing.T) {
	t.Parallel()
	over := func(committed, capacity int) []projections.Flag {
		return []projections.Flag{{
			Kind: "over-capacity", Detail: "next of default is over its capacity",
			Capacity: &projections.CapacityRow{Product: "default", Horizon: roadmap.Next, Capacity: &capacity, Committed: committed, Over: true},
		}}
	}
	tests := []struct {
		name   string
		effort int
		req    ledger.Request
		want   []projections.Flag
	}{
		{name: "a decision over capacity carries its flag", effort: 5, req: as("pm"), want: over(5, 3)},
		{name: "a decision within capacity carries none", effort: 3, req: as("pm")},
		// A retry must answer the same, however late; the flags are of the
		// ledger as it stands, not of the event's moment, so a request
		// that can be retried is answered without them.
		{name: "a decision with an Idempotency-Key carries none", effort: 5, req: keyed("pm", "k-1", "body")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLedger(t)
			must(l.svc.SetCapacity(l.ctx, as("admin"), "default", roadmap.Capacity{Next: ptr(3)}))(t)
			id := l.proposeItem(roadmap.ProposeItem{Title: "Guided setup", Kind: roadmap.KindIdea, Effort: ptr(tc.effort)})
			res, err := l.svc.Prioritise(l.ctx, tc.req, id, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "r"})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Answer.Flags; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("flags %s, want %s", flagsString(got), flagsString(tc.want))
			}
			if tc.effort > 3 && len(l.current.ItemFlags(id)) == 0 {
				t.Errorf("the projections do not flag the item, so the test shows nothing")
			}
		})
	}

	t.Run("a decision out of dependency order carries its flag", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		dep := l.propose("Identity service")
		id := l.proposeItem(roadmap.ProposeItem{Title: "Guided setup", Kind: roadmap.KindIdea, DependsOn: []string{dep}})
		res := must(l.svc.Prioritise(l.ctx, as("pm"), id, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "r"}))(t)
		if len(res.Answer.Flags) != 1 || res.Answer.Flags[0].Kind != "dependency" || res.Answer.Flags[0].Dependency.DependsOn != dep {
			t.Errorf("flags %s, want one dependency on %s", flagsString(res.Answer.Flags), dep)
		}
	})
}

func flagsString(flags []projections.Flag) string {
	var parts []string
	for _, f := range flags {
		s := f.Kind + ": " + f.Detail
		if c := f.Capacity; c != nil && c.Capacity != nil {
			s += fmt.Sprintf(" (%s %d/%d)", c.Horizon, c.Committed, *c.Capacity)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func TestReviews(t *testing.T) {
	t.Parallel()
	t.Run("a period has one review", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		period := nextMonth()
		res := must(l.svc.OpenReview(l.ctx, as("pm"), roadmap.OpenReview{Period: period}))(t)
		if r := res.Answer; r.Period != period || r.Status != roadmap.ReviewStatusOpen || r.Title != "Governance review "+period {
			t.Errorf("the review is %+v, want the open review of %s with its default title", r.Review, period)
		}
		last := l.last()
		_, err := l.svc.OpenReview(l.ctx, as("pm"), roadmap.OpenReview{Period: period, Title: "Again"})
		wantErr(t, err, roadmap.ErrConflict)
		l.wantLast(last)
	})

	t.Run("a cancelled review frees its period and can be neither closed nor cancelled again", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		period := nextMonth()
		first := l.openReview(period)

		last := l.last()
		_, err := l.svc.CancelReview(l.ctx, as("admin"), first, roadmap.CancelReview{Rationale: " "})
		wantErr(t, err, roadmap.ErrInvalid)
		l.wantLast(last)

		res := must(l.svc.CancelReview(l.ctx, as("admin"), first, roadmap.CancelReview{Rationale: "Opened by mistake"}))(t)
		if r := res.Answer; r.Status != roadmap.ReviewStatusCancelled || r.Period != period || r.Version != res.Sequence {
			t.Errorf("the cancelled review is %+v at version %d, want it cancelled at %d", r.Review, r.Version, res.Sequence)
		}
		second := l.openReview(period)
		if second == first {
			t.Fatalf("the period's new review has the cancelled one's id")
		}

		last = l.last()
		_, err = l.svc.CancelReview(l.ctx, as("admin"), first, roadmap.CancelReview{Rationale: "again"})
		wantErr(t, err, roadmap.ErrConflict)
		_, err = l.svc.CloseReview(l.ctx, as("cpo"), first, roadmap.CloseReview{})
		wantErr(t, err, roadmap.ErrConflict)
		l.wantLast(last)

		must(l.svc.CloseReview(l.ctx, as("cpo"), second, roadmap.CloseReview{}))(t)
		last = l.last()
		_, err = l.svc.CancelReview(l.ctx, as("admin"), second, roadmap.CancelReview{Rationale: "too late"})
		wantErr(t, err, roadmap.ErrConflict)
		_, err = l.svc.CancelReview(l.ctx, as("admin"), "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70", roadmap.CancelReview{Rationale: "r"})
		wantErr(t, err, roadmap.ErrNotFound)
		l.wantLast(last)
	})

	t.Run("closing without a signing key freezes the log's end without a checkpoint", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		l.prioritise(l.propose("A"), roadmap.Next)
		l.propose("B")
		id := l.openReview(nextMonth())
		frozen := l.last()
		res := must(l.svc.CloseReview(l.ctx, as("cpo"), id, roadmap.CloseReview{Notes: "agreed"}))(t)
		r := res.Answer
		if r.Status != roadmap.ReviewStatusClosed || r.Notes != "agreed" {
			t.Errorf("the review is %s with notes %q, want closed with %q", r.Status, r.Notes, "agreed")
		}
		if got, want := r.Sequence, frozen; got != want {
			t.Errorf("the review freezes the ledger at %d, want %d, the log's end before the close", got, want)
		}
		if got, want := r.Heads.Aggregates, 3; got != want || len(r.Heads.Digest) != 64 {
			t.Errorf("the chain heads are %d aggregates, digest %q; want %d aggregates (two items, the review) and a SHA-256", got, r.Heads.Digest, want)
		}
		if r.Checkpoint != nil {
			t.Errorf("a ledger without a signing key closed with checkpoint %+v", r.Checkpoint)
		}
		if _, ok := l.current.CheckpointView(id); ok {
			t.Errorf("the projections have a checkpoint for the review")
		}

		last := l.last()
		_, err := l.svc.CloseReview(l.ctx, as("cpo"), id, roadmap.CloseReview{Notes: "again"})
		wantErr(t, err, roadmap.ErrConflict)
		l.wantLast(last)
	})

	t.Run("closing with a signing key carries a checkpoint of the frozen log", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		vkey := l.signCheckpoints()
		l.propose("A")
		id := l.openReview(nextMonth())
		frozen := l.last()
		res := must(l.svc.CloseReview(l.ctx, as("cpo"), id, roadmap.CloseReview{}))(t)
		r := res.Answer
		if r.Checkpoint == nil {
			t.Fatalf("the close carries no checkpoint")
		}
		checkCheckpoint(t, l, vkey, *r.Checkpoint, frozen)
		if !r.Checkpoint.Time.Equal(r.ClosedAt) {
			t.Errorf("the checkpoint is of %v, the close of %v: want the same moment", r.Checkpoint.Time, r.ClosedAt)
		}
		cp, ok := l.current.CheckpointView(id)
		if !ok || cp.ReviewID != id || cp.Sequence != res.Sequence {
			t.Errorf("the projections have the review's checkpoint as %+v (found %v), want it recorded at %d", cp, ok, res.Sequence)
		}
	})

	t.Run("signing a checkpoint without a signing key is refused", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		l.propose("A")
		last := l.last()
		_, err := l.svc.SignCheckpoint(l.ctx, as("cpo"))
		wantErr(t, err, ledger.ErrNoSigningKey)
		l.wantLast(last)
	})

	t.Run("a checkpoint signed on demand covers the log up to it", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		vkey := l.signCheckpoints()
		l.propose("A")
		l.propose("B")
		covered := l.last()
		res := must(l.svc.SignCheckpoint(l.ctx, as("cpo")))(t)
		if !res.Created || res.Sequence != covered+1 {
			t.Errorf("Created %v at sequence %d, want a new checkpoint at %d", res.Created, res.Sequence, covered+1)
		}
		checkCheckpoint(t, l, vkey, res.Answer.CheckpointSigned, covered)
	})
}

// checkCheckpoint fails the test unless cp is a checkpoint of the first
// size events of the log, signed with the key of vkey.
func checkCheckpoint(tb testing.TB, l *testLedger, vkey string, cp roadmap.CheckpointSigned, size uint64) {
	tb.Helper()
	if got, want := cp.Size, int64(size); got != want {
		tb.Errorf("the checkpoint covers %d events, want %d", got, want)
	}
	root, err := l.tree.Root(int64(size))
	if err != nil {
		tb.Fatalf("the tree's root at %d: %v", size, err)
	}
	if got, want := cp.Root, root.String(); got != want {
		tb.Errorf("the checkpoint's root is %s, want %s, the tree's at %d", got, want, size)
	}
	c, err := proof.OpenCheckpoint([]byte(cp.Note), vkey)
	if err != nil {
		tb.Fatalf("the checkpoint's note does not verify: %v", err)
	}
	if c.Size != cp.Size || c.Root.String() != cp.Root || !c.Time.Equal(cp.Time) {
		tb.Errorf("the signed note says %d events, root %s, at %v; the checkpoint %d, %s, %v", c.Size, c.Root, c.Time, cp.Size, cp.Root, cp.Time)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	t.Run("a new token's secret is answered once", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		req := keyed("admin", "k-1", "body")
		res := must(l.svc.CreateToken(l.ctx, req, roadmap.CreateToken{Name: "pm@example.com", Role: roadmap.RoleEditor}))(t)
		if res.Answer.Secret == "" {
			t.Fatalf("no secret in the answer")
		}
		if got, want := res.Answer.SecretHMAC, testTokenKey.Hash(res.Answer.Secret); got != want || res.Answer.SecretSHA256 != "" {
			t.Errorf("the token's secret hashes are %q keyed and %q unkeyed, want %s, the keyed hash of the secret answered, alone", got, res.Answer.SecretSHA256, want)
		}
		if tok, ok := l.current.TokenBySecret(testTokenKey, res.Answer.Secret); !ok || tok.ID != res.Answer.ID || tok.Role != roadmap.RoleEditor {
			t.Errorf("the secret opens token %+v (found %v), want the editor token %s", tok.Token, ok, res.Answer.ID)
		}
		if tok, ok := l.current.TokenBySecret(otherTokenKey, res.Answer.Secret); ok {
			t.Errorf("the secret opens token %s under another key", tok.ID)
		}
		last := l.last()
		retry := must(l.svc.CreateToken(l.ctx, req, roadmap.CreateToken{Name: "pm@example.com", Role: roadmap.RoleEditor}))(t)
		if !retry.Replayed || retry.Answer.ID != res.Answer.ID || retry.Sequence != res.Sequence {
			t.Errorf("the retry answered token %s at %d (replayed %v), want %s at %d, replayed", retry.Answer.ID, retry.Sequence, retry.Replayed, res.Answer.ID, res.Sequence)
		}
		if retry.Answer.Secret != "" {
			t.Errorf("the retry shows a secret again")
		}
		l.wantLast(last)
	})

	t.Run("a ledger without a token key makes no token", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		keyless := ledger.New(l.log, l.current, l.requests, l.runner, nil)
		_, err := keyless.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "pm", Role: roadmap.RoleEditor})
		wantErr(t, err, ledger.ErrNoTokenKey)
		_, err = keyless.Bootstrap(l.ctx, "")
		wantErr(t, err, ledger.ErrNoTokenKey)
		l.wantLast(0)
	})

	t.Run("each token gets its own secret", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		a := must(l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "a", Role: roadmap.RoleViewer}))(t)
		b := must(l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "b", Role: roadmap.RoleViewer}))(t)
		if a.Answer.Secret == b.Answer.Secret || a.Answer.ID == b.Answer.ID {
			t.Errorf("two tokens share a secret or an id")
		}
	})

	t.Run("revoking a revoked token is a conflict", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		tok := must(l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "pm", Role: roadmap.RoleEditor}))(t)
		res := must(l.svc.RevokeToken(l.ctx, as("admin"), tok.Answer.ID, roadmap.RevokeToken{Reason: "left"}))(t)
		if res.Answer.RevokedAt == nil || res.Answer.RevokedBy != "admin" {
			t.Errorf("the token is revoked at %v by %q, want revoked by admin", res.Answer.RevokedAt, res.Answer.RevokedBy)
		}
		last := l.last()
		_, err := l.svc.RevokeToken(l.ctx, as("admin"), tok.Answer.ID, roadmap.RevokeToken{Reason: "again"})
		wantErr(t, err, roadmap.ErrConflict)
		l.wantLast(last)
	})
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	const secret = "dbS0Jix6ZhynAOAQG5YfSI71u6oaoLvwYzfsEW7n"

	t.Run("a given secret is recorded once", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		got, err := l.svc.Bootstrap(l.ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if got != "" {
			t.Errorf("Bootstrap answered secret %q for a secret it was given, want none", got)
		}
		wantBootstrapToken(t, l, secret)
		l.wantLast(1)

		got, err = l.svc.Bootstrap(l.ctx, secret)
		if err != nil || got != "" {
			t.Errorf("the second Bootstrap answered %q, %v; want \"\", nil", got, err)
		}
		l.wantLast(1)
	})

	t.Run("a given secret is recorded once after a restart", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		must(l.svc.Bootstrap(l.ctx, secret))(t)
		l = l.restart()
		if got, err := l.svc.Bootstrap(l.ctx, secret); err != nil || got != "" {
			t.Errorf("Bootstrap after a restart answered %q, %v; want \"\", nil", got, err)
		}
		l.wantLast(1)
	})

	t.Run("an empty ledger without a secret gets a fresh one", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		fresh, err := l.svc.Bootstrap(l.ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.CheckBootstrapSecret(fresh); err != nil {
			t.Fatalf("the fresh secret %q: %v", fresh, err)
		}
		wantBootstrapToken(t, l, fresh)
		l.wantLast(1)

		if got, err := l.svc.Bootstrap(l.ctx, ""); err != nil || got != "" {
			t.Errorf("the second Bootstrap answered %q, %v; want \"\", nil", got, err)
		}
		l.wantLast(1)
	})

	t.Run("a ledger with tokens gets none without a secret", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		must(l.svc.CreateToken(l.ctx, as("admin"), roadmap.CreateToken{Name: "pm", Role: roadmap.RoleEditor}))(t)
		if got, err := l.svc.Bootstrap(l.ctx, ""); err != nil || got != "" {
			t.Errorf("Bootstrap answered %q, %v; want \"\", nil", got, err)
		}
		l.wantLast(1)
	})

	t.Run("the token's id tells nothing of the secret without the key", func(t *testing.T) {
		t.Parallel()
		// The id is derived from the keyed hash: under another key the
		// same secret makes another id, as an unkeyed derivation would not.
		l, m := newLedger(t), newLedger(t)
		m.svc.SetTokenKey(otherTokenKey)
		must(l.svc.Bootstrap(l.ctx, secret))(t)
		must(m.svc.Bootstrap(m.ctx, secret))(t)
		a, b := l.current.Tokens(), m.current.Tokens()
		if len(a) != 1 || len(b) != 1 || a[0].ID == b[0].ID {
			t.Errorf("the bootstrap tokens of one secret under two keys are %+v and %+v, want one each with different ids", a, b)
		}
	})

	t.Run("a short secret is refused", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		if _, err := l.svc.Bootstrap(l.ctx, "too-short"); err == nil {
			t.Errorf("Bootstrap accepted a short secret")
		}
		l.wantLast(0)
	})

	t.Run("two processes starting at once make one token", func(t *testing.T) {
		t.Parallel()
		l := newLedger(t)
		fresh := must(l.svc.Bootstrap(l.ctx, ""))(t)
		// The other process decided before this one's token reached it.
		other := ledger.New(l.log, noTokensYet{l.current}, l.requests, l.runner, nil)
		other.SetTokenKey(testTokenKey)
		got, err := other.Bootstrap(l.ctx, "")
		if err != nil || got != "" {
			t.Errorf("the other process's Bootstrap answered %q, %v; want \"\", nil", got, err)
		}
		l.wantLast(1)
		wantBootstrapToken(t, l, fresh)
	})
}

// noTokensYet are the projections of a process that has not seen any
// token yet.
type noTokensYet struct{ *projections.Current }

func (noTokensYet) Tokens() []projections.TokenView { return nil }

func (noTokensYet) TokenBySecret(roadmap.TokenKey, string) (projections.TokenView, bool) {
	return projections.TokenView{}, false
}

// wantBootstrapToken fails the test unless secret opens the admin token
// named bootstrap.
func wantBootstrapToken(tb testing.TB, l *testLedger, secret string) {
	tb.Helper()
	tok, ok := l.current.TokenBySecret(testTokenKey, secret)
	if !ok {
		tb.Fatalf("no token has the secret")
	}
	if tok.Name != ledger.BootstrapName || tok.Role != roadmap.RoleAdmin || !tok.Bootstrap || tok.RevokedAt != nil {
		t := tok.Token
		tb.Errorf("the secret opens %s %s (bootstrap %v, revoked %v), want the admin token %q", t.Role, t.Name, t.Bootstrap, t.RevokedAt, ledger.BootstrapName)
	}
}

func TestABootstrapSecretMustBeHardToGuess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ secret, why string }{
		{"too-short", "at least 32 printable ASCII characters"},
		{"a secret with spaces in it, long enough", "without spaces"},
		{"correcthorsebatterystaplecorrect", "32 of its 32 characters are dictionary words"},
		{"Roadmap-Ledger-Bootstrap-Secret-2026", "are dictionary words, names or common passwords"},
		{"qwertyuiopasdfghjklzxcvbnm123456", "are dictionary words"},
		// The secret the earlier release's compatibility ledger was made with.
		{"compat-ledger-v1-bootstrap-admin-secret-0123456789", "too easy to guess"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "predictable parts (repeats)"},
		{"x7Kq!x7Kq!x7Kq!x7Kq!x7Kq!x7Kq!x7Kq!", "predictable parts (repeats)"},
		{"0123456789abcdefghijklmnopqrstuvwxyz", "sequences"},
		{"zxcvbnm,./asdfghjkl;qwertyuiop[]", "predictable parts (keyboard patterns)"},
	} {
		err := ledger.CheckBootstrapSecret(tc.secret)
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("CheckBootstrapSecret(%q) = %v, want a refusal saying %q", tc.secret, err, tc.why)
			continue
		}
		if !strings.Contains(err.Error(), "openssl rand -base64 32") {
			t.Errorf("the refusal %q does not say how to make a good secret", err)
		}
		if len(tc.secret) >= 32 && strings.Contains(err.Error(), tc.secret[:8]) {
			t.Errorf("the refusal %q quotes the secret", err)
		}
	}

	// Random secrets of 32 characters or more pass, whatever their
	// alphabet; so do the secrets the ledger makes.
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	for range 25 {
		for _, secret := range []string{
			hex.EncodeToString(random(16)),
			base64.StdEncoding.EncodeToString(random(24)),
			base64.StdEncoding.EncodeToString(random(32)),
			roadmap.NewSecret(),
		} {
			if err := ledger.CheckBootstrapSecret(secret); err != nil {
				t.Errorf("CheckBootstrapSecret(%q) = %v, want nil for a random secret", secret, err)
			}
		}
	}
	if err := ledger.CheckBootstrapSecret(base64.StdEncoding.EncodeToString(random(3000))); err != nil {
		t.Errorf("a long random secret: %v, want nil", err)
	}
}
