package pack_test

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/roadmap-ledger/roadmap/internal/htmltest"
	"github.com/roadmap-ledger/roadmap/internal/pack"
)

// hostile is user text that would break a table, start markup or run a
// script if it were written out as it is.
const hostile = "Board call | *urgent* _now_ <script>alert(1)</script> [x](javascript:alert(2)) `code` &amp; ~~gone~~\nsecond line"

func at(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }

func fullPack() pack.Pack {
	closed := at(30, 17)
	since := at(1, 9)
	capacity := 3
	return pack.Pack{
		ReviewID: "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70", Period: "2026-11", Title: "November board", Status: "closed",
		OpenedAt: at(28, 9), ClosedAt: &closed, Notes: "Ask C for evidence | soon",
		SinceSequence: 10, Sequence: 20, AsOf: &closed, MeasuredAt: closed, ChainDigest: "abc123",
		Goals: []pack.Goal{
			{ObjectiveID: "o1", Title: "Activation", KPI: "time to first value", Target: "-30%", Product: "web",
				Items: []pack.GoalItem{{ItemID: "i1", Title: "Guided setup", Product: "web", Place: pack.Place{Horizon: "now", Rank: 1}}}},
			{ObjectiveID: "o2", Title: "# Expansion", KPI: "k", Target: "t", Product: "web"},
		},
		Unaligned: []pack.GoalItem{{ItemID: "i2", Title: hostile, Product: "web", Place: pack.Place{Horizon: "later", Rank: 2}}},
		Progress: []pack.ProgressRow{{ItemID: "i1", Title: "Guided setup", Product: "web", Sequence: 12, At: at(3, 10), Actor: "pm",
			Rationale: "shipped", Evidence: []string{"https://example.com/release"}}},
		Decisions: []pack.DecisionRow{
			{Sequence: 11, At: at(2, 10), Actor: "pm@example.com", Type: "item.reprioritised", Kind: "item", ID: "i2", Subject: hostile,
				From: &pack.Place{Horizon: "later", Rank: 1}, To: &pack.Place{Horizon: "next", Rank: 3}, Score: "moscow 4",
				Rationale: hostile, Evidence: []string{"https://example.com/a|b", "javascript:alert(3)"}},
			{Sequence: 13, At: at(4, 10), Actor: "ceo", Type: "objective.defined", Kind: "objective", ID: "o2", Subject: "# Expansion"},
		},
		Capacity:     []pack.CapacityRow{{Product: "web", Horizon: "now", Capacity: &capacity, Committed: 4, Over: true}},
		Risks:        []pack.RiskRow{{ItemID: "i1", Title: "Guided setup", Risks: []string{"vendor | delay"}}},
		Dependencies: []pack.DependencyRow{{ItemID: "i1", Title: "Guided setup", DependsOn: []string{"i2"}, Flag: "depends on a later item"}},
		Health: pack.Health{
			Orphans:            []pack.HealthItem{{ItemID: "i2", Title: hostile, Product: "web", Place: pack.Place{Horizon: "later", Rank: 2}}},
			OrphanedObjectives: []pack.ObjectiveRow{{ObjectiveID: "o2", Title: "# Expansion", KPI: "k", Target: "t", Product: "web"}},
			Stale:              []pack.StaleRow{{HealthItem: pack.HealthItem{ItemID: "i1", Title: "Guided setup", Product: "web", Place: pack.Place{Horizon: "now", Rank: 1}}, LastDecisionAt: since, DaysSince: 91}},
			Churn:              []pack.ChurnRow{{ItemID: "i2", Title: hostile, Moves: 3, Sequences: []uint64{11, 14, 15}}},
			Gravity: []pack.GravityRow{
				{ItemID: "i3", Title: "Dark mode", Product: "web", Reason: "long-in-later", Sequence: 4, Since: &since},
				{ItemID: "i2", Title: hostile, Product: "web", Reason: "raised-without-evidence", Sequence: 11, Move: "later #1 → next #3"},
			},
		},
		Pending: []pack.PendingRow{{ID: "p1", ItemID: "i1", Title: "Guided setup", Change: "now → later", ProposedBy: "pm", ProposedAt: at(5, 9), Rationale: hostile}},
		Diff: &pack.Diff{AgainstID: "0193a5c4-0000-7c3a-9f10-2b7d4e5f6a70", AgainstPeriod: "2026-10", AgainstSequence: 10,
			Added:    []pack.DiffRow{{ItemID: "i4", Title: "Partner API", Product: "web", To: pack.Place{Horizon: "now", Rank: 2}, Decisions: []uint64{16}}},
			Rescored: []pack.DiffRow{{ItemID: "i1", Title: "Guided setup", Product: "web", From: pack.Place{Horizon: "now", Rank: 1}, To: pack.Place{Horizon: "now", Rank: 1}, FromScore: "moscow 3", ToScore: "moscow 4", Decisions: []uint64{17}}},
		},
	}
}

