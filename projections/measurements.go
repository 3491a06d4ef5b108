package projections

import (
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Measurement is one recorded value of an objective's KPI.
type Measurement struct {
	roadmap.ObjectiveMeasured
	ObjectiveID string
	// Sequence is the event that records it; RecordedBy and RecordedAt
	// are its actor and time.
	Sequence   uint64
	RecordedBy string
	RecordedAt time.Time
}

func (s *State) applyMeasurement(ev Event) {
	e, ok := ev.Data.(*roadmap.ObjectiveMeasured)
	if !ok {
		return
	}
	id := ev.Envelope.AggregateID
	m := Measurement{ObjectiveMeasured: *e, ObjectiveID: id, Sequence: ev.Sequence, RecordedBy: ev.Envelope.Actor, RecordedAt: ev.Envelope.Time}
	// Clipped, so that the append copies: a clone shares the old list.
	s.measurements[id] = append(slices.Clip(s.measurements[id]), m)
}

// Measurements returns the KPI measurements of an objective, by the time
// they were measured (then in log order).
func (s *State) Measurements(objectiveID string) []Measurement {
	out := slices.Clone(s.measurements[objectiveID])
	slices.SortStableFunc(out, func(a, b Measurement) int { return a.At.Compare(b.At) })
	return out
}

// Measurement returns the measurement recorded by the event at seq.
func (s *State) Measurement(objectiveID string, seq uint64) (Measurement, bool) {
	for _, m := range s.measurements[objectiveID] {
		if m.Sequence == seq {
			return m, true
		}
	}
	return Measurement{}, false
}
