package roadmap_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// newIDs returns a maker of distinct item ids.
func newIDs() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("3a000000-0000-4000-8000-%012d", n)
	}
}

// imported is an item an earlier import of source brought in.
func imported(id, title, source, externalID string) roadmap.Item {
	return roadmap.Item{
		ID: id, ItemBrief: roadmap.ItemBrief{Title: title, Kind: roadmap.KindIdea, Product: roadmap.DefaultProduct, ObjectiveIDs: []string{}},
		Status:     roadmap.StatusProposed,
		Provenance: &roadmap.Provenance{Source: source, ExternalID: externalID, ImportID: "earlier"},
	}
}

func eventTypes(p roadmap.RowPlan) []string {
	var out []string
	for _, e := range p.Events {
		out = append(out, e.Event.EventType())
	}
	return out
}

func TestImportPlansANewItemWithItsPlace(t *testing.T) {
	im := roadmap.NewImport(roadmap.SourceCSV, "imp", nil, newIDs())
	plan, errs := im.Plan(roadmap.ImportRow{Line: 2, Title: ptr("Guided setup"), ExternalID: "X-1", Horizon: roadmap.Next, Rank: ptr(1)}, newRefs())
	if errs != nil {
		t.Fatal(errs)
	}
	if plan.Outcome != roadmap.Created || fmt.Sprint(eventTypes(plan)) != "[item.proposed item.prioritised]" {
		t.Fatalf("plan %+v", plan)
	}
	proposed := plan.Events[0].Event.(*roadmap.ItemProposed)
	if *proposed.Provenance != (roadmap.Provenance{Source: "csv", ExternalID: "X-1", ImportID: "imp"}) || proposed.Kind != roadmap.KindIdea {
		t.Errorf("proposal %+v", proposed)
	}
	placed := plan.Events[1].Event.(*roadmap.ItemPrioritised)
	if placed.Rationale != "Imported from CSV by import imp (line 2)" || placed.Horizon != roadmap.Next || *placed.Rank != 1 {
		t.Errorf("prioritisation %+v", placed)
	}
	if !im.HasExternal("X-1") {
		t.Error("the import does not remember the external id it created")
	}
}

func TestImportMatchesByExternalIDThenTitle(t *testing.T) {
	const known, byTitle = "3b000000-0000-4000-8000-000000000001", "3b000000-0000-4000-8000-000000000002"
	refs := newRefs()
	refs.items[known] = imported(known, "Templates", roadmap.SourceJira, "J-1")
	refs.items[byTitle] = imported(byTitle, "Dark mode", roadmap.SourceCSV, "")

	jira := roadmap.NewImport(roadmap.SourceJira, "imp", []roadmap.Item{refs.items[known], refs.items[byTitle]}, newIDs())
	same, _ := jira.Plan(roadmap.ImportRow{Line: 2, ExternalID: "J-1", Title: ptr("Templates")}, refs)
	if same.Outcome != roadmap.Unchanged || same.ItemID != known || len(same.Events) != 0 {
		t.Errorf("an unchanged row planned %+v", same)
	}
	if _, errs := jira.Plan(roadmap.ImportRow{Line: 3, ExternalID: "J-1", Title: ptr("Project templates")}, refs); len(errs) != 1 || errs[0].Column != "external_id" {
		t.Errorf("a second row of J-1: %v, want refused as the item of line 2", errs)
	}

	csv := roadmap.NewImport(roadmap.SourceCSV, "imp2", []roadmap.Item{refs.items[known], refs.items[byTitle]}, newIDs())
	edit, errs := csv.Plan(roadmap.ImportRow{Line: 2, Title: ptr("DARK MODE"), Description: ptr("Easier on the eyes")}, refs)
	if errs != nil || edit.ItemID != byTitle || edit.Outcome != roadmap.Updated {
		t.Fatalf("a CSV row with a known title planned %+v, %v", edit, errs)
	}
	e := edit.Events[0].Event.(*roadmap.ItemEdited)
	if fmt.Sprint(e.Changed) != "[title description]" || e.Provenance.ImportID != "imp2" || e.Rationale == "" {
		t.Errorf("edit %+v", e)
	}
	// A Jira import does not match by title, and a CSV import not by the
	// title of a Jira item.
	if p, _ := csv.Plan(roadmap.ImportRow{Line: 3, Title: ptr("Templates")}, refs); p.Outcome != roadmap.Created {
		t.Errorf("a CSV row with the title of a Jira item planned %+v", p)
	}
}

func TestImportNamesTheFilesColumnsInItsErrors(t *testing.T) {
	im := roadmap.NewImport(roadmap.SourceJira, "imp", nil, newIDs())
	columns := map[string]string{"title": "Summary", "parent_external_id": "Custom field (Epic Link)"}
	_, errs := im.Plan(roadmap.ImportRow{Line: 5, ExternalID: "J-2", Title: ptr(" "), Columns: columns}, newRefs())
	if len(errs) != 1 || errs[0] != (roadmap.RowError{Line: 5, Column: "Summary", Message: "is required and must not be blank"}) {
		t.Errorf("a blank summary: %v", errs)
	}
	_, errs = im.Plan(roadmap.ImportRow{Line: 6, ExternalID: "J-3", Title: ptr("x"), ParentExternalID: "J-9", Columns: columns}, newRefs())
	if len(errs) != 1 || errs[0].Column != "Custom field (Epic Link)" {
		t.Errorf("an unknown epic: %v", errs)
	}
	_, errs = im.Plan(roadmap.ImportRow{Line: 7, ItemID: itemUnknown, Title: ptr("x")}, newRefs())
	if len(errs) != 1 || errs[0].Column != "id" {
		t.Errorf("an unknown id: %v", errs)
	}
	err := &roadmap.ImportError{Rows: errs}
	if !errors.Is(err, roadmap.ErrInvalid) {
		t.Error("an ImportError is not ErrInvalid")
	}
}

func TestImportDoesNotPlaceADeliveredItemOrARankWithoutHorizon(t *testing.T) {
	const delivered = "3b000000-0000-4000-8000-000000000003"
	refs := newRefs()
	it := imported(delivered, "Shipped", roadmap.SourceCSV, "D-1")
	it.Status = roadmap.StatusDelivered
	refs.items[delivered] = it
	im := roadmap.NewImport(roadmap.SourceCSV, "imp", []roadmap.Item{it}, newIDs())
	if _, errs := im.Plan(roadmap.ImportRow{Line: 2, ExternalID: "D-1", Title: ptr("Shipped"), Horizon: roadmap.Now}, refs); len(errs) != 1 || errs[0].Column != "horizon" {
		t.Errorf("placing a delivered item: %v", errs)
	}
	if _, errs := im.Plan(roadmap.ImportRow{Line: 3, Title: ptr("New"), Rank: ptr(2)}, refs); len(errs) != 1 || errs[0].Column != "rank" {
		t.Errorf("a rank without a horizon: %v", errs)
	}
}
