package eventlog_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// TestFollowRawGivesTheStoredBytes checks that FollowRaw gives, from any
// sequence, the sequences and bodies Follow gives, a message that is no
// envelope included (the raw log passes it on for verifiers to name), stops
// when fn fails, and leaves no consumer behind.
func TestFollowRawGivesTheStoredBytes(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := ctxWithTimeout(t)
	prev, last := "", uint64(0)
	id := uuid.NewString()
	for n := range 5 {
		e := event(id, n)
		a, err := l.Append(ctx, e, prev, eventlog.AppendOptions{ExpectedSequence: last})
		if err != nil {
			t.Fatal(err)
		}
		prev, last = e.Hash, a.Sequence
	}
	// Not an envelope: Follow stops at it, FollowRaw passes it on.
	msg := nats.NewMsg(eventlog.Subject("item", uuid.NewString()))
	msg.Data = []byte(`not an envelope`)
	if _, err := l.JetStream().PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}

	var want [][]byte
	err := l.Follow(ctx, 1, func(r eventlog.Record) error {
		want = append(want, bytes.Clone(r.Body))
		if len(want) == 5 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || len(want) != 5 {
		t.Fatalf("Follow: %v after %d events", err, len(want))
	}
	want = append(want, msg.Data)

	for _, from := range []uint64{1, 4, 6} {
		var got [][]byte
		next := from
		err := l.FollowRaw(ctx, from, func(seq uint64, body []byte) error {
			if seq != next {
				t.Fatalf("FollowRaw from %d: sequence %d, want %d", from, seq, next)
			}
			next++
			got = append(got, bytes.Clone(body))
			if seq == 6 {
				return errStop
			}
			return nil
		})
		if !errors.Is(err, errStop) {
			t.Fatalf("FollowRaw from %d: %v, want fn's error", from, err)
		}
		if len(got) != len(want[from-1:]) {
			t.Fatalf("FollowRaw from %d: %d events, want %d", from, len(got), len(want[from-1:]))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[int(from)-1+i]) {
				t.Errorf("FollowRaw from %d: sequence %d is %q, want %q", from, int(from)+i, got[i], want[int(from)-1+i])
			}
		}
	}

	// A context that ends stops the read.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.FollowRaw(cctx, 1, func(uint64, []byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("FollowRaw with an ended context: %v", err)
	}

	wantNoConsumers(t, ctx, l, "the reads")
}
