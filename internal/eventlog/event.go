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

// ErrUnreadable marks a stored event this release cannot read: a type the
// catalogue (roadmap.SchemaVersions) does not have, or a schema version
// newer than the catalogue's, written by a newer release. Skipping it would
// answer from a state that is not the log's, so a reader stops there.
var ErrUnreadable = errors.New("an event this release cannot read")

// Event returns the domain event r records: the one its data was decoded
// into as it was read (FollowDecoded or ReadRangeDecoded with DomainData),
// or else its data decoded now by the general decoder (JSON v2), into the
// same type.
//
// This is the one place a stored event becomes a domain event, so it is the
// one place versions are handled: every version from 1 to the catalogue's
// decodes into today's type (an older version's fields that a newer one
// replaced stay set, as token.created version 1's secret_sha256 does, and
// the domain reads both); an upgrade that cannot be read that way gets its
// upcaster here, before the decode. It returns an error wrapping
// ErrUnreadable, naming the sequence, the type and the version, for an
// unknown type or a version this release does not know, and the decoder's
// error, naming the sequence and the type, for data that does not decode
// into its type.
func (r Record) Event() (roadmap.Event, error) {
	known, ok := roadmap.SchemaVersions[r.Envelope.Type]
	switch v := r.Envelope.SchemaVersion; {
	case !ok:
		return nil, fmt.Errorf("%w: sequence %d is an event of type %q version %d, which this release does not know: it was written by a newer release (upgrade this server) or by something else than the ledger", ErrUnreadable, r.Sequence, r.Envelope.Type, v)
	case v < 1 || v > known:
		return nil, fmt.Errorf("%w: sequence %d is %s version %d, but this release reads versions 1 to %d: it was written by a newer release (upgrade this server)", ErrUnreadable, r.Sequence, r.Envelope.Type, v, known)
	}
	if ev, ok := r.Decoded.(roadmap.Event); ok {
		return ev, nil
	}
	proto, ok := roadmap.NewEvent(r.Envelope.Type)
	if !ok {
		return nil, fmt.Errorf("%w: sequence %d: no decoder of %s", ErrUnreadable, r.Sequence, r.Envelope.Type)
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
