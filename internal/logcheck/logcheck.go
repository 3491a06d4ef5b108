// Package logcheck checks a ledger's event log as a whole, for the
// reliability suites (crash and concurrency, see docs/reliability.md): every
// stored event decodes and verifies, sequences have no gaps, no event id or
// idempotency key is stored twice, every aggregate's hash chain verifies and
// its subject's last message is its last event, and the projections rebuilt
// from scratch can be compared with what a running ledger serves.
//
// Only tests import it (TestOnlyTestsImportIt holds that): it is no part of
// the server.
package logcheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/roadmap-ledger/roadmap/api"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Log is what Check reads: the event log.
type Log interface {
	LastSequence(ctx context.Context) (uint64, error)
	Follow(ctx context.Context, from uint64, fn func(eventlog.Record) error) error
	Head(ctx context.Context, aggregateType, aggregateID string) (uint64, string, error)
}

var _ Log = (*eventlog.Log)(nil)

// Ledger is a whole log as read and checked by Check.
type Ledger struct {
	// Last is the sequence of the last event, 0 for an empty log.
	Last uint64
	// Events holds every event, Events[i] at sequence i+1.
	Events []projections.Event
	// Aggregates maps "type/id" to the sequences of its events, oldest first.
	Aggregates map[string][]uint64
	// State is the projection state rebuilt from scratch: NewState folded
	// over every event.
	State *projections.State
}

// maxProblems bounds how many problems Check reports.
const maxProblems = 50

// Check reads every event of log, from the first to the last as the log
// stands when Check starts, and checks it. It returns the ledger it read
// and, when anything does not hold, an error listing every problem (up to
// 50). The checks: sequences run from 1 without gaps; every body decodes and
// verifies (eventlog.Decode), and its data decodes into a known event type
// (projections.Decode); no event id and no idempotency key is stored twice;
// every aggregate's events form an unbroken chain (eventlog.VerifyChain); the
// last message of every aggregate's subject is its last event.
func Check(ctx context.Context, log Log) (*Ledger, error) {
	last, err := log.LastSequence(ctx)
	if err != nil {
		return nil, err
	}
	l := &Ledger{Last: last, Aggregates: map[string][]uint64{}, State: projections.NewState()}
	var problems []error
	problem := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Errorf(format, args...))
		}
	}
	envelopes := map[string][]eventlog.Envelope{}
	ids := map[string]uint64{}
	keys := map[string]uint64{}
	if last > 0 {
		errDone := errors.New("done")
		err = log.Follow(ctx, 1, func(rec eventlog.Record) error {
			want := uint64(len(l.Events)) + 1
			if rec.Sequence != want {
				problem("sequence %d follows %d: the log has a gap", rec.Sequence, want-1)
			}
			env, err := eventlog.Decode(rec.Body)
			if err != nil {
				problem("sequence %d: %v", rec.Sequence, err)
			}
			ev, err := projections.Decode(rec)
			switch {
			case err != nil:
				problem("sequence %d: %v", rec.Sequence, err)
			case ev.Data == nil:
				problem("sequence %d: unknown event type %q", rec.Sequence, rec.Envelope.Type)
			}
			if prev, dup := ids[env.ID]; dup {
				problem("sequence %d: event id %s is already stored at sequence %d", rec.Sequence, env.ID, prev)
			}
			ids[env.ID] = rec.Sequence
			if rec.IdempotencyKey != "" {
				if prev, dup := keys[rec.IdempotencyKey]; dup {
					problem("sequence %d: idempotency key %q is already stored at sequence %d", rec.Sequence, rec.IdempotencyKey, prev)
				}
				keys[rec.IdempotencyKey] = rec.Sequence
			}
			agg := rec.Envelope.AggregateType + "/" + rec.Envelope.AggregateID
			envelopes[agg] = append(envelopes[agg], rec.Envelope)
			l.Aggregates[agg] = append(l.Aggregates[agg], rec.Sequence)
			l.Events = append(l.Events, ev)
			l.State.Apply(ev)
			if rec.Sequence >= last {
				return errDone
			}
			return nil
		})
		if !errors.Is(err, errDone) {
			return l, fmt.Errorf("read the log up to sequence %d: %w", last, err)
		}
	}
	aggs := make([]string, 0, len(envelopes))
	for agg := range envelopes {
		aggs = append(aggs, agg)
	}
	sort.Strings(aggs)
	for _, agg := range aggs {
		events := envelopes[agg]
		if err := eventlog.VerifyChain(events); err != nil {
			problem("chain of %s: %v", agg, err)
		}
		head := events[len(events)-1]
		seq, hash, err := log.Head(ctx, head.AggregateType, head.AggregateID)
		seqs := l.Aggregates[agg]
		switch {
		case err != nil:
			problem("head of %s: %v", agg, err)
		case seq != seqs[len(seqs)-1] || hash != head.Hash:
			problem("head of %s is sequence %d (%.12s), but its last event is at %d (%.12s)", agg, seq, hash, seqs[len(seqs)-1], head.Hash)
		}
	}
	return l, errors.Join(problems...)
}

