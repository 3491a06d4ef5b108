package api_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/htmltest"
)

// hostileTitle and hostileRationale are user text that would break a
// Markdown table, start markup or run a script if a pack wrote it out as it
// is; hostileTitleMD and hostileRationaleMD are how the Markdown pack must
// write them.
const (
	hostileTitle       = "Queue upgrade | *infra* <script>alert(1)</script>"
	hostileTitleMD     = `Queue upgrade \| \*infra\* \<script\>alert(1)\</script\>`
	hostileRationale   = "Lost the deal | see [CRM](javascript:alert(2)) _today_ & <b>move on</b>"
	hostileRationaleMD = `Lost the deal \| see \[CRM\](javascript:alert(2)) \_today\_ \& \<b\>move on\</b\>`
)

// packHeadings are the pack's section headings, in the agenda's order.
var packHeadings = []string{
	"1. Goals", "2. Progress", "3. Decisions of the period", "4. Capacity against commitments",
	"5. Risks and dependencies", "6. Health signals", "7. Pending changes", "8. Diff against the previous review", "9. Figures against the previous review",
}

// packIDs are the ids of the HTML pack's sections, in the same order.
var packIDs = []string{"goals", "progress", "decisions", "capacity", "risks", "health", "pending", "diff", "numbers"}

// month is a ledger with a closed review of October and a month of
// decisions after it, closed into the review of January.
type month struct {
	l                 *testLedger
	dir               string
	october, january  string
	seq               map[string]uint64 // decisions by name
	activation, guide string
}

// scriptMonth writes the month: objectives, items, prioritisations, the
// October review, 95 days later a reprioritisation without evidence, an item
// moved thrice, a removal, a new item, a rescore, and the January review.
func scriptMonth(t *testing.T) *month {
	t.Helper()
	clock := newFakeClock()
	m := &month{dir: t.TempDir(), seq: map[string]uint64{}}
	m.l = startLedgerWith(t, app.Config{DataDir: m.dir, Now: clock.Now})
	l := m.l
	decide := func(name, id, verb, actor string, body map[string]any) {
		t.Helper()
		m.seq[name] = uint64(l.must(200, "POST", "/v1/items/"+id+"/"+verb, body, as, actor)["version"].(float64))
	}
	m.activation = l.objective("Activation")
	l.objective("Expansion") // nothing will serve it
	m.guide = l.item("Guided setup", m.activation)
	sales := l.item("Sales ask")
	bulk := l.item("Bulk import", m.activation)
	dark := l.item("Dark mode", m.activation)
	churn := l.item("Churn dashboard", m.activation)
	queue := l.item(hostileTitle)
	partner := l.item("Partner API", m.activation)

	decide("guide placed", m.guide, "prioritise", "pm", map[string]any{"horizon": "now", "rationale": "top churn reason",
		"score": map[string]any{"framework": "moscow", "category": "should"}, "evidence": []string{"https://example.com/a"}})
	decide("sales placed", sales, "prioritise", "pm", map[string]any{"horizon": "next", "rationale": "sales ask"})
	decide("bulk placed", bulk, "prioritise", "pm", map[string]any{"horizon": "later", "rationale": "bet", "evidence": []string{"https://example.com/c"}})
	decide("dark placed", dark, "prioritise", "pm", map[string]any{"horizon": "later", "rationale": "nice to have"})
	decide("churn placed", churn, "prioritise", "pm", map[string]any{"horizon": "next", "rationale": "see churn", "evidence": []string{"https://example.com/e0"}})
	decide("queue placed", queue, "prioritise", "lead@example.com", map[string]any{"horizon": "later", "rationale": "someday"})

	m.october = l.must(201, "POST", "/v1/reviews", map[string]any{"period": "2026-10", "title": "October board"}, as, "chair")["id"].(string)
	l.must(200, "POST", "/v1/reviews/"+m.october+"/close", map[string]any{"notes": "fine"}, as, "chair")

	clock.Advance(95 * 24 * time.Hour)
	decide("bulk raised", bulk, "reprioritise", "pm", map[string]any{"horizon": "next", "rationale": "customers keep asking"})
	decide("churn up", churn, "reprioritise", "pm", map[string]any{"horizon": "now", "rationale": "new data", "evidence": []string{"https://example.com/e1"}})
	decide("churn down", churn, "reprioritise", "pm", map[string]any{"horizon": "later", "rationale": "blocked", "evidence": []string{"https://example.com/e1"}})
	decide("churn back", churn, "reprioritise", "pm", map[string]any{"horizon": "next", "rationale": "unblocked", "evidence": []string{"https://example.com/e1"}})
	decide("sales removed", sales, "remove", "pm", map[string]any{"rationale": hostileRationale})
	decide("partner placed", partner, "prioritise", "pm", map[string]any{"horizon": "now", "rationale": "partner deal", "evidence": []string{"https://example.com/p"}})
	decide("guide rescored", m.guide, "reprioritise", "cpo@example.com", map[string]any{"rationale": "board call",
		"score": map[string]any{"framework": "moscow", "category": "must"}})

	m.january = l.must(201, "POST", "/v1/reviews", map[string]any{"period": "2027-01", "title": "January board"}, as, "chair")["id"].(string)
	l.must(200, "POST", "/v1/reviews/"+m.january+"/close", map[string]any{"notes": "Ask for evidence | before raising"}, as, "chair")
	return m
}

