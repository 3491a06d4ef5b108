package api_test

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// listed is one page of a list as the client reads it.
type listed struct {
	Sequence   uint64           `json:"sequence"`
	Items      []map[string]any `json:"items"`
	Objectives []map[string]any `json:"objectives"`
	Total      int              `json:"total"`
	NextCursor *string          `json:"next_cursor"`
	// Link is the Link header, "" when there is none.
	Link string `json:"-"`
}

// list reads one page of a list, which must answer 200.
func (l *testLedger) list(path string, headers ...string) listed {
	l.t.Helper()
	res := l.do("GET", path, nil, headers...)
	if res.Status != 200 {
		l.t.Fatalf("GET %s: status %d: %s", path, res.Status, res.Body)
	}
	var p listed
	if err := json.Unmarshal(res.Body, &p); err != nil {
		l.t.Fatalf("GET %s: %v: %s", path, err, res.Body)
	}
	p.Link = res.Header.Get("Link")
	return p
}

// ids returns the ids of a page's items, or of its objectives.
func (p listed) ids() []string {
	out := []string{}
	for _, v := range append(p.Items, p.Objectives...) {
		out = append(out, v["id"].(string))
	}
	return out
}

// nextPage returns the path of the page after p, from its Link header,
// and checks that the header and next_cursor agree.
func nextPage(t *testing.T, p listed) string {
	t.Helper()
	if p.NextCursor == nil {
		t.Fatalf("no next_cursor on a page that is not the last: %+v", p)
	}
	path, ok := strings.CutSuffix(strings.TrimPrefix(p.Link, "<"), `>; rel="next"`)
	if !ok || !strings.HasPrefix(p.Link, "<") {
		t.Fatalf("Link %q, want <path>; rel=\"next\"", p.Link)
	}
	u, err := url.Parse(path)
	if err != nil || u.Query().Get("cursor") != *p.NextCursor {
		t.Fatalf("Link %q does not carry next_cursor %q", p.Link, *p.NextCursor)
	}
	return path
}

// lastPage checks that p is the last page of its list.
func lastPage(t *testing.T, p listed) {
	t.Helper()
	if p.NextCursor != nil || p.Link != "" {
		t.Errorf("the last page has next_cursor %v and Link %q, want null and none", p.NextCursor, p.Link)
	}
}

// walkList reads every page of a list from path on, and returns the ids in
// the order read and the pages.
func walkList(t *testing.T, l *testLedger, path string) ([]string, []listed) {
	t.Helper()
	var ids []string
	var pages []listed
	for {
		p := l.list(path)
		pages = append(pages, p)
		ids = append(ids, p.ids()...)
		if p.NextCursor == nil {
			lastPage(t, p)
			return ids, pages
		}
		path = nextPage(t, p)
	}
}

// backlog is a small backlog made through the API, for the lists' tests.
type backlog struct {
	growth, delight                         string // objectives: web, app (retired)
	initiative, guided, banana, zebra, gone string // items
}