func render(t *testing.T, fn func(*bytes.Buffer, pack.Pack) error, p pack.Pack) string {
	t.Helper()
	var b bytes.Buffer
	if err := fn(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func markdown(t *testing.T, p pack.Pack) string {
	return render(t, func(b *bytes.Buffer, p pack.Pack) error { return pack.Markdown(b, p) }, p)
}

func htmlOf(t *testing.T, p pack.Pack) string {
	return render(t, func(b *bytes.Buffer, p pack.Pack) error { return pack.HTML(b, p) }, p)
}

var wantHeadings = []string{
	"## 1. Goals", "## 2. Progress", "## 3. Decisions of the period", "## 4. Capacity against commitments",
	"## 5. Risks and dependencies", "## 6. Health signals", "## 7. Pending changes", "## 8. Diff against the previous review", "## 9. Figures against the previous review",
}

// unescapedPipes counts the cell separators of a Markdown table row.
var unescapedPipe = regexp.MustCompile(`(^|[^\\])\|`)

func TestMarkdownKeepsItsLayoutWhateverTheText(t *testing.T) {
	md := markdown(t, fullPack())
	var headings []string
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "## ") {
			headings = append(headings, l)
		}
	}
	if !slices.Equal(headings, wantHeadings) {
		t.Errorf("headings %q, want %q", headings, wantHeadings)
	}

	// Every row of a table has as many cells as its header.
	cells := 0
	for i, l := range strings.Split(md, "\n") {
		if !strings.HasPrefix(l, "|") {
			cells = 0
			continue
		}
		n := len(unescapedPipe.FindAllString(" "+l, -1))
		if cells == 0 {
			cells = n
		} else if n != cells {
			t.Errorf("line %d has %d separators, its table %d: %s", i+1, n, cells, l)
		}
	}

	for _, bad := range []string{"<script>", "*urgent*", "_now_", "[x](", "~~gone~~", " &amp;", " | soon", "\nsecond line", "### # Expansion"} {
		if strings.Contains(md, bad) {
			t.Errorf("user text left as markup: %q", bad)
		}
	}
	escaped := `Board call \| \*urgent\* \_now\_ \<script\>alert(1)\</script\> \[x\](javascript:alert(2)) \` + "`code\\`" + ` \&amp; \~\~gone\~\~ second line`
	if got := strings.Count(md, escaped); got != 7 {
		t.Errorf("the hostile text escaped appears %d times, want 7 (unaligned, decision subject and rationale, orphan, churn, gravity, pending):\n%s", got, md)
	}
	for _, want := range []string{
		"# November board\n",
		"- Closed: 2026-11-30 17:00 UTC, frozen at ledger position 20",
		"- Notes: Ask C for evidence \\| soon",
		"### \\# Expansion\n\nKPI: k · Target: t · Product: web\n\nNo roadmap item serves this objective.",
		"| now | 1 | Guided setup | web |",
		"| #12 | 2026-11-03 10:00 UTC | pm | Guided setup | web | shipped | https://example.com/release |",
		"| #11 | 2026-11-02 10:00 UTC | pm@example.com | item.reprioritised | " + escaped + " | later #1 → next #3 | moscow 4 | " + escaped + " | https://example.com/a\\|b · javascript:alert(3) |",
		"| #13 | 2026-11-04 10:00 UTC | ceo | objective.defined | # Expansion | — | — | — | — |",
		"| web | now | 3 | 4 | **over** |",
		"| Guided setup | vendor \\| delay |",
		"| Guided setup | i2 | depends on a later item |",
		"| Dark mode | web | long-in-later | #4 | in later since 2026-11-01 09:00 UTC |",
		"| raised-without-evidence | #11 | raised later #1 → next #3 |",
		"| Guided setup | web | now #1 | 2026-11-01 09:00 UTC | 91 |",
		"| 3 | #11, #14, #15 |",
		"Against the review of 2026-10 (`0193a5c4-0000-7c3a-9f10-2b7d4e5f6a70`), frozen at ledger position 10.",
		"### Added\n\n| Item | Product | From | To | Score | Decisions |\n| --- | --- | --- | --- | --- | --- |\n| Partner API | web | off the roadmap | now #2 | — | #16 |",
		"### Removed\n\nNone.",
		"| Guided setup | web | now #1 | now #1 | moscow 3 → moscow 4 | #17 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the pack lacks %q:\n%s", want, md)
		}
	}
	if again := markdown(t, fullPack()); again != md {
		t.Error("the same pack renders to different Markdown twice")
	}
}

func TestAnEmptyPackSaysSoInEverySection(t *testing.T) {
	p := pack.Pack{ReviewID: "r", Period: "2026-11", Title: "T", Status: "open", OpenedAt: at(1, 1), MeasuredAt: at(2, 1)}
	md := markdown(t, p)
	for _, want := range []string{
		"- Open: as the ledger stands at position 0",
		"No active objectives.", "Every roadmap item serves an objective.",
		"## 2. Progress\n\nNo items delivered in this period.\n",
		"## 3. Decisions of the period\n\nNo decisions in this period.\n",
		"## 4. Capacity against commitments\n\nNo capacity set.\n",
		"No risks recorded.", "No dependencies recorded.",
		"### Backlog gravity\n\nNone.\n",
		"## 7. Pending changes\n\nNo changes pending approval.\n",
		"## 8. Diff against the previous review\n\nFirst review: nothing to compare.\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the empty pack lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Chain heads") || strings.Contains(md, "Closed:") {
		t.Errorf("an open review shows a closing:\n%s", md)
	}
	page := htmlOf(t, p)
	for _, want := range []string{"No items delivered in this period.", "No capacity set.", "First review: nothing to compare."} {
		if !strings.Contains(page, want) {
			t.Errorf("the empty HTML pack lacks %q", want)
		}
	}
}

func TestMarkdownEscapesMarkupButNotPlainText(t *testing.T) {
	for _, tc := range []struct{ in, heading, notes string }{
		{"plain text, (with) punctuation: +10% - 1. #3", `plain text, (with) punctuation: +10% - 1. \#3`, "plain text, (with) punctuation: +10% - 1. #3"},
		{"# heading", `\# heading`, "# heading"},
		{"Learn C #", `Learn C \#`, "Learn C #"},
		{"- item", "- item", "- item"},
		{"  padded\tand\r\nbroken  ", "padded and  broken", "padded and  broken"},
		{"a\\b", `a\\b`, `a\\b`},
		{"![img](x) <i>x</i> &lt; a|b", `\!\[img\](x) \<i\>x\</i\> \&lt; a\|b`, `\!\[img\](x) \<i\>x\</i\> \&lt; a\|b`},
	} {
		var b bytes.Buffer
		if err := pack.Markdown(&b, pack.Pack{Title: tc.in, Notes: tc.in}); err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(b.String(), "\n")
		if got := strings.TrimPrefix(first, "# "); got != tc.heading {
			t.Errorf("%q as a heading: %q, want %q", tc.in, got, tc.heading)
		}
		if !strings.Contains(b.String(), "\n- Notes: "+tc.notes+"\n") {
			t.Errorf("%q as notes: want %q in\n%s", tc.in, tc.notes, b.String())
		}
	}
}

