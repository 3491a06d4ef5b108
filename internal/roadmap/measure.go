package roadmap

import (
	"math"
	"time"
)

// TypeObjectiveMeasured is the event type of a KPI measurement, on the
// objective whose KPI it measures.
const TypeObjectiveMeasured = "objective.measured"

// maxSource bounds where a measurement comes from: a dashboard's name, a
// query, a link.
const maxSource = 500

// Measure is the command that records one measurement of an objective's
// KPI.
type Measure struct {
	// Value is required: nil is a missing value, not zero.
	Value  *float64
	At     time.Time
	Source string
	Note   string
}

// ObjectiveMeasured records a value of an objective's KPI, measured at At
// (which the ledger records as given, in UTC), from Source.
type ObjectiveMeasured struct {
	Value  float64   `json:"value"`
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	Note   string    `json:"note,omitempty"`
}

// EventType implements Event.
func (ObjectiveMeasured) EventType() string { return TypeObjectiveMeasured }

// DecideMeasure checks a measurement of o's KPI, decided at now. It returns
// a *ValidationError (ErrInvalid) for a value that is not a finite number,
// a value or a time missing, a time later than now, a missing source or a note too long.
func DecideMeasure(o Objective, cmd Measure, now time.Time) (*ObjectiveMeasured, error) {
	var p problems
	switch {
	case cmd.Value == nil:
		p.add("value", "is required: the KPI's value, a number")
	case math.IsNaN(*cmd.Value) || math.IsInf(*cmd.Value, 0):
		p.add("value", "must be a finite number")
	}
	switch {
	case cmd.At.IsZero():
		p.add("at", "is required: when the value was measured (RFC 3339)")
	case cmd.At.After(now):
		p.add("at", "must not be later than now: a measurement is of the past")
	}
	requiredText(&p, "source", cmd.Source, maxSource)
	optionalText(&p, "note", cmd.Note, maxDescription)
	if err := p.err(); err != nil {
		return nil, err
	}
	return &ObjectiveMeasured{Value: *cmd.Value, At: cmd.At.UTC(), Source: clean(cmd.Source), Note: clean(cmd.Note)}, nil
}
