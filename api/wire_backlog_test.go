package api

import (
	"slices"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// TestBacklogRowFillsEveryColumn checks a row of the backlog's CSV cell by
// cell against backlogColumns, for an imported item whose provenance a
// spreadsheet could take for a formula.
func TestBacklogRowFillsEveryColumn(t *testing.T) {
	effort := 8
	v := projections.ItemView{
		Item: roadmap.Item{
			ID: "i1",
			ItemBrief: roadmap.ItemBrief{
				Title: "Guided setup", Description: "-2 steps", Kind: roadmap.KindIdea, ParentID: "p1",
				Product: "web", ObjectiveIDs: []string{"o1", "o2"},
			},
			Status: roadmap.StatusOnRoadmap, Horizon: roadmap.Next,
			Score:      &roadmap.Score{Framework: roadmap.FrameworkRICE, Version: 1, Value: 1.5},
			Plan:       &roadmap.Plan{Effort: &effort, DependsOn: []string{"d1", "d2"}, Risks: []string{"=1+1"}},
			Provenance: &roadmap.Provenance{Source: roadmap.SourceJira, ExternalID: "+PROJ-12", ImportID: "imp1"},
		},
		Rank: 2, Version: 42,
	}
	want := map[string]string{
		colID: "i1", colTitle: "Guided setup", colDescription: "'-2 steps", colKind: "idea", colProduct: "web",
		colStatus: "on_roadmap", colHorizon: "next", colRank: "2", colScore: "1.5", colObjectiveIDs: "o1\no2",
		colParentID: "p1", colEffort: "8", colDependsOn: "d1\nd2", colRisks: "'=1+1", colSource: "jira",
		colExternalID: "'+PROJ-12", colImportID: "imp1", colVersion: "42",
	}
	row := backlogRow(v)
	if len(row) != len(backlogColumns) || len(want) != len(backlogColumns) {
		t.Fatalf("%d cells for %d columns: %q", len(row), len(backlogColumns), row)
	}
	for i, col := range backlogColumns {
		if row[i] != want[col] {
			t.Errorf("%s: %q, want %q", col, row[i], want[col])
		}
	}

	// Off the roadmap, unscored, proposed by hand: empty cells.
	v.Status, v.Horizon, v.Rank, v.Score, v.Plan, v.Provenance = roadmap.StatusRemoved, "", 0, nil, nil, nil
	row = backlogRow(v)
	for _, col := range []string{colHorizon, colRank, colScore, colEffort, colDependsOn, colRisks, colSource, colExternalID, colImportID} {
		if cell := row[slices.Index(backlogColumns, col)]; cell != "" {
			t.Errorf("%s: %q, want an empty cell", col, cell)
		}
	}
}
