package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// pendingChange is a change held for approval, as the approvals page shows
// it.
type pendingChange struct {
	projections.ChangeView
	ItemTitle string
	// Own is set when the person looking proposed it: a second person
	// approves (roadmap.DecideApproveChange refuses the proposer).
	Own bool
}

type changesData struct {
	Pending []pendingChange
	Decided []pendingChange
	Notice  string
}

func (a *App) changes(c echo.Context, who viewer) error {
	var d changesData
	titles := map[string]string{}
	a.cfg.Views.Read(func(st *projections.State) {
		for _, ch := range st.Changes("") {
			if _, ok := titles[ch.ItemID]; !ok {
				if it, ok := st.Item(ch.ItemID); ok {
					titles[ch.ItemID] = it.Title
				}
			}
			pc := pendingChange{ChangeView: ch, ItemTitle: titles[ch.ItemID], Own: ch.ProposedBy == who.Name}
			if ch.Status == roadmap.ChangeStatusPending {
				d.Pending = append(d.Pending, pc)
			} else {
				d.Decided = append(d.Decided, pc)
			}
		}
	})
	// The latest decided first, and only the last few.
	for i, j := 0, len(d.Decided)-1; i < j; i, j = i+1, j-1 {
		d.Decided[i], d.Decided[j] = d.Decided[j], d.Decided[i]
	}
	d.Decided = d.Decided[:min(len(d.Decided), 20)]
	switch c.QueryParam("done") {
	case "approved":
		d.Notice = "Approved: the decision is recorded on the item."
	case "rejected":
		d.Notice = "Rejected: the item stays as it was."
	}
	return a.render(c, http.StatusOK, "changes", page{Title: "Approvals", Data: d})
}

func (a *App) approve(c echo.Context, who viewer) error {
	return a.decideChange(c, who, "approved", a.cfg.Ledger.ApproveChange)
}

func (a *App) reject(c echo.Context, who viewer) error {
	return a.decideChange(c, who, "rejected", a.cfg.Ledger.RejectChange)
}

func (a *App) decideChange(c echo.Context, who viewer, done string, decide func(ctx context.Context, req ledger.Request, id string, cmd roadmap.DecideChange) (ledger.Result[projections.ChangeView], error)) error {
	id := c.Param("id")
	if _, ok := a.cfg.Views.ChangeView(id); !ok {
		return a.fail(c, http.StatusNotFound, "There is no such change.")
	}
	cmd := roadmap.DecideChange{Rationale: c.FormValue("rationale"), Evidence: evidenceLines(c.FormValue("evidence"))}
	if _, err := decide(c.Request().Context(), request(who), id, cmd); err != nil {
		return a.failWith(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/changes?done="+done)
}
