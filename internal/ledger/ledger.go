// Package ledger holds the use cases of the roadmap ledger. Each write flows
// one way: look the aggregate up in the projections, decide with the domain,
// append the event with the aggregate's expected last sequence, wait until the
// projections have applied it, and answer from them.
package ledger

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Errors of the ledger, beside the domain's (roadmap.ErrInvalid, ErrNotFound,
// ErrConflict).
var (
	// ErrPreconditionFailed means the request's If-Match names a version
	// the aggregate no longer has.
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrIdempotencyMismatch means an Idempotency-Key was reused for a
	// different request.
	ErrIdempotencyMismatch = errors.New("idempotency key reused for a different request")
	// ErrNoSigningKey means the ledger was built without a signing key
	// (SignCheckpoints was not called), so it cannot sign checkpoints.
	ErrNoSigningKey = errors.New("the ledger has no signing key, so it signs no checkpoints")
	// ErrNoTokenKey means the ledger was built without a key for token
	// secrets (SetTokenKey was not called), so it makes no token.
	ErrNoTokenKey = errors.New("the ledger has no key for token secrets, so it makes no token")
)

// Store is the event log as the ledger uses it.
type Store interface {
	Append(ctx context.Context, e *eventlog.Envelope, prevHash string, opts eventlog.AppendOptions) (eventlog.Appended, error)
	LastSequence(ctx context.Context) (uint64, error)
}

// Views are the projections the ledger decides against.
type Views interface {
	// Read calls fn with the live state, under one lock: what a decision
	// is made against.
	Read(fn func(*projections.State))
	// At calls fn with the state as it stood at a sequence: what a write
	// answers, and what a review freezes.
	At(ctx context.Context, seq uint64, fn func(*projections.State) error) error
	ItemView(id string) (projections.ItemView, bool)
	ReviewView(id string) (projections.ReviewView, bool)
	ChangeView(id string) (projections.ChangeView, bool)
	ItemFlags(id string) []projections.Flag
	TokenBySecret(key roadmap.TokenKey, secret string) (projections.TokenView, bool)
	Tokens() []projections.TokenView
	// RecentObjective, RecentItem and RecentReview return the aggregate of
	// the event at seq as it stood right after it, when that event is among
	// the last ones applied.
	RecentObjective(seq uint64) (projections.ObjectiveView, bool)
	RecentItem(seq uint64) (projections.ItemView, bool)
	RecentReview(seq uint64) (projections.ReviewView, bool)
}

// Requests is the index of the requests made with an Idempotency-Key.
type Requests interface {
	Lookup(ctx context.Context, key string) (projections.IdempotencyEntry, bool, error)
}

// Waiter waits until the projections have applied a sequence.
type Waiter interface {
	WaitFor(ctx context.Context, seq uint64) error
}

// Tree is the Merkle tree of the log as the ledger signs it.
type Tree interface {
	// Root returns the root hash of the tree of the first size events.
	Root(size int64) (tlog.Hash, error)
	// Err returns why the tree stopped growing, or nil.
	Err() error
}

var (
	_ Store    = (*eventlog.Log)(nil)
	_ Views    = (*projections.Current)(nil)
	_ Requests = (*projections.Idempotency)(nil)
	_ Waiter   = (*projections.Runner)(nil)
	_ Tree     = (*proof.Tree)(nil)
)

// writeTimeout bounds how long an append and the wait for its projection may
// take once a decision is made, whether or not the client is still there.
const writeTimeout = 30 * time.Second

// Service runs the ledger's use cases.
type Service struct {
	store    Store
	views    Views
	requests Requests
	wait     Waiter
	now      func() time.Time
	keyLocks [64]sync.Mutex // serialise requests sharing an Idempotency-Key
	importMu sync.Mutex     // serialises imports: two at once would both create a file's new items
	tree     Tree           // nil until SignCheckpoints
	signer   *proof.Signer
	// approvals is the policy for major changes; off until SetApprovals.
	approvals roadmap.ApprovalPolicy
	// tokenKey keys the hashes of token secrets; zero until SetTokenKey.
	tokenKey roadmap.TokenKey
	// webhookKey seals webhook signing secrets; zero until SetWebhookKey.
	webhookKey roadmap.WebhookKey
}

