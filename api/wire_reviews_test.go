package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

func TestSignalsShowEveryKey(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	item := projections.SignalItem{ID: "b", Title: "title of b", Product: "web", Horizon: roadmap.Later, Rank: 2}
	sig := projections.Signals{
		Orphans: []projections.SignalItem{}, // none: []
		// OrphanedObjectives nil: null
		Stale: []projections.StaleItem{{SignalItem: item, LastDecisionAt: at, DaysSince: 91}},
		Churn: []projections.ChurnItem{{ID: "c", Title: "title of c", Moves: 3, Sequences: []uint64{4, 5, 6}}},
		BacklogGravity: []projections.GravityItem{
			{ItemID: "a", Title: "title of a", Product: "web", Reason: projections.GravityRaisedWithoutEvidence, Sequence: 13},
			{ItemID: "b", Title: "title of b", Product: "web", Reason: projections.GravityLongInLater, Sequence: 7, Since: &at},
		},
	}
	got, err := json.Marshal(signalsWire(sig))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"orphans":[],"orphaned_objectives":null,` +
		`"stale":[{"id":"b","title":"title of b","product":"web","horizon":"later","rank":2,"last_decision_at":"2026-01-02T03:04:05Z","days_since":91}],` +
		`"churn":[{"id":"c","title":"title of c","moves":3,"sequences":[4,5,6]}],` +
		`"backlog_gravity":[{"item_id":"a","title":"title of a","product":"web","reason":"raised-without-evidence","sequence":13,"since":null},` +
		`{"item_id":"b","title":"title of b","product":"web","reason":"long-in-later","sequence":7,"since":"2026-01-02T03:04:05Z"}]}`
	if string(got) != want {
		t.Errorf("signals\n got %s\nwant %s", got, want)
	}
}
