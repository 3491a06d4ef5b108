package projections

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// IdempotencyEntry remembers the request behind an event that came with an
// Idempotency-Key, so a retry gets the same answer: the aggregate as it stood
// right after that event, which the ledger rebuilds when asked. It keeps no
// copy of the answer: a ledger with a million keyed decisions holds a million
// entries.
type IdempotencyEntry struct {
	RequestHash   [sha256.Size]byte
	Sequence      uint64
	EventType     string
	AggregateType string
	AggregateID   string
}

// Idempotency is the read model of the requests made with an
// Idempotency-Key: key → the request's hash and the event it made. It is
// rebuilt from the log (the key and the request hash travel
// in headers of the event), so a retry after a second, a day or a restart
// gets the first answer. It is safe for concurrent use.
type Idempotency struct {
	mu      sync.RWMutex
	entries map[string]IdempotencyEntry
	// ids holds each aggregate id once: a few thousand aggregates take most
	// of the keyed decisions, so entries share their strings.
	ids map[string]string
}

// NewIdempotency returns the index of an empty ledger.
func NewIdempotency() *Idempotency {
	return &Idempotency{entries: map[string]IdempotencyEntry{}, ids: map[string]string{}}
}

// Apply implements Projection. An event of a type this version does not
// know is not indexed: its answer could not be read back.
func (x *Idempotency) Apply(ev Event) {
	if ev.IdempotencyKey == "" || ev.Data == nil {
		return
	}
	var hash [sha256.Size]byte
	_, _ = hex.Decode(hash[:], []byte(ev.RequestHash))
	x.mu.Lock()
	defer x.mu.Unlock()
	// The event's strings point into the message it was read from: each
	// kept string is a clone or a shared one, so no message is kept alive
	// by the index.
	id, ok := x.ids[ev.Envelope.AggregateID]
	if !ok {
		id = strings.Clone(ev.Envelope.AggregateID)
		x.ids[id] = id
	}
	x.entries[strings.Clone(ev.IdempotencyKey)] = IdempotencyEntry{
		RequestHash: hash, Sequence: ev.Sequence, EventType: eventTypeName(ev.Envelope.Type),
		AggregateType: aggregateTypeName(ev.Envelope.AggregateType), AggregateID: id,
	}
}

// Lookup returns what the ledger remembers of the request made with key.
func (x *Idempotency) Lookup(key string) (IdempotencyEntry, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	e, ok := x.entries[key]
	return e, ok
}

// eventTypeName returns the catalogue's own string for a known event type.
func eventTypeName(t string) string {
	for known := range roadmap.SchemaVersions {
		if known == t {
			return known
		}
	}
	return strings.Clone(t)
}

// aggregateTypeName returns a constant string for a known aggregate type.
func aggregateTypeName(t string) string {
	for _, known := range []string{"objective", "item", "review", "checkpoint", "token", "change", "product"} {
		if known == t {
			return known
		}
	}
	return strings.Clone(t)
}