// newBacklog proposes, in this order:
//
//	initiative  "Straße bauen"   web  initiative  proposed, serves growth
//	guided      "apple Pie"      web  idea        now 1, score 4, under initiative, serves growth and delight
//	banana      "Banana"         app  idea        now 1, score 2
//	zebra       "Zebra"          app  idea        next 1, no score, serves delight
//	gone        "cherry"         web  idea        removed, score 3
//
// and then retires delight.
func newBacklog(l *testLedger) backlog {
	l.t.Helper()
	var b backlog
	objective := func(title, product string) string {
		return l.must(201, "POST", "/v1/objectives", map[string]any{"title": title, "kpi": "k", "target": "t", "product": product})["id"].(string)
	}
	b.growth, b.delight = objective("Grow revenue", "web"), objective("Delight users", "app")
	propose := func(body map[string]any) string {
		return l.must(201, "POST", "/v1/items", body)["id"].(string)
	}
	b.initiative = propose(map[string]any{"title": "Straße bauen", "kind": "initiative", "product": "web", "objective_ids": []string{b.growth}})
	b.guided = propose(map[string]any{"title": "apple Pie", "description": "Crème brûlée recipe", "kind": "idea", "product": "web",
		"parent_id": b.initiative, "objective_ids": []string{b.growth, b.delight}})
	b.banana = propose(map[string]any{"title": "Banana", "kind": "idea", "product": "app"})
	b.zebra = propose(map[string]any{"title": "Zebra", "kind": "idea", "product": "app", "objective_ids": []string{b.delight}})
	b.gone = propose(map[string]any{"title": "cherry", "kind": "idea", "product": "web"})
	moscow := func(category string) map[string]any {
		return map[string]any{"framework": "moscow", "category": category}
	}
	l.must(200, "POST", "/v1/items/"+b.guided+"/prioritise", map[string]any{"horizon": "now", "rationale": "r", "score": moscow("must")})
	l.must(200, "POST", "/v1/items/"+b.banana+"/prioritise", map[string]any{"horizon": "now", "rationale": "r", "score": moscow("could")})
	l.must(200, "POST", "/v1/items/"+b.zebra+"/prioritise", map[string]any{"horizon": "next", "rationale": "r"})
	l.must(200, "POST", "/v1/items/"+b.gone+"/prioritise", map[string]any{"horizon": "later", "rationale": "r", "score": moscow("should")})
	l.must(200, "POST", "/v1/items/"+b.gone+"/remove", map[string]any{"rationale": "r"})
	l.must(200, "POST", "/v1/objectives/"+b.delight+"/retire", map[string]any{"rationale": "r"})
	return b
}

func TestListItemsFilters(t *testing.T) {
	l := startLedger(t)
	b := newBacklog(l)
	created := "&sort=created"
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{b.initiative, b.guided, b.banana, b.zebra, b.gone}},
		{"product=web", []string{b.initiative, b.guided, b.gone}},
		{"product=elsewhere", []string{}},
		{"status=proposed", []string{b.initiative}},
		{"status=on_roadmap", []string{b.guided, b.banana, b.zebra}},
		{"status=removed", []string{b.gone}},
		{"status=delivered", []string{}},
		{"horizon=now", []string{b.guided, b.banana}},
		{"horizon=next", []string{b.zebra}},
		{"horizon=later", []string{}}, // the removed item was in later
		{"kind=initiative", []string{b.initiative}},
		{"kind=idea", []string{b.guided, b.banana, b.zebra, b.gone}},
		{"objective_id=" + b.delight, []string{b.guided, b.zebra}},
		{"objective_id=" + b.growth, []string{b.initiative, b.guided}},
		{"parent_id=" + b.initiative, []string{b.guided}},
		{"parent_id=" + b.guided, []string{}},
		{"q=pie", []string{b.guided}},
		{"q=BR%C3%9BL%C3%89E", []string{b.guided}},   // BRÛLÉE, in the description
		{"q=bru%CC%82le%CC%81e", []string{b.guided}}, // brûlée written decomposed
		{"q=brulee", []string{}},                     // accents count
		{"q=STRASSE", []string{b.initiative}},        // full case folding: ß is ss
		{"q=%20", []string{b.initiative, b.guided}},  // a space, in two titles
		{"q=", []string{b.initiative, b.guided, b.banana, b.zebra, b.gone}},
		{"product=app&horizon=now", []string{b.banana}},
		{"product=web&kind=idea&status=on_roadmap&objective_id=" + b.delight + "&parent_id=" + b.initiative + "&q=apple&horizon=now", []string{b.guided}},
		{"product=web&kind=initiative&q=apple", []string{}},
	} {
		p := l.list("/v1/items?" + tc.query + created)
		if got := p.ids(); !slices.Equal(got, tc.want) || p.Total != len(tc.want) {
			t.Errorf("%s: %v (total %d), want %v", tc.query, got, p.Total, tc.want)
		}
		lastPage(t, p)
	}
}

