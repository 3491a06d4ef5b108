package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

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

// DomainData is the DataFunc of the ledger's domain events, for
// FollowDecoded and ReadRangeDecoded: for a type of the catalogue, a new
// event of that type to decode the data into as the envelope is read; nil
// for a type this version does not know. The decisions that place an item
// (item.prioritised and item.reprioritised, nearly every event of a long
// ledger) are read by a decoder of their own (placementData). Either way
// Record.Decoded is then the roadmap.Event itself, which Record.Event
// returns.
func DomainData(eventType string) any {
	switch eventType {
	case roadmap.TypeItemReprioritised:
		return newPlacementData(func(ev *roadmap.ItemReprioritised) *roadmap.Placement { return &ev.Placement })
	case roadmap.TypeItemPrioritised:
		return newPlacementData(func(ev *roadmap.ItemPrioritised) *roadmap.Placement { return &ev.Placement })
	}
	if proto, ok := roadmap.NewEvent(eventType); ok {
		return proto
	}
	return nil
}

// Event returns the domain event r records: the one its data was decoded
// into as it was read (FollowDecoded or ReadRangeDecoded with DomainData),
// or else its data decoded now by the general decoder (JSON v2), into the
// same type. A type the catalogue does not know gives nil and no error: a
// reader skips it, so an older reader survives a newer writer. It returns
// the decoder's error, naming the sequence and the type, for data that does
// not decode into its type.
func (r Record) Event() (roadmap.Event, error) {
	if ev, ok := r.Decoded.(roadmap.Event); ok {
		return ev, nil
	}
	proto, ok := roadmap.NewEvent(r.Envelope.Type)
	if !ok {
		return nil, nil
	}
	if err := jsonv2.Unmarshal(r.Envelope.Data, proto); err != nil {
		return nil, fmt.Errorf("sequence %d: decode %s: %w", r.Sequence, r.Envelope.Type, err)
	}
	return proto, nil
}

// newPlacementData returns the decoder of an event E that places an item,
// allocated with the event it decodes into; placement points at the event's
// placement.
func newPlacementData[E any, P interface {
	*E
	roadmap.Event
}](placement func(P) *roadmap.Placement) *placementData {
	d := &struct {
		placementData
		ev E
	}{}
	ev := P(&d.ev)
	d.placementData = placementData{ev: ev, placement: placement(ev)}
	return &d.placementData
}
