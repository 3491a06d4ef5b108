package pack_test

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/roadmap-ledger/roadmap/internal/htmltest"
	"github.com/roadmap-ledger/roadmap/internal/pack"
)

func f(v float64) *float64 { return &v }

// numbersPack is a pack whose figures compare November with October, and
// whose objective's KPI was measured twice around a delivery, with user
// text that would break a table or the chart if written as it is.
func numbersPack() pack.Pack {
	p := pack.Pack{ReviewID: "r", Period: "2026-11", Title: "November", Status: "closed", OpenedAt: at(30, 9), MeasuredAt: at(30, 17)}
	p.Numbers = &pack.Numbers{Period: "2026-11", Sequence: 40, PreviousID: "q", PreviousPeriod: "2026-10",
		Figures: []pack.FigureRow{
			{Name: "Items in now", Previous: f(3), Now: f(4)},
			{Name: "Delivery rate", Unit: "%", Previous: f(2.0 / 3), Now: f(0.5)},
			{Name: "Cycle time p50 (days)", Previous: f(1), Now: f(8.5)},
			{Name: "Approval time p50 (hours)"},
			{Name: "Unaligned share at the end", Unit: "%", Now: f(0)},
			{Name: "Removed", Previous: f(1), Now: f(1)},
		},
		Objectives: []pack.KPISeries{{ObjectiveID: "o1", Title: "Grow <repeat> & orders", KPI: "orders | customer", Target: "+10%",
			Measurements: []pack.KPIPoint{{At: at(1, 12), Value: 1.3, Source: "BI", Note: "*draft*"}, {At: at(25, 12), Value: 1.5, Source: "BI"}},
			Deliveries:   []pack.KPIDelivery{{At: at(10, 12), ItemID: "i1", Title: `Checkout "fast" <b>now</b>`}}}},
	}
	return p
}

func TestThePacksFiguresCompareWithThePreviousReview(t *testing.T) {
	md := markdown(t, numbersPack())
	section := md[strings.Index(md, "\n## 9. Figures against the previous review\n"):]
	for _, want := range []string{
		"The figures of 2026-11 against those of 2026-10",
		"| Figure | Previous (2026-10) | Now (2026-11) | Change |",
		"| Items in now | 3 | 4 | +1 |",
		"| Delivery rate | 66.67% | 50% | −16.67 pp |",
		"| Cycle time p50 (days) | 1 | 8.5 | +7.5 |",
		"| Approval time p50 (hours) | no data | no data | — |",
		"| Unaligned share at the end | no data | 0% | — |",
		"| Removed | 1 | 1 | 0 |",
		`### KPI over time: Grow \<repeat\> \& orders`,
		`KPI: orders \| customer · Target: +10%`,
		"| 2026-11-01 12:00 UTC | measured | 1.3 | BI: \\*draft\\* |\n| 2026-11-10 12:00 UTC | delivered | — | Checkout \"fast\" \\<b\\>now\\</b\\> |\n| 2026-11-25 12:00 UTC | measured | 1.5 | BI |",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("the Markdown summary lacks %q:\n%s", want, section)
		}
	}

	doc, err := html.Parse(strings.NewReader(htmlOf(t, numbersPack())))
	if err != nil {
		t.Fatal(err)
	}
	var numbers *html.Node
	for _, s := range htmltest.Find(doc, htmltest.Element("section")) {
		if htmltest.Attr(s, "id") == "numbers" {
			numbers = s
		}
	}
	if numbers == nil {
		t.Fatal("the HTML pack has no section numbers")
	}
	var rows [][]string
	for _, r := range htmltest.Find(numbers, htmltest.Element("tr")) {
		var cells []string
		for _, c := range htmltest.Find(r, func(n *html.Node) bool { return n.Type == html.ElementNode && (n.Data == "td" || n.Data == "th") }) {
			cells = append(cells, text(c))
		}
		rows = append(rows, cells)
	}
	for _, want := range [][]string{
		{"Delivery rate", "66.67%", "50%", "−16.67 pp"},
		{"Approval time p50 (hours)", "no data", "no data", ""},
		{"2026-11-10 12:00 UTC", "delivered", "", `Checkout "fast" <b>now</b>`},
	} {
		if !slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("the HTML summary has no row %q: %q", want, rows)
		}
	}
	svgs := htmltest.Find(numbers, htmltest.Element("svg"))
	if len(svgs) != 1 || htmltest.Attr(svgs[0], "role") != "img" {
		t.Fatalf("the objective's KPI is drawn in %d charts, want one image", len(svgs))
	}
	var titles []string
	for _, n := range htmltest.Find(svgs[0], htmltest.Element("title")) {
		titles = append(titles, text(n))
	}
	if len(titles) < 2 || titles[0] != "KPI over time: Grow <repeat> & orders" || !slices.Contains(titles, `Delivered: Checkout "fast" <b>now</b> (2026-11-10 12:00 UTC)`) {
		t.Errorf("the chart's titles read %q, want its name and the delivery's mark, as text", titles)
	}
	if n := htmltest.Find(doc, htmltest.Element("b")); len(n) != 0 {
		t.Errorf("a title became markup: %d <b> elements", len(n))
	}
}

func TestAFirstReviewsFiguresStandAlone(t *testing.T) {
	p := numbersPack()
	p.Numbers.PreviousID, p.Numbers.PreviousPeriod = "", ""
	for i := range p.Numbers.Figures {
		p.Numbers.Figures[i].Previous = nil
	}
	p.Numbers.Objectives = []pack.KPISeries{{ObjectiveID: "o2", Title: "Quiet", KPI: "k", Target: "t"}}
	md := markdown(t, p)
	for _, want := range []string{"First review: there is no previous review to compare with.", "| Items in now | — | 4 | — |",
		"### KPI over time: Quiet\n\nKPI: k · Target: t\n\nNo measurement and no delivery yet.\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("a first review's summary lacks %q:\n%s", want, md)
		}
	}
	if page := htmlOf(t, p); !strings.Contains(page, "no data") {
		t.Error("the empty KPI chart does not say no data")
	}
	if md := markdown(t, pack.Pack{}); !strings.Contains(md, "## 9. Figures against the previous review\n\nNo figures: this pack was made without the ledger's figures.\n") {
		t.Errorf("a pack without figures does not say so:\n%s", md)
	}
}