func TestListItemsSorts(t *testing.T) {
	l := startLedger(t)
	b := newBacklog(l)
	for _, tc := range []struct {
		sort      string
		asc, desc []string
	}{
		// now: rank 1 of app, rank 1 of web; next; then the rest in
		// order of proposal, in both directions.
		{"rank", []string{b.banana, b.guided, b.zebra, b.initiative, b.gone}, []string{b.zebra, b.guided, b.banana, b.initiative, b.gone}},
		{"created", []string{b.initiative, b.guided, b.banana, b.zebra, b.gone}, []string{b.gone, b.zebra, b.banana, b.guided, b.initiative}},
		{"updated", []string{b.initiative, b.guided, b.banana, b.zebra, b.gone}, []string{b.gone, b.zebra, b.banana, b.guided, b.initiative}},
		// could 2, should 3, must 4; no score last either way.
		{"score", []string{b.banana, b.gone, b.guided, b.initiative, b.zebra}, []string{b.guided, b.gone, b.banana, b.initiative, b.zebra}},
		{"title", []string{b.guided, b.banana, b.gone, b.initiative, b.zebra}, []string{b.zebra, b.initiative, b.gone, b.banana, b.guided}},
	} {
		if got := l.list("/v1/items?sort=" + tc.sort).ids(); !slices.Equal(got, tc.asc) {
			t.Errorf("sort=%s: %v, want %v", tc.sort, got, tc.asc)
		}
		if got := l.list("/v1/items?sort=-" + tc.sort).ids(); !slices.Equal(got, tc.desc) {
			t.Errorf("sort=-%s: %v, want %v", tc.sort, got, tc.desc)
		}
	}
	if got, want := l.list("/v1/items").ids(), l.list("/v1/items?sort=rank").ids(); !slices.Equal(got, want) {
		t.Errorf("no sort: %v, want roadmap order %v", got, want)
	}
}

// TestListItemsEntriesAreTheItems checks each entry of a list against the
// item's own answer, flags included.
func TestListItemsEntriesAreTheItems(t *testing.T) {
	l := startLedger(t)
	b := newBacklog(l)
	dependent := l.must(201, "POST", "/v1/items", map[string]any{"title": "Needs the initiative", "kind": "idea", "depends_on": []string{b.initiative}, "effort": 3, "risks": []string{"vendor"}})["id"].(string)
	l.must(200, "POST", "/v1/items/"+dependent+"/prioritise", map[string]any{"horizon": "next", "rationale": "r"})
	p := l.list("/v1/items?limit=500")
	if len(p.Items) != 6 || p.Sequence != l.messages() {
		t.Fatalf("%d items at sequence %d, want 6 at %d", len(p.Items), p.Sequence, l.messages())
	}
	flagged := 0
	for _, entry := range p.Items {
		id := entry["id"].(string)
		if own := l.must(200, "GET", "/v1/items/"+id, nil); !reflect.DeepEqual(entry, own) {
			t.Errorf("entry %v\nwant the item's own answer %v", entry, own)
		}
		if len(entry["flags"].([]any)) > 0 {
			flagged++
		}
	}
	if flagged != 2 {
		t.Errorf("%d entries have flags, want 2 (the dependency's two ends)", flagged)
	}
}