// getPack fetches a pack with the given Accept and checks its media type.
// samePacks checks that the packs are still the bytes in before, keyed by
// review id and format (md or html); a pack that is not is said to be what.
func (m *month) samePacks(t *testing.T, before map[string][]byte, what string) {
	t.Helper()
	for key, want := range before {
		id, format, _ := strings.Cut(key, " ")
		accept, ctype := "text/markdown", markdownType
		if format == "html" {
			accept, ctype = "text/html", htmlType
		}
		if got := m.getPack(t, id, accept, ctype); !bytes.Equal(got, want) {
			t.Errorf("%s %s:\nbefore %s\nafter  %s", key, what, want, got)
		}
	}
}

func (m *month) getPack(t *testing.T, id, accept, wantType string) []byte {
	t.Helper()
	res := m.l.do("GET", "/v1/reviews/"+id+"/pack", nil, "Accept", accept)
	if res.Status != 200 {
		t.Fatalf("pack with Accept %q: status %d: %s", accept, res.Status, res.Body)
	}
	if got := res.Header.Get("Content-Type"); got != wantType {
		t.Errorf("pack with Accept %q: Content-Type %q, want %q", accept, got, wantType)
	}
	if !slices.Contains(res.Header.Values("Vary"), "Accept") {
		t.Errorf("pack with Accept %q: Vary %q, want Accept", accept, res.Header.Values("Vary"))
	}
	return res.Body
}

const (
	markdownType = "text/markdown; charset=utf-8"
	htmlType     = "text/html; charset=utf-8"
)

// mdSections splits a Markdown pack at its "## " headings: the headings in
// order and the text under each.
func mdSections(md string) ([]string, map[string]string) {
	var headings []string
	body := map[string]string{}
	for _, part := range strings.Split(md, "\n## ")[1:] {
		heading, text, _ := strings.Cut(part, "\n")
		headings = append(headings, heading)
		body[heading] = text
	}
	return headings, body
}

// mdCells splits a table row at its unescaped pipes, keeping escapes.
func mdCells(row string) []string {
	row = strings.TrimSpace(row)
	var cells []string
	var cell strings.Builder
	for i := 1; i < len(row); i++ { // past the leading pipe
		switch c := row[i]; {
		case c == '\\' && i+1 < len(row):
			cell.WriteByte(c)
			cell.WriteByte(row[i+1])
			i++
		case c == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(c)
		}
	}
	return cells
}

// mdRows returns the data rows of every table in a Markdown text, as cells,
// checking each has as many cells as its header.
func mdRows(t *testing.T, text string) [][]string {
	t.Helper()
	var rows [][]string
	lines := strings.Split(text, "\n")
	width := 0
	for _, l := range lines {
		if !strings.HasPrefix(l, "|") {
			width = 0
			continue
		}
		cells := mdCells(l)
		switch {
		case width == 0:
			width = len(cells) // the header
		case strings.Trim(l, "|- ") == "":
		case len(cells) != width:
			t.Errorf("table row of %d cells under a header of %d: %s", len(cells), width, l)
		default:
			rows = append(rows, cells)
		}
	}
	return rows
}

