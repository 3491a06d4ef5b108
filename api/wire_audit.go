package api

import (
	"encoding/json"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// The audit trail as the API shows it: an item's history, the audit pages
// and their JSON Lines export, and the why chain.

// placeJSON is where an item stood: a horizon and a rank.
type placeJSON struct {
	Horizon roadmap.Horizon `json:"horizon"`
	Rank    int             `json:"rank"`
}

// MarshalJSON keeps a place off the roadmap readable: {"horizon": null,
// "rank": null}.
func (p placeJSON) MarshalJSON() ([]byte, error) {
	if p.Rank == 0 {
		return []byte(`{"horizon":null,"rank":null}`), nil
	}
	type plain placeJSON // without this method
	return json.Marshal(plain(p))
}

// auditEventJSON is one event of the audit trail with a fixed set of keys: a
// key that does not apply to the event is null rather than left out, so
// every row of an export has the same shape whatever its type.
type auditEventJSON struct {
	Sequence      uint64         `json:"seq"`
	EventID       string         `json:"event_id"`
	Type          string         `json:"type"`
	At            time.Time      `json:"at"`
	Actor         string         `json:"actor"`
	AggregateType string         `json:"aggregate_type"`
	AggregateID   string         `json:"aggregate_id"`
	Product       *string        `json:"product"`
	Title         *string        `json:"title"`
	Rationale     *string        `json:"rationale"`
	Evidence      []string       `json:"evidence"`
	From          *placeJSON     `json:"from"`
	To            *placeJSON     `json:"to"`
	Score         *roadmap.Score `json:"score"`
	ObjectiveIDs  []string       `json:"objective_ids"`
	// Provenance is left out, rather than null, on events an import did
	// not record: the answers about a ledger without imports stay as
	// they were.
	Provenance *roadmap.Provenance `json:"provenance,omitempty"`
	PrevHash   string              `json:"prev_hash"`
	Hash       string              `json:"hash"`
}

func auditEventWire(a projections.AuditEvent) auditEventJSON {
	return auditEventJSON{
		Sequence: a.Sequence, EventID: a.EventID, Type: a.Type, At: a.At, Actor: a.Actor,
		AggregateType: a.AggregateType, AggregateID: a.AggregateID, Product: a.Product, Title: a.Title,
		Rationale: a.Rationale, Evidence: a.Evidence, From: (*placeJSON)(a.From), To: (*placeJSON)(a.To),
		Score: a.Score, ObjectiveIDs: a.ObjectiveIDs, Provenance: a.Provenance, PrevHash: a.PrevHash, Hash: a.Hash,
	}
}

type (
	// whyLinkJSON is the decision that made a link of the why chain.
	whyLinkJSON struct {
		Sequence  uint64    `json:"seq"`
		EventID   string    `json:"event_id"`
		Type      string    `json:"type"`
		Actor     string    `json:"actor"`
		At        time.Time `json:"at"`
		Rationale *string   `json:"rationale"`
		Evidence  []string  `json:"evidence"`
	}
	whyObjectiveJSON struct {
		objectiveSummaryJSON
		LinkedBy *whyLinkJSON `json:"linked_by"`
	}
	// whyNodeJSON is one item of the why chain. LinkedBy is left out of the
	// item the chain starts from.
	whyNodeJSON struct {
		ID           string             `json:"id"`
		Title        string             `json:"title"`
		Kind         roadmap.Kind       `json:"kind"`
		Product      string             `json:"product"`
		Status       roadmap.ItemStatus `json:"status"`
		Place        placeJSON          `json:"place"`
		Version      uint64             `json:"version"`
		LastDecision *decisionJSON      `json:"last_decision"`
		Objectives   []whyObjectiveJSON `json:"objectives"`
		Parent       *whyNodeJSON       `json:"parent"`
		LinkedBy     *whyLinkJSON       `json:"linked_by,omitempty"`
	}
)

func whyObjectiveWire(o projections.WhyObjective) whyObjectiveJSON {
	return whyObjectiveJSON{
		objectiveSummaryJSON: objectiveSummaryJSON{ID: o.ID, Title: o.Title, KPI: o.KPI, Target: o.Target, Product: o.Product, Status: o.Status},
		LinkedBy:             (*whyLinkJSON)(o.LinkedBy),
	}
}

// whyNodeWire converts a node and its parents; nil stays nil.
func whyNodeWire(n *projections.WhyNode) *whyNodeJSON {
	if n == nil {
		return nil
	}
	return &whyNodeJSON{
		ID: n.ID, Title: n.Title, Kind: n.Kind, Product: n.Product, Status: n.Status, Place: placeJSON(n.Place),
		Version: n.Version, LastDecision: (*decisionJSON)(n.LastDecision), Objectives: wireList(n.Objectives, whyObjectiveWire),
		Parent: whyNodeWire(n.Parent), LinkedBy: (*whyLinkJSON)(n.LinkedBy),
	}
}
