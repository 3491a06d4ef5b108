package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// backlogPage is how many items a page of the backlog shows.
const backlogPage = 50

// MaxImportBytes is the largest file the import form takes, as the API's
// import does.
const MaxImportBytes = 10 << 20

type backlogData struct {
	Filter     projections.ItemFilter
	Items      []projections.ItemView
	Total      int
	Page, Last int
	Objectives []projections.ObjectiveView
	// Query is the filter's query string, for the pages' links.
	Query  string
	Notice string
}

// PrevPage and NextPage are the neighbouring pages, 0 when there is none.
func (d backlogData) PrevPage() int {
	if d.Page > 1 {
		return d.Page - 1
	}
	return 0
}

func (d backlogData) NextPage() int {
	if d.Page < d.Last {
		return d.Page + 1
	}
	return 0
}

var (
	statuses = []roadmap.ItemStatus{roadmap.StatusProposed, roadmap.StatusOnRoadmap, roadmap.StatusRemoved, roadmap.StatusDelivered}
	kinds    = []roadmap.Kind{roadmap.KindIdea, roadmap.KindInitiative}
)

// backlog lists the items with the filters of GET /v1/items: product,
// status, horizon, kind, objective and a search of titles and descriptions;
// a page at a time.
func (a *App) backlog(c echo.Context, _ viewer) error {
	q := c.QueryParams()
	d := backlogData{Filter: projections.ItemFilter{
		Product: q.Get("product"), Status: roadmap.ItemStatus(q.Get("status")), Horizon: roadmap.Horizon(q.Get("horizon")),
		Kind: roadmap.Kind(q.Get("kind")), ObjectiveID: q.Get("objective"), Text: strings.TrimSpace(q.Get("q")),
	}}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	keep := url.Values{}
	for _, k := range []string{"product", "status", "horizon", "kind", "objective", "q"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	d.Query = keep.Encode()
	if q.Get("done") == "proposed" {
		d.Notice = "The item is proposed: it is in the backlog, not yet on the roadmap."
	}
	if n := q.Get("imported"); n != "" {
		d.Notice = "Imported: " + n + "."
	}
	a.cfg.Views.Read(func(st *projections.State) {
		d.Items, d.Total = st.ItemList(d.Filter, projections.Order{Sort: projections.SortUpdated, Descending: true}, (d.Page-1)*backlogPage, backlogPage)
		d.Objectives, _ = st.ObjectiveList(projections.ObjectiveFilter{Status: roadmap.StatusActive}, projections.Order{Sort: projections.SortTitle}, 0, 0)
	})
	d.Last = max(1, (d.Total+backlogPage-1)/backlogPage)
	return a.render(c, http.StatusOK, "backlog", page{Title: "Backlog", Data: d})
}

// Statuses and Kinds are the filters' choices.
func (backlogData) Statuses() []roadmap.ItemStatus { return statuses }
func (backlogData) Kinds() []roadmap.Kind          { return kinds }
func (backlogData) Horizons() []roadmap.Horizon    { return roadmap.Horizons }

// propose proposes an item into the backlog, as POST /v1/items does.
func (a *App) propose(c echo.Context, who viewer) error {
	cmd := roadmap.ProposeItem{
		Title: c.FormValue("title"), Description: c.FormValue("description"), Kind: roadmap.Kind(c.FormValue("kind")),
		Product: strings.TrimSpace(c.FormValue("product")),
	}
	if form, err := c.FormParams(); err == nil {
		cmd.ObjectiveIDs = form["objective"]
	}
	if e := strings.TrimSpace(c.FormValue("effort")); e != "" {
		n, err := strconv.Atoi(e)
		if err != nil {
			return a.fail(c, http.StatusBadRequest, "The effort must be a whole number of points.")
		}
		cmd.Effort = &n
	}
	res, err := a.cfg.Ledger.ProposeItem(c.Request().Context(), request(who), cmd)
	if err != nil {
		return a.failWith(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/items/"+url.PathEscape(res.Answer.Item.ID)+"?done=proposed")
}

// importData is the preview of an import: the dry run's counts and the
// rows, with the file carried on to the import itself.
type importData struct {
	Jira     bool
	Outcome  ledger.ImportOutcome
	Rows     []roadmap.ImportRow
	Content  string
	Problems []roadmap.RowError
}

// importFile reads the file of an import form: an uploaded file, or the
// content a preview carries on.
func (a *App) importFile(c echo.Context) (content string, jira bool, err error) {
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, MaxImportBytes+1<<20)
	jira = c.FormValue("format") == "jira"
	if content = c.FormValue("content"); content == "" {
		fh, ferr := c.FormFile("file")
		if ferr != nil {
			return "", jira, fmt.Errorf("choose a CSV file to import")
		}
		if fh.Size > MaxImportBytes {
			return "", jira, fmt.Errorf("the file is larger than 10 MiB; split it")
		}
		f, ferr := fh.Open()
		if ferr != nil {
			return "", jira, ferr
		}
		defer f.Close()
		b, ferr := io.ReadAll(io.LimitReader(f, MaxImportBytes))
		if ferr != nil {
			return "", jira, ferr
		}
		content = string(b)
	}
	if !utf8.ValidString(content) {
		return "", jira, fmt.Errorf("the file is not valid UTF-8; save it as CSV UTF-8")
	}
	return content, jira, nil
}

// importPreview runs the import as a dry run and shows what it would do;
// nothing is recorded.
func (a *App) importPreview(c echo.Context, who viewer) error {
	return a.runImport(c, who, true)
}

// importRun records the import the person previewed.
func (a *App) importRun(c echo.Context, who viewer) error {
	return a.runImport(c, who, false)
}

func (a *App) runImport(c echo.Context, who viewer, dryRun bool) error {
	content, jira, err := a.importFile(c)
	if err != nil {
		return a.fail(c, http.StatusBadRequest, err.Error())
	}
	d := importData{Jira: jira, Content: content}
	file, err := a.cfg.ReadImport([]byte(content), jira)
	if err == nil {
		file.DryRun = dryRun
		d.Rows = file.Rows
		d.Outcome, err = a.cfg.Ledger.Import(c.Request().Context(), request(who), file)
	}
	var ie *roadmap.ImportError
	switch {
	case errors.As(err, &ie):
		d.Problems = ie.Rows
		return a.render(c, http.StatusUnprocessableEntity, "import", page{Title: "Import preview", Data: d})
	case err != nil:
		return a.failWith(c, err)
	case dryRun:
		return a.render(c, http.StatusOK, "import", page{Title: "Import preview", Data: d})
	}
	o := d.Outcome
	summary := fmt.Sprintf("%d created, %d updated, %d unchanged", o.Created, o.Updated, o.Unchanged)
	return c.Redirect(http.StatusSeeOther, "/backlog?imported="+url.QueryEscape(summary))
}
