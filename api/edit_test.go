package api_test

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// lastOf returns the last event of an item's history.
func lastOf(t testing.TB, l *testLedger, id string) map[string]any {
	t.Helper()
	history := rows(t, l.must(200, "GET", "/v1/items/"+id+"/history", nil)["history"])
	return history[len(history)-1]
}

// changesOf reads the changes of an audit event as "field: before → after"
// lines, the values as JSON.
func changesOf(t testing.TB, event map[string]any) []string {
	t.Helper()
	list, ok := event["changes"].([]any)
	if !ok {
		t.Fatalf("event %v has no list of changes", event["seq"])
	}
	var out []string
	for _, c := range list {
		c := c.(map[string]any)
		out = append(out, fmt.Sprintf("%s: %s → %s", c["field"], cmp.Or(jsonOf(c["before"]), "null"), cmp.Or(jsonOf(c["after"]), "null")))
	}
	return out
}

func TestEditingAnItemChangesEachFieldAndReadsBack(t *testing.T) {
	l := startLedger(t)
	goal := l.objective("Activation")
	parent := l.must(201, "POST", "/v1/items", map[string]any{"title": "Onboarding", "kind": "initiative"})["id"].(string)
	dep := l.item("Identity")
	id := l.item("Setup")

	for _, tc := range []struct {
		name  string
		patch map[string]any
		field string
		want  any // as GET /v1/items/{id} answers it
	}{
		{"title", map[string]any{"title": "Guided setup"}, "title", "Guided setup"},
		{"description", map[string]any{"description": "One screen."}, "description", "One screen."},
		{"kind", map[string]any{"kind": "initiative"}, "kind", "initiative"},
		{"kind back", map[string]any{"kind": "idea"}, "kind", "idea"},
		{"effort", map[string]any{"effort": 5, "rationale": "sized"}, "effort", 5.0},
		{"parent", map[string]any{"parent_id": parent, "rationale": "belongs there"}, "parent_id", parent},
		{"product", map[string]any{"product": "mobile", "rationale": "the app team owns it"}, "product", "mobile"},
		{"dependencies", map[string]any{"depends_on": []string{dep}}, "depends_on", []any{dep}},
		{"risks", map[string]any{"risks": []string{"vendor"}}, "risks", []any{"vendor"}},
		{"objectives", map[string]any{"objective_ids": []string{goal}, "rationale": "serves activation"}, "objective_ids", []any{goal}},
		{"parent cleared with null", map[string]any{"parent_id": nil, "rationale": "stands alone"}, "parent_id", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := l.must(200, "GET", "/v1/items/"+id, nil)
			res := l.do("PATCH", "/v1/items/"+id, tc.patch, "If-Match", fmt.Sprintf(`"%d"`, int64(before["version"].(float64))))
			if res.Status != 200 {
				t.Fatalf("PATCH %v: %d %s", tc.patch, res.Status, res.Body)
			}
			answer := decode(t, res.Body)
			checkVersioned(t, res, answer)
			got := l.must(200, "GET", "/v1/items/"+id, nil)
			if !reflect.DeepEqual(got[tc.field], tc.want) || !reflect.DeepEqual(answer, got) {
				t.Errorf("%s reads %v (answer %v), want %v", tc.field, got[tc.field], answer[tc.field], tc.want)
			}
			for k, v := range before {
				if k != tc.field && k != "version" && !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s changed from %v to %v", k, v, got[k])
				}
			}
			if e := lastOf(t, l, id); e["type"] != roadmap.TypeItemEdited || len(changesOf(t, e)) != 1 {
				t.Errorf("the last event %v changes %v, want one edit of %s", e["type"], e["changes"], tc.field)
			}
		})
	}

	t.Run(`parent_id "" clears it too, and merge-patch JSON is taken`, func(t *testing.T) {
		l.must(200, "PATCH", "/v1/items/"+id, map[string]any{"parent_id": parent, "rationale": "back"})
		res := l.do("PATCH", "/v1/items/"+id, `{"parent_id":"","rationale":"out again"}`, "Content-Type", "application/merge-patch+json")
		if res.Status != 200 || decode(t, res.Body)["parent_id"] != nil {
			t.Errorf("clearing with an empty parent_id: %d %s", res.Status, res.Body)
		}
	})
}

