package api

import (
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// A governance review as the API shows it: its snapshot with the health
// signals, and the diff between two reviews.

type (
	signalItemJSON struct {
		ID      string          `json:"id"`
		Title   string          `json:"title"`
		Product string          `json:"product"`
		Horizon roadmap.Horizon `json:"horizon"`
		Rank    int             `json:"rank"`
	}
	staleItemJSON struct {
		signalItemJSON
		LastDecisionAt time.Time `json:"last_decision_at"`
		DaysSince      int       `json:"days_since"`
	}
	churnItemJSON struct {
		ID        string   `json:"id"`
		Title     string   `json:"title"`
		Moves     int      `json:"moves"`
		Sequences []uint64 `json:"sequences"`
	}
	gravityItemJSON struct {
		ItemID   string     `json:"item_id"`
		Title    string     `json:"title"`
		Product  string     `json:"product"`
		Reason   string     `json:"reason"`
		Sequence uint64     `json:"sequence"`
		Since    *time.Time `json:"since"`
	}
	objectiveRefJSON struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		KPI     string `json:"kpi"`
		Target  string `json:"target"`
		Product string `json:"product"`
	}
	// signalsJSON are the health signals a review must see.
	signalsJSON struct {
		Orphans            []signalItemJSON   `json:"orphans"`
		OrphanedObjectives []objectiveRefJSON `json:"orphaned_objectives"`
		Stale              []staleItemJSON    `json:"stale"`
		Churn              []churnItemJSON    `json:"churn"`
		BacklogGravity     []gravityItemJSON  `json:"backlog_gravity"`
	}
	// snapshotJSON is GET /v1/reviews/{id}: the review with its period's
	// decisions, the roadmap and the signals.
	snapshotJSON struct {
		ID            string               `json:"id"`
		Period        string               `json:"period"`
		Title         string               `json:"title"`
		Status        roadmap.ReviewStatus `json:"status"`
		OpenedAt      time.Time            `json:"opened_at"`
		ClosedAt      *time.Time           `json:"closed_at"`
		Notes         string               `json:"notes"`
		SinceSequence uint64               `json:"since_sequence"`
		Sequence      uint64               `json:"sequence"`
		Roadmap       roadmapJSON          `json:"roadmap"`
		Decisions     []auditEventJSON     `json:"decisions"`
		Signals       signalsJSON          `json:"signals"`
		ChainHeads    *roadmap.ChainHeads  `json:"chain_heads"`
		Checkpoint    *string              `json:"checkpoint"`
		Version       uint64               `json:"version"`
	}
)

func signalItemWire(s projections.SignalItem) signalItemJSON       { return signalItemJSON(s) }
func churnItemWire(c projections.ChurnItem) churnItemJSON          { return churnItemJSON(c) }
func gravityItemWire(g projections.GravityItem) gravityItemJSON    { return gravityItemJSON(g) }
func objectiveRefWire(o projections.ObjectiveRef) objectiveRefJSON { return objectiveRefJSON(o) }

func staleItemWire(s projections.StaleItem) staleItemJSON {
	return staleItemJSON{signalItemJSON(s.SignalItem), s.LastDecisionAt, s.DaysSince}
}

func signalsWire(s projections.Signals) signalsJSON {
	return signalsJSON{
		Orphans: wireList(s.Orphans, signalItemWire), OrphanedObjectives: wireList(s.OrphanedObjectives, objectiveRefWire),
		Stale: wireList(s.Stale, staleItemWire), Churn: wireList(s.Churn, churnItemWire),
		BacklogGravity: wireList(s.BacklogGravity, gravityItemWire),
	}
}

func snapshotWire(s projections.Snapshot) snapshotJSON {
	return snapshotJSON{
		ID: s.ID, Period: s.Period, Title: s.Title, Status: s.Status, OpenedAt: s.OpenedAt, ClosedAt: s.ClosedAt,
		Notes: s.Notes, SinceSequence: s.SinceSequence, Sequence: s.Sequence, Roadmap: roadmapWire(s.Roadmap),
		Decisions: wireList(s.Decisions, auditEventWire), Signals: signalsWire(s.Signals), ChainHeads: s.ChainHeads,
		Checkpoint: s.Checkpoint, Version: s.Version,
	}
}

type (
	reviewPointJSON struct {
		ReviewID string `json:"review_id"`
		Period   string `json:"period"`
		Sequence uint64 `json:"sequence"`
	}
	diffRowJSON struct {
		ItemID    string         `json:"item_id"`
		Title     string         `json:"title"`
		Product   string         `json:"product"`
		From      placeJSON      `json:"from"`
		To        placeJSON      `json:"to"`
		FromScore *roadmap.Score `json:"from_score"`
		ToScore   *roadmap.Score `json:"to_score"`
		Decisions []uint64       `json:"decisions"`
	}
	// diffJSON is GET /v1/reviews/{id}/diff.
	diffJSON struct {
		From     reviewPointJSON `json:"from"`
		To       reviewPointJSON `json:"to"`
		Added    []diffRowJSON   `json:"added"`
		Removed  []diffRowJSON   `json:"removed"`
		Moved    []diffRowJSON   `json:"moved"`
		Rescored []diffRowJSON   `json:"rescored"`
	}
)

func diffRowWire(r projections.DiffRow) diffRowJSON {
	return diffRowJSON{
		ItemID: r.ItemID, Title: r.Title, Product: r.Product, From: placeJSON(r.From), To: placeJSON(r.To),
		FromScore: r.FromScore, ToScore: r.ToScore, Decisions: r.Decisions,
	}
}

func diffWire(d projections.Diff) diffJSON {
	return diffJSON{
		From: reviewPointJSON(d.From), To: reviewPointJSON(d.To),
		Added: wireList(d.Added, diffRowWire), Removed: wireList(d.Removed, diffRowWire),
		Moved: wireList(d.Moved, diffRowWire), Rescored: wireList(d.Rescored, diffRowWire),
	}
}
