package web

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/chart"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// numbersMonths is how many months the metrics page shows when no period
// is asked for: the ledger's last month and the five before it.
const numbersMonths = 6

// maxNumbersMonths bounds the period of the page, as the API bounds
// GET /v1/metrics/roadmap's.
const maxNumbersMonths = 120

type numbersData struct {
	Product  string
	Products []string
	// From and To are the first and last months shown (YYYY-MM), both
	// included.
	From, To string
	Sequence uint64
	Charts   []figureChart
}

// figureChart is one figure's trend: its chart and the table of the same
// figures, a row a month and the total of the period.
type figureChart struct {
	ID, Title, Note string
	SVG             template.HTML
	Head            []string
	Rows            [][]string
	Total           []string
}

// numbers shows the roadmap's figures per month (those of GET
// /v1/metrics/roadmap, from the same computation) as charts, each with
// the table of its figures, for a product or all and a period of months.
func (a *App) numbers(c echo.Context, _ viewer) error {
	q := c.QueryParams()
	d := numbersData{Product: q.Get("product")}
	if d.Product != "" && !roadmap.ValidProduct(d.Product) {
		return a.fail(c, http.StatusBadRequest, "product must be a product slug such as web-app.")
	}
	var at time.Time
	a.cfg.Views.Read(func(st *projections.State) {
		at, d.Sequence, d.Products = st.At, st.Sequence, everyProduct(st)
	})
	if d.Sequence == 0 {
		at = time.Now()
	}
	last := monthStart(at)
	from, to := last.AddDate(0, 1-numbersMonths, 0), last
	var err error
	if from, err = monthParam(q.Get("from"), "from", from); err != nil {
		return a.fail(c, http.StatusBadRequest, err.Error())
	}
	if to, err = monthParam(q.Get("to"), "to", to); err != nil {
		return a.fail(c, http.StatusBadRequest, err.Error())
	}
	switch {
	case to.Before(from):
		return a.fail(c, http.StatusBadRequest, "The last month must not be before the first.")
	case !to.Before(from.AddDate(0, maxNumbersMonths, 0)):
		return a.fail(c, http.StatusBadRequest, fmt.Sprintf("Choose at most %d months.", maxNumbersMonths))
	}
	d.From, d.To = from.Format("2006-01"), to.Format("2006-01")
	r, err := a.cfg.Metrics(c.Request().Context(), projections.MetricsQuery{Product: d.Product, From: from, To: to.AddDate(0, 1, 0), Last: d.Sequence})
	if err != nil {
		return a.failWith(c, err)
	}
	d.Charts = figureCharts(r)
	return a.render(c, http.StatusOK, "numbers", page{Title: "Numbers", Data: d})
}