func TestAnEditShowsInTheHistoryAndTheAuditTrail(t *testing.T) {
	l := startLedger(t)
	goal := l.objective("Activation")
	id := l.item("Setup")
	l.must(200, "PATCH", "/v1/items/"+id, map[string]any{
		"title": "Guided setup", "effort": 8, "objective_ids": []string{goal},
		"rationale": "scoped with the team", "evidence": []string{"https://example.com/spike"},
	}, as, "pm@example.com")

	edit := lastOf(t, l, id)
	if edit["type"] != "item.edited" || edit["actor"] != "pm@example.com" || edit["rationale"] != "scoped with the team" ||
		!reflect.DeepEqual(edit["evidence"], []any{"https://example.com/spike"}) || edit["at"] == nil {
		t.Errorf("the edit in the history: %v", edit)
	}
	want := []string{`title: "Setup" → "Guided setup"`, fmt.Sprintf(`objective_ids: [] → ["%s"]`, goal), "effort: null → 8"}
	if got := changesOf(t, edit); !reflect.DeepEqual(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
	if place(edit["from"]) != "off" || place(edit["to"]) != "off" || !reflect.DeepEqual(edit["objective_ids"], []any{goal}) {
		t.Errorf("places %v → %v, objectives %v", edit["from"], edit["to"], edit["objective_ids"])
	}

	// The audit trail, in each of its formats, shows the same event.
	page := rows(t, l.must(200, "GET", "/v1/audit?type=item.edited,objective.edited", nil)["events"])
	if len(page) != 1 || !reflect.DeepEqual(page[0], edit) {
		t.Fatalf("the audit trail's edits %v, want the history's %v", page, edit)
	}
	if lines := exportNDJSON(t, l, "/v1/audit?type=item.edited"); len(lines) != 1 || !reflect.DeepEqual(lines[0], edit) {
		t.Errorf("JSON Lines %v", lines)
	}
	csvRows := exportCSV(t, l, "/v1/audit?type=item.edited")
	if len(csvRows) != 1 || csvRows[0][2] != "item.edited" || csvRows[0][9] != "scoped with the team" || jsonCell(t, csvRows[0][19]) != jsonOf(edit["changes"]) {
		t.Errorf("CSV %q", csvRows)
	}

	// An objective's edit too.
	l.must(200, "PATCH", "/v1/objectives/"+goal, map[string]any{"target": "+20%", "rationale": "the board raised it"})
	page = rows(t, l.must(200, "GET", "/v1/audit?type=objective.edited", nil)["events"])
	if len(page) != 1 || page[0]["rationale"] != "the board raised it" || page[0]["aggregate_id"] != goal {
		t.Fatalf("the objective's edit %v", page)
	}
	if got := changesOf(t, page[0]); !reflect.DeepEqual(got, []string{`target: "+10%" → "+20%"`}) {
		t.Errorf("the objective's changes %q", got)
	}
	if o := l.must(200, "GET", "/v1/objectives/"+goal, nil); o["target"] != "+20%" || o["kpi"] != "kpi of Activation" {
		t.Errorf("the objective reads %v", o)
	}
}

func TestEditsAreRefusedWhenTheyShouldBe(t *testing.T) {
	l := startLedger(t)
	goal := l.objective("Activation")
	id := l.item("Setup")
	version := fmt.Sprintf(`"%d"`, int64(l.must(200, "GET", "/v1/items/"+id, nil)["version"].(float64)))

	for _, tc := range []struct {
		name    string
		path    string
		body    any
		headers []string
		status  int
		field   string // the field errors name, for 422
	}{
		{"objectives without a rationale", "/v1/items/" + id, map[string]any{"objective_ids": []string{goal}}, nil, 422, "rationale"},
		{"a product without a rationale", "/v1/items/" + id, map[string]any{"product": "mobile", "title": "x"}, nil, 422, "rationale"},
		{"an effort with a blank rationale", "/v1/items/" + id, map[string]any{"effort": 3, "rationale": "  "}, nil, 422, "rationale"},
		{"a KPI without a rationale", "/v1/objectives/" + goal, map[string]any{"kpi": "k2"}, nil, 422, "rationale"},
		{"a blank title", "/v1/items/" + id, map[string]any{"title": " "}, nil, 422, "title"},
		{"an unknown kind", "/v1/items/" + id, map[string]any{"kind": "epic"}, nil, 422, "kind"},
		{"nothing", "/v1/items/" + id, map[string]any{}, nil, 422, ""},
		{"the same title", "/v1/items/" + id, map[string]any{"title": "Setup"}, nil, 422, ""},
		{"the same objective title", "/v1/objectives/" + goal, map[string]any{"title": "Activation"}, nil, 422, ""},
		{"a parent_id of the wrong type", "/v1/items/" + id, `{"parent_id":3,"rationale":"r"}`, nil, 422, ""},
		{"an unknown field", "/v1/items/" + id, map[string]any{"status": "delivered"}, nil, 400, ""},
		{"not JSON", "/v1/items/" + id, "title=x", []string{"Content-Type", "text/plain"}, 415, ""},
		{"a stale If-Match", "/v1/items/" + id, map[string]any{"title": "x"}, []string{"If-Match", `"1"`}, 412, ""},
		{"a stale If-Match on an objective", "/v1/objectives/" + goal, map[string]any{"title": "x"}, []string{"If-Match", `"1"`}, 412, ""},
		{"an unknown parent", "/v1/items/" + id, map[string]any{"parent_id": "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70", "rationale": "r"}, nil, 409, ""},
		{"an unknown item", "/v1/items/0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70", map[string]any{"title": "x"}, nil, 404, ""},
		{"an unknown objective", "/v1/objectives/0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70", map[string]any{"title": "x"}, nil, 404, ""},
		{"a viewer", "/v1/items/" + id, map[string]any{"title": "x"}, bearer(l.token("viewer", "viewer")), 403, ""},
		{"an auditor", "/v1/objectives/" + goal, map[string]any{"title": "x"}, bearer(l.token("auditor", "auditor")), 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := l.messages()
			p := checkProblem(t, l.do("PATCH", tc.path, tc.body, tc.headers...), tc.status)
			if l.messages() != before {
				t.Errorf("a refused edit appended %d events", l.messages()-before)
			}
			if tc.field != "" {
				errs, _ := p["errors"].([]any)
				if len(errs) != 1 || errs[0].(map[string]any)["field"] != tc.field {
					t.Errorf("errors %v, want one naming %s", p["errors"], tc.field)
				}
			}
			if strings.HasPrefix(tc.name, "nothing") || strings.HasPrefix(tc.name, "the same") {
				if d, _ := p["detail"].(string); !strings.Contains(d, "changes nothing") || p["errors"] != nil {
					t.Errorf("the refusal of a no-op says %q, errors %v; want it to say it changes nothing", d, p["errors"])
				}
			}
		})
	}
	// The right version is taken.
	l.must(200, "PATCH", "/v1/items/"+id, map[string]any{"title": "Guided setup"}, "If-Match", version)
}