// SetTokenKey sets the key the hashes of token secrets are recorded with
// (roadmap.TokenKey). Call it before serving: a ledger without one makes
// no token, and finds only those recorded with an unkeyed hash.
func (s *Service) SetTokenKey(k roadmap.TokenKey) { s.tokenKey = k }

// SetApprovals sets which decisions are held for an approver's approval.
// Call it before serving.
func (s *Service) SetApprovals(p roadmap.ApprovalPolicy) { s.approvals = p }

// New returns a service appending to store, deciding against views and
// recognising retries by requests, three read models fed by the runner wait
// waits on.
func New(store Store, views Views, requests Requests, wait Waiter, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, views: views, requests: requests, wait: wait, now: now}
}

// SignCheckpoints makes the ledger sign checkpoints of tree, a projection of
// the same log fed by the same runner as views, with signer: on demand
// (SignCheckpoint) and on every review close. Call it before serving. A
// ledger without it closes reviews without a checkpoint and refuses
// SignCheckpoint with ErrNoSigningKey.
func (s *Service) SignCheckpoints(tree Tree, signer *proof.Signer) {
	s.tree, s.signer = tree, signer
}

// Request is what the ledger knows of the request behind a command.
type Request struct {
	// Actor is who decides.
	Actor string
	// IdempotencyKey, when set, makes a retry of the same request return the
	// first answer without appending again.
	IdempotencyKey string
	// RequestHash identifies the request's content, to refuse a key reused
	// for another request.
	RequestHash string
	// IfMatch, when set, is the version the client expects the aggregate to
	// have.
	IfMatch *uint64
}

// Result is the answer to a write: the aggregate it made or changed, of
// type T, as it stood right after the write's event.
type Result[T any] struct {
	// Created is true when the write made a new aggregate.
	Created bool
	// Replayed is true when the answer is that of an earlier request with
	// the same Idempotency-Key.
	Replayed bool
	// Sequence is the log position of the event.
	Sequence uint64
	// Answer is the aggregate right after the event.
	Answer T
}

// ItemOutcome is the answer to a decision on an item: the item right after
// it, or, when the approval policy holds the decision as a major change,
// the change proposed instead.
type ItemOutcome struct {
	Item projections.ItemView
	// Flags are the warnings on an accepted decision: its horizon over
	// capacity, a dependency out of order; as the ledger stands once the
	// decision is applied. Nil in a replayed answer.
	Flags []projections.Flag
	// Held is the change proposed instead of the decision, nil when the
	// decision was recorded on the item.
	Held *projections.ChangeView
}

// caughtUp returns the log's last sequence once the projections have
// applied it.
func (s *Service) caughtUp(ctx context.Context) (uint64, error) {
	last, err := s.store.LastSequence(ctx)
	if err != nil {
		return 0, err
	}
	return last, s.wait.WaitFor(ctx, last)
}

// existing is the aggregate kind id at version and head, as a view found it
// (ok), checked against the request's If-Match. It is roadmap.ErrNotFound
// when the view found none.
func existing(req Request, kind, id string, ok bool, version uint64, head string) (aggregate, error) {
	if !ok {
		return aggregate{}, fmt.Errorf("%w: %s %s", roadmap.ErrNotFound, kind, id)
	}
	agg := aggregate{kind: kind, id: id, version: version, head: head}
	return agg, checkIfMatch(req, agg)
}

// fresh is a new aggregate of kind with id, checked against the request's
// If-Match, which a new aggregate never matches: it has no version yet.
func fresh(req Request, kind, id string) (aggregate, error) {
	agg := aggregate{kind: kind, id: id}
	return agg, checkIfMatch(req, agg)
}

// aggregate is the aggregate a write targets, as the decision saw it: its
// version and the hash of its last event (zero for a new one).
type aggregate struct {
	kind, id string
	version  uint64
	head     string
	// at, when set, is the event's time: the time of a checkpoint the
	// decision signed, so the event and its checkpoint say the same.
	at time.Time
}

// decideOn returns agg and the event decide records, or err, without
// deciding, when agg could not be settled: the end of a write's decision
// once the aggregate is the only thing to check.
func decideOn(agg aggregate, err error, decide func() (roadmap.Event, error)) (aggregate, roadmap.Event, error) {
	if err != nil {
		return agg, nil, err
	}
	e, err := decide()
	return agg, e, err
}