func TestListItemsPages(t *testing.T) {
	l := startLedger(t)
	var proposed []string
	for i := range 53 {
		proposed = append(proposed, l.item(fmt.Sprintf("Item %02d", i)))
	}

	// The default limit is 50: two pages.
	first := l.list("/v1/items?sort=created")
	if len(first.Items) != 50 || first.Total != 53 {
		t.Fatalf("the first page has %d items (total %d), want 50 of 53", len(first.Items), first.Total)
	}
	second := l.list(nextPage(t, first))
	if !slices.Equal(append(first.ids(), second.ids()...), proposed) {
		t.Errorf("two pages give %v, want %v", append(first.ids(), second.ids()...), proposed)
	}
	lastPage(t, second)

	// Every limit walks the same list; a last page that is full has no
	// next page; the filters and sort go with the cursor.
	for _, limit := range []int{1, 7, 53, 500} {
		got, pages := walkList(t, l, fmt.Sprintf("/v1/items?sort=created&limit=%d&q=item", limit))
		if !slices.Equal(got, proposed) || len(pages) != (53+limit-1)/limit {
			t.Errorf("limit %d: %d pages giving %v, want %d giving %v", limit, len(pages), got, (53+limit-1)/limit, proposed)
		}
	}
	reversed := slices.Clone(proposed)
	slices.Reverse(reversed)
	if got, _ := walkList(t, l, "/v1/items?sort=-title&limit=10"); !slices.Equal(got, reversed) {
		t.Errorf("-title in pages: %v, want %v", got, reversed)
	}

	// An empty list is one page.
	empty := l.list("/v1/items?q=nothing-matches")
	if len(empty.Items) != 0 || empty.Total != 0 || empty.Items == nil {
		t.Errorf("an empty list: %+v, want items [] and total 0", empty)
	}
	lastPage(t, empty)

	// The limit may change from page to page: the cursor says where the
	// next page starts.
	p := l.list("/v1/items?sort=created&limit=50")
	beyond := l.list(strings.Replace(nextPage(t, p), "limit=50", "limit=3", 1))
	if len(beyond.ids()) != 3 || beyond.ids()[0] != proposed[50] {
		t.Errorf("limit changed between pages: %v, want the 3 items after the first 50", beyond.ids())
	}
	lastPage(t, beyond)
}

func TestListItemsOnAnEmptyLedger(t *testing.T) {
	l := startLedger(t)
	p := l.list("/v1/items")
	if p.Items == nil || len(p.Items) != 0 || p.Total != 0 || p.Sequence != l.messages() {
		t.Errorf("an empty backlog: %+v", p)
	}
	lastPage(t, p)
}

// TestListItemsPagesWhileDecisionsLand pages through a list while items are
// proposed, moved and removed: every page is read at the first page's
// sequence, so every item of that moment is listed exactly once, as it
// stood then, and nothing else.
func TestListItemsPagesWhileDecisionsLand(t *testing.T) {
	l := startLedger(t)
	var ids []string
	for i := range 9 {
		id := l.item(fmt.Sprintf("Item %d", i))
		ids = append(ids, id)
		l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "next", "rationale": "r"})
	}
	whole := l.list("/v1/items?sort=rank&limit=500")
	first := l.list("/v1/items?sort=rank&limit=3")
	if first.Sequence != whole.Sequence || !slices.Equal(first.ids(), whole.ids()[:3]) {
		t.Fatalf("first page %v at %d, want %v at %d", first.ids(), first.Sequence, whole.ids()[:3], whole.Sequence)
	}

	// Between pages: an item of the last page moves to the top, one of the
	// second page is removed, and new items are proposed and placed first.
	l.must(200, "POST", "/v1/items/"+ids[8]+"/reprioritise", map[string]any{"horizon": "next", "rank": 1, "rationale": "r"})
	l.must(200, "POST", "/v1/items/"+ids[4]+"/remove", map[string]any{"rationale": "r"})
	for i := range 3 {
		id := l.item(fmt.Sprintf("Late %d", i))
		l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "next", "rank": 1, "rationale": "r"})
	}

	got := first.ids()
	pages := []listed{first}
	for p := first; p.NextCursor != nil; {
		p = l.list(nextPage(t, p))
		pages = append(pages, p)
		got = append(got, p.ids()...)
	}
	if !slices.Equal(got, whole.ids()) {
		t.Errorf("pages give %v, want the list as the first page saw it %v", got, whole.ids())
	}
	for i, p := range pages {
		if p.Sequence != first.Sequence || p.Total != 9 {
			t.Errorf("page %d read at %d with total %d, want %d and 9", i+1, p.Sequence, p.Total, first.Sequence)
		}
		for _, item := range p.Items {
			if item["status"] != "on_roadmap" {
				t.Errorf("page %d: %v, want every item as it stood at %d, on the roadmap", i+1, item, first.Sequence)
			}
		}
	}
	lastPage(t, pages[len(pages)-1])

	// A new first page sees the ledger as it stands.
	now := l.list("/v1/items?sort=rank&limit=500&status=on_roadmap")
	if now.Sequence != l.messages() || now.Total != 11 || now.ids()[3] != ids[8] {
		t.Errorf("the list read again: %v at %d, want 11 items at %d with the moved one after the 3 late ones", now.ids(), now.Sequence, l.messages())
	}
}