// text returns the text inside n, text nodes apart and runs of white space
// made one space.
func text(n *html.Node) string {
	var b strings.Builder
	for _, t := range htmltest.Find(n, func(n *html.Node) bool { return n.Type == html.TextNode }) {
		b.WriteString(t.Data + " ")
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestHTMLIsOneEscapedDocument(t *testing.T) {
	page := htmlOf(t, fullPack())
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n<html lang=\"en\">") {
		t.Errorf("the page does not start as an HTML5 document: %.60q", page)
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if n := htmltest.Find(doc, htmltest.Element("script")); len(n) != 0 {
		t.Errorf("the page has %d script elements", len(n))
	}
	for _, n := range htmltest.Find(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		for _, a := range n.Attr {
			if a.Key == "src" || (a.Key == "href" && a.Val != "data:,") || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>: the page refers to something outside itself or runs code", n.Data, a.Key, a.Val)
			}
		}
	}
	var ids, headings []string
	for _, s := range htmltest.Find(doc, htmltest.Element("section")) {
		ids = append(ids, htmltest.Attr(s, "id"))
		if h := htmltest.Find(s, htmltest.Element("h2")); len(h) == 1 {
			headings = append(headings, "## "+text(h[0]))
		}
	}
	if want := []string{"goals", "progress", "decisions", "capacity", "risks", "health", "pending", "diff", "numbers"}; !slices.Equal(ids, want) {
		t.Errorf("section ids %q, want %q", ids, want)
	}
	if !slices.Equal(headings, wantHeadings) {
		t.Errorf("section headings %q, want %q", headings, wantHeadings)
	}
	flat := strings.Join(strings.Fields(hostile), " ")
	rows := htmltest.Find(doc, htmltest.Element("tr"))
	var decision []string
	for _, r := range rows {
		var cells []string
		for _, c := range htmltest.Find(r, htmltest.Element("td")) {
			cells = append(cells, text(c))
		}
		if len(cells) > 0 && cells[0] == "#11" {
			decision = cells
		}
	}
	want := []string{"#11", "2026-11-02 10:00 UTC", "pm@example.com", "item.reprioritised", flat, "later #1 → next #3", "moscow 4", flat,
		"https://example.com/a|b javascript:alert(3)"}
	if !slices.Equal(decision, want) {
		t.Errorf("decision row %q,\nwant %q", decision, want)
	}
	if got := strings.Count(text(doc), flat); got != 7 {
		t.Errorf("the hostile text reads as text %d times, want 7", got)
	}
}

func TestAnEditReadsAsTheFieldsItChanged(t *testing.T) {
	edit := pack.DecisionRow{Sequence: 14, At: at(5, 10), Actor: "pm", Type: "item.edited", Kind: "item", ID: "i1", Subject: "Guided setup",
		From: &pack.Place{Horizon: "now", Rank: 1}, To: &pack.Place{Horizon: "now", Rank: 1}, Rationale: "scoped",
		Changes: []pack.FieldChange{{Field: "title", Before: "Setup", After: "Guided setup | *wizard*"}, {Field: "effort", Before: "none", After: "5"}}}
	want := "title: Setup → Guided setup | *wizard*; effort: none → 5"
	if got := edit.Change(); got != want {
		t.Errorf("an edit reads %q, want %q", got, want)
	}
	placed := pack.DecisionRow{From: &pack.Place{}, To: &pack.Place{Horizon: "next", Rank: 2}}
	if got := placed.Change(); got != placed.Move() || got != "off the roadmap → next #2" {
		t.Errorf("a placement reads %q, want its move", got)
	}
	md := markdown(t, pack.Pack{Decisions: []pack.DecisionRow{edit}})
	if want := `| title: Setup → Guided setup \| \*wizard\*; effort: none → 5 |`; !strings.Contains(md, want) {
		t.Errorf("the decisions table lacks the edit's changes %q:\n%s", want, md)
	}
	if h := htmlOf(t, pack.Pack{Decisions: []pack.DecisionRow{edit}}); !strings.Contains(h, "title: Setup → Guided setup | *wizard*; effort: none → 5") {
		t.Errorf("the HTML decisions table lacks the edit's changes:\n%s", h)
	}
}