// DefineObjective defines a new objective. It returns roadmap.ErrInvalid for
// bad values.
func (s *Service) DefineObjective(ctx context.Context, req Request, cmd roadmap.DefineObjective) (Result[projections.ObjectiveView], error) {
	return write(ctx, s, req, objectiveAnswer, func() (aggregate, roadmap.Event, error) {
		agg, err := fresh(req, "objective", newID())
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideDefineObjective(cmd) })
	})
}

// RetireObjective retires an objective. It returns roadmap.ErrNotFound,
// roadmap.ErrInvalid, roadmap.ErrConflict, ErrPreconditionFailed.
func (s *Service) RetireObjective(ctx context.Context, req Request, id string, cmd roadmap.RetireObjective) (Result[projections.ObjectiveView], error) {
	return write(ctx, s, req, objectiveAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		o, ok := st.ObjectiveView(id)
		agg, err := existing(req, "objective", id, ok, o.Version, o.Head)
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideRetireObjective(o.Objective, cmd) })
	}))
}

// ProposeItem proposes a new item. It returns roadmap.ErrInvalid and
// roadmap.ErrConflict (unknown parent or objective).
func (s *Service) ProposeItem(ctx context.Context, req Request, cmd roadmap.ProposeItem) (Result[ItemOutcome], error) {
	res, err := write(ctx, s, req, itemAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		agg, err := fresh(req, "item", newID())
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideProposeItem(cmd, st) })
	}))
	return s.withFlags(req, res, err)
}

// Prioritise places an item on the roadmap. It returns roadmap.ErrNotFound,
// roadmap.ErrInvalid, roadmap.ErrConflict, ErrPreconditionFailed.
func (s *Service) Prioritise(ctx context.Context, req Request, id string, cmd roadmap.Prioritise) (Result[ItemOutcome], error) {
	return s.decideItem(ctx, req, id, func(it roadmap.Item, refs roadmap.References) (roadmap.ItemDecision, error) {
		return roadmap.DecidePrioritise(it, cmd, refs)
	})
}

// Reprioritise changes an item on the roadmap. It returns the errors of
// Prioritise.
func (s *Service) Reprioritise(ctx context.Context, req Request, id string, cmd roadmap.Reprioritise) (Result[ItemOutcome], error) {
	return s.decideItem(ctx, req, id, func(it roadmap.Item, refs roadmap.References) (roadmap.ItemDecision, error) {
		return roadmap.DecideReprioritise(it, cmd, refs)
	})
}

// Remove takes an item off the roadmap. It returns the errors of Prioritise.
func (s *Service) Remove(ctx context.Context, req Request, id string, cmd roadmap.Remove) (Result[ItemOutcome], error) {
	return s.decideItem(ctx, req, id, func(it roadmap.Item, _ roadmap.References) (roadmap.ItemDecision, error) {
		return roadmap.DecideRemove(it, cmd)
	})
}

// OpenReview opens the governance review of a period. It returns
// roadmap.ErrInvalid and roadmap.ErrConflict (the period has a review).
func (s *Service) OpenReview(ctx context.Context, req Request, cmd roadmap.OpenReview) (Result[projections.ReviewView], error) {
	return write(ctx, s, req, reviewAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		agg, err := fresh(req, "review", newID())
		// The period is checked against the clock the event records.
		agg.at = s.eventTime()
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideOpenReview(cmd, st, agg.at) })
	}))
}

// CancelReview cancels an open review, freeing its period for a new one. It
// returns roadmap.ErrNotFound, roadmap.ErrInvalid, roadmap.ErrConflict (not
// open), ErrPreconditionFailed.
func (s *Service) CancelReview(ctx context.Context, req Request, id string, cmd roadmap.CancelReview) (Result[projections.ReviewView], error) {
	return write(ctx, s, req, reviewAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		r, ok := st.ReviewView(id)
		agg, err := existing(req, "review", id, ok, r.Version, r.Head)
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideCancelReview(r.Review, cmd) })
	}))
}

