package api

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// TestFeedHubDropsAClientTooFarBehindWithoutWaiting hands a hub more
// events than a client's buffer holds: the publisher never blocks, the
// client that does not read is dropped, and the one that reads keeps
// every event.
func TestFeedHubDropsAClientTooFarBehindWithoutWaiting(t *testing.T) {
	h := newFeedHub(nil, nil, nil, DefaultFeedSource, 4)
	close(h.started)
	ctx := context.Background()
	stalled, _, err := h.subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reading, _, _ := h.subscribe(ctx)
	var got []uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(got) < 100 {
			got = append(got, (<-reading.ch).seq)
		}
	}()
	start := time.Now()
	for seq := uint64(1); seq <= 100; seq++ {
		h.publish(feedEvent{seq: seq})
		for len(reading.ch) == cap(reading.ch) {
			time.Sleep(time.Millisecond) // the reader keeps up, as a live client would
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("publishing 100 events took %v", took)
	}
	select {
	case <-stalled.dropped:
	default:
		t.Fatal("the client that never read was not dropped")
	}
	<-done
	for i, seq := range got {
		if seq != uint64(i+1) {
			t.Fatalf("the reading client got %v", got)
		}
	}
	if h.subscribed() && len(h.subs) != 1 {
		t.Fatalf("the hub holds %d clients, want the reading one", len(h.subs))
	}
}

// replayingViews is a ledger's views whose sequence moves as a replay
// applies events; only Sequence is used.
type replayingViews struct {
	Views
	seq atomic.Uint64
}

func (v *replayingViews) Sequence() uint64 { return v.seq.Load() }

// followingLog records where the hub starts to follow it, then ends the
// hub.
type followingLog struct {
	Log
	from   uint64
	cancel context.CancelFunc
}

func (l *followingLog) Follow(ctx context.Context, from uint64, fn func(eventlog.Record) error) error {
	l.from = from
	l.cancel()
	return ctx.Err()
}

// TestFeedHubStartsWhereTheReplayEnds starts the change feed while the
// projections replay the log: the hub reads nothing until they are ready,
// then follows from the event after the last one they applied, so a start
// reads the log once, not twice.
func TestFeedHubStartsWhereTheReplayEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	views := &replayingViews{}
	log := &followingLog{cancel: cancel}
	s := &Server{cfg: Config{WaitReady: func(context.Context) error {
		views.seq.Store(500) // the replay applied the log meanwhile
		return nil
	}}}
	s.feed = newFeedHub(log, views, nil, DefaultFeedSource, 4)
	s.RunFeed(ctx)
	if got, want := log.from, uint64(501); got != want {
		t.Fatalf("the hub followed the log from sequence %d, want %d", got, want)
	}
}
