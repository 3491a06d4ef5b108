package projections

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// IdempotencyEntry remembers the request behind an event that came with an
// Idempotency-Key, so a retry gets the same answer: the aggregate as it stood
// right after that event, which the ledger rebuilds when asked.
type IdempotencyEntry struct {
	RequestHash   [sha256.Size]byte
	Sequence      uint64
	EventType     string
	AggregateType string
	AggregateID   string
}

// keyDigest names an Idempotency-Key in the index: the first 16 bytes of
// its SHA-256. The index keeps no key and no request of its own, only
// where the event is, which holds both.
type keyDigest [16]byte

func digestKey(key string) keyDigest {
	sum := sha256.Sum256([]byte(key))
	return keyDigest(sum[:16])
}

// Idempotency is the read model of the requests made with an
// Idempotency-Key: key → the sequence of the event the request made. The
// key and the request's hash travel in headers of that event, so a retry
// after a second, a day or a restart reads them back from the log and gets
// the first answer. A keyed decision costs the index 24 bytes and a share
// of a map slot, whatever the key, so a ledger of ten million events,
// three million of them keyed, holds the index in under 100 MB. It is safe
// for concurrent use.
type Idempotency struct {
	source Source
	mu     sync.RWMutex
	seqs   map[keyDigest]uint64
}

// NewIdempotency returns the index of an empty ledger whose events source
// holds.
func NewIdempotency(source Source) *Idempotency {
	return &Idempotency{source: source, seqs: map[keyDigest]uint64{}}
}

// Apply implements Projection. An event of a type this version does not
// know is not indexed: its answer could not be read back.
func (x *Idempotency) Apply(ev Event) {
	if ev.IdempotencyKey == "" || ev.Data == nil {
		return
	}
	d := digestKey(ev.IdempotencyKey)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.seqs[d] = ev.Sequence
}

// Lookup returns what the ledger remembers of the request made with key,
// read from the event it made. It is exact: an event whose own key is not
// key (two keys of the same digest) is not its answer.
func (x *Idempotency) Lookup(ctx context.Context, key string) (IdempotencyEntry, bool, error) {
	x.mu.RLock()
	seq, ok := x.seqs[digestKey(key)]
	x.mu.RUnlock()
	if !ok {
		return IdempotencyEntry{}, false, nil
	}
	var (
		e     IdempotencyEntry
		found bool
	)
	err := x.source.ReadRange(ctx, seq, seq, func(rec eventlog.Record) error {
		if rec.Sequence != seq || rec.IdempotencyKey != key {
			return nil
		}
		if _, err := hex.Decode(e.RequestHash[:], []byte(rec.RequestHash)); err != nil {
			return fmt.Errorf("the request hash of the event at sequence %d: %w", seq, err)
		}
		e.Sequence = seq
		e.EventType = rec.Envelope.Type
		e.AggregateType = rec.Envelope.AggregateType
		e.AggregateID = rec.Envelope.AggregateID
		found = true
		return nil
	})
	if err != nil {
		return IdempotencyEntry{}, false, fmt.Errorf("read the event of Idempotency-Key %q at sequence %d: %w", key, seq, err)
	}
	return e, found, nil
}
