package eventlog

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// FollowRaw calls fn with the sequence and the stored body of every event
// from sequence from (1 for the start) on, in order, until ctx ends or fn
// returns an error, which FollowRaw returns. Unlike Follow it parses
// nothing: it is for readers that pass the bytes on as they are, such as
// the raw log verifiers check for themselves. body is the message's own
// bytes; fn must not change them.
func (l *Log) FollowRaw(ctx context.Context, from uint64, fn func(seq uint64, body []byte) error) error {
	return l.followRaw(ctx, from, bulk, fn)
}

func (l *Log) followRaw(ctx context.Context, from uint64, size readSize, fn func(seq uint64, body []byte) error) error {
	type raw struct {
		seq  uint64
		body []byte
	}
	read := func(msg jetstream.Msg) (raw, error) {
		if seq, ok := streamSequence(msg.Reply()); ok {
			return raw{seq, msg.Data()}, nil
		}
		meta, err := msg.Metadata()
		if err != nil {
			return raw{}, fmt.Errorf("event metadata: %w", err)
		}
		return raw{meta.Sequence.Stream, msg.Data()}, nil
	}
	return consume(ctx, l, from, nil, size, read, func(r raw) error { return fn(r.seq, r.body) })
}
