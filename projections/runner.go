// Package projections holds the read models of the ledger, rebuilt from the
// event log: on start they replay the whole stream, then follow it live. The
// Runner feeds every projection in log order and lets callers wait until a
// given sequence has been applied (read your writes).
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Event is one decoded event as the projections see it.
type Event struct {
	eventlog.Record
	// Data is the decoded domain event. An event of a type or a version
	// this release does not know is never applied: Decode refuses it
	// (eventlog.ErrUnreadable) and the runner stops there (ErrPoison).
	Data roadmap.Event
}

// Projection is a read model fed by the Runner, one event at a time, in log
// order, from a single goroutine.
type Projection interface {
	Apply(Event)
}

// Bodies is a projection of the stored bytes alone, in log order: the
// Merkle tree of the log is one. Its errors are its own to keep (the tree
// stops growing and says why); the runner goes on.
type Bodies func(seq uint64, body []byte) error

// Apply implements Projection.
func (f Bodies) Apply(ev Event) { _ = f(ev.Sequence, ev.Body) }

// Source is the part of the event log the runner reads.
type Source interface {
	Follow(ctx context.Context, from uint64, fn func(eventlog.Record) error) error
	ReadRange(ctx context.Context, from, to uint64, fn func(eventlog.Record) error) error
	LastSequence(ctx context.Context) (uint64, error)
}

// decodingSource is a Source that decodes each event's data in the same pass
// as its envelope, as the event log does: the runner and time travel use it
// when their source offers it.
type decodingSource interface {
	FollowDecoded(ctx context.Context, from uint64, data eventlog.DataFunc, fn func(eventlog.Record) error) error
	ReadRangeDecoded(ctx context.Context, from, to uint64, data eventlog.DataFunc, fn func(eventlog.Record) error) error
}

// follow reads the log from sequence from on, decoding as it parses when the
// source can.
func follow(ctx context.Context, source Source, from uint64, fn func(eventlog.Record) error) error {
	if d, ok := source.(decodingSource); ok {
		return d.FollowDecoded(ctx, from, eventlog.DomainData, fn)
	}
	return source.Follow(ctx, from, fn)
}

// readRange reads the log from sequence from to sequence to, decoding as it
// parses when the source can.
func readRange(ctx context.Context, source Source, from, to uint64, fn func(eventlog.Record) error) error {
	if d, ok := source.(decodingSource); ok {
		return d.ReadRangeDecoded(ctx, from, to, eventlog.DomainData, fn)
	}
	return source.ReadRange(ctx, from, to, fn)
}

// ErrStopped is returned by WaitFor once the runner has stopped.
var ErrStopped = errors.New("projections stopped")

// Runner replays the log into its projections and follows it.
type Runner struct {
	source      Source
	projections []Projection
	logger      *slog.Logger

	// applying is held while an event is applied to the projections, so
	// Hold sees every projection at the same sequence.
	applying sync.Mutex

	mu       sync.Mutex
	applied  uint64
	target   uint64        // the stream's last sequence at start: ready once applied
	advanced chan struct{} // closed and replaced when applied moves and someone waits, or the runner stops
	waiting  int           // how many wait on advanced
	err      error         // why the runner stopped
	stopped  bool
	done     chan struct{}
}

// NewRunner returns a runner that feeds projections from source.
func NewRunner(source Source, logger *slog.Logger, projections ...Projection) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		source: source, projections: projections, logger: logger,
		advanced: make(chan struct{}), done: make(chan struct{}),
	}
}

// Resume tells a runner not yet started that its projections already hold
// the events up to sequence seq (restored from an image of them): Start
// replays the log from the next one.
func (r *Runner) Resume(seq uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = seq
}

// Hold calls fn while no event is being applied, with the sequence of the
// last event applied to every projection: fn sees every projection at that
// sequence. The runner waits until fn returns, so fn should only take
// images of the projections, and write them out afterwards.
func (r *Runner) Hold(fn func(applied uint64)) {
	r.applying.Lock()
	defer r.applying.Unlock()
	fn(r.Applied())
}

