package api

import (
	"encoding/json"
	"time"

	"github.com/roadmap-ledger/roadmap/projections"
)

// The change feed as integrators read it: each event as a CloudEvents 1.0
// envelope in structured JSON mode, for the server-sent events stream and
// the webhooks alike.

// CloudEventsMediaType is the media type of one CloudEvent in structured
// JSON mode, as webhooks are posted.
const CloudEventsMediaType = "application/cloudevents+json"

// CloudEventTypePrefix is the reverse-DNS prefix of every CloudEvent type
// the ledger sends: item.prioritised is sent as
// io.github.roadmap-ledger.item.prioritised.
const CloudEventTypePrefix = "io.github.roadmap-ledger."

// DefaultFeedSource is the CloudEvents source of a ledger whose Config
// names none: the origin of its checkpoints.
const DefaultFeedSource = "roadmap-ledger/ROADMAP"

// cloudEventJSON is one event of the change feed: the CloudEvents context
// attributes, and the event as the audit trail shows it as its data.
type cloudEventJSON struct {
	SpecVersion     string         `json:"specversion"`
	ID              string         `json:"id"`
	Source          string         `json:"source"`
	Type            string         `json:"type"`
	Subject         string         `json:"subject"`
	Time            time.Time      `json:"time"`
	DataContentType string         `json:"datacontenttype"`
	Data            auditEventJSON `json:"data"`
}

// cloudEventWire is the CloudEvent of one record of the audit trail, from
// the ledger named source.
func cloudEventWire(source string, r projections.Record) cloudEventJSON {
	return cloudEventJSON{
		SpecVersion: "1.0", ID: r.EventID, Source: source, Type: CloudEventTypePrefix + r.Type,
		Subject: r.AggregateID, Time: r.At.UTC(), DataContentType: mediaJSON,
		Data: auditEventWire(projections.NewAuditEvent(r)),
	}
}

// CloudEvent returns the CloudEvent JSON of one record of the audit trail,
// from the ledger named source: the body of a webhook delivery and the data
// of a message of the event stream. It returns an error only when the
// record cannot be encoded as JSON.
func CloudEvent(source string, r projections.Record) ([]byte, error) {
	return json.Marshal(cloudEventWire(source, r))
}