// CloseReview closes a review, freezing it at the ledger's current position
// with the chain heads there and, with a signing key, the signed checkpoint
// of the ledger there, made at the time of the close. It returns
// roadmap.ErrNotFound, roadmap.ErrInvalid, roadmap.ErrConflict (already
// closed, or cancelled), ErrPreconditionFailed.
func (s *Service) CloseReview(ctx context.Context, req Request, id string, cmd roadmap.CloseReview) (Result[projections.ReviewView], error) {
	return write(ctx, s, req, reviewAnswer, func() (aggregate, roadmap.Event, error) {
		r, ok := s.views.ReviewView(id)
		agg, err := existing(req, "review", id, ok, r.Version, r.Head)
		if err != nil {
			return agg, nil, err
		}
		if r.Status != roadmap.ReviewStatusOpen {
			_, err := roadmap.DecideCloseReview(r.Review, cmd, r.Sequence, r.Heads)
			return agg, nil, err
		}
		// Freeze at the log's end as it is now; a decision landing after
		// this read belongs to the next period.
		last, err := s.caughtUp(ctx)
		if err != nil {
			return agg, nil, err
		}
		var heads roadmap.ChainHeads
		if err := s.views.At(ctx, last, func(st *projections.State) error {
			heads = st.Heads()
			return nil
		}); err != nil {
			return agg, nil, err
		}
		e, err := roadmap.DecideCloseReview(r.Review, cmd, last, heads)
		if err != nil || s.signer == nil {
			return agg, e, err
		}
		agg.at = s.eventTime()
		e.Checkpoint, err = s.sign(last, agg.at)
		return agg, e, err
	})
}

// SignCheckpoint signs a checkpoint of the ledger as it stands: the tree of
// every event up to the log's last sequence S (once the projections have
// applied it), recorded as a new checkpoint aggregate (event
// checkpoint.signed). The checkpoint covers the events up to S, not the one
// that records it. It returns ErrNoSigningKey without a signing key, and
// an error wrapping proof.ErrBroken when the tree is broken.
func (s *Service) SignCheckpoint(ctx context.Context, req Request) (Result[projections.CheckpointView], error) {
	return write(ctx, s, req, checkpointAnswer, func() (aggregate, roadmap.Event, error) {
		agg, err := fresh(req, "checkpoint", newID())
		if err != nil {
			return agg, nil, err
		}
		if s.signer == nil {
			return agg, nil, ErrNoSigningKey
		}
		last, err := s.caughtUp(ctx)
		if err != nil {
			return agg, nil, err
		}
		agg.at = s.eventTime()
		e, err := s.sign(last, agg.at)
		return agg, e, err
	})
}

// sign returns the signed checkpoint of the first size events as of at. The
// projections, and so the tree, must have applied size.
func (s *Service) sign(size uint64, at time.Time) (*roadmap.CheckpointSigned, error) {
	if err := s.tree.Err(); err != nil {
		return nil, fmt.Errorf("cannot sign a checkpoint: %w", err)
	}
	root, err := s.tree.Root(int64(size))
	if err != nil {
		return nil, fmt.Errorf("cannot sign a checkpoint: %w", err)
	}
	c := proof.Checkpoint{Origin: s.signer.Name(), Size: int64(size), Root: root, Time: at}
	note, err := s.signer.Sign(c)
	if err != nil {
		return nil, err
	}
	return &roadmap.CheckpointSigned{Size: c.Size, Root: root.String(), Time: at, Note: string(note)}, nil
}

// eventTime is the ledger's clock as events record it: UTC, microseconds.
func (s *Service) eventTime() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// decideItem decides on an item and records the decision, or, when the
// approval policy holds it as a major change, records the change as
// proposed instead (the answer is then a ChangeView).
func (s *Service) decideItem(ctx context.Context, req Request, id string, decide func(roadmap.Item, roadmap.References) (roadmap.ItemDecision, error)) (Result[ItemOutcome], error) {
	res, err := write(ctx, s, req, itemAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		it, ok := st.ItemView(id)
		agg, err := existing(req, "item", id, ok, it.Version, it.Head)
		if err != nil {
			return agg, nil, err
		}
		e, err := decide(it.Item, st)
		if err != nil || s.approvals != roadmap.ApprovalsMajor {
			return agg, e, err
		}
		if reason := roadmap.MajorChange(it.Item, e); reason != "" {
			return aggregate{kind: "change", id: newID()}, roadmap.ProposeChange(it.Item, it.Version, e, reason), nil
		}
		return agg, e, nil
	}))
	return s.withFlags(req, res, err)
}

