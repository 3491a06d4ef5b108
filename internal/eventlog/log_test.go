package eventlog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

func openLog(t testing.TB, dir string) *eventlog.Log {
	t.Helper()
	l, err := eventlog.Open(context.Background(), eventlog.Config{DataDir: dir})
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

func event(aggregateID string, n int) *eventlog.Envelope {
	return &eventlog.Envelope{
		ID: uuid.NewString(), Type: "item.reprioritised", SchemaVersion: 1,
		AggregateType: "item", AggregateID: aggregateID,
		Time: time.Date(2026, 11, 1, 9, 0, n, 0, time.UTC), Actor: fmt.Sprintf("writer-%d", n),
		Data: json.RawMessage(fmt.Sprintf(`{"rationale":"attempt %d"}`, n)),
	}
}

func readAll(t testing.TB, l *eventlog.Log, id string) []eventlog.Record {
	t.Helper()
	var recs []eventlog.Record
	if err := l.Read(context.Background(), "item", id, func(r eventlog.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	return recs
}

func TestConcurrentWritersOnOneAggregateEitherLandOrConflict(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	id := uuid.NewString()
	if _, err := l.Append(ctx, event(id, 0), "", eventlog.AppendOptions{}); err != nil {
		t.Fatalf("first append: %v", err)
	}

	const writers = 50
	var (
		mu        sync.Mutex
		landed    = map[uint64]int{}
		conflicts int
		wg        sync.WaitGroup
		start     = make(chan struct{})
	)
	for w := 1; w <= writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			seq, head, err := l.Head(ctx, "item", id)
			if err != nil {
				t.Errorf("writer %d: head: %v", w, err)
				return
			}
			ack, err := l.Append(ctx, event(id, w), head, eventlog.AppendOptions{ExpectedSequence: seq})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, eventlog.ErrConflict):
				conflicts++
			case err != nil:
				t.Errorf("writer %d: append: %v", w, err)
			default:
				landed[ack.Sequence]++
			}
		}()
	}
	close(start)
	wg.Wait()

	for seq, n := range landed {
		if n != 1 {
			t.Errorf("sequence %d acknowledged to %d writers", seq, n)
		}
	}
	if got := len(landed) + conflicts; got != writers {
		t.Errorf("landed %d + conflicts %d = %d answers, want %d", len(landed), conflicts, got, writers)
	}
	if len(landed) == 0 {
		t.Fatal("no concurrent append landed")
	}
	recs := readAll(t, l, id)
	if got, want := len(recs), 1+len(landed); got != want {
		t.Fatalf("aggregate has %d events, want %d (first + landed)", got, want)
	}
	envs := make([]eventlog.Envelope, len(recs))
	for i, r := range recs {
		envs[i] = r.Envelope
		if i > 0 && landed[r.Sequence] != 1 {
			t.Errorf("stored sequence %d was not acknowledged to any writer", r.Sequence)
		}
	}
	if err := eventlog.VerifyChain(envs); err != nil {
		t.Errorf("chain after concurrent writers: %v", err)
	}
}

func TestAppendWithStaleSequenceIsAConflictAndAppendsNothing(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	id := uuid.NewString()
	first, err := l.Append(ctx, event(id, 0), "", eventlog.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := event(id, 1)
	if _, err := l.Append(ctx, e, "x", eventlog.AppendOptions{ExpectedSequence: first.Sequence}); err != nil {
		t.Fatal(err)
	}
	_, err = l.Append(ctx, event(id, 2), "y", eventlog.AppendOptions{ExpectedSequence: first.Sequence})
	if !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("append at a stale sequence: err %v, want ErrConflict", err)
	}
	if _, err = l.Append(ctx, event(uuid.NewString(), 3), "", eventlog.AppendOptions{ExpectedSequence: 7}); !errors.Is(err, eventlog.ErrConflict) {
		t.Fatalf("append to a new aggregate expecting sequence 7: err %v, want ErrConflict", err)
	}
	if got, _ := l.LastSequence(ctx); got != 2 {
		t.Errorf("stream holds %d events, want 2", got)
	}
}

