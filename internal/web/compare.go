package web

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// compareData is what changed on the roadmap between two moments.
type compareData struct {
	From, To string
	// Against and Review are two reviews compared, the earlier first.
	Against, Review string
	Reviews         []projections.ReviewView
	Compared        bool
	FromSeq, ToSeq  uint64
	Diff            projections.Diff
	// Decisions are the decisions behind the rows, by sequence.
	Decisions map[uint64]projections.Record
}

// Rows are the diff's sections, in the order the page shows them.
func (d compareData) Rows() []diffSection {
	return []diffSection{
		{"Added", "added", d.Diff.Added}, {"Removed", "removed", d.Diff.Removed},
		{"Moved", "moved", d.Diff.Moved}, {"Rescored", "rescored", d.Diff.Rescored},
	}
}

type diffSection struct {
	Name, ID string
	Rows     []projections.DiffRow
}

// compare shows what changed between two dates (from, to: dates or RFC
// 3339 times) or two ledger positions (from_seq, to_seq): items added,
// removed, moved and rescored, each with the decisions behind it. Two
// reviews are compared on their own page.
func (a *App) compare(c echo.Context, _ viewer) error {
	q := c.QueryParams()
	d := compareData{From: q.Get("from"), To: q.Get("to"), Against: q.Get("against"), Review: q.Get("review")}
	a.cfg.Views.Read(func(st *projections.State) {
		for _, r := range st.Reviews() {
			if r.Status != roadmap.ReviewStatusCancelled {
				d.Reviews = append(d.Reviews, r)
			}
		}
	})
	if d.Against != "" || d.Review != "" {
		return a.compareReviews(c, d)
	}
	if d.From == "" && q.Get("from_seq") == "" {
		return a.render(c, http.StatusOK, "compare", page{Title: "Compare", Data: d})
	}
	var err error
	var past bool
	const firstHint = "Give the first moment as a date such as 2026-11-01. "
	if d.FromSeq, past, err = a.moment(pick(q.Get("from"), q.Get("from_seq"))); err != nil {
		return a.failMoment(c, err, firstHint)
	}
	if !past {
		return a.fail(c, http.StatusBadRequest, firstHint)
	}
	if d.ToSeq, _, err = a.moment(pick(q.Get("to"), q.Get("to_seq"))); err != nil {
		return a.failMoment(c, err, "")
	}
	ctx := c.Request().Context()
	d.Diff, err = a.cfg.Views.DiffBetween(ctx, projections.ReviewPoint{Sequence: d.FromSeq}, projections.ReviewPoint{Sequence: d.ToSeq})
	if err != nil {
		return a.failWith(c, err)
	}
	if d.Decisions, err = a.decisions(c, d.Diff); err != nil {
		return a.failWith(c, err)
	}
	d.Compared = true
	return a.render(c, http.StatusOK, "compare", page{Title: "Compare", Data: d})
}

// compareReviews shows what changed between two reviews, as GET
// /v1/reviews/{id}/diff?against= does: an open review counts at the
// ledger's position now.
func (a *App) compareReviews(c echo.Context, d compareData) error {
	if d.Against == "" || d.Review == "" {
		return a.fail(c, http.StatusBadRequest, "Choose two reviews to compare.")
	}
	diff, err := a.cfg.Views.Diff(c.Request().Context(), d.Review, d.Against)
	if err != nil {
		return a.failWith(c, err)
	}
	d.Diff, d.FromSeq, d.ToSeq = diff, diff.From.Sequence, diff.To.Sequence
	if d.Decisions, err = a.decisions(c, d.Diff); err != nil {
		return a.failWith(c, err)
	}
	d.Compared = true
	return a.render(c, http.StatusOK, "compare", page{Title: "Compare", Data: d})
}

// decisions reads the decisions a diff names, by sequence.
func (a *App) decisions(c echo.Context, diff projections.Diff) (map[uint64]projections.Record, error) {
	var want []uint64
	for _, rows := range [][]projections.DiffRow{diff.Added, diff.Removed, diff.Moved, diff.Rescored} {
		for _, r := range rows {
			want = append(want, r.Decisions...)
		}
	}
	out := map[uint64]projections.Record{}
	if len(want) == 0 {
		return out, nil
	}
	slices.Sort(want)
	err := a.cfg.Views.Scan(c.Request().Context(), want[0], want[len(want)-1], func(r projections.Record) (bool, error) {
		if _, found := slices.BinarySearch(want, r.Sequence); found {
			out[r.Sequence] = r
		}
		return true, nil
	})
	return out, err
}

// pick makes the query a moment reads: a date or time when given, else a
// ledger position.
func pick(date, seq string) map[string][]string {
	if date != "" {
		return map[string][]string{"as_of": {date}}
	}
	return map[string][]string{"at_seq": {seq}}
}
