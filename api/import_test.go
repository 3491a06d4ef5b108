package api_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// importFile posts a CSV file to /v1/imports with the query and returns the
// answer.
func (l *testLedger) importFile(query, file string, headers ...string) response {
	l.t.Helper()
	path := "/v1/imports"
	if query != "" {
		path += "?" + query
	}
	return l.do("POST", path, csvBody(file), headers...)
}

// mustImport imports a file and fails the test unless the answer has
// status want; it returns the decoded answer.
func (l *testLedger) mustImport(want int, query, file string) map[string]any {
	l.t.Helper()
	res := l.importFile(query, file)
	if res.Status != want {
		l.t.Fatalf("import %q: status %d, want %d: %s", query, res.Status, want, res.Body)
	}
	return decode(l.t, res.Body)
}

// counts returns an import answer's created, updated and unchanged.
func counts(answer map[string]any) string {
	return fmt.Sprintf("created %v, updated %v, unchanged %v", answer["created"], answer["updated"], answer["unchanged"])
}

// itemsByTitle returns the ids of the items proposed so far, by title, read
// from the audit trail.
func (l *testLedger) itemsByTitle() map[string]string {
	l.t.Helper()
	page := l.must(200, "GET", "/v1/audit?type=item.proposed&limit=1000", nil)
	out := map[string]string{}
	for _, e := range page["events"].([]any) {
		ev := e.(map[string]any)
		out[ev["title"].(string)] = ev["aggregate_id"].(string)
	}
	return out
}

