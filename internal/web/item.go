package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// itemData is an item's page.
type itemData struct {
	projections.ItemView
	Objectives []roadmap.Objective
	Parent     *projections.ItemView
	Pending    []roadmap.Change
	// Why and Timeline are the item's why chain and history, for those
	// who may read the audit trail (as GET /v1/items/{id}/why and
	// /history); nil for others.
	Why      *projections.WhyNode
	Timeline []projections.Record
	Notice   string
}

func (a *App) item(c echo.Context, who viewer) error {
	id := c.Param("id")
	var d itemData
	var found bool
	a.cfg.Views.Read(func(st *projections.State) {
		v, ok := st.ItemView(id)
		if !ok {
			return
		}
		found, d.ItemView, d.Pending = true, v, st.PendingChanges()[id]
		for _, oid := range v.ObjectiveIDs {
			if o, ok := st.Objective(oid); ok {
				d.Objectives = append(d.Objectives, o)
			}
		}
		if p, ok := st.ItemView(v.ParentID); ok && v.ParentID != "" {
			d.Parent = &p
		}
	})
	if !found {
		return a.fail(c, http.StatusNotFound, "There is no such item.")
	}
	if who.Can(string(roadmap.PermAudit)) {
		ctx := c.Request().Context()
		_, why, err := a.cfg.Trail.Why(ctx, id)
		if err != nil {
			return a.failWith(c, err)
		}
		_, records, err := a.cfg.Trail.History(ctx, id)
		if err != nil {
			return a.failWith(c, err)
		}
		d.Why, d.Timeline = why, records
	}
	switch c.QueryParam("done") {
	case "proposed":
		d.Notice = "Proposed: the item is in the backlog. Put it on the roadmap below when it is decided."
	case "recorded":
		d.Notice = "Your decision is recorded."
	case "held":
		d.Notice = "Your decision is a major change: it waits for a second person's approval on the Approvals page."
	}
	return a.render(c, http.StatusOK, "item", page{Title: d.Title, Data: d})
}

// edit changes what an item is, as PATCH /v1/items/{id} does: the fields
// of the form that differ from the item as it stands, with a rationale.
func (a *App) edit(c echo.Context, who viewer) error {
	id := c.Param("id")
	v, ok := a.cfg.Views.ItemView(id)
	if !ok {
		return a.fail(c, http.StatusNotFound, "There is no such item.")
	}
	cmd := roadmap.EditItem{Rationale: c.FormValue("rationale"), Evidence: evidenceLines(c.FormValue("evidence"))}
	changed := func(field, now string) *string {
		if v := strings.ReplaceAll(c.FormValue(field), "\r\n", "\n"); v != now {
			return &v
		}
		return nil
	}
	cmd.Title, cmd.Description, cmd.Product = changed("title", v.Title), changed("description", v.Description), changed("product", v.Product)
	if e := strings.TrimSpace(c.FormValue("effort")); e != "" {
		n, err := strconv.Atoi(e)
		if err != nil {
			return a.fail(c, http.StatusBadRequest, "The effort must be a whole number of points.")
		}
		if cur := v.Effort(); cur == nil || *cur != n {
			cmd.Effort = &n
		}
	}
	res, err := a.cfg.Ledger.EditItem(c.Request().Context(), request(who), id, cmd)
	if err != nil {
		return a.failWith(c, err)
	}
	done := "recorded"
	if res.Answer.Held != nil {
		done = "held"
	}
	return c.Redirect(http.StatusSeeOther, "/items/"+url.PathEscape(id)+"?done="+done)
}