// Start notes how far the log goes and starts replaying it, after the
// events the projections already hold (Resume), in the background. It
// returns an error when the log cannot be read.
func (r *Runner) Start(ctx context.Context) error {
	last, err := r.source.LastSequence(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.target = last
	r.mu.Unlock()
	for _, p := range r.projections {
		if res, ok := p.(Reserver); ok {
			res.Reserve(last)
		}
	}
	go r.run(ctx)
	return nil
}

// Reserver is a projection that keeps something per event and can make
// room for the events the replay will bring at once, rather than growing
// as they come (which holds the old and the new copy at the same time).
type Reserver interface {
	Reserve(events uint64)
}

// ErrPoison marks an event the projections cannot apply, a message that is
// not an event envelope or whose data does not decode: following the log
// again would meet it again, so the runner stops, naming its sequence.
var ErrPoison = errors.New("cannot apply event")

func (r *Runner) run(ctx context.Context) {
	defer close(r.done)
	var err error
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		err = follow(ctx, r.source, r.applied+1, r.apply)
		if errors.Is(err, eventlog.ErrTampered) {
			// The log read a message it cannot parse as an envelope.
			err = fmt.Errorf("%w: %v", ErrPoison, err)
		}
		if ctx.Err() != nil || errors.Is(err, ErrPoison) {
			break
		}
		// The connection or the stream's leader went away (a failover, a
		// restart of the NATS server): follow again from where we are.
		r.logger.Warn("following the log again", "after", r.Applied(), "error", err, "in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
	if ctx.Err() != nil {
		err = ErrStopped
	} else {
		r.logger.Error("projections stopped", "applied", r.Applied(), "error", err)
	}
	r.mu.Lock()
	r.stopped, r.err = true, err
	close(r.advanced)
	r.mu.Unlock()
}

func (r *Runner) apply(rec eventlog.Record) error {
	// Only this goroutine writes applied, so it may read it without the lock.
	if rec.Sequence <= r.applied {
		return nil // delivered again after a reconnect
	}
	ev, err := Decode(rec)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPoison, err) // err names the sequence
	}
	r.applying.Lock()
	for _, p := range r.projections {
		p.Apply(ev)
	}
	r.advance(rec.Sequence)
	r.applying.Unlock()
	return nil
}

func (r *Runner) advance(seq uint64) {
	r.mu.Lock()
	r.applied = seq
	if r.waiting > 0 { // nobody to wake is the common case of a replay
		close(r.advanced)
		r.advanced, r.waiting = make(chan struct{}), 0
	}
	r.mu.Unlock()
}

// Applied returns the sequence of the last event applied to every projection.
func (r *Runner) Applied() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}

// Ready reports whether the projections have caught up with the log as it
// was at start and are still following it. It returns the reason when not.
func (r *Runner) Ready() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.stopped:
		return fmt.Errorf("projections stopped: %w", r.err)
	case r.applied < r.target:
		return fmt.Errorf("replaying the log: %d of %d events applied", r.applied, r.target)
	}
	return nil
}

// WaitFor blocks until the event at sequence seq has been applied to every
// projection. It returns ctx's error when ctx ends first and ErrStopped (or
// the error that stopped the runner) when the runner stops.
func (r *Runner) WaitFor(ctx context.Context, seq uint64) error {
	for {
		r.mu.Lock()
		if r.applied >= seq {
			r.mu.Unlock()
			return nil
		}
		if r.stopped {
			err := r.err
			r.mu.Unlock()
			return err
		}
		// Checked and registered under one lock: an advance cannot slip in
		// between and leave this waiter asleep.
		r.waiting++
		advanced := r.advanced
		r.mu.Unlock()
		select {
		case <-advanced:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitReady blocks until the projections have caught up with the log as it
// was at start. It returns the errors of WaitFor, and, once the runner has
// stopped, the error that stopped it: projections that no longer follow
// the log are not ready, however far they got.
func (r *Runner) WaitReady(ctx context.Context) error {
	r.mu.Lock()
	target := r.target
	r.mu.Unlock()
	if err := r.WaitFor(ctx, target); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return r.err
	}
	return nil
}

// Decode decodes the data of a stored event, unless it was decoded as it
// was read (Record.Decoded). An unknown type or a newer version than this
// release knows is an error wrapping eventlog.ErrUnreadable, naming it.
func Decode(rec eventlog.Record) (Event, error) {
	data, err := rec.Event()
	if err != nil {
		return Event{Record: rec}, err
	}
	rec.Decoded = nil // once is enough: Data holds it
	return Event{Record: rec, Data: data}, nil
}

// Done is closed once the runner has stopped.
func (r *Runner) Done() <-chan struct{} { return r.done }
