package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/web"
	"github.com/roadmap-ledger/roadmap/projections"
)

// numbersSite is a ledger whose figures are worked by hand, every event at
// a moment the test sets (approvals off, so each placement is one event):
//
// October 2026: A into now on the 2nd and delivered on the 12th (10 days),
// B (serving no objective) into now on the 3rd and removed on the 20th,
// H (a title with markup) into now on the 5th and delivered on the 6th
// (1 day). In now 3, delivered from now 2: a delivery rate of 2/3; cycle
// time p50 1 day, p90 10; removed 1, from now. Nothing on the roadmap at
// the end; the one objective is covered by none of it (0%).
//
// November 2026: C, D, E and F into now on the 2nd, 3rd, 4th and 5th at
// midnight; C delivered on the 10th at noon (8.5 days), D on the 20th (17
// days); E removed on the 15th. In now 4, delivered 2: 50%; cycle time
// p50 8.5, p90 17; removed 1 from now; at the end F alone, serving the
// objective: unaligned 0%, coverage 100%.
//
// The objective's KPI is measured on 1 October (1.2), 1 November (1.3) and
// 25 November (1.5). October's review is closed on 31 October and
// November's on 30 November.
type numbersSite struct {
	*site
	clock     *clock
	objective string
	october   string
	november  string
}

func openNumbersSite(t *testing.T) *numbersSite {
	t.Helper()
	clk := &clock{now: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}
	a, ctx := apptest.Open(t, app.Config{BootstrapToken: bootstrap, Approvals: roadmap.ApprovalsOff, Now: clk.Now})
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	s := &numbersSite{site: &site{t: t, URL: srv.URL, App: a, ctx: ctx, secrets: map[roadmap.Role]string{}, items: map[string]string{}}, clock: clk}
	for _, role := range []roadmap.Role{roadmap.RoleViewer, roadmap.RoleEditor, roadmap.RoleApprover} {
		res, err := a.Ledger.CreateToken(ctx, ledger.Request{Actor: "bootstrap"}, roadmap.CreateToken{Name: string(role), Role: role})
		if err != nil {
			t.Fatalf("make the %s token: %v", role, err)
		}
		s.secrets[role] = res.Answer.Secret
	}
	obj, err := a.Ledger.DefineObjective(ctx, ledger.Request{Actor: "ceo"}, roadmap.DefineObjective{
		Title: "Grow repeat orders", KPI: "orders per customer", Target: "1.5 by December", Product: "shop",
	})
	if err != nil {
		t.Fatalf("define the objective: %v", err)
	}
	s.objective = obj.Answer.ID
	oct := func(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, time.UTC) }
	nov := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	s.measure(oct(1, 12), 1.2)
	s.intoNow("A", oct(2, 0), true)
	s.intoNow("B", oct(3, 0), false)
	s.intoNow(hostileTitle, oct(5, 0), true)
	s.deliver(hostileTitle, oct(6, 0))
	s.deliver("A", oct(12, 0))
	s.remove("B", oct(20, 0))
	s.october = s.review("2026-10", oct(31, 12))
	s.measure(nov(1, 12), 1.3)
	s.intoNow("C", nov(2, 0), true)
	s.intoNow("D", nov(3, 0), true)
	s.intoNow("E", nov(4, 0), true)
	s.intoNow("F", nov(5, 0), true)
	s.deliver("C", nov(10, 12))
	s.remove("E", nov(15, 0))
	s.deliver("D", nov(20, 0))
	s.measure(nov(25, 12), 1.5)
	s.november = s.review("2026-11", nov(30, 12))
	return s
}

var pm = ledger.Request{Actor: "pm"}

func (s *numbersSite) intoNow(title string, at time.Time, serves bool) {
	s.t.Helper()
	s.clock.now = at
	cmd := roadmap.ProposeItem{Title: title, Product: "shop"}
	if serves {
		cmd.ObjectiveIDs = []string{s.objective}
	}
	item, err := s.App.Ledger.ProposeItem(s.ctx, pm, cmd)
	if err != nil {
		s.t.Fatalf("propose %q: %v", title, err)
	}
	s.items[title] = item.Answer.Item.ID
	if _, err := s.App.Ledger.Prioritise(s.ctx, pm, item.Answer.Item.ID, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: "now"}); err != nil {
		s.t.Fatalf("prioritise %q: %v", title, err)
	}
}

