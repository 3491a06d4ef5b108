package api

import (
	"context"
	"testing"
	"time"
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