func TestListItemsRefusesBadQueries(t *testing.T) {
	l := startLedger(t)
	for i := range 3 {
		l.item(fmt.Sprintf("Item %d", i))
	}
	cursor := func(path string) string {
		t.Helper()
		p := l.list(path)
		if p.NextCursor == nil {
			t.Fatalf("%s: no next page", path)
		}
		return url.QueryEscape(*p.NextCursor)
	}
	byRank := cursor("/v1/items?limit=1")
	byTitle := cursor("/v1/items?limit=1&sort=title")
	ofIdeas := cursor("/v1/items?limit=1&kind=idea")
	ofObjectives := ""
	for range 2 {
		l.objective("Objective")
	}
	ofObjectives = cursor("/v1/objectives?limit=1")
	forged := base64.RawURLEncoding.EncodeToString([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	future := base64.RawURLEncoding.EncodeToString(append([]byte{1, 0x7f, 0}, make([]byte, 8)...))

	// The good ones, for contrast.
	l.list("/v1/items?limit=1&cursor=" + byRank)
	l.list("/v1/items?limit=1&sort=rank&cursor=" + byRank) // the default sort, named
	l.list("/v1/items?limit=2&cursor=" + byTitle + "&sort=title")
	l.list("/v1/items?kind=idea&q=&cursor=" + ofIdeas) // an empty q is no filter

	for _, query := range []string{
		"limit=0", "limit=501", "limit=-1", "limit=ten", "limit=1.5", "limit=", "limit=1&limit=2",
		"sort=priority", "sort=--rank", "sort=Rank", "sort=", "sort=+rank",
		"status=open", "status=", "horizon=soon", "horizon=NOW", "kind=epic",
		"objective_id=not-an-id", "parent_id=0193A5C4-7B1E-7C3A-9F10-2B7D4E5F6A70",
		"product=Web_App", "product=", "owner=me", "as_of=2026-01-01",
		"q=" + strings.Repeat("x", 201), "q=%FF",
		"cursor=", "cursor=!!!", "cursor=AAAA", "cursor=" + forged, "cursor=" + future,
		"cursor=" + byRank + "&sort=title", // another sort
		"cursor=" + byRank + "&sort=-rank", // another direction
		"cursor=" + byRank + "&kind=idea",  // another filter
		"cursor=" + ofIdeas,                // a filter dropped
		"cursor=" + byTitle,                // a sort dropped
		"cursor=" + ofObjectives,           // another list's
		"cursor=" + byRank + "&cursor=" + byRank,
		"cursor=" + byRank[:len(byRank)-2], // cut short
	} {
		res := l.do("GET", "/v1/items?"+query, nil)
		if p := checkProblem(t, res, 400); p["type"] != "urn:roadmap-ledger:problem:bad-query" {
			t.Errorf("%s: %v, want bad-query", query, p)
		}
	}
	res := l.do("GET", "/v1/items?limit=1&q=%zz", nil)
	checkProblem(t, res, 400)
	checkProblem(t, l.do("GET", "/v1/items", nil, "Accept", "application/xml"), 406)
	checkProblem(t, l.do("GET", "/v1/objectives?cursor="+byRank, nil), 400)
	for _, query := range []string{"limit=0", "status=on_roadmap", "horizon=now", "kind=idea", "sort=score", "product=Bad"} {
		checkProblem(t, l.do("GET", "/v1/objectives?"+query, nil), 400)
	}
}

func TestListItemsAsCSV(t *testing.T) {
	l := startLedger(t)
	obj, other := l.objective("Growth"), l.objective("Retention")
	parent := l.must(201, "POST", "/v1/items", map[string]any{"title": "=HYPERLINK(\"http://evil\")", "description": "+1 for this", "kind": "initiative", "product": "web"})["id"].(string)
	child := l.must(201, "POST", "/v1/items", map[string]any{
		"title": "Plain, with a comma", "description": "line one\nline two", "kind": "idea", "product": "web", "parent_id": parent,
		"objective_ids": []string{obj, other}, "effort": 5, "depends_on": []string{parent}, "risks": []string{"@vendor", "-cost"},
	})["id"].(string)
	l.must(200, "POST", "/v1/items/"+child+"/prioritise", map[string]any{"horizon": "now", "rationale": "r", "score": map[string]any{"framework": "moscow", "category": "should"}})
	third := l.item("Third")

	res := l.do("GET", "/v1/items?limit=1&sort=created", nil, "Accept", "text/csv")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv; charset=utf-8") {
		t.Errorf("Content-Type %q, want text/csv; charset=utf-8", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="items.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if res.Header.Get("Link") != "" {
		t.Errorf("an export has a Link header: %q", res.Header.Get("Link"))
	}
	rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v: %s", err, res.Body)
	}
	header := []string{"id", "title", "description", "kind", "product", "status", "horizon", "rank", "score",
		"objective_ids", "parent_id", "effort", "depends_on", "risks", "source", "external_id", "import_id", "version"}
	if !slices.Equal(rows[0], header) {
		t.Errorf("header %v, want %v", rows[0], header)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows, want the header and every item whatever the limit: %q", len(rows), rows)
	}
	version := func(id string) string {
		return fmt.Sprint(l.must(200, "GET", "/v1/items/"+id, nil)["version"])
	}
	want := [][]string{
		{parent, `'=HYPERLINK("http://evil")`, "'+1 for this", "initiative", "web", "proposed", "", "", "", "", "", "", "", "", "", "", "", version(parent)},
		{child, "Plain, with a comma", "line one\nline two", "idea", "web", "on_roadmap", "now", "1", "3", obj + "\n" + other, parent, "5", parent, "'@vendor\n-cost", "", "", "", version(child)},
		{third, "Third", "", "idea", "default", "proposed", "", "", "", "", "", "", "", "", "", "", "", version(third)},
	}
	for i, w := range want {
		if !slices.Equal(rows[i+1], w) {
			t.Errorf("row %d:\n%q\nwant\n%q", i+1, rows[i+1], w)
		}
	}

	// Filters and sort apply; a cursor does not narrow an export.
	filtered := l.do("GET", "/v1/items?kind=idea&sort=-created", nil, "Accept", "text/csv")
	rows, err = csv.NewReader(strings.NewReader(string(filtered.Body))).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][0] != third || rows[2][0] != child {
		t.Errorf("ideas, newest first: %q (%v), want %s then %s", rows, err, third, child)
	}
	p := l.list("/v1/items?limit=1")
	withCursor := l.do("GET", "/v1/items?limit=1&cursor="+url.QueryEscape(*p.NextCursor), nil, "Accept", "text/csv")
	if rows, err = csv.NewReader(strings.NewReader(string(withCursor.Body))).ReadAll(); err != nil || len(rows) != 4 {
		t.Errorf("an export with a cursor: %q (%v), want every item", rows, err)
	}
	// An export of nothing is its header.
	none := l.do("GET", "/v1/items?q=nothing", nil, "Accept", "text/csv")
	if string(none.Body) != strings.Join(header, ",")+"\n" {
		t.Errorf("an empty export: %q, want the header row alone", none.Body)
	}
	// JSON stays the default, and wins over CSV at equal weight.
	for _, accept := range []string{"", "*/*", "application/json", "text/csv;q=0.5, application/json", "application/json, text/csv"} {
		if res := l.do("GET", "/v1/items", nil, "Accept", accept); !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("Accept %q: %s, want JSON", accept, res.Header.Get("Content-Type"))
		}
	}
}