func TestMovingANowItemToAnotherProductWaitsForApproval(t *testing.T) {
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Approvals: roadmap.ApprovalsMajor})
	id := l.item("Setup")
	change := l.must(202, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "now", "rationale": "committed"}, as, "pm")
	l.must(200, "POST", "/v1/changes/"+change["id"].(string)+"/approve", map[string]any{"rationale": "agreed"}, as, "chair")

	// A rename of a now item is not major.
	l.must(200, "PATCH", "/v1/items/"+id, map[string]any{"title": "Guided setup"}, as, "pm")

	res := l.do("PATCH", "/v1/items/"+id, map[string]any{"product": "mobile", "rationale": "the app team owns it"}, as, "pm")
	if res.Status != 202 || !strings.HasPrefix(res.Header.Get("Location"), "/v1/changes/") {
		t.Fatalf("PATCH of a now item's product: %d %s", res.Status, res.Body)
	}
	held := decode(t, res.Body)
	if held["decision"] != "item.edited" || held["status"] != "pending" || held["rationale"] != "the app team owns it" ||
		!reflect.DeepEqual(changesOf(t, held), []string{`product: "default" → "mobile"`}) {
		t.Errorf("the held change %v", held)
	}
	if it := l.must(200, "GET", "/v1/items/"+id, nil); it["product"] != "default" {
		t.Errorf("the item moved before approval: %v", it["product"])
	}

	l.must(200, "POST", "/v1/changes/"+held["id"].(string)+"/approve", map[string]any{"rationale": "agreed"}, as, "chair")
	it := l.must(200, "GET", "/v1/items/"+id, nil)
	if it["product"] != "mobile" || it["horizon"] != "now" || it["rank"] != 1.0 {
		t.Errorf("after approval the item is in %v, %v #%v; want mobile, now #1", it["product"], it["horizon"], it["rank"])
	}
	edit := lastOf(t, l, id)
	if edit["type"] != "item.edited" || edit["actor"] != "chair" || place(edit["from"]) != "now#1" || place(edit["to"]) != "now#1" {
		t.Errorf("the applied edit %v", edit)
	}
	if now := l.must(200, "GET", "/v1/roadmap?product=mobile", nil)["horizons"].(map[string]any)["now"].([]any); len(now) != 1 {
		t.Errorf("mobile's now column %v, want the moved item", now)
	}
}

