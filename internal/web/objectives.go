package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/projections"
)

// churnWindow is the period the objectives page counts churn over.
const churnWindow = 30 * 24 * time.Hour

type objectivesData struct {
	View    projections.ObjectivesView
	Signals projections.Signals
}

// Columns are a group's horizons, in order, for the page.
func (objectivesData) Columns(h projections.Horizons) []column {
	return columns(projections.RoadmapView{Horizons: h}, nil)
}

// objectives shows each objective with the roadmap items serving it per
// horizon (GET /v1/roadmap?view=objectives), and the health signals the
// review pack computes: orphaned objectives, unaligned and stale items,
// and the churn of the last 30 days.
func (a *App) objectives(c echo.Context, _ viewer) error {
	ctx := c.Request().Context()
	now := time.Now()
	var decisions []projections.Record
	from, err := a.cfg.Views.FirstSequenceFrom(now.Add(-churnWindow))
	if err != nil {
		return a.failWith(c, err)
	}
	to := a.cfg.Views.Sequence()
	if from > 0 && from <= to {
		err := a.cfg.Views.Scan(ctx, from, to, func(r projections.Record) (bool, error) {
			if projections.IsDecision(r.Type) {
				decisions = append(decisions, r)
			}
			return true, nil
		})
		if err != nil {
			return a.failWith(c, err)
		}
	}
	var d objectivesData
	err = a.cfg.Views.At(ctx, to, func(st *projections.State) error {
		d.View = st.ByObjective("")
		d.Signals = st.Signals(now, decisions, nil)
		return nil
	})
	if err != nil {
		return a.failWith(c, err)
	}
	return a.render(c, http.StatusOK, "objectives", page{Title: "Objectives", Data: d})
}
