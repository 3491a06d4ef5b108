package eventlog

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// FollowRaw calls fn with the sequence and the stored body of every event
// from sequence from (1 for the start) on, in order, until ctx ends or fn
// returns an error, which FollowRaw returns. Unlike Follow it parses
// nothing: it is for readers that pass the bytes on as they are, such as
// the raw log verifiers check for themselves. body is the message's own
// bytes; fn must not change them.
func (l *Log) FollowRaw(ctx context.Context, from uint64, fn func(seq uint64, body []byte) error) error {
	// The same ordered consumer as Follow's, deleted when the read ends.
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: 30 * time.Second}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := l.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("ordered consumer: %w", err)
	}
	msgs, err := cons.Messages(jetstream.PullMaxMessages(4096), jetstream.PullHeartbeat(time.Second), jetstream.PullExpiry(5*time.Second))
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	defer func() {
		msgs.Stop()
		if info := cons.CachedInfo(); info != nil {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = l.stream.DeleteConsumer(dctx, info.Name)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, msgs.Stop)
	defer stop()

	// One goroutine fetches while fn runs on the previous events.
	type raw struct {
		seq  uint64
		body []byte
		err  error
	}
	ready := make(chan raw, 1024)
	go func() {
		defer close(ready)
		for {
			msg, err := msgs.Next()
			var r raw
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				r.err = fmt.Errorf("next event: %w", err)
			} else if meta, merr := msg.Metadata(); merr != nil {
				r.err = fmt.Errorf("event metadata: %w", merr)
			} else {
				r.seq, r.body = meta.Sequence.Stream, msg.Data()
			}
			select {
			case ready <- r:
			case <-ctx.Done():
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	for r := range ready {
		if r.err != nil {
			return r.err
		}
		if err := fn(r.seq, r.body); err != nil {
			return err
		}
	}
	return ctx.Err()
}