func TestTheReviewPackListsAnEditOfItsPeriod(t *testing.T) {
	l := startLedger(t)
	id := l.item("Setup")
	l.must(200, "PATCH", "/v1/items/"+id, map[string]any{"title": "Guided setup", "effort": 5, "rationale": "sized with the team"}, as, "pm@example.com")
	review := l.must(201, "POST", "/v1/reviews", map[string]any{"period": nextMonth()})["id"].(string)

	res := l.do("GET", "/v1/reviews/"+review+"/pack", nil, "Accept", "text/markdown")
	if res.Status != 200 {
		t.Fatalf("pack: %d %s", res.Status, res.Body)
	}
	_, sections := mdSections(string(res.Body))
	var found []string
	for _, row := range mdRows(t, sections[packHeadings[2]]) {
		if len(row) > 3 && row[3] == "item.edited" {
			found = row
		}
	}
	if found == nil {
		t.Fatalf("no edit among the decisions:\n%s", sections[packHeadings[2]])
	}
	text := unescapeMD(strings.Join(found, " | "))
	for _, want := range []string{"pm@example.com", "Guided setup", "title: Setup → Guided setup; effort: none → 5", "sized with the team"} {
		if !strings.Contains(text, want) {
			t.Errorf("the edit's row %q lacks %q", text, want)
		}
	}
}

func TestAProposalWithoutAKindIsAnIdea(t *testing.T) {
	l := startLedger(t)
	it := l.must(201, "POST", "/v1/items", map[string]any{"title": "Quick win"})
	if it["kind"] != "idea" || it["provenance"] != nil {
		t.Errorf("a proposal without a kind: %v", it)
	}
}

func TestTheWhyChainNamesTheEditThatMadeALink(t *testing.T) {
	l := startLedger(t)
	goal := l.objective("Activation")
	parent := l.must(201, "POST", "/v1/items", map[string]any{"title": "Onboarding", "kind": "initiative"})["id"].(string)
	id := l.item("Setup")
	edit := l.must(200, "PATCH", "/v1/items/"+id, map[string]any{
		"parent_id": parent, "objective_ids": []string{goal}, "rationale": "where it belongs",
	}, as, "pm@example.com")

	why := l.must(200, "GET", "/v1/items/"+id+"/why", nil)["item"].(map[string]any)
	parentLink := why["parent"].(map[string]any)["linked_by"].(map[string]any)
	objectiveLink := why["objectives"].([]any)[0].(map[string]any)["linked_by"].(map[string]any)
	for name, link := range map[string]map[string]any{"parent": parentLink, "objective": objectiveLink} {
		if link["type"] != "item.edited" || link["seq"] != edit["version"] || link["rationale"] != "where it belongs" || link["actor"] != "pm@example.com" {
			t.Errorf("the %s's link %v, want the edit %v", name, link, edit["version"])
		}
	}
}

func TestAnImportedItemShowsWhereItCameFrom(t *testing.T) {
	l := startLedger(t)
	// An import proposes and edits items through the ledger, as here.
	ctx := context.Background()
	jira := &roadmap.Provenance{Source: roadmap.SourceJira, ExternalID: "WEB-142", ImportID: "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a71"}
	res, err := l.App.Ledger.ProposeItem(ctx, ledger.Request{Actor: "importer"}, roadmap.ProposeItem{Title: "From Jira", Provenance: jira})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Answer.Item.ID
	csvFile := &roadmap.Provenance{Source: roadmap.SourceCSV, ImportID: "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a72"}
	if _, err := l.App.Ledger.EditItem(ctx, ledger.Request{Actor: "importer"}, id, roadmap.EditItem{Title: ptr("From the sheet"), Provenance: csvFile}); err != nil {
		t.Fatal(err)
	}

	want := map[string]any{"source": "jira", "external_id": "WEB-142", "import_id": jira.ImportID}
	if got := l.must(200, "GET", "/v1/items/"+id, nil)["provenance"]; !reflect.DeepEqual(got, want) {
		t.Errorf("the item's provenance %v, want %v", got, want)
	}
	history := rows(t, l.must(200, "GET", "/v1/items/"+id+"/history", nil)["history"])
	if !reflect.DeepEqual(history[0]["provenance"], want) {
		t.Errorf("the proposal's provenance %v, want %v", history[0]["provenance"], want)
	}
	wantEdit := map[string]any{"source": "csv", "external_id": nil, "import_id": csvFile.ImportID}
	if !reflect.DeepEqual(history[1]["provenance"], wantEdit) {
		t.Errorf("the edit's provenance %v, want %v", history[1]["provenance"], wantEdit)
	}
	if other := l.must(201, "POST", "/v1/items", map[string]any{"title": "By hand"}); other["provenance"] != nil {
		t.Errorf("an item proposed by hand has provenance %v", other["provenance"])
	}
}

func ptr[T any](v T) *T { return &v }