// rowsStarting returns the rows whose first cells are the given ones.
func rowsStarting(rows [][]string, first ...string) [][]string {
	var out [][]string
	for _, r := range rows {
		if len(r) >= len(first) && slices.Equal(r[:len(first)], first) {
			out = append(out, r)
		}
	}
	return out
}

func seqCell(n uint64) string { return fmt.Sprintf("#%d", n) }

func TestReviewPackFollowsTheAgenda(t *testing.T) {
	m := scriptMonth(t)
	l := m.l
	s := m.seq
	snap := l.must(200, "GET", "/v1/reviews/"+m.january, nil)

	md := m.getPack(t, m.january, "text/markdown", markdownType)
	headings, sections := mdSections(string(md))
	if !slices.Equal(headings, packHeadings) {
		t.Fatalf("headings %q, want %q", headings, packHeadings)
	}
	if !strings.HasPrefix(string(md), "# January board\n") || !strings.Contains(string(md), "- Notes: Ask for evidence \\| before raising\n") {
		t.Errorf("the pack's header:\n%s", md)
	}
	if strings.Contains(string(md), "<script>") || strings.Contains(string(md), "<b>") || strings.Contains(string(md), "[CRM]") {
		t.Errorf("user text left as markup in the Markdown pack:\n%s", md)
	}

	t.Run("goals", func(t *testing.T) {
		goals := sections[packHeadings[0]]
		activation, rest, _ := strings.Cut(goals, "### Expansion")
		if !strings.Contains(activation, "### Activation\n\nKPI: kpi of Activation · Target: +10% · Product: default\n") {
			t.Errorf("Activation with its KPI and target missing:\n%s", goals)
		}
		got := mdRows(t, activation)
		want := [][]string{
			{"now", "1", "Guided setup", "default"}, {"now", "2", "Partner API", "default"},
			{"next", "1", "Bulk import", "default"}, {"next", "2", "Churn dashboard", "default"},
			{"later", "1", "Dark mode", "default"},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Activation's items %q, want %q", got, want)
		}
		expansion, unaligned, _ := strings.Cut(rest, "### Unaligned")
		if !strings.Contains(expansion, "No roadmap item serves this objective.") {
			t.Errorf("Expansion is not shown as served by nothing:\n%s", expansion)
		}
		if got, want := fmt.Sprint(mdRows(t, unaligned)), fmt.Sprint([][]string{{"later", "2", hostileTitleMD, "default"}}); got != want {
			t.Errorf("unaligned %s, want %s", got, want)
		}
	})

	t.Run("progress, capacity, risks and pending changes are empty", func(t *testing.T) {
		for heading, want := range map[string]string{
			packHeadings[1]: "No items delivered in this period.",
			packHeadings[3]: "No capacity set.",
			packHeadings[4]: "No risks recorded.",
			packHeadings[6]: "No changes pending approval.",
		} {
			if !strings.Contains(sections[heading], want) {
				t.Errorf("%s: %q missing:\n%s", heading, want, sections[heading])
			}
		}
	})

	t.Run("decisions in log order", func(t *testing.T) {
		rows := mdRows(t, sections[packHeadings[2]])
		var got []string
		for _, r := range rows {
			got = append(got, r[0])
		}
		var want []string
		for _, d := range snap["decisions"].([]any) {
			ev := d.(map[string]any)
			want = append(want, fmt.Sprintf("#%v", ev["seq"]))
			if row := rowsStarting(rows, fmt.Sprintf("#%v", ev["seq"])); len(row) == 1 {
				at, _ := time.Parse(time.RFC3339Nano, ev["at"].(string))
				if cells := row[0][1:4]; !slices.Equal(cells, []string{at.UTC().Format("2006-01-02 15:04 UTC"), ev["actor"].(string), ev["type"].(string)}) {
					t.Errorf("decision %v: time, actor, type %q, want %s %v %v", ev["seq"], cells, at, ev["actor"], ev["type"])
				}
			}
		}
		if !slices.Equal(got, want) || len(want) != 7 {
			t.Errorf("decisions %q, want the snapshot's 7 %q", got, want)
		}
		for _, w := range [][]string{
			{seqCell(s["bulk raised"]), "Bulk import", "later #1 → next #3", "—", "customers keep asking", "—"},
			{seqCell(s["churn back"]), "Churn dashboard", "later #3 → next #3", "—", "unblocked", "https://example.com/e1"},
			{seqCell(s["sales removed"]), "Sales ask", "next #1 → off the roadmap", "—", hostileRationaleMD, "—"},
			{seqCell(s["partner placed"]), "Partner API", "off the roadmap → now #2", "—", "partner deal", "https://example.com/p"},
			{seqCell(s["guide rescored"]), "Guided setup", "now #1 → now #1", "moscow must", "board call", "—"},
		} {
			row := rowsStarting(rows, w[0])
			if len(row) != 1 {
				t.Errorf("no decision %s", w[0])
				continue
			}
			if got := append([]string{row[0][0]}, row[0][4:]...); !slices.Equal(got, w) {
				t.Errorf("decision row %q,\nwant %q", got, w)
			}
		}
	})

	t.Run("health signals with backlog gravity", func(t *testing.T) {
		health := sections[packHeadings[5]]
		part := func(title string) string {
			_, after, ok := strings.Cut(health, "### "+title+"\n")
			if !ok {
				t.Fatalf("no %q under health:\n%s", title, health)
			}
			text, _, _ := strings.Cut(after, "### ")
			return text
		}
		if got := fmt.Sprint(mdRows(t, part("Orphans"))); got != fmt.Sprint([][]string{{hostileTitleMD, "default", "later #2"}}) {
			t.Errorf("orphans %s", got)
		}
		if got := mdRows(t, part("Orphaned objectives")); len(got) != 1 || got[0][0] != "Expansion" {
			t.Errorf("orphaned objectives %q, want Expansion", got)
		}
		var stale []string
		for _, r := range mdRows(t, part("Stale items")) {
			stale = append(stale, r[0])
		}
		if !slices.Equal(stale, []string{"Dark mode", hostileTitleMD}) {
			t.Errorf("stale %q, want Dark mode and the queue upgrade", stale)
		}
		churn := mdRows(t, part("Churn"))
		if want := [][]string{{"Churn dashboard", "3", fmt.Sprintf("#%d, #%d, #%d", s["churn up"], s["churn down"], s["churn back"])}}; fmt.Sprint(churn) != fmt.Sprint(want) {
			t.Errorf("churn %q, want %q", churn, want)
		}
		gravity := mdRows(t, part("Backlog gravity"))
		var got [][]string
		for _, r := range gravity {
			got = append(got, r[:4])
		}
		want := [][]string{
			{"Dark mode", "default", "long-in-later", seqCell(s["dark placed"])},
			{hostileTitleMD, "default", "long-in-later", seqCell(s["queue placed"])},
			{"Bulk import", "default", "raised-without-evidence", seqCell(s["bulk raised"])},
			{"Churn dashboard", "default", "raised-without-evidence", seqCell(s["churn back"])},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("backlog gravity %q,\nwant %q (the churn dashboard's first raise had new evidence)", got, want)
		}
		if len(gravity) == 4 && (!strings.HasPrefix(gravity[0][4], "in later since 2026-10-01 ") || gravity[2][4] != "raised later #1 → next #3") {
			t.Errorf("gravity details %q and %q", gravity[0][4], gravity[2][4])
		}

		// The JSON snapshot has the same rows.
		var rows []string
		for _, g := range snap["signals"].(map[string]any)["backlog_gravity"].([]any) {
			row := g.(map[string]any)
			rows = append(rows, fmt.Sprintf("%v %v %v %v", row["title"], row["reason"], row["sequence"], row["since"] != nil))
		}
		wantJSON := []string{
			fmt.Sprintf("Dark mode long-in-later %d true", s["dark placed"]),
			fmt.Sprintf("%s long-in-later %d true", hostileTitle, s["queue placed"]),
			fmt.Sprintf("Bulk import raised-without-evidence %d false", s["bulk raised"]),
			fmt.Sprintf("Churn dashboard raised-without-evidence %d false", s["churn back"]),
		}
		if !slices.Equal(rows, wantJSON) {
			t.Errorf("snapshot backlog_gravity %q,\nwant %q", rows, wantJSON)
		}
	})

	t.Run("diff against October", func(t *testing.T) {
		diff := sections[packHeadings[7]]
		if !strings.Contains(diff, "Against the review of 2026-10 (`"+m.october+"`)") {
			t.Errorf("the diff does not name October:\n%s", diff)
		}
		rows := mdRows(t, diff)
		want := [][]string{
			{"Partner API", "default", "off the roadmap", "now #2", "—", seqCell(s["partner placed"])},
			{"Sales ask", "default", "next #1", "off the roadmap", "—", seqCell(s["sales removed"])},
			{"Bulk import", "default", "later #1", "next #1", "—", seqCell(s["bulk raised"])},
			{"Guided setup", "default", "now #1", "now #1", "moscow should → moscow must", seqCell(s["guide rescored"])},
		}
		if fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Errorf("diff rows %q,\nwant (added, removed, moved, rescored) %q", rows, want)
		}
		for _, h := range []string{"### Added", "### Removed", "### Moved", "### Rescored"} {
			if !strings.Contains(diff, h+"\n") {
				t.Errorf("the diff lacks %q", h)
			}
		}
	})

	t.Run("HTML", func(t *testing.T) {
		page := m.getPack(t, m.january, "text/html", htmlType)
		doc, err := html.Parse(bytes.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		if n := htmltest.Find(doc, htmltest.Element("script")); len(n) != 0 {
			t.Errorf("the page has %d script elements", len(n))
		}
		var ids, h2s []string
		for _, sec := range htmltest.Find(doc, htmltest.Element("section")) {
			ids = append(ids, htmltest.Attr(sec, "id"))
			if h := htmltest.Find(sec, htmltest.Element("h2")); len(h) == 1 {
				h2s = append(h2s, nodeText(h[0]))
			}
		}
		if !slices.Equal(ids, packIDs) || !slices.Equal(h2s, packHeadings) {
			t.Fatalf("sections %q headed %q, want %q headed %q", ids, h2s, packIDs, packHeadings)
		}
		byID := map[string]*html.Node{}
		for _, sec := range htmltest.Find(doc, htmltest.Element("section")) {
			byID[htmltest.Attr(sec, "id")] = sec
		}
		// Each section's tables read as the Markdown ones do, but for
		// escapes.
		for i, id := range packIDs {
			htmlRows := tableRows(byID[id])
			var want [][]string
			for _, r := range mdRows(t, sections[packHeadings[i]]) {
				var cells []string
				for _, c := range r {
					cells = append(cells, unescapeMD(c))
				}
				want = append(want, cells)
			}
			if fmt.Sprint(htmlRows) != fmt.Sprint(want) {
				t.Errorf("section %s: HTML rows %q,\nMarkdown rows %q", id, htmlRows, want)
			}
		}
		text := nodeText(doc)
		for _, want := range []string{
			"No items delivered in this period.", "No capacity set.", "No changes pending approval.",
			"KPI: kpi of Activation · Target: +10% · Product: default", "Notes Ask for evidence | before raising",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if got := strings.Count(text, hostileTitle); got != 4 {
			t.Errorf("the hostile title reads as text %d times, want 4 (unaligned, orphan, stale, gravity)", got)
		}
		if !strings.Contains(text, hostileRationale) {
			t.Errorf("the hostile rationale does not read as text")
		}
	})
}

// unescapeMD undoes the Markdown pack's escapes and its dash for an empty
// cell, and the list separator the HTML pack writes as list items.
func unescapeMD(cell string) string {
	if cell == "—" {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(cell); i++ {
		if cell[i] == '\\' && i+1 < len(cell) {
			i++
		}
		b.WriteByte(cell[i])
	}
	return strings.ReplaceAll(b.String(), " · ", " ")
}

func TestReviewPackIsReproducible(t *testing.T) {
	m := scriptMonth(t)
	before := map[string][]byte{}
	for _, id := range []string{m.october, m.january} {
		before[id+" md"] = m.getPack(t, id, "text/markdown", markdownType)
		before[id+" html"] = m.getPack(t, id, "text/html", htmlType)
	}
	if !strings.Contains(string(before[m.october+" md"]), "## 8. Diff against the previous review\n\nFirst review: nothing to compare.\n") {
		t.Errorf("October's pack compares with something:\n%s", before[m.october+" md"])
	}

	// The ledger goes on: a decision, a review of an earlier period closed
	// after January, an open one. January's pack stays as it was.
	m.l.must(200, "POST", "/v1/items/"+m.guide+"/reprioritise", map[string]any{"horizon": "later", "rationale": "later"})
	december := m.l.must(201, "POST", "/v1/reviews", map[string]any{"period": "2026-12"})["id"].(string)
	m.l.must(200, "POST", "/v1/reviews/"+december+"/close", map[string]any{})
	february := m.l.must(201, "POST", "/v1/reviews", map[string]any{"period": "2027-02"})["id"].(string)
	m.samePacks(t, before, "changed as the ledger went on")

	// An open review shows the ledger now and compares with the closed
	// review of the latest earlier period: January, though December closed
	// after it.
	open := string(m.getPack(t, february, "", markdownType))
	for _, want := range []string{"- Review: `" + february + "`, open", "- Open: as the ledger stands at position",
		"Against the review of 2027-01 (`" + m.january + "`)", "### Moved\n\n| Item | Product | From | To | Score | Decisions |\n| --- | --- | --- | --- | --- | --- |\n| Guided setup | default | now #1 | later #3 |"} {
		if !strings.Contains(open, want) {
			t.Errorf("the open review's pack lacks %q:\n%s", want, open)
		}
	}

	// Rebuilt from the log after a restart, the packs are the same bytes.
	m.l.stop()
	m.l = startLedgerIn(t, m.dir)
	m.samePacks(t, before, "differs after a restart")
}

func TestReviewPackNegotiatesItsFormat(t *testing.T) {
	l := startLedger(t)
	id := l.must(201, "POST", "/v1/reviews", map[string]any{"period": nextMonth()})["id"].(string)
	for _, tc := range []struct{ accept, want string }{
		{"", markdownType},
		{"*/*", markdownType},
		{"text/*", markdownType},
		{"text/html", htmlType},
		{"text/markdown;q=0.5, text/html;q=0.9", htmlType},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", htmlType},
		{"application/json, text/markdown;q=0.1", markdownType},
	} {
		res := l.do("GET", "/v1/reviews/"+id+"/pack", nil, "Accept", tc.accept)
		if res.Status != 200 || res.Header.Get("Content-Type") != tc.want {
			t.Errorf("Accept %q: %d %q, want 200 %q", tc.accept, res.Status, res.Header.Get("Content-Type"), tc.want)
		}
	}
	for _, accept := range []string{"application/json", "image/png", "text/html;q=0, text/markdown;q=0", "text/csv"} {
		checkProblem(t, l.do("GET", "/v1/reviews/"+id+"/pack", nil, "Accept", accept), 406)
	}
	checkProblem(t, l.do("GET", "/v1/reviews/01234567-89ab-7def-8123-456789abcdef/pack", nil), 404)
	checkProblem(t, l.do("GET", "/v1/reviews/"+id+"/pack?format=html", nil), 400)
}

// nodeText returns the text inside n, text nodes apart and runs of white
// space made one space.
func nodeText(n *html.Node) string {
	var b strings.Builder
	for _, t := range htmltest.Find(n, func(n *html.Node) bool { return n.Type == html.TextNode }) {
		b.WriteString(t.Data + " ")
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// tableRows returns the data rows of every table under n, as the text of
// their cells.
func tableRows(n *html.Node) [][]string {
	var rows [][]string
	for _, tr := range htmltest.Find(n, htmltest.Element("tr")) {
		var cells []string
		for _, td := range htmltest.Find(tr, htmltest.Element("td")) {
			cells = append(cells, nodeText(td))
		}
		if cells != nil {
			rows = append(rows, cells)
		}
	}
	return rows
}