// history returns the events of an item's history.
func (l *testLedger) history(id string) []map[string]any {
	l.t.Helper()
	var out []map[string]any
	for _, e := range l.must(200, "GET", "/v1/items/"+id+"/history", nil)["history"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

func TestImportDryRunRecordsNothingAndAnswersWhatTheImportDoes(t *testing.T) {
	l := startLedger(t)
	file := "title,kind,product,horizon,rank,external_id\n" +
		"Onboarding,initiative,web,next,,CRM-1\n" +
		"Guided setup,idea,web,next,1,CRM-2\n" +
		"Someday,,web,,,\n"
	before := l.messages()
	dry := l.mustImport(200, "dry_run=true", file)
	if got := l.messages(); got != before {
		t.Fatalf("the dry run appended %d events", got-before)
	}
	if dry["dry_run"] != true || counts(dry) != "created 3, updated 0, unchanged 0" {
		t.Errorf("dry run answered %v", dry)
	}
	real := l.mustImport(201, "dry_run=false", file)
	if real["dry_run"] != false || counts(real) != counts(dry) || real["import_id"] == dry["import_id"] {
		t.Errorf("the import answered %v after the dry run's %v: want the same counts under another import id", real, dry)
	}
	// Three proposals and two prioritisations.
	if got := l.messages() - before; got != 5 {
		t.Errorf("the import appended %d events, want 5", got)
	}
	roadmap := l.must(200, "GET", "/v1/roadmap?product=web", nil)
	next := roadmap["horizons"].(map[string]any)["next"].([]any)
	if len(next) != 2 || next[0].(map[string]any)["title"] != "Guided setup" {
		t.Errorf("next is %v, want Guided setup first (rank 1), then Onboarding", next)
	}

	// A dry run after the import answers what importing again would do.
	again := l.mustImport(200, "dry_run=true", file)
	if counts(again) != "created 0, updated 0, unchanged 3" {
		t.Errorf("a dry run of the same file again answered %v", again)
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	l := startLedger(t)
	file := "title,horizon,rank,objective_ids,external_id,effort\n" +
		"Good one,next,,,A-1,\n" + // line 2
		",later,,,A-2,\n" + // line 3: no title
		"Good two,,,,A-3,\n" + // line 4
		"Bad horizon,soon,,,A-4,\n" + // line 5
		"Unknown objective,,,0193a5c4-6f00-7a2b-8c3d-4e5f60718293,A-5,\n" + // line 6
		"Bad rank,next,first,,A-6,\n" + // line 7
		"Twice,,,,A-1,\n" + // line 8: A-1 again
		"Rank without horizon,,2,,A-8,\n" + // line 9
		"Bad effort,,,,A-9,-3\n" // line 10
	before := l.messages()
	res := l.importFile("", file)
	p := checkProblem(t, res, 422)
	if got := l.messages(); got != before {
		t.Fatalf("a refused import appended %d events", got-before)
	}
	var got []string
	for _, e := range p["errors"].([]any) {
		e := e.(map[string]any)
		got = append(got, fmt.Sprintf("%v %v", e["line"], e["column"]))
	}
	want := []string{"3 title", "5 horizon", "6 ", "7 rank", "8 external_id", "9 rank", "10 effort"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("errors at %q, want %q: %s", got, want, res.Body)
	}
}

func TestImportRefusesAFileItCannotRead(t *testing.T) {
	l := startLedger(t)
	before := l.messages()
	for _, c := range []struct {
		name, query, file string
		headers           []string
		status            int
	}{
		{"JSON instead of CSV", "", "title\nx\n", []string{"Content-Type", "application/json"}, 415},
		{"no title column", "", "name\nx\n", nil, 422},
		{"an unknown column", "", "title,colour\nx,red\n", nil, 422},
		{"a quote left open", "", "title\n\"x\n", nil, 400},
		{"not UTF-8", "", "title\n\xff\n", nil, 400},
		{"an unknown format", "format=trello", "title\nx\n", nil, 400},
		{"dry_run neither true nor false", "dry_run=yes", "title\nx\n", nil, 400},
		{"an unknown query parameter", "dry=true", "title\nx\n", nil, 400},
		{"an Idempotency-Key", "", "title\nx\n", []string{"Idempotency-Key", "k1"}, 400},
		{"a Jira export without Issue key", "format=jira", "Summary\nx\n", nil, 422},
		{"a viewer", "", "title\nx\n", bearer(l.token("viewer", "viewer")), 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkProblem(t, l.importFile(c.query, c.file, c.headers...), c.status)
		})
	}
	t.Run("a file over 10 MiB", func(t *testing.T) {
		big := "title\n" + strings.Repeat(strings.Repeat("x", 99)+"\n", 10<<20/100+1)
		checkProblem(t, l.importFile("", big), 413)
	})
	// The viewer's token is the one event the cases made.
	if got := l.messages(); got != before+1 {
		t.Errorf("refused imports appended %d events", got-before-1)
	}
}

func TestImportAgainChangesNothingAndAChangedRowIsAnEdit(t *testing.T) {
	l := startLedger(t)
	file := "title,description,horizon,rank,external_id\n" +
		"Guided setup,A wizard,next,,CRM-1\n" +
		"Templates,,later,,CRM-2\n" +
		"Dark mode,,,,\n"
	first := l.mustImport(201, "", file)
	before := l.messages()
	again := l.mustImport(200, "", file)
	if counts(again) != "created 0, updated 0, unchanged 3" {
		t.Errorf("importing the same file again answered %v", again)
	}
	if got := l.messages(); got != before {
		t.Errorf("importing the same file again appended %d events", got-before)
	}

	changed := strings.Replace(strings.Replace(file, "Guided setup", "Guided setup wizard", 1), "Templates,,later", "Templates,,next", 1)
	edit := l.mustImport(201, "", changed)
	if counts(edit) != "created 0, updated 2, unchanged 1" {
		t.Errorf("importing a changed title and horizon answered %v", edit)
	}
	ids := l.itemsByTitle()
	wizard := ids["Guided setup wizard"]
	if wizard == "" {
		t.Fatalf("no item has the new title: %v", ids)
	}
	if it := l.must(200, "GET", "/v1/items/"+wizard, nil); it["title"] != "Guided setup wizard" || it["description"] != "A wizard" {
		t.Errorf("the item is %v after the edit", it)
	}
	var types []string
	for _, e := range l.history(wizard) {
		types = append(types, e["type"].(string))
		if e["type"] == "item.edited" {
			prov, _ := e["provenance"].(map[string]any)
			if prov["source"] != "csv" || prov["external_id"] != "CRM-1" || prov["import_id"] != edit["import_id"] {
				t.Errorf("the edit's provenance is %v, want csv, CRM-1 and the second import's id", e["provenance"])
			}
		}
		if e["type"] == "item.proposed" {
			if prov, _ := e["provenance"].(map[string]any); prov["import_id"] != first["import_id"] {
				t.Errorf("the proposal's provenance is %v, want the first import's id", e["provenance"])
			}
		}
	}
	if strings.Join(types, " ") != "item.proposed item.prioritised item.edited" {
		t.Errorf("the history is %v", types)
	}
	templates := l.history(ids["Templates"])
	last := templates[len(templates)-1]
	if last["type"] != "item.reprioritised" || !strings.Contains(last["rationale"].(string), "by import "+edit["import_id"].(string)+" (line 3)") {
		t.Errorf("the move to next is %v, want a reprioritisation naming the import and the line", last)
	}

	// A row with neither id nor external id matches the item an earlier
	// CSV import brought in with the same title, whatever its case.
	same := l.mustImport(201, "", "title\nDARK MODE\n")
	if counts(same) != "created 0, updated 1, unchanged 0" || len(l.itemsByTitle()) != 3 {
		t.Errorf("a row with a known title in another case answered %v", same)
	}
}

func TestImportedPlacesArePrioritisationsNamingTheImport(t *testing.T) {
	l := startLedger(t)
	obj := l.objective("Activation")
	res := l.mustImport(201, "", "title,product,horizon,rank,objective_ids\n"+
		"First,web,later,,"+obj+"\n"+
		"Second,web,later,1,\n")
	id := l.itemsByTitle()["Second"]
	h := l.history(id)
	if len(h) != 2 || h[1]["type"] != "item.prioritised" {
		t.Fatalf("history %v, want a proposal and a prioritisation", h)
	}
	want := fmt.Sprintf("Imported from CSV by import %s (line 3)", res["import_id"])
	if h[1]["rationale"] != want {
		t.Errorf("rationale %q, want %q", h[1]["rationale"], want)
	}
	if to := h[1]["to"].(map[string]any); to["horizon"] != "later" || to["rank"] != float64(1) {
		t.Errorf("the prioritisation put it at %v, want later #1", to)
	}
	if first := l.must(200, "GET", "/v1/items/"+l.itemsByTitle()["First"], nil); fmt.Sprint(first["objective_ids"]) != "["+obj+"]" || first["rank"] != float64(2) {
		t.Errorf("First is %v, want serving the objective, later #2", first)
	}
}

func TestImportTakesTheNeutralisedFormulasOfAnExportBack(t *testing.T) {
	l := startLedger(t)
	l.mustImport(201, "", "title,description,risks\n"+
		"\"'=HYPERLINK(\"\"x\"\")\",'+1 for this,\"'-lost data\nslow\"\n")
	for title, id := range l.itemsByTitle() {
		it := l.must(200, "GET", "/v1/items/"+id, nil)
		if title != `=HYPERLINK("x")` || it["description"] != "+1 for this" || fmt.Sprint(it["risks"]) != "[-lost data slow]" {
			t.Errorf("imported %q: %v", title, it)
		}
	}
}

func TestImportJiraExport(t *testing.T) {
	l := startLedger(t)
	file, err := os.ReadFile("testdata/jira-export.csv")
	if err != nil {
		t.Fatal(err)
	}
	dry := l.mustImport(200, "format=jira&dry_run=true", string(file))
	res := l.mustImport(201, "format=jira", string(file))
	if counts(res) != "created 7, updated 0, unchanged 0" || counts(dry) != counts(res) {
		t.Fatalf("the Jira import answered %v, its dry run %v", res, dry)
	}
	ids := l.itemsByTitle()
	item := func(title string) map[string]any {
		t.Helper()
		if ids[title] == "" {
			t.Fatalf("no item %q among %v", title, ids)
		}
		return l.must(200, "GET", "/v1/items/"+ids[title], nil)
	}
	for title, want := range map[string]struct{ kind, parent string }{
		"Self-serve onboarding":      {"initiative", ""},
		"Enterprise readiness":       {"initiative", ""},
		"Guided setup wizard":        {"idea", "Self-serve onboarding"}, // Parent, by issue id
		`Import from "spreadsheets"`: {"idea", "Self-serve onboarding"}, // Epic Link
		"SAML single sign-on":        {"idea", "Enterprise readiness"},  // Epic Link to a later row
		"Audit log export":           {"idea", "Enterprise readiness"},  // Parent, by key
		"Fix login redirect":         {"idea", ""},
	} {
		it := item(title)
		parent, _ := it["parent_id"].(string)
		if it["kind"] != want.kind || parent != ids[want.parent] {
			t.Errorf("%s: %v under %q, want %s under %q", title, it["kind"], parent, want.kind, want.parent)
		}
	}
	if d := item("Self-serve onboarding")["description"]; d != "Reduce friction for new teams.\n\nThey should reach a first roadmap alone." {
		t.Errorf("multi-line description %q", d)
	}
	if d := item("Audit log export")["description"]; d != "=SUM(A1:A2) is not a formula here" {
		t.Errorf("neutralised description %q", d)
	}
	h := l.history(ids["SAML single sign-on"])
	if prov, _ := h[0]["provenance"].(map[string]any); prov["source"] != "jira" || prov["external_id"] != "ENT-2" || prov["import_id"] != res["import_id"] {
		t.Errorf("the proposal's provenance is %v", h[0]["provenance"])
	}

	before := l.messages()
	if again := l.mustImport(200, "format=jira", string(file)); counts(again) != "created 0, updated 0, unchanged 7" {
		t.Errorf("importing the export again answered %v", again)
	}
	if got := l.messages(); got != before {
		t.Errorf("importing the export again appended %d events", got-before)
	}
}

// TestExportEditImportIsARoundTrip exports the backlog as CSV, edits it as a
// spreadsheet would (a title fixed, a row added, the rest untouched, formula
// cells kept as exported), and imports it: the untouched rows are
// unchanged, the fixed one is an edit, the new one a proposal; exported
// again, the file shows exactly those changes.
func TestExportEditImportIsARoundTrip(t *testing.T) {
	l := startLedger(t)
	okr := l.objective("Cut churn")
	first := l.must(201, "POST", "/v1/items", map[string]any{"title": "=cmd|' /C calc'!A0", "kind": "initiative", "objective_ids": []string{okr},
		"risks": []string{"vendor lock-in", "-slow rollout"}, "effort": 8})["id"].(string)
	l.must(201, "POST", "/v1/items", map[string]any{"title": "Dark mode", "description": "line one\nline two", "parent_id": first, "depends_on": []string{first}})
	typo := l.must(201, "POST", "/v1/items", map[string]any{"title": "Saevd filters"})["id"].(string)
	l.must(200, "POST", "/v1/items/"+first+"/prioritise", map[string]any{"horizon": "next", "rationale": "churn"})

	export := func() string {
		res := l.do("GET", "/v1/items?sort=created", nil, "Accept", "text/csv")
		if res.Status != 200 {
			t.Fatalf("export: %d %s", res.Status, res.Body)
		}
		return string(res.Body)
	}
	before := export()
	if !strings.Contains(before, `'=cmd|' /C calc'!A0`) {
		t.Fatalf("the formula title is not neutralised in the export:\n%s", before)
	}
	edited := strings.Replace(before, "Saevd filters", "Saved filters", 1) + ",Bulk export,,,,,,,,,,,,,,,,\n"
	answer := l.mustImport(201, "", edited)
	if got := counts(answer); got != "created 1, updated 1, unchanged 2" {
		t.Fatalf("import of the edited export: %s, want created 1, updated 1, unchanged 2", got)
	}
	if it := l.must(200, "GET", "/v1/items/"+typo, nil); it["title"] != "Saved filters" {
		t.Errorf("the fixed title: %v", it["title"])
	}
	if got := counts(l.mustImport(200, "", edited)); got != "created 0, updated 0, unchanged 4" {
		t.Errorf("importing the same file again: %s, want nothing changed", got)
	}

	after := strings.Split(strings.TrimSuffix(export(), "\n"), "\n")
	was := strings.Split(strings.TrimSuffix(before, "\n"), "\n")
	if len(after) != len(was)+1 || !strings.Contains(after[len(after)-1], "Bulk export") {
		t.Fatalf("the export after the import:\n%s", strings.Join(after, "\n"))
	}
	for i, line := range was {
		if strings.Contains(line, "Saevd") || strings.HasPrefix(line, typo) {
			continue
		}
		if after[i] != line {
			t.Errorf("line %d changed by the round trip:\n was %s\n now %s", i+1, line, after[i])
		}
	}
}
