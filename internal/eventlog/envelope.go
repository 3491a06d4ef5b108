package eventlog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Envelope is one stored event: the domain event's data wrapped with what the
// ledger needs to order, attribute and verify it. The stored message body is
// exactly the JSON encoding of the envelope.
type Envelope struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	AggregateType string          `json:"aggregate_type"`
	AggregateID   string          `json:"aggregate_id"`
	Time          time.Time       `json:"time"`
	Actor         string          `json:"actor"`
	Data          json.RawMessage `json:"data"`
	// PrevHash is the Hash of the previous event of the same aggregate, or
	// empty for its first event.
	PrevHash string `json:"prev_hash"`
	// Hash is hex(SHA-256(PrevHash || "\n" || canonical bytes)), where the
	// canonical bytes are the JSON encoding of the envelope with Hash empty.
	Hash string `json:"hash,omitempty"`
}

// Subject is the stream subject of an aggregate: one subject per aggregate,
// whatever the event type, so the expected last subject sequence guards the
// whole aggregate.
func Subject(aggregateType, aggregateID string) string {
	return subjectPrefix + aggregateType + "." + aggregateID
}

// Canonical returns the bytes the hash covers: the envelope encoded without
// its hash.
func (e Envelope) Canonical() ([]byte, error) {
	e.Hash = ""
	return json.Marshal(e)
}

// ComputeHash returns the chained hash of e from its PrevHash and canonical
// bytes.
func (e Envelope) ComputeHash() (string, error) {
	canonical, err := e.Canonical()
	if err != nil {
		return "", err
	}
	return chainHash(e.PrevHash, canonical), nil
}

// Seal sets e's hash from prevHash and returns the message body to store:
// the canonical bytes with the hash as their last field, exactly what
// json.Marshal(e) gives, encoded once.
func (e *Envelope) Seal(prevHash string) ([]byte, error) {
	e.PrevHash, e.Hash = prevHash, ""
	canonical, err := e.Canonical()
	if err != nil {
		return nil, err
	}
	e.Hash = chainHash(prevHash, canonical)
	body := make([]byte, 0, len(canonical)+len(`,"hash":""`)+len(e.Hash))
	body = append(body, canonical[:len(canonical)-1]...)
	body = append(body, `,"hash":"`...)
	body = append(body, e.Hash...)
	return append(body, `"}`...), nil
}

// chainHash is the hash of an event: hex(SHA-256(prevHash || "\n" ||
// canonical bytes)).
func chainHash(prevHash string, canonical []byte) string {
	sum := chainSum(prevHash, canonical, nil)
	return hex.EncodeToString(sum[:])
}

// chainSum is the definition of an event's hash, unencoded: SHA-256 over
// prevHash, a line feed, and the canonical bytes, given as head then tail
// (the whole of them, or a stored body without its last field and the brace
// that closes them).
func chainSum(prevHash string, head, tail []byte) [sha256.Size]byte {
	var sum [sha256.Size]byte
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write([]byte{'\n'})
	h.Write(head)
	h.Write(tail)
	h.Sum(sum[:0])
	return sum
}

// ErrTampered marks a stored event whose bytes or chain do not verify.
var ErrTampered = errors.New("event does not verify")

// VerifyChain checks that events, the whole history of one aggregate oldest
// first, form an unbroken hash chain. It returns ErrTampered naming the first
// event that breaks it.
func VerifyChain(events []Envelope) error {
	prev := ""
	for i, e := range events {
		if e.PrevHash != prev {
			return fmt.Errorf("%w: event %d (%s) of %s has prev_hash %q, want %q", ErrTampered, i, e.ID, e.AggregateID, e.PrevHash, prev)
		}
		want, err := e.ComputeHash()
		if err != nil {
			return err
		}
		if want != e.Hash {
			return fmt.Errorf("%w: event %d (%s) of %s has hash %s, computed %s", ErrTampered, i, e.ID, e.AggregateID, e.Hash, want)
		}
		prev = e.Hash
	}
	return nil
}