func TestSameIdempotencyKeyInsideTheWindowIsADuplicate(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	opts := eventlog.AppendOptions{IdempotencyKey: "k-1", RequestHash: "h"}
	a, err := l.Append(ctx, event(uuid.NewString(), 0), "", opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Append(ctx, event(uuid.NewString(), 0), "", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Duplicate || b.Sequence != a.Sequence {
		t.Errorf("retry: got %+v, want a duplicate of sequence %d", b, a.Sequence)
	}
	var keys []string
	if err := l.Follow(ctxWithTimeout(t), 1, func(r eventlog.Record) error {
		keys = append(keys, r.IdempotencyKey+"/"+r.RequestHash)
		return errStop
	}); !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != "k-1/h" {
		t.Errorf("stored idempotency headers %q, want [k-1/h]", keys)
	}
}

var errStop = errors.New("stop")

func ctxWithTimeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAcknowledgedEventsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	id := uuid.NewString()
	l := openLog(t, dir)
	head := ""
	for n := range 5 {
		e := event(id, n)
		if _, err := l.Append(ctx, e, head, eventlog.AppendOptions{ExpectedSequence: uint64(n)}); err != nil {
			t.Fatal(err)
		}
		head = e.Hash
	}
	l.Close()

	l = openLog(t, dir)
	recs := readAll(t, l, id)
	if len(recs) != 5 {
		t.Fatalf("after restart: %d events, want 5", len(recs))
	}
	if recs[4].Envelope.Hash != head {
		t.Errorf("head after restart %s, want %s", recs[4].Envelope.Hash, head)
	}
}

func TestDecodeCatchesAnyChangeToStoredBytes(t *testing.T) {
	e := event(uuid.NewString(), 1)
	body, err := e.Seal("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventlog.Decode(body); err != nil {
		t.Fatalf("untouched event: %v", err)
	}
	cases := map[string]func([]byte) []byte{
		"a changed rationale": func(b []byte) []byte { return replace(b, "attempt 1", "attempt 9") },
		"a changed actor":     func(b []byte) []byte { return replace(b, "writer-1", "writer-2") },
		"added whitespace":    func(b []byte) []byte { return replace(b, `"rationale":`, `"rationale": `) },
		"a recomputed hash over changed data": func(b []byte) []byte {
			var f eventlog.Envelope
			_ = json.Unmarshal(replace(b, "attempt 1", "attempt 9"), &f)
			out, _ := json.Marshal(f) // keeps the old hash
			return out
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := eventlog.Decode(tamper(body)); !errors.Is(err, eventlog.ErrTampered) {
				t.Errorf("err %v, want ErrTampered", err)
			}
		})
	}
}

func TestVerifyChainNamesTheBrokenLink(t *testing.T) {
	id := uuid.NewString()
	var chain []eventlog.Envelope
	head := ""
	for n := range 3 {
		e := event(id, n)
		if _, err := e.Seal(head); err != nil {
			t.Fatal(err)
		}
		chain, head = append(chain, *e), e.Hash
	}
	if err := eventlog.VerifyChain(chain); err != nil {
		t.Fatalf("intact chain: %v", err)
	}
	dropped := []eventlog.Envelope{chain[0], chain[2]}
	if err := eventlog.VerifyChain(dropped); !errors.Is(err, eventlog.ErrTampered) {
		t.Errorf("chain with a dropped event: err %v, want ErrTampered", err)
	}
	edited := append([]eventlog.Envelope(nil), chain...)
	edited[1].Actor = "mallory"
	if err := eventlog.VerifyChain(edited); !errors.Is(err, eventlog.ErrTampered) {
		t.Errorf("chain with an edited event: err %v, want ErrTampered", err)
	}
}

func replace(b []byte, old, new string) []byte {
	if !strings.Contains(string(b), old) {
		panic("test tampering found nothing to replace: " + old)
	}
	return []byte(strings.Replace(string(b), old, new, 1))
}

func TestSealGivesExactlyTheEncodedEnvelope(t *testing.T) {
	for n := range 3 {
		e := event(uuid.NewString(), n)
		e.Data = json.RawMessage(`{"rationale":"<b>&</b> \u2028 é"}`)
		body, err := e.Seal(fmt.Sprintf("prev-%d", n))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(e)
		if string(body) != string(want) {
			t.Errorf("sealed\n%s\nencoded\n%s", body, want)
		}
		if _, err := eventlog.Decode(body); err != nil {
			t.Errorf("sealed body does not decode: %v", err)
		}
	}
}

func TestReadsLeaveNoConsumerBehind(t *testing.T) {
	l := openLog(t, t.TempDir())
	ctx := context.Background()
	id := uuid.NewString()
	if _, err := l.Append(ctx, event(id, 0), "", eventlog.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		readAll(t, l, id)
		if err := l.Follow(ctxWithTimeout(t), 1, func(eventlog.Record) error { return errStop }); !errors.Is(err, errStop) {
			t.Fatal(err)
		}
	}
	wantNoConsumers(t, ctx, l, "40 reads")
}

// wantNoConsumers fails the test unless the stream is left with no
// consumer after what read it.
func wantNoConsumers(t *testing.T, ctx context.Context, l *eventlog.Log, what string) {
	t.Helper()
	stream, err := l.JetStream().Stream(ctx, eventlog.DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Consumers != 0 {
		t.Errorf("after %s the stream has %d consumers, want 0", what, info.State.Consumers)
	}
}
