package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/pack"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

type reviewsData struct {
	Reviews []projections.ReviewView
	// Period is the month the form offers: that of the ledger's last
	// decision.
	Period string
}

func (a *App) reviews(c echo.Context, _ viewer) error {
	var d reviewsData
	a.cfg.Views.Read(func(st *projections.State) {
		d.Reviews = st.Reviews()
		d.Period = st.At.UTC().Format("2006-01")
	})
	slices.Reverse(d.Reviews)
	return a.render(c, http.StatusOK, "reviews", page{Title: "Reviews", Data: d})
}

// openReview opens a review for a period, as POST /v1/reviews does.
func (a *App) openReview(c echo.Context, who viewer) error {
	res, err := a.cfg.Ledger.OpenReview(c.Request().Context(), request(who), roadmap.OpenReview{Period: c.FormValue("period"), Title: c.FormValue("title")})
	if err != nil {
		return a.failWith(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/reviews/"+url.PathEscape(res.Answer.ID))
}

type reviewData struct {
	Review projections.ReviewView
	Pack   pack.Pack
	Agenda []pack.Section
	Notice string
}

// review shows a review as its pack has it: the agenda, the decisions of
// the period, what waits for approval, and the diff against the previous
// review; with the pack to download and, while it is open, the form that
// closes it.
func (a *App) review(c echo.Context, _ viewer) error {
	id := c.Param("id")
	v, ok := a.cfg.Views.ReviewView(id)
	if !ok {
		return a.fail(c, http.StatusNotFound, "There is no such review.")
	}
	p, err := a.cfg.Packs.Pack(c.Request().Context(), id, time.Now())
	if err != nil {
		return a.failWith(c, err)
	}
	d := reviewData{Review: v, Pack: p, Agenda: pack.Sections()}
	if c.QueryParam("done") == "closed" {
		d.Notice = "The review is closed: its pack is fixed at ledger position " + strconv.FormatUint(v.Sequence, 10) + "."
	}
	return a.render(c, http.StatusOK, "review", page{Title: v.Title, Data: d})
}

// closeReview closes a review with its notes, as POST
// /v1/reviews/{id}/close does.
func (a *App) closeReview(c echo.Context, who viewer) error {
	id := c.Param("id")
	if _, ok := a.cfg.Views.ReviewView(id); !ok {
		return a.fail(c, http.StatusNotFound, "There is no such review.")
	}
	if _, err := a.cfg.Ledger.CloseReview(c.Request().Context(), request(who), id, roadmap.CloseReview{Notes: c.FormValue("notes")}); err != nil {
		return a.failWith(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/reviews/"+url.PathEscape(id)+"?done=closed")
}

// reviewPack answers a review's pack as GET /v1/reviews/{id}/pack does:
// the standalone HTML document (under the API's own policy for it, which
// runs no script) or Markdown, to download.
func (a *App) reviewPack(c echo.Context, _ viewer) error {
	id := c.Param("id")
	if _, ok := a.cfg.Views.ReviewView(id); !ok {
		return a.fail(c, http.StatusNotFound, "There is no such review.")
	}
	p, err := a.cfg.Packs.Pack(c.Request().Context(), id, time.Now())
	if err != nil {
		return a.failWith(c, err)
	}
	var body bytes.Buffer
	media, render, name := "text/html", pack.HTML, "review-"+p.Period+".html"
	if c.QueryParam("format") == "md" {
		media, render, name = "text/markdown", pack.Markdown, "review-"+p.Period+".md"
		c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	}
	if err := render(&body, p); err != nil {
		return a.failWith(c, err)
	}
	// No page policy is set here: the API's headers give the pack's HTML
	// its own, which loads and runs nothing.
	return c.Blob(http.StatusOK, media+"; charset=utf-8", body.Bytes())
}
