package eventlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// restoreWindow is how many restored events are in flight at once.
const restoreWindow = 256

// Restorer puts a copy of a log, event by event, into a new stream: the
// same bytes at the same sequences.
type Restorer struct {
	l       *Log
	next    uint64
	pending []jetstream.PubAckFuture
	seqs    []uint64
}

// Restorer returns a Restorer into the log's stream, which must be empty.
// It returns an error when the stream cannot be read or holds events.
func (l *Log) Restorer(ctx context.Context) (*Restorer, error) {
	last, err := l.LastSequence(ctx)
	if err != nil {
		return nil, err
	}
	if last != 0 {
		return nil, fmt.Errorf("the stream %s already holds %d events: restore only into an empty one", l.name, last)
	}
	return &Restorer{l: l, next: 1}, nil
}

// Add appends body, an event's stored bytes, at sequence seq, which must
// follow the previous one. The body is decoded (Decode: it must be the
// canonical encoding of an envelope whose hash matches) to find its
// aggregate's subject, and stored as it is. JetStream is told the sequence
// it expects before it, so a copy that is not the stream's next event is
// refused rather than stored at another place. It returns an error when the
// body is not an event or the stream refuses it.
func (r *Restorer) Add(ctx context.Context, seq uint64, body []byte) error {
	if seq != r.next {
		return fmt.Errorf("sequence %d: the restore expects %d next", seq, r.next)
	}
	e, err := Decode(body)
	if err != nil {
		return fmt.Errorf("sequence %d: %w", seq, err)
	}
	msg := nats.NewMsg(Subject(e.AggregateType, e.AggregateID))
	msg.Data = body
	ack, err := r.l.js.PublishMsgAsync(msg, jetstream.WithExpectLastSequence(seq-1))
	if err != nil {
		return fmt.Errorf("sequence %d: %w", seq, err)
	}
	r.pending, r.seqs = append(r.pending, ack), append(r.seqs, seq)
	r.next++
	if len(r.pending) >= restoreWindow {
		return r.Flush(ctx)
	}
	return nil
}

// Flush waits until every event added is stored. It returns an error naming
// the first the stream refused.
func (r *Restorer) Flush(ctx context.Context) error {
	defer func() { r.pending, r.seqs = r.pending[:0], r.seqs[:0] }()
	timeout := time.After(time.Minute)
	for i, ack := range r.pending {
		select {
		case a := <-ack.Ok():
			if a.Sequence != r.seqs[i] {
				return fmt.Errorf("sequence %d was stored at %d", r.seqs[i], a.Sequence)
			}
		case err := <-ack.Err():
			return fmt.Errorf("sequence %d: %w", r.seqs[i], err)
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return errors.New("the stream did not acknowledge the restored events within a minute")
		}
	}
	return nil
}