func (s *numbersSite) deliver(title string, at time.Time) {
	s.t.Helper()
	s.clock.now = at
	if _, err := s.App.Ledger.Deliver(s.ctx, pm, s.items[title], roadmap.Deliver{Rationale: "shipped"}); err != nil {
		s.t.Fatalf("deliver %q: %v", title, err)
	}
}

func (s *numbersSite) remove(title string, at time.Time) {
	s.t.Helper()
	s.clock.now = at
	if _, err := s.App.Ledger.Remove(s.ctx, pm, s.items[title], roadmap.Remove{Rationale: "dropped"}); err != nil {
		s.t.Fatalf("remove %q: %v", title, err)
	}
}

func (s *numbersSite) measure(at time.Time, v float64) {
	s.t.Helper()
	s.clock.now = at
	if _, err := s.App.Ledger.MeasureObjective(s.ctx, pm, s.objective, roadmap.Measure{Value: &v, At: at, Source: "BI"}); err != nil {
		s.t.Fatalf("measure: %v", err)
	}
}

// review opens the review of period at a moment and closes it an hour
// later.
func (s *numbersSite) review(period string, at time.Time) string {
	s.t.Helper()
	s.clock.now = at
	r, err := s.App.Ledger.OpenReview(s.ctx, pm, roadmap.OpenReview{Period: period, Title: "Review " + period})
	if err != nil {
		s.t.Fatalf("open the review of %s: %v", period, err)
	}
	s.clock.now = at.Add(time.Hour)
	if _, err := s.App.Ledger.CloseReview(s.ctx, ledger.Request{Actor: "chair"}, r.Answer.ID, roadmap.CloseReview{Notes: "ok"}); err != nil {
		s.t.Fatalf("close the review of %s: %v", period, err)
	}
	return r.Answer.ID
}

