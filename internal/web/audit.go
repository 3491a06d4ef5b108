package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/audit"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// auditShown is how many events the audit page shows: the latest that
// pass its filters. The downloads hold every one.
const auditShown = 200

type auditData struct {
	Actor, Type, Product, Item, Since, Until string
	Events                                   []projections.Record
	// More is set when more events pass the filters than are shown.
	More        bool
	Types       []string
	Checkpoint  *projections.CheckpointView
	VerifierKey string
	// Query is the filters as GET /v1/audit takes them, for the downloads.
	Query string
}

// auditLog shows the decision log for auditors and admins, with the
// filters of GET /v1/audit, its downloads, and the state of its
// verification: the latest signed checkpoint and the verifier key.
func (a *App) auditLog(c echo.Context, _ viewer) error {
	q := c.QueryParams()
	d := auditData{
		Actor: strings.TrimSpace(q.Get("actor")), Type: q.Get("type"), Product: q.Get("product"), Item: strings.TrimSpace(q.Get("item")),
		Since: q.Get("since"), Until: q.Get("until"), VerifierKey: a.cfg.VerifierKey,
	}
	for t := range roadmap.SchemaVersions {
		d.Types = append(d.Types, t)
	}
	slices.Sort(d.Types)
	api, err := auditQuery(q)
	if err != nil {
		return a.fail(c, http.StatusBadRequest, err.Error())
	}
	d.Query = api.Encode()
	filter := audit.Filter{Item: d.Item, Match: func(r projections.Record) bool {
		return (d.Actor == "" || r.Actor == d.Actor) && (d.Type == "" || r.Type == d.Type) && (d.Product == "" || r.Product == d.Product)
	}}
	if s := api.Get("since"); s != "" {
		t, _ := time.Parse(time.RFC3339, s)
		filter.Since = &t
	}
	if u := api.Get("until"); u != "" {
		t, _ := time.Parse(time.RFC3339Nano, u)
		filter.Until = &t
	}
	if d.Item != "" {
		if _, ok := a.cfg.Views.ItemView(d.Item); !ok {
			return a.fail(c, http.StatusNotFound, "There is no such item.")
		}
	}
	err = a.cfg.Trail.Scan(c.Request().Context(), filter, 1, a.cfg.Views.Sequence(), func(r projections.Record) (bool, error) {
		d.Events = append(d.Events, r)
		if len(d.Events) > auditShown {
			d.Events, d.More = d.Events[1:], true
		}
		return true, nil
	})
	if err != nil {
		return a.failWith(c, err)
	}
	slices.Reverse(d.Events)
	a.cfg.Views.Read(func(st *projections.State) {
		if cp, ok := st.LatestCheckpoint(); ok {
			d.Checkpoint = &cp
		}
	})
	return a.render(c, http.StatusOK, "audit", page{Title: "Audit", Data: d})
}

// auditQuery turns the page's filters into the query of GET /v1/audit:
// dates become the start of since's day and the end of until's.
func auditQuery(q url.Values) (url.Values, error) {
	out := url.Values{}
	for _, k := range []string{"actor", "type", "product", "item"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	if s := q.Get("since"); s != "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, errBadDate("since")
		}
		out.Set("since", d.Format(time.RFC3339))
	}
	if u := q.Get("until"); u != "" {
		d, err := time.Parse(time.DateOnly, u)
		if err != nil {
			return nil, errBadDate("until")
		}
		out.Set("until", d.Add(24*time.Hour-time.Microsecond).Format(time.RFC3339Nano))
	}
	return out, nil
}

type errBadDate string

func (e errBadDate) Error() string { return string(e) + " must be a date such as 2026-11-01." }

// auditDownload answers the audit trail as GET /v1/audit answers it, in
// CSV or JSON Lines, with the page's filters: the API's own rendering.
func (a *App) auditDownload(c echo.Context, who viewer) error {
	api, err := auditQuery(c.QueryParams())
	if err != nil {
		return a.fail(c, http.StatusBadRequest, err.Error())
	}
	r := c.Request()
	media, name := "text/csv", "audit.csv"
	if c.QueryParam("format") == "jsonl" {
		media, name = "application/x-ndjson", "audit.jsonl"
	}
	r.Header.Set("Accept", media)
	r.URL.RawQuery = api.Encode()
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return a.cfg.AnswerAudit(c, who.token)
}
