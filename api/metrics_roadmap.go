package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// maxMetricsMonths bounds the periods of one answer: ten years.
const maxMetricsMonths = 120

func (s *Server) measureObjective(c echo.Context) error {
	id, err := s.knownObjective(c)
	if err != nil {
		return err
	}
	var b measureBody
	req, err := readRequest(c, &b)
	if err != nil {
		return err
	}
	cmd := roadmap.Measure{Value: b.Value, Source: b.Source, Note: b.Note}
	if b.At != nil {
		cmd.At = *b.At
	}
	res, err := s.cfg.Ledger.MeasureObjective(c.Request().Context(), req, id, cmd)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Location", "/v1/objectives/"+id+"/measurements")
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	return c.JSON(http.StatusCreated, measurementWire(res.Answer))
}

func (s *Server) listMeasurements(c echo.Context) error {
	if err := noQuery(c, "the measurements of an objective"); err != nil {
		return err
	}
	id, err := s.knownObjective(c)
	if err != nil {
		return err
	}
	var list []measurementJSON
	s.cfg.Views.Read(func(st *projections.State) { list = wireList(st.Measurements(id), measurementWire) })
	return answerList(c, "measurements", list)
}

// roadmapMetrics answers the roadmap's figures per month and in total,
// read from the log itself up to the position the read models stand at.
func (s *Server) roadmapMetrics(c echo.Context) error {
	q, err := queryOf(c, "product", "from", "to", "interval")
	if err != nil {
		return err
	}
	for name, values := range q {
		if len(values) > 1 {
			return problem(ErrBadQuery, fmt.Sprintf("query parameter %q is given %d times; give it once", name, len(values)))
		}
	}
	if v := q.Get("interval"); v != "" && v != "month" {
		return problem(ErrBadQuery, "interval must be month, the only one there is")
	}
	product := q.Get("product")
	if product != "" && !roadmap.ValidProduct(product) {
		return problem(ErrBadQuery, "product must be a product slug")
	}
	var began, at time.Time
	var last uint64
	s.cfg.Views.Read(func(st *projections.State) { began, at, last = st.Began(), st.At, st.Sequence })
	if last == 0 {
		began, at = s.cfg.Now(), s.cfg.Now()
	}
	from, to := monthOf(began), monthOf(at).AddDate(0, 1, 0)
	if from, err = dayParam(q.Get("from"), "from", from); err != nil {
		return err
	}
	if to, err = dayParam(q.Get("to"), "to", to); err != nil {
		return err
	}
	if !from.Before(to) {
		return problem(ErrBadQuery, "from must be before to (to is not included)")
	}
	if to.After(from.AddDate(0, maxMetricsMonths, 0)) {
		return problem(ErrBadQuery, fmt.Sprintf("from and to may be at most %d months apart", maxMetricsMonths))
	}
	r, err := s.metrics(c.Request().Context(), projections.MetricsQuery{Product: product, From: from, To: to, Last: last})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, metricsWire(r))
}

// follow reads the log from a sequence on, for the figures.
func (s *Server) follow(ctx context.Context, from uint64, fn func(rec eventlog.Record) error) error {
	return s.cfg.Log.Follow(ctx, from, fn)
}

// dayParam reads a date, YYYY-MM-DD (UTC midnight), or returns def when
// it is not given.
func dayParam(v, name string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return def, problem(ErrBadQuery, name+" must be a date, YYYY-MM-DD (UTC)")
	}
	return t, nil
}

func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// reviewOutcomes answers a review's figures against the previous review's.
func (s *Server) reviewOutcomes(c echo.Context) error {
	if err := noQuery(c, "a review's outcomes"); err != nil {
		return err
	}
	if _, err := known(c, "review", s.cfg.Views.ReviewView); err != nil {
		return err
	}
	o, err := s.packs.Outcomes(c.Request().Context(), c.Param("id"), s.cfg.Now(), s.metrics)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, outcomesWire(o))
}