// everyProduct is every product an item or objective was ever in, in
// order: a past period's figures may be of a product no longer on the
// roadmap.
func everyProduct(st *projections.State) []string {
	seen := map[string]bool{}
	items, _ := st.ItemList(projections.ItemFilter{}, projections.Order{Sort: projections.SortCreated}, 0, 0)
	for _, it := range items {
		seen[it.Product] = true
	}
	objectives, _ := st.ObjectiveList(projections.ObjectiveFilter{}, projections.Order{Sort: projections.SortCreated}, 0, 0)
	for _, o := range objectives {
		seen[o.Product] = true
	}
	delete(seen, "")
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// monthParam reads a month, YYYY-MM, or returns def when it is not given.
func monthParam(v, name string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse("2006-01", v)
	if err != nil {
		return def, fmt.Errorf("The %s month must be a month such as 2026-11.", name)
	}
	return t, nil
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// figure reads one value of a period's figures; ok is false when the
// figure has no value in it.
type figure func(projections.Figures) (v float64, ok bool)

func count(f func(projections.Figures) int) figure {
	return func(p projections.Figures) (float64, bool) { return float64(f(p)), true }
}

func share(f func(projections.Figures) *float64) figure {
	return func(p projections.Figures) (float64, bool) {
		if v := f(p); v != nil {
			return *v, true
		}
		return 0, false
	}
}

func percentile(f func(projections.Figures) *projections.Percentiles, p90 bool) figure {
	return func(p projections.Figures) (float64, bool) {
		v := f(p)
		switch {
		case v == nil:
			return 0, false
		case p90:
			return v.P90, true
		}
		return v.P50, true
	}
}

// column is a column of a figure's table: its heading, the figure and how
// it reads.
type figureColumn struct {
	head    string
	value   figure
	percent bool
	// line draws the column in the chart, under this name.
	line string
}

// figureCharts are the page's charts, in the order of docs/metrics.md.
func figureCharts(r projections.MetricsReport) []figureChart {
	f := func(get func(projections.Figures) int) figure { return count(get) }
	specs := []struct {
		id, title, note, unit string
		percent               bool
		columns               []figureColumn
	}{
		{"delivery-rate", "Delivery rate", "Of the items in now during the month, the share delivered from now.", "", true, []figureColumn{
			{head: "In now", value: f(func(p projections.Figures) int { return p.InNow })},
			{head: "Delivered from now", value: f(func(p projections.Figures) int { return p.DeliveredFromNow })},
			{head: "Delivery rate", value: share(func(p projections.Figures) *float64 { return p.DeliveryRate }), percent: true, line: "Delivery rate"},
		}},
		{"cycle-time", "Cycle time", "From an item's first prioritisation to its delivery, of the items delivered in the month, in days.", "days", false, []figureColumn{
			{head: "Delivered", value: f(func(p projections.Figures) int { return p.Delivered })},
			{head: "p50 (days)", value: percentile(func(p projections.Figures) *projections.Percentiles { return p.CycleTimeDays }, false), line: "p50"},
			{head: "p90 (days)", value: percentile(func(p projections.Figures) *projections.Percentiles { return p.CycleTimeDays }, true), line: "p90"},
		}},
		{"churn", "Churn", "Reprioritisations per item on the roadmap during the month.", "", false, []figureColumn{
			{head: "Reprioritisations", value: f(func(p projections.Figures) int { return p.Reprioritisations })},
			{head: "Roadmap items", value: f(func(p projections.Figures) int { return p.RoadmapItems })},
			{head: "Churn", value: share(func(p projections.Figures) *float64 { return p.Churn }), line: "Churn"},
		}},
		{"approval-time", "Approval time", "From a change's proposal to its approval or rejection, of the changes decided in the month, in hours.", "hours", false, []figureColumn{
			{head: "p50 (hours)", value: percentile(func(p projections.Figures) *projections.Percentiles { return p.ApprovalTimeHours }, false), line: "p50"},
			{head: "p90 (hours)", value: percentile(func(p projections.Figures) *projections.Percentiles { return p.ApprovalTimeHours }, true), line: "p90"},
		}},
		{"unaligned-share", "Unaligned share", "Of the items on the roadmap at the end of the month, the share serving no objective.", "", true, []figureColumn{
			{head: "Items at the end", value: f(func(p projections.Figures) int { return p.ItemsAtEnd })},
			{head: "Unaligned", value: f(func(p projections.Figures) int { return p.UnalignedAtEnd })},
			{head: "Unaligned share", value: share(func(p projections.Figures) *float64 { return p.UnalignedShare }), percent: true, line: "Unaligned share"},
		}},
		{"objective-coverage", "Objective coverage", "Of the active objectives at the end of the month, the share served by an item on the roadmap.", "", true, []figureColumn{
			{head: "Active objectives", value: f(func(p projections.Figures) int { return p.ActiveObjectives })},
			{head: "Covered", value: f(func(p projections.Figures) int { return p.CoveredObjectives })},
			{head: "Coverage", value: share(func(p projections.Figures) *float64 { return p.ObjectiveCoverage }), percent: true, line: "Coverage"},
		}},
		{"removed", "Removed", "Items taken off the roadmap in the month, and of them those in now.", "", false, []figureColumn{
			{head: "Removed", value: f(func(p projections.Figures) int { return p.Removed }), line: "Removed"},
			{head: "From now", value: f(func(p projections.Figures) int { return p.RemovedFromNow }), line: "From now"},
		}},
	}
	var out []figureChart
	for _, s := range specs {
		fc := figureChart{ID: s.id, Title: s.title, Note: s.note, Head: []string{"Month"}}
		line := chart.Line{ID: "chart-" + s.id, Title: s.title + " per month", Desc: s.note + " The table below holds the same figures.",
			Unit: s.unit, Percent: s.percent}
		if len(r.Periods) > 0 {
			line.From, line.To = r.Periods[0].Start, r.Periods[len(r.Periods)-1].Start
		}
		for _, col := range s.columns {
			fc.Head = append(fc.Head, col.head)
			if col.line == "" {
				continue
			}
			series := chart.Series{Name: col.line}
			if countLines(s.columns) == 1 {
				series.Name = ""
			}
			for _, p := range r.Periods {
				v, ok := col.value(p)
				series.Points = append(series.Points, chart.Point{At: p.Start, Value: v, None: !ok, Label: p.Start.Format("Jan 2006")})
			}
			line.Series = append(line.Series, series)
		}
		row := func(label string, p projections.Figures) []string {
			cells := []string{label}
			for _, col := range s.columns {
				cells = append(cells, figureText(col.value, col.percent, p))
			}
			return cells
		}
		for _, p := range r.Periods {
			fc.Rows = append(fc.Rows, row(p.Start.Format("2006-01"), p))
		}
		fc.Total = row("Whole period", r.Total)
		fc.SVG = template.HTML(line.SVG()) // chart escapes every text it writes
		out = append(out, fc)
	}
	return out
}

func countLines(cols []figureColumn) int {
	n := 0
	for _, c := range cols {
		if c.line != "" {
			n++
		}
	}
	return n
}

// figureText shows a figure of a period; "no data" when it has no value.
func figureText(f figure, percent bool, p projections.Figures) string {
	v, ok := f(p)
	switch {
	case !ok:
		return "no data"
	case percent:
		return chart.Number(v*100) + "%"
	}
	return chart.Number(v)
}
