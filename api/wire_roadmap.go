package api

import (
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// The roadmap as the API shows it: GET /v1/roadmap in both views, and the
// flags on an item. The read models in projections are plain Go values; the
// JSON names, the order of the keys and which of them may be null are
// decided here, beside openapi.yaml.
//
// A wire type whose fields match its read model's one for one is converted
// with a plain Go conversion (of a pointer, it copies nothing), which stops
// compiling when the read model gains a field the wire has not been given.

// wireList converts a list one element at a time: nil stays nil (null on
// the wire) and an empty list stays empty ([]).
func wireList[T, W any](in []T, wire func(T) W) []W {
	if in == nil {
		return nil
	}
	out := make([]W, len(in))
	for i, v := range in {
		out[i] = wire(v)
	}
	return out
}

type (
	refJSON struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	// decisionJSON is the last decision behind an item.
	decisionJSON struct {
		Sequence  uint64    `json:"sequence"`
		Type      string    `json:"type"`
		Rationale string    `json:"rationale"`
		Actor     string    `json:"actor"`
		At        time.Time `json:"at"`
	}
	// entryJSON is one item on the roadmap.
	entryJSON struct {
		ID           string         `json:"id"`
		Title        string         `json:"title"`
		Kind         roadmap.Kind   `json:"kind"`
		Product      string         `json:"product"`
		Rank         int            `json:"rank"`
		Score        *roadmap.Score `json:"score"`
		Objectives   []refJSON      `json:"objectives"`
		Parent       *refJSON       `json:"parent"`
		LastDecision *decisionJSON  `json:"last_decision"`
	}
	horizonsJSON struct {
		Now   []entryJSON `json:"now"`
		Next  []entryJSON `json:"next"`
		Later []entryJSON `json:"later"`
	}
	// roadmapJSON is GET /v1/roadmap.
	roadmapJSON struct {
		Sequence uint64       `json:"sequence"`
		AsOf     *time.Time   `json:"as_of"`
		Product  string       `json:"product,omitempty"`
		Horizons horizonsJSON `json:"horizons"`
	}
	// objectiveSummaryJSON is an objective as the roadmap and the why chain
	// show it. Embedded, its keys stand flat, first, in the answer.
	objectiveSummaryJSON struct {
		ID      string                  `json:"id"`
		Title   string                  `json:"title"`
		KPI     string                  `json:"kpi"`
		Target  string                  `json:"target"`
		Product string                  `json:"product"`
		Status  roadmap.ObjectiveStatus `json:"status"`
	}
	objectiveGroupJSON struct {
		objectiveSummaryJSON
		Horizons horizonsJSON `json:"horizons"`
	}
	// objectivesJSON is GET /v1/roadmap?view=objectives.
	objectivesJSON struct {
		Sequence   uint64               `json:"sequence"`
		AsOf       *time.Time           `json:"as_of"`
		Product    string               `json:"product,omitempty"`
		Objectives []objectiveGroupJSON `json:"objectives"`
		Unaligned  horizonsJSON         `json:"unaligned"`
	}
)

// entryWire converts an entry, its objectives into the free space of refs,
// which it takes up: the entries of a roadmap share one array of objectives
// rather than each having its own.
func entryWire(e projections.Entry, refs *[]refJSON) entryJSON {
	var objectives []refJSON
	if e.Objectives != nil {
		start := len(*refs)
		for _, r := range e.Objectives {
			*refs = append(*refs, refJSON(r))
		}
		objectives = (*refs)[start:len(*refs):len(*refs)]
	}
	return entryJSON{
		ID: e.ID, Title: e.Title, Kind: e.Kind, Product: e.Product, Rank: e.Rank, Score: e.Score,
		Objectives: objectives, Parent: (*refJSON)(e.Parent), LastDecision: (*decisionJSON)(e.LastDecision),
	}
}

func horizonsWire(h projections.Horizons) horizonsJSON {
	n := 0
	for _, col := range [][]projections.Entry{h.Now, h.Next, h.Later} {
		for _, e := range col {
			n += len(e.Objectives)
		}
	}
	refs := make([]refJSON, 0, n)
	entry := func(e projections.Entry) entryJSON { return entryWire(e, &refs) }
	return horizonsJSON{Now: wireList(h.Now, entry), Next: wireList(h.Next, entry), Later: wireList(h.Later, entry)}
}

func roadmapWire(v projections.RoadmapView) roadmapJSON {
	return roadmapJSON{Sequence: v.Sequence, AsOf: v.AsOf, Product: v.Product, Horizons: horizonsWire(v.Horizons)}
}

func objectiveGroupWire(g projections.ObjectiveGroup) objectiveGroupJSON {
	return objectiveGroupJSON{
		objectiveSummaryJSON: objectiveSummaryJSON{ID: g.ID, Title: g.Title, KPI: g.KPI, Target: g.Target, Product: g.Product, Status: g.Status},
		Horizons:             horizonsWire(g.Horizons),
	}
}

func objectivesWire(v projections.ObjectivesView) objectivesJSON {
	return objectivesJSON{
		Sequence: v.Sequence, AsOf: v.AsOf, Product: v.Product,
		Objectives: wireList(v.Objectives, objectiveGroupWire), Unaligned: horizonsWire(v.Unaligned),
	}
}

type (
	// flagJSON is a warning on an item: its horizon over capacity, or a
	// dependency out of order.
	flagJSON struct {
		Kind       string                  `json:"kind"`
		Detail     string                  `json:"detail"`
		Capacity   *capacityRowJSON        `json:"capacity,omitempty"`
		Dependency *dependencyConflictJSON `json:"dependency,omitempty"`
	}
	capacityRowJSON struct {
		Product   string          `json:"product"`
		Horizon   roadmap.Horizon `json:"horizon"`
		Capacity  *int            `json:"capacity"`
		Committed int             `json:"committed"`
		Over      bool            `json:"over"`
	}
	dependencyConflictJSON struct {
		ItemID            string             `json:"item_id"`
		Title             string             `json:"title"`
		Horizon           roadmap.Horizon    `json:"horizon"`
		DependsOn         string             `json:"depends_on"`
		DependsOnTitle    string             `json:"depends_on_title"`
		DependencyStatus  roadmap.ItemStatus `json:"dependency_status"`
		DependencyHorizon *roadmap.Horizon   `json:"dependency_horizon"`
	}
)

func flagWire(f projections.Flag) flagJSON {
	return flagJSON{
		Kind: f.Kind, Detail: f.Detail,
		Capacity: (*capacityRowJSON)(f.Capacity), Dependency: (*dependencyConflictJSON)(f.Dependency),
	}
}