// onState makes a decision against the live state, read once under one
// lock: the aggregate decided on, its version, and every fact the decision
// checks (objectives, parents, ranks) are of the same moment. decide must
// not block; a decision that waits for the log (closing a review, signing
// a checkpoint) reads what it needs itself.
func (s *Service) onState(decide func(st *projections.State) (aggregate, roadmap.Event, error)) func() (aggregate, roadmap.Event, error) {
	return func() (agg aggregate, e roadmap.Event, err error) {
		s.views.Read(func(st *projections.State) { agg, e, err = decide(st) })
		return agg, e, err
	}
}

// withFlags adds to an item's answer the warnings on it as the ledger
// stands. A request with an Idempotency-Key answers without them, exactly
// as its retry will, however late: they are not of the event's moment.
func (s *Service) withFlags(req Request, res Result[ItemOutcome], err error) (Result[ItemOutcome], error) {
	if err == nil && req.IdempotencyKey == "" && res.Answer.Held == nil {
		res.Answer.Flags = s.views.ItemFlags(res.Answer.Item.ID)
	}
	return res, err
}

// checkIfMatch refuses a request whose If-Match names another version than
// the aggregate's; a new aggregate has none, so any If-Match fails.
func checkIfMatch(req Request, agg aggregate) error {
	if req.IfMatch != nil && agg.version == 0 {
		return fmt.Errorf("%w: If-Match names version %d, but a new %s has no version yet", ErrPreconditionFailed, *req.IfMatch, agg.kind)
	}
	if req.IfMatch != nil && *req.IfMatch != agg.version {
		return fmt.Errorf("%w: %s %s is at version %d, not %d", ErrPreconditionFailed, agg.kind, agg.id, agg.version, *req.IfMatch)
	}
	return nil
}

// write is the one path of every decision: replay a known idempotent request,
// else decide, append with the expected sequence, wait for the projections,
// and read the answer, of type T, with answer.
func write[T any](ctx context.Context, s *Service, req Request, answer answer[T], decide func() (aggregate, roadmap.Event, error)) (Result[T], error) {
	if req.IdempotencyKey != "" {
		lock := &s.keyLocks[keyStripe(req.IdempotencyKey)]
		lock.Lock()
		defer lock.Unlock()
		if _, err := s.caughtUp(ctx); err != nil {
			return Result[T]{}, err
		}
		if res, ok, err := replay(ctx, s, req, answer); ok || err != nil {
			return res, err
		}
	}

	agg, event, err := decide()
	if err != nil {
		return Result[T]{}, err
	}
	if agg.at.IsZero() {
		agg.at = s.eventTime()
	}
	env, err := eventlog.NewEnvelope(event, eventlog.Meta{ID: newID(), AggregateType: agg.kind, AggregateID: agg.id, Time: agg.at, Actor: req.Actor})
	if err != nil {
		return Result[T]{}, err
	}
	// The decision is made: from here on a client that hangs up must not cut
	// it in half (appended but unanswered, then retried without a key).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	ack, err := s.store.Append(ctx, env, agg.head, eventlog.AppendOptions{
		ExpectedSequence: agg.version,
		IdempotencyKey:   req.IdempotencyKey,
		RequestHash:      req.RequestHash,
	})
	if errors.Is(err, eventlog.ErrConflict) {
		if req.IfMatch != nil {
			return Result[T]{}, fmt.Errorf("%w: %v", ErrPreconditionFailed, err)
		}
		return Result[T]{}, fmt.Errorf("%w: %v; read it again and retry", roadmap.ErrConflict, err)
	}
	if err != nil {
		return Result[T]{}, err
	}
	if err := s.wait.WaitFor(ctx, ack.Sequence); err != nil {
		return Result[T]{}, err
	}
	if ack.Duplicate {
		// JetStream recognised the message id of a request stored before
		// (by another process, or before a lost answer): the answer is
		// the first request's, read back from its event.
		if res, ok, err := replay(ctx, s, req, answer); ok || err != nil {
			res.Replayed = true
			return res, err
		}
	}
	created := agg.version == 0
	if req.IdempotencyKey != "" {
		created = createdBy(env.Type) // as its retry will be answered
	}
	v, err := answer(ctx, s, agg, ack.Sequence)
	return Result[T]{Created: created, Sequence: ack.Sequence, Answer: v}, err
}

