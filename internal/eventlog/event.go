package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Meta is what an envelope records about a domain event beside its data:
// which event it is, on which aggregate, when and by whom.
type Meta struct {
	// ID is the event's id (a version 7 UUID), also its Nats-Msg-Id when no
	// idempotency key is set.
	ID            string
	AggregateType string
	AggregateID   string
	// Time is when the ledger decided, stored as it is given: the ledger's
	// clock gives UTC, truncated to the microsecond.
	Time time.Time
	// Actor is who decided: the name of the token the decision was taken
	// with.
	Actor string
}

// ErrUnknownType marks a domain event whose type has no schema version in
// the catalogue (roadmap.SchemaVersions): it cannot be recorded.
var ErrUnknownType = errors.New("event type not in the catalogue")

// NewEnvelope returns the envelope that records ev with the metadata m: its
// type and the type's current schema version (roadmap.SchemaVersions), the
// metadata, and ev's data encoded as the ledger stores it (encoding/json's
// Marshal, whose bytes the stored events and their hashes are made of). The
// envelope is not sealed: Log.Append seals it onto its aggregate's chain.
// It returns ErrUnknownType for a nil event or a type without a schema
// version, and the encoder's error, naming the type, for data that does not
// encode (a NaN score, say).
func NewEnvelope(ev roadmap.Event, m Meta) (*Envelope, error) {
	if ev == nil {
		return nil, fmt.Errorf("%w: no event", ErrUnknownType)
	}
	eventType := ev.EventType()
	version, ok := roadmap.SchemaVersions[eventType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, eventType)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", eventType, err)
	}
	return &Envelope{
		ID:            m.ID,
		Type:          eventType,
		SchemaVersion: version,
		AggregateType: m.AggregateType,
		AggregateID:   m.AggregateID,
		Time:          m.Time,
		Actor:         m.Actor,
		Data:          data,
	}, nil
}