// Event returns the event at sequence seq, and false beyond the log.
func (l *Ledger) Event(seq uint64) (projections.Event, bool) {
	if seq == 0 || seq > uint64(len(l.Events)) {
		return projections.Event{}, false
	}
	return l.Events[seq-1], true
}

// Previous returns the sequence of the event of the same aggregate before
// the one at seq, 0 when it is the aggregate's first, and false when seq is
// not an event of the log.
func (l *Ledger) Previous(seq uint64) (uint64, bool) {
	ev, ok := l.Event(seq)
	if !ok {
		return 0, false
	}
	seqs := l.Aggregates[ev.Envelope.AggregateType+"/"+ev.Envelope.AggregateID]
	i, found := slices.BinarySearch(seqs, seq)
	if !found {
		return 0, false
	}
	if i == 0 {
		return 0, true
	}
	return seqs[i-1], true
}

// Views returns the answers GET /v1/roadmap and GET /v1/roadmap?view=objectives
// must give for the rebuilt state, byte for byte: the views encoded as JSON,
// each followed by a newline.
func (l *Ledger) Views() (horizons, objectives []byte, err error) {
	if horizons, err = api.RoadmapAnswer(l.State.Roadmap("")); err != nil {
		return nil, nil, err
	}
	if objectives, err = api.ObjectivesAnswer(l.State.ByObjective("")); err != nil {
		return nil, nil, err
	}
	return horizons, objectives, nil
}

// Tag returns the text a reliability test marks an event with, so the event
// can be traced back to the request behind it: the title of a proposed item,
// a defined objective or an opened review, the name of a created token, the
// rationale of a decision on an item (of a change holding one for approval
// too: the proposal and, once approved, the decision on the item carry the
// same), the notes of a closed review, the reason of a revoked token, the
// rationale of any other decision.
func Tag(ev projections.Event) string {
	switch d := ev.Data.(type) {
	case *roadmap.ObjectiveDefined:
		return d.Title
	case *roadmap.ObjectiveRetired:
		return d.Rationale
	case *roadmap.ItemProposed:
		return d.Title
	case roadmap.ItemDecision:
		rationale, _ := d.Why()
		return rationale
	case *roadmap.ChangeProposed:
		if held := d.Held(); held != nil {
			rationale, _ := held.Why()
			return rationale
		}
	case *roadmap.ChangeApproved:
		return d.Rationale
	case *roadmap.ChangeRejected:
		return d.Rationale
	case *roadmap.ReviewOpened:
		return d.Title
	case *roadmap.ReviewClosed:
		return d.Notes
	case *roadmap.ReviewCancelled:
		return d.Rationale
	case *roadmap.TokenCreated:
		return d.Name
	case *roadmap.TokenRevoked:
		return d.Reason
	}
	return ""
}

// Tags maps the tag of every event (see Tag) to the sequences that carry it,
// in log order.
func (l *Ledger) Tags() map[string][]uint64 {
	out := make(map[string][]uint64, len(l.Events))
	for _, ev := range l.Events {
		tag := Tag(ev)
		out[tag] = append(out[tag], ev.Sequence)
	}
	return out
}

// Open opens the log of a stopped ledger's data directory (an embedded
// JetStream), runs Check on it and closes it again. The data directory must
// not be in use by another process.
func Open(ctx context.Context, dataDir string) (*Ledger, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: dataDir})
	if err != nil {
		return nil, err
	}
	defer log.Close()
	return Check(ctx, log)
}

// ParseETag reads a version from an ETag as the API gives it, "42".
func ParseETag(s string) (uint64, bool) {
	if len(s) < 3 || s[0] != '"' || s[len(s)-1] != '"' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:len(s)-1], 10, 64)
	return n, err == nil && n > 0
}
