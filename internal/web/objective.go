package web

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/chart"
	"github.com/roadmap-ledger/roadmap/internal/governance"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

type objectiveData struct {
	Objective    projections.ObjectiveView
	Items        []projections.ItemView
	Measurements []projections.Measurement
	Deliveries   []governance.Delivery
	// Timeline is the measurements and deliveries by time, the chart's
	// table.
	Timeline []timelineRow
	Chart    template.HTML
	Notice   string
	// Now is the ledger's clock, in the form's format: the latest moment a
	// measurement may be of.
	Now string
}

// timelineRow is a measurement or a delivery on the objective's time axis.
type timelineRow struct {
	At     time.Time
	Event  string
	Value  string
	Detail string
	ItemID string
}

// objective shows an objective with its KPI over time, the deliveries of
// the items serving it marked on the same axis, and, for those who may
// decide, the form that records a measurement.
func (a *App) objective(c echo.Context, _ viewer) error {
	id := c.Param("id")
	var d objectiveData
	found := false
	a.cfg.Views.Read(func(st *projections.State) {
		if d.Objective, found = st.ObjectiveView(id); !found {
			return
		}
		d.Items, _ = st.ItemList(projections.ItemFilter{ObjectiveID: id}, projections.Order{Sort: projections.SortRank}, 0, 0)
		d.Measurements = st.Measurements(id)
		d.Deliveries = governance.Deliveries(st, id)
	})
	if !found {
		return a.fail(c, http.StatusNotFound, "There is no such objective.")
	}
	kpi := d.Objective.KPI
	if kpi == "" {
		kpi = "the KPI"
	}
	line := chart.Line{ID: "kpi-chart", Title: "KPI over time: " + d.Objective.Title,
		Desc: "Measurements of " + kpi + ", with the deliveries of the items serving the objective marked. The table below holds the same.", Dates: true}
	series := chart.Series{Name: kpi}
	for _, m := range d.Measurements {
		series.Points = append(series.Points, chart.Point{At: m.At, Value: m.Value, Label: when(m.At)})
		detail := m.Source
		if m.Note != "" {
			detail += ": " + m.Note
		}
		d.Timeline = append(d.Timeline, timelineRow{At: m.At, Event: "measured", Value: chart.Number(m.Value), Detail: detail})
	}
	line.Series = []chart.Series{series}
	for _, dl := range d.Deliveries {
		line.Markers = append(line.Markers, chart.Marker{At: dl.At, Label: "Delivered: " + dl.Title + " (" + when(dl.At) + ")"})
		d.Timeline = append(d.Timeline, timelineRow{At: dl.At, Event: "delivered", Detail: dl.Title, ItemID: dl.ItemID})
	}
	slices.SortStableFunc(d.Timeline, func(x, y timelineRow) int { return x.At.Compare(y.At) })
	d.Chart = template.HTML(line.SVG()) // chart escapes every text it writes
	d.Now = time.Now().UTC().Format("2006-01-02T15:04")
	if c.QueryParam("done") == "measured" {
		d.Notice = "The measurement is recorded."
	}
	return a.render(c, http.StatusOK, "objective", page{Title: d.Objective.Title, Data: d})
}

// measure records a measurement of the objective's KPI, as POST
// /v1/objectives/{id}/measurements does. The moment is read as UTC.
func (a *App) measure(c echo.Context, who viewer) error {
	id := c.Param("id")
	cmd := roadmap.Measure{Source: c.FormValue("source"), Note: c.FormValue("note")}
	if v := strings.TrimSpace(c.FormValue("value")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return a.fail(c, http.StatusBadRequest, "The value must be a number, such as 1.25.")
		}
		cmd.Value = &f
	}
	if v := strings.TrimSpace(c.FormValue("at")); v != "" {
		t, err := measuredAt(v)
		if err != nil {
			return a.fail(c, http.StatusBadRequest, "The moment must be a date and time (UTC), such as 2026-11-30T17:00.")
		}
		cmd.At = t
	}
	if _, err := a.cfg.Ledger.MeasureObjective(c.Request().Context(), request(who), id, cmd); err != nil {
		return a.failWith(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/objectives/"+url.PathEscape(id)+"?done=measured#kpi")
}

// measuredAt reads a datetime-local field's value (to the minute or the
// second) or a date, as UTC.
func measuredAt(v string) (time.Time, error) {
	var err error
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		var t time.Time
		if t, err = time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}