// get reads a page with the session of secret.
func (s *site) get(path, secret string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// cells are the rows of the table under sel, each row's header and data
// cells as the page shows them.
func cells(t *testing.T, ctx context.Context, sel string) [][]string {
	t.Helper()
	return eval[[][]string](t, ctx, `Array.from(document.querySelectorAll(`+jsString(sel)+`), tr => Array.from(tr.cells, c => c.textContent.trim()))`)
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// TestTheNumbersPageShowsFiguresWorkedByHand reads October's and
// November's figures on the numbers page in Chromium: each chart's table,
// the charts' accessible names, an empty period, and axe-core at a phone's
// width and a desktop's.
func TestTheNumbersPageShowsFiguresWorkedByHand(t *testing.T) {
	s := openNumbersSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleViewer])
	run(t, ctx, "open the numbers from the navigation",
		chromedp.Click(chromedp.CSS(`nav a[href="/numbers"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#n-from`)))
	run(t, ctx, "choose the product and the months",
		chromedp.SetValue(chromedp.CSS(`#n-product`), "shop"),
		chromedp.SetValue(chromedp.CSS(`#n-from`), "2026-10"),
		chromedp.SetValue(chromedp.CSS(`#n-to`), "2026-11"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	waitFor(t, ctx, `location.search !== "" && document.readyState === "complete" && !!document.querySelector("#delivery-rate")`)
	if u := eval[string](t, ctx, `location.search`); u != "?product=shop&from=2026-10&to=2026-11" {
		t.Errorf("the form asked for %q", u)
	}
	for _, c := range []struct {
		table string
		want  [][]string
	}{
		{"delivery-rate", [][]string{{"Month", "In now", "Delivered from now", "Delivery rate"},
			{"2026-10", "3", "2", "66.67%"}, {"2026-11", "4", "2", "50%"}, {"Whole period", "7", "4", "57.14%"}}},
		{"cycle-time", [][]string{{"Month", "Delivered", "p50 (days)", "p90 (days)"},
			{"2026-10", "2", "1", "10"}, {"2026-11", "2", "8.5", "17"}, {"Whole period", "4", "8.5", "17"}}},
		{"churn", [][]string{{"Month", "Reprioritisations", "Roadmap items", "Churn"},
			{"2026-10", "0", "3", "0"}, {"2026-11", "0", "4", "0"}, {"Whole period", "0", "7", "0"}}},
		{"approval-time", [][]string{{"Month", "p50 (hours)", "p90 (hours)"},
			{"2026-10", "no data", "no data"}, {"2026-11", "no data", "no data"}, {"Whole period", "no data", "no data"}}},
		{"unaligned-share", [][]string{{"Month", "Items at the end", "Unaligned", "Unaligned share"},
			{"2026-10", "0", "0", "no data"}, {"2026-11", "1", "0", "0%"}, {"Whole period", "1", "0", "0%"}}},
		{"objective-coverage", [][]string{{"Month", "Active objectives", "Covered", "Coverage"},
			{"2026-10", "1", "0", "0%"}, {"2026-11", "1", "1", "100%"}, {"Whole period", "1", "1", "100%"}}},
		{"removed", [][]string{{"Month", "Removed", "From now"},
			{"2026-10", "1", "1"}, {"2026-11", "1", "1"}, {"Whole period", "2", "2"}}},
	} {
		got := cells(t, ctx, "#"+c.table+" table tr")
		if !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("the %s table reads %q,\nwant %q", c.table, got, c.want)
		}
	}
	names := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("section.figure svg"), svg =>
		svg.getAttribute("role") + ": " + svg.getAttribute("aria-labelledby").split(" ").map(id => document.getElementById(id).textContent).join(" / "))`)
	if len(names) != 7 || !strings.HasPrefix(names[0], "img: Delivery rate per month / Of the items in now") {
		t.Errorf("the charts are named %q, want seven images, the first the delivery rate", names)
	}
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#delivery-rate svg circle title"), t => t.textContent)`); !slices.Equal(got, []string{"Oct 2026: 66.67%", "Nov 2026: 50%"}) {
		t.Errorf("the delivery rate's points read %q", got)
	}
	checkAccessible(t, ctx, "the numbers page")

	run(t, ctx, "open months with no event", chromedp.Navigate(s.URL+"/numbers?from=2026-06&to=2026-07"), chromedp.WaitVisible(chromedp.CSS(`#delivery-rate`)))
	if got := cells(t, ctx, "#delivery-rate tbody tr"); !slices.EqualFunc(got, [][]string{{"2026-06", "0", "0", "no data"}, {"2026-07", "0", "0", "no data"}}, slices.Equal) {
		t.Errorf("an empty period's delivery rate reads %q", got)
	}
	if got := eval[int](t, ctx, `Array.from(document.querySelectorAll("section.figure svg text")).filter(t => t.textContent === "no data").length`); got < 5 {
		t.Errorf("%d empty charts say no data, want those of the ratios and percentiles at least", got)
	}

	for query, want := range map[string]string{"?from=2026-13": "must be a month", "?from=2026-11&to=2026-10": "must not be before", "?product=Not+a+slug": "product slug"} {
		status, body := s.get("/numbers"+query, s.secrets[roadmap.RoleViewer])
		if status != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("/numbers%s: status %d, want 400 saying %q", query, status, want)
		}
	}
}