func TestListObjectives(t *testing.T) {
	l := startLedger(t)
	b := newBacklog(l)
	third := l.must(201, "POST", "/v1/objectives", map[string]any{"title": "ÜBER growth", "description": "Ride along", "kpi": "k", "target": "t", "product": "web"})["id"].(string)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{b.growth, b.delight, third}},
		{"sort=-created", []string{third, b.delight, b.growth}},
		{"sort=title", []string{b.delight, b.growth, third}},
		{"sort=-title", []string{third, b.growth, b.delight}},
		{"sort=updated", []string{b.growth, b.delight, third}},
		{"sort=-updated", []string{third, b.delight, b.growth}},
		{"product=web", []string{b.growth, third}},
		{"product=app", []string{b.delight}},
		{"status=retired", []string{b.delight}},
		{"status=active", []string{b.growth, third}},
		{"q=%C3%BCber", []string{third}}, // über
		{"q=GROW", []string{b.growth, third}},
		{"q=ride", []string{third}},
		{"product=web&status=active&q=revenue", []string{b.growth}},
		{"product=app&status=active", []string{}},
	} {
		p := l.list("/v1/objectives?" + tc.query)
		if got := p.ids(); !slices.Equal(got, tc.want) || p.Total != len(tc.want) || len(p.Items) != 0 {
			t.Errorf("%s: %v (total %d), want %v", tc.query, got, p.Total, tc.want)
		}
	}
	for _, o := range l.list("/v1/objectives").Objectives {
		if own := l.must(200, "GET", "/v1/objectives/"+o["id"].(string), nil); !reflect.DeepEqual(o, own) {
			t.Errorf("entry %v, want the objective's own answer %v", o, own)
		}
	}
	first := l.list("/v1/objectives?limit=2")
	l.objective("Defined between pages")
	second := l.list(nextPage(t, first))
	if got := append(first.ids(), second.ids()...); !slices.Equal(got, []string{b.growth, b.delight, third}) || second.Sequence != first.Sequence {
		t.Errorf("pages %v at %d, %d; want the three objectives of the first page's moment", got, first.Sequence, second.Sequence)
	}
	lastPage(t, second)
	if p := l.list("/v1/objectives"); p.Total != 4 {
		t.Errorf("read again: total %d, want 4", p.Total)
	}
}

func TestListsAndHistoryRoles(t *testing.T) {
	l := startLedger(t)
	obj := l.objective("Roles")
	l.item("Listed", obj)
	viewer, auditor := l.token("a viewer", "viewer"), l.token("an auditor", "auditor")
	for _, path := range []string{"/v1/items", "/v1/objectives", "/v1/items?objective_id=" + obj} {
		if p := l.list(path, bearer(viewer)...); p.Total != 1 {
			t.Errorf("a viewer reads %s: total %d, want 1", path, p.Total)
		}
	}
	if res := l.do("GET", "/v1/items", nil, append(bearer(viewer), "Accept", "text/csv")...); res.Status != 200 {
		t.Errorf("a viewer exports the backlog: %d", res.Status)
	}
	checkProblem(t, l.do("GET", "/v1/objectives/"+obj+"/history", nil, bearer(viewer)...), 403)
	l.must(200, "GET", "/v1/objectives/"+obj+"/history", nil, bearer(auditor)...)
	checkProblem(t, l.do("GET", "/v1/items", nil, "Authorization", ""), 401)
}