// answer reads a write's answer: the aggregate agg names as it stood right
// after the event at seq, rank included. The live view will not do: another
// decision may have shifted an item's rank since, and a retry must get the
// very answer the first request got.
type answer[T any] func(ctx context.Context, s *Service, agg aggregate, seq uint64) (T, error)

// viewAnswer is the answer that recent, when given, remembers for the last
// events applied, else that get finds in the state after travelling back to
// the event.
func viewAnswer[T any](recent func(Views, uint64) (T, bool), get func(*projections.State, string) (T, bool)) answer[T] {
	return func(ctx context.Context, s *Service, agg aggregate, seq uint64) (T, error) {
		if recent != nil {
			if v, ok := recent(s.views, seq); ok {
				return v, nil
			}
		}
		var v T
		var found bool
		if err := s.views.At(ctx, seq, func(st *projections.State) error {
			v, found = get(st, agg.id)
			return nil
		}); err != nil {
			return v, err
		}
		if !found {
			return v, fmt.Errorf("no %s %s at sequence %d", agg.kind, agg.id, seq)
		}
		return v, nil
	}
}

// The answers of the use cases, one per kind of aggregate.
var (
	objectiveAnswer  = viewAnswer(Views.RecentObjective, (*projections.State).ObjectiveView)
	reviewAnswer     = viewAnswer(Views.RecentReview, (*projections.State).ReviewView)
	checkpointAnswer = viewAnswer(nil, (*projections.State).CheckpointView)
	tokenAnswer      = viewAnswer(nil, (*projections.State).TokenView)
	changeAnswer     = viewAnswer(nil, (*projections.State).ChangeView)
	capacityAnswer   = viewAnswer(nil, (*projections.State).CapacityView)
	itemViewAnswer   = viewAnswer(Views.RecentItem, (*projections.State).ItemView)
)

// itemAnswer is the answer to a decision on an item: the item, or the change
// held for approval in its place.
func itemAnswer(ctx context.Context, s *Service, agg aggregate, seq uint64) (ItemOutcome, error) {
	if agg.kind == "change" {
		c, err := changeAnswer(ctx, s, agg, seq)
		return ItemOutcome{Held: &c}, err
	}
	it, err := itemViewAnswer(ctx, s, agg, seq)
	return ItemOutcome{Item: it}, err
}

// replay answers a request whose Idempotency-Key the ledger has seen.
func replay[T any](ctx context.Context, s *Service, req Request, answer answer[T]) (Result[T], bool, error) {
	entry, ok, err := s.requests.Lookup(ctx, req.IdempotencyKey)
	if err != nil || !ok {
		return Result[T]{}, ok, err
	}
	if hex.EncodeToString(entry.RequestHash[:]) != req.RequestHash {
		return Result[T]{}, true, fmt.Errorf("%w: key %q was first used at sequence %d for another request", ErrIdempotencyMismatch, req.IdempotencyKey, entry.Sequence)
	}
	v, err := answer(ctx, s, aggregate{kind: entry.AggregateType, id: entry.AggregateID}, entry.Sequence)
	if err != nil {
		return Result[T]{}, true, err
	}
	return Result[T]{Created: createdBy(entry.EventType), Replayed: true, Sequence: entry.Sequence, Answer: v}, true, nil
}

// createdBy reports whether an event of type t creates its aggregate: the
// answer to a keyed request, and to its every retry, says so by its type.
func createdBy(t string) bool {
	return t == roadmap.TypeObjectiveDefined || t == roadmap.TypeItemProposed ||
		t == roadmap.TypeReviewOpened || t == roadmap.TypeCheckpointSigned ||
		t == roadmap.TypeTokenCreated || t == roadmap.TypeChangeProposed ||
		t == roadmap.TypeViewDefined
}

func keyStripe(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % 64)
}

// newID returns a time-ordered UUID (version 7), so ids sort by creation.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}