// TestTheObjectivePageMarksDeliveriesOnItsKPI reads the objective's KPI
// over time with its deliveries marked, records a measurement from the
// form as an editor, and checks the page with axe-core.
func TestTheObjectivePageMarksDeliveriesOnItsKPI(t *testing.T) {
	s := openNumbersSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleEditor])
	run(t, ctx, "open the objective from the list",
		chromedp.Navigate(s.URL+"/objectives"),
		chromedp.Click(chromedp.CSS(`a[href="/objectives/`+s.objective+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#kpi svg`)))
	if got := eval[string](t, ctx, `document.getElementById(document.querySelector("#kpi svg").getAttribute("aria-labelledby").split(" ")[0]).textContent`); got != "KPI over time: Grow repeat orders" {
		t.Errorf("the chart is named %q", got)
	}
	markers := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#kpi svg g.marker title"), t => t.textContent)`)
	want := []string{"Delivered: " + hostileTitle + " (2026-10-06 00:00 UTC)", "Delivered: A (2026-10-12 00:00 UTC)",
		"Delivered: C (2026-11-10 12:00 UTC)", "Delivered: D (2026-11-20 00:00 UTC)"}
	if !slices.Equal(markers, want) {
		t.Errorf("the chart marks %q, want the four deliveries of items serving the objective", markers)
	}
	// A delivery's mark stands between the measurements around it.
	xs := eval[[]float64](t, ctx, `[...Array.from(document.querySelectorAll("#kpi svg circle"), c => +c.getAttribute("cx")),
		+document.querySelectorAll("#kpi svg g.marker line")[2].getAttribute("x1")]`)
	if len(xs) != 4 || !(xs[1] < xs[3] && xs[3] < xs[2]) {
		t.Errorf("the points and C's mark stand at %v, want C's mark between the measurements of 1 and 25 November", xs)
	}
	if got := eval[string](t, ctx, `document.title`); got == "owned" {
		t.Fatal("a title with markup ran as markup")
	}
	rows := cells(t, ctx, "#kpi-table tbody tr")
	wantRows := [][]string{
		{"2026-10-01 12:00 UTC", "measured", "1.2", "BI"},
		{"2026-10-06 00:00 UTC", "delivered", "—", hostileTitle},
		{"2026-10-12 00:00 UTC", "delivered", "—", "A"},
		{"2026-11-01 12:00 UTC", "measured", "1.3", "BI"},
		{"2026-11-10 12:00 UTC", "delivered", "—", "C"},
		{"2026-11-20 00:00 UTC", "delivered", "—", "D"},
		{"2026-11-25 12:00 UTC", "measured", "1.5", "BI"},
	}
	if !slices.EqualFunc(rows, wantRows, slices.Equal) {
		t.Errorf("the table reads %q,\nwant %q", rows, wantRows)
	}
	checkAccessible(t, ctx, "the objective page")

	run(t, ctx, "record a measurement",
		chromedp.SendKeys(chromedp.CSS(`#m-value`), "1.6"),
		chromedp.SetValue(chromedp.CSS(`#m-at`), "2026-11-28T09:00"),
		chromedp.SendKeys(chromedp.CSS(`#m-source`), "BI export"),
		chromedp.SendKeys(chromedp.CSS(`#m-note`), "after <the> sale & more"),
		chromedp.Click(chromedp.CSS(`form.measure button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if got := cells(t, ctx, "#kpi-table tbody tr:last-child"); len(got) != 1 || !slices.Equal(got[0], []string{"2026-11-28 09:00 UTC", "measured", "1.6", "BI export: after <the> sale & more"}) {
		t.Errorf("the new measurement reads %q", got)
	}
	if m := s.App.Current; m != nil {
		var n int
		m.Read(func(st *projections.State) { n = len(st.Measurements(s.objective)) })
		if n != 4 {
			t.Errorf("the ledger holds %d measurements, want 4", n)
		}
	}

	// A viewer sees no form and may not post one; a post from another site
	// is refused before anything is read.
	status, body := s.get("/objectives/"+s.objective, s.secrets[roadmap.RoleViewer])
	if status != http.StatusOK || strings.Contains(body, `action="/objectives/`+s.objective+`/measurements"`) {
		t.Errorf("a viewer's page: status %d, with the form: %t", status, strings.Contains(body, "Record a measurement"))
	}
	form := url.Values{"value": {"2"}, "at": {"2026-11-29T09:00"}, "source": {"x"}}
	if res := s.post("/objectives/"+s.objective+"/measurements", s.secrets[roadmap.RoleViewer], form, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's measurement: status %d, want 403", res.StatusCode)
	}
	if res := s.post("/objectives/"+s.objective+"/measurements", s.secrets[roadmap.RoleEditor], form, map[string]string{"Sec-Fetch-Site": "cross-site"}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a measurement from another site: status %d, want 403", res.StatusCode)
	}
	if res := s.post("/objectives/"+s.objective+"/measurements", s.secrets[roadmap.RoleEditor], url.Values{"value": {"x"}, "at": {"2026-11-29T09:00"}, "source": {"x"}}, nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a measurement that is no number: status %d, want 400", res.StatusCode)
	}
	if status, _ := s.get("/objectives/nope", s.secrets[roadmap.RoleViewer]); status != http.StatusNotFound {
		t.Errorf("an unknown objective: status %d, want 404", status)
	}
}

// TestThePackSummarisesTheFiguresAgainstThePreviousReview reads
// November's pack, as Markdown and as HTML: its last section compares
// November's figures with October's, and draws the objective's KPI with
// its deliveries.
func TestThePackSummarisesTheFiguresAgainstThePreviousReview(t *testing.T) {
	s := openNumbersSite(t)
	status, md := s.get("/reviews/"+s.november+"/pack?format=md", s.secrets[roadmap.RoleViewer])
	if status != http.StatusOK {
		t.Fatalf("the Markdown pack: status %d", status)
	}
	i := strings.Index(md, "\n## 9. Figures against the previous review\n")
	if i < 0 {
		t.Fatalf("the pack has no summary of the figures:\n%s", md)
	}
	section := md[i:]
	for _, want := range []string{
		"The figures of 2026-11 against those of 2026-10",
		"| Figure | Previous (2026-10) | Now (2026-11) | Change |",
		"| Items in now | 3 | 4 | +1 |",
		"| Delivered from now | 2 | 2 | 0 |",
		"| Delivery rate | 66.67% | 50% | −16.67 pp |",
		"| Cycle time p50 (days) | 1 | 8.5 | +7.5 |",
		"| Cycle time p90 (days) | 10 | 17 | +7 |",
		"| Churn (reprioritisations per roadmap item) | 0 | 0 | 0 |",
		"| Approval time p50 (hours) | no data | no data | — |",
		"| Unaligned share at the end | no data | 0% | — |",
		"| Objective coverage at the end | 0% | 100% | +100 pp |",
		"| Removed | 1 | 1 | 0 |",
		"### KPI over time: Grow repeat orders",
		"| 2026-11-10 12:00 UTC | delivered | — | C |",
		"| 2026-11-25 12:00 UTC | measured | 1.5 | BI |",
	} {
		if !strings.Contains(section, want) {
			t.Errorf("the summary lacks %q:\n%s", want, section)
		}
	}
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleViewer])
	run(t, ctx, "open the HTML pack", chromedp.Navigate(s.URL+"/reviews/"+s.november+"/pack"), chromedp.WaitVisible(chromedp.CSS(`#numbers`)))
	shoot(t, ctx, "the-pack-with-its-figures")
	rows := cells(t, ctx, "#numbers table tr")
	for _, want := range [][]string{
		{"Delivery rate", "66.67%", "50%", "−16.67 pp"},
		{"Objective coverage at the end", "0%", "100%", "+100 pp"},
		{"2026-11-10 12:00 UTC", "delivered", "", "C"},
	} {
		if !slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) }) {
			t.Errorf("the HTML summary has no row %q: %q", want, rows)
		}
	}
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#numbers svg[role=img] g.marker title"), t => t.textContent)`); !slices.Contains(got, "Delivered: C (2026-11-10 12:00 UTC)") {
		t.Errorf("the pack's chart marks %q, want C's delivery", got)
	}
	// The review's page shows the same figures.
	run(t, ctx, "open the review", chromedp.Navigate(s.URL+"/reviews/"+s.november), chromedp.WaitVisible(chromedp.CSS(`#numbers table`)))
	if got := cells(t, ctx, "#numbers tbody tr:nth-child(3)"); len(got) != 1 || !slices.Equal(got[0], []string{"Delivery rate", "66.67%", "50%", "−16.67 pp"}) {
		t.Errorf("the review's page reads %q", got)
	}
}
