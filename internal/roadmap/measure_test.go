package roadmap_test

import (
	"math"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

func TestDecideMeasure(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := time.Date(2026, 11, 30, 13, 0, 0, 0, time.FixedZone("CET", 3600))
	o := roadmap.Objective{ID: objA, Status: roadmap.StatusActive}
	decide := func(o roadmap.Objective, cmd roadmap.Measure) (*roadmap.ObjectiveMeasured, error) {
		return roadmap.DecideMeasure(o, cmd, now)
	}
	checkDecisions(t, decide, []decisionCase[roadmap.Objective, roadmap.Measure, roadmap.ObjectiveMeasured]{
		{name: "a value at a moment, recorded in UTC", on: o, cmd: roadmap.Measure{Value: ptr(42.5), At: at, Source: " dashboard ", Note: "n"},
			want: &roadmap.ObjectiveMeasured{Value: 42.5, At: now, Source: "dashboard", Note: "n"}},
		{name: "zero is a value", on: o, cmd: roadmap.Measure{Value: ptr(0.0), At: now, Source: "s"},
			want: &roadmap.ObjectiveMeasured{Value: 0, At: now, Source: "s"}},
		{name: "nothing given", on: o, cmd: roadmap.Measure{}, wantErr: invalid("value", "at", "source")},
		{name: "not a finite number, in the future", on: o, cmd: roadmap.Measure{Value: ptr(math.Inf(1)), At: now.Add(time.Second), Source: "s"}, wantErr: invalid("value", "at")},
	})
}
