package projections

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// Travels into the past run at most cap(travels) at once; the others wait
// for a slot, and one whose request is given up while waiting ends with
// its context's error, having read nothing.
func TestTravelsIntoThePastTakeTurns(t *testing.T) {
	b := newLogBuilder()
	for _, id := range []string{"a", "b", "c", "d"} {
		b.propose(id)
	}
	c := NewCurrent(sliceSource(b.recs), 2)
	catchUp(t, c, b)
	slots := cap(c.travels)
	release := make(chan struct{})
	var (
		mu            sync.Mutex
		running, most int
		wg            sync.WaitGroup
	)
	for range slots + 2 {
		wg.Go(func() {
			err := c.At(context.Background(), 1, func(*State) error {
				mu.Lock()
				running++
				most = max(most, running)
				mu.Unlock()
				<-release
				mu.Lock()
				running--
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	// Wait until every slot is taken.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		mu.Lock()
		r := running
		mu.Unlock()
		if r == slots {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d travels running, want %d", r, slots)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	called := false
	if err := c.At(ctx, 1, func(*State) error { called = true; return nil }); !errors.Is(err, context.DeadlineExceeded) || called {
		t.Errorf("a travel given up while every slot is taken: %v, ran: %v", err, called)
	}
	close(release)
	wg.Wait()
	if most != slots {
		t.Errorf("at most %d travels ran at once, want %d", most, slots)
	}
	// Today's state takes no slot.
	if err := c.At(ctx, c.Sequence(), func(*State) error { return nil }); err != nil {
		t.Errorf("today's state: %v", err)
	}
}
