package web

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Layout is how the web app draws a view: a view records what it selects
// and shows, and its layout follows from that (layoutOf), so a view made
// through the API is drawn the same way as one made from the web app's
// form.
type Layout string

// The ready-made layouts.
const (
	// LayoutTheme groups the items by the objectives they serve, with each
	// objective's KPI and its latest measurement, and no item detail: for
	// executives.
	LayoutTheme Layout = "theme"
	// LayoutRelease puts the items of one product in Now, Next and Later,
	// with their dependencies and risks: for engineering and sales.
	LayoutRelease Layout = "release"
	// LayoutTechnology lists the items of some kinds, each with every field
	// the view shows.
	LayoutTechnology Layout = "technology"
	// LayoutPortfolio puts every product side by side, each in Now, Next
	// and Later: for a product leader.
	LayoutPortfolio Layout = "portfolio"
)

// layoutPreset is a ready-made layout as the form offers it.
type layoutPreset struct {
	Layout Layout
	Title  string
	About  string
	Fields []string
}

// layouts are the ready-made layouts, in the order the form offers them,
// each with what it selects and shows by default.
var layouts = []layoutPreset{
	{LayoutTheme, "Theme view", "Objectives, the initiatives serving them and their KPI; no item detail.", []string{"title", "objectives"}},
	{LayoutRelease, "Release view", "One product's items per horizon, with dependencies and risks.", []string{"title", "horizon", "rank", "effort", "depends_on", "risks"}},
	{LayoutTechnology, "Technology view", "The items of one kind, with their detail.", []string{"title", "kind", "status", "horizon", "description"}},
	{LayoutPortfolio, "Portfolio", "Every product side by side, per horizon.", []string{"title", "horizon"}},
}

// invalid is the answer to a form with one field wrong.
func invalid(field, message string) error {
	return &roadmap.ValidationError{Fields: []roadmap.FieldError{{Field: field, Message: message}}}
}

// layoutOf is the layout a view is drawn in: theme when it shows the
// objectives and not the horizon; technology when it selects by kind;
// portfolio when it shows every product; release otherwise.
func layoutOf(v roadmap.ViewSpec) Layout {
	switch {
	case v.Shows("objectives") && !v.Shows("horizon"):
		return LayoutTheme
	case len(v.Kinds) > 0:
		return LayoutTechnology
	case v.Product == "":
		return LayoutPortfolio
	}
	return LayoutRelease
}

// specOf is the view the form describes in a layout: the fields chosen
// (the layout's own when none is), with what the layout needs to be drawn
// in it (layoutOf gives it back).
func specOf(layout Layout, name, slug, product, kind string, fields []string) (roadmap.DefineView, error) {
	cmd := roadmap.DefineView{Name: name, Slug: slug, Audience: roadmap.AudienceInternal, Product: product, Fields: fields}
	i := slices.IndexFunc(layouts, func(l layoutPreset) bool { return l.Layout == layout })
	if i < 0 {
		return cmd, invalid("layout", "must be theme, release, technology or portfolio")
	}
	if len(cmd.Fields) == 0 {
		cmd.Fields = slices.Clone(layouts[i].Fields)
	}
	with := func(f string) {
		if !slices.Contains(cmd.Fields, f) {
			cmd.Fields = append(cmd.Fields, f)
		}
	}
	switch layout {
	case LayoutTheme:
		with("objectives")
		cmd.Fields = slices.DeleteFunc(cmd.Fields, func(f string) bool { return f == "horizon" })
		cmd.Kinds = []roadmap.Kind{roadmap.KindInitiative}
	case LayoutTechnology:
		with("horizon")
		if kind == "" {
			return cmd, invalid("kind", "must be chosen for a technology view")
		}
		cmd.Kinds = []roadmap.Kind{roadmap.Kind(kind)}
	case LayoutRelease:
		with("horizon")
		if product == "" {
			return cmd, invalid("product", "must be given for a release view, which shows one product")
		}
	case LayoutPortfolio:
		with("horizon")
		cmd.Product = ""
	}
	// The fields in the order the ledger lists them, whatever order the
	// form sent them in.
	slices.SortStableFunc(cmd.Fields, func(a, b string) int {
		return slices.Index(roadmap.ViewFields, a) - slices.Index(roadmap.ViewFields, b)
	})
	return cmd, nil
}

type viewsData struct {
	Views   []viewRow
	Layouts []layoutPreset
	Fields  []string
	Kinds   []roadmap.Kind
}

type viewRow struct {
	projections.SavedView
	Layout Layout
}

// views lists the views (GET /v1/views) and offers editors the form that
// saves a new one from a ready-made layout.
func (a *App) views(c echo.Context, _ viewer) error {
	d := viewsData{Layouts: layouts, Fields: roadmap.ViewFields, Kinds: []roadmap.Kind{roadmap.KindInitiative, roadmap.KindIdea}}
	a.cfg.Views.Read(func(st *projections.State) {
		for _, v := range st.SavedViews() {
			d.Views = append(d.Views, viewRow{v, layoutOf(v.ViewSpec)})
		}
	})
	return a.render(c, http.StatusOK, "views", page{Title: "Views", Data: d})
}

// defineView saves a view from a layout, through the same use case as
// POST /v1/views, and opens it.
func (a *App) defineView(c echo.Context, who viewer) error {
	form, err := c.FormParams()
	if err != nil {
		return a.fail(c, http.StatusBadRequest, "The form could not be read.")
	}
	cmd, err := specOf(Layout(form.Get("layout")), strings.TrimSpace(form.Get("name")), strings.TrimSpace(form.Get("slug")),
		strings.TrimSpace(form.Get("product")), form.Get("kind"), form["fields"])
	if err != nil {
		return a.failWith(c, err)
	}
	res, err := a.cfg.Ledger.DefineView(c.Request().Context(), request(who), cmd)
	if err != nil {
		return a.failWith(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/views/"+res.Answer.Slug)
}

// drawnView is a view as a page draws it, in its layout, with only the
// fields it shows.
type drawnView struct {
	View     projections.SavedView
	Layout   Layout
	Sequence uint64
	// Show says which fields the view shows, by name.
	Show map[string]bool
	// Columns are Now, Next and Later (release, technology); Products the
	// same for each product (portfolio); Themes the objectives (theme).
	Columns  []viewColumn
	Products []viewProduct
	Themes   []viewTheme
	Count    int
}

type viewColumn struct {
	Horizon roadmap.Horizon
	Entries []viewCard
}

type viewProduct struct {
	Product string
	Columns []viewColumn
}

// viewTheme is an objective with the items of the view that serve it.
type viewTheme struct {
	ID, Title, KPI, Target string
	// Latest is the KPI's latest measurement, nil before the first.
	Latest  *projections.Measurement
	Entries []viewCard
}

// viewCard is one item of a view. Its dependencies are named only when
// the view shows them: by title when the view shows that item too, as
// "an item outside this view" otherwise.
type viewCard struct {
	projections.ViewEntry
	Dependencies []string
}

// drawView reads what v shows now and arranges it in v's layout.
func drawView(st *projections.State, v projections.SavedView) drawnView {
	d := drawnView{View: v, Layout: layoutOf(v.ViewSpec), Sequence: st.Sequence, Show: map[string]bool{}}
	for _, f := range v.Fields {
		d.Show[f] = true
	}
	entries := st.ViewEntries(v.ViewSpec)
	d.Count = len(entries)
	titles := map[string]string{}
	for _, e := range entries {
		titles[e.ID] = e.Title
	}
	cards := make([]viewCard, 0, len(entries))
	for _, e := range entries {
		c := viewCard{ViewEntry: e}
		if d.Show["depends_on"] {
			for _, id := range e.DependsOn {
				if t, ok := titles[id]; ok && d.Show["title"] {
					c.Dependencies = append(c.Dependencies, t)
				} else {
					c.Dependencies = append(c.Dependencies, "an item outside this view")
				}
			}
		}
		cards = append(cards, c)
	}
	byHorizon := func(cards []viewCard) []viewColumn {
		var out []viewColumn
		for _, h := range roadmap.Horizons {
			col := viewColumn{Horizon: h}
			for _, c := range cards {
				if c.Horizon == h {
					col.Entries = append(col.Entries, c)
				}
			}
			if len(v.Horizons) == 0 || slices.Contains(v.Horizons, h) {
				out = append(out, col)
			}
		}
		return out
	}
	switch d.Layout {
	case LayoutTheme:
		d.Themes = themes(st, v, cards)
	case LayoutPortfolio:
		var products []string
		for _, c := range cards {
			if !slices.Contains(products, c.Product) {
				products = append(products, c.Product)
			}
		}
		for _, p := range products {
			d.Products = append(d.Products, viewProduct{Product: p, Columns: byHorizon(slices.DeleteFunc(slices.Clone(cards), func(c viewCard) bool { return c.Product != p }))})
		}
	default:
		d.Columns = byHorizon(cards)
	}
	return d
}

// themes groups cards by the objectives they serve, in the order the
// view names its objectives and then by title; the items serving none
// come last, under no objective.
func themes(st *projections.State, v projections.SavedView, cards []viewCard) []viewTheme {
	var out []viewTheme
	index := map[string]int{}
	add := func(id string) {
		if _, ok := index[id]; ok {
			return
		}
		o, ok := st.Objective(id)
		if !ok {
			return
		}
		t := viewTheme{ID: o.ID, Title: o.Title, KPI: o.KPI, Target: o.Target}
		if ms := st.Measurements(id); len(ms) > 0 {
			t.Latest = &ms[len(ms)-1]
		}
		index[id] = len(out)
		out = append(out, t)
	}
	for _, id := range v.ObjectiveIDs {
		add(id)
	}
	var none []viewCard
	for _, c := range cards {
		if len(c.Objectives) == 0 {
			none = append(none, c)
		}
		for _, o := range c.Objectives {
			add(o.ID)
			if i, ok := index[o.ID]; ok {
				out[i].Entries = append(out[i].Entries, c)
			}
		}
	}
	if len(none) > 0 {
		out = append(out, viewTheme{Title: "Serving no objective", Entries: none})
	}
	return out
}

// viewPageData is the page of one view: the view drawn, and for an editor
// its read-only links, with the one just made (its secret shown this once).
type viewPageData struct {
	drawnView
	Links []Link
	// NewLink is the address of the link just made, with its secret.
	NewLink string
}

// Body is the view drawn, for the template the shared page draws it with
// too.
func (d viewPageData) Body() drawnView { return d.drawnView }

// view draws one view (GET /v1/views/{slug}/roadmap) in its layout.
func (a *App) view(c echo.Context, who viewer) error {
	return a.viewPage(c, who, http.StatusOK, "")
}

func (a *App) viewPage(c echo.Context, who viewer, status int, newLink string) error {
	var d viewPageData
	var ok bool
	a.cfg.Views.Read(func(st *projections.State) {
		var v projections.SavedView
		if v, ok = st.SavedViewBySlug(c.Param("slug")); ok {
			d.drawnView = drawView(st, v)
		}
	})
	if !ok {
		return a.fail(c, http.StatusNotFound, fmt.Sprintf("There is no view %q.", clip(60, c.Param("slug"))))
	}
	if who.Can(string(roadmap.PermDecide)) && d.View.Audience == roadmap.AudienceInternal && a.cfg.Links != nil {
		d.Links = a.cfg.Links(d.View.ID)
	}
	d.NewLink = newLink
	return a.render(c, status, "view", page{Title: d.View.Name, Data: d})
}

// linkLifetimes are the lives the form offers a new link, in hours: an
// hour to ninety days.
var linkLifetimes = []int64{1, 24, 7 * 24, 30 * 24, 90 * 24}

// shareView makes a read-only link to an internal view, through the same
// use case as POST /v1/views/{slug}/links, and shows it this once.
func (a *App) shareView(c echo.Context, who viewer) error {
	hours, err := strconv.ParseInt(c.FormValue("expires_in_hours"), 10, 64)
	if err != nil || !slices.Contains(linkLifetimes, hours) {
		return a.fail(c, http.StatusUnprocessableEntity, "Choose how long the link lasts.")
	}
	seconds := hours * 3600
	res, err := a.cfg.Ledger.ShareView(c.Request().Context(), request(who), c.Param("slug"),
		roadmap.ShareView{Name: strings.TrimSpace(c.FormValue("name")), ExpiresIn: &seconds})
	if err != nil {
		return a.failWith(c, err)
	}
	scheme := "http"
	if overTLS(c.Request()) {
		scheme = "https"
	}
	return a.viewPage(c, who, http.StatusCreated, scheme+"://"+c.Request().Host+"/shared/"+res.Answer.Secret)
}

// revokeLink revokes a read-only link to a view, through the same use case
// as DELETE /v1/views/{slug}/links/{id}.
func (a *App) revokeLink(c echo.Context, who viewer) error {
	slug := c.Param("slug")
	if _, err := a.cfg.Ledger.RevokeLink(c.Request().Context(), request(who), slug, c.Param("id"), roadmap.RevokeToken{Reason: strings.TrimSpace(c.FormValue("reason"))}); err != nil {
		return a.failWith(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/views/"+slug)
}

// hoursText says a link's life, in hours, for people.
func hoursText(n int64) string {
	switch {
	case n == 1:
		return "1 hour"
	case n < 24:
		return fmt.Sprintf("%d hours", n)
	case n == 24:
		return "1 day"
	}
	return fmt.Sprintf("%d days", n/24)
}

// cardData is one item as a card of a view draws it.
type cardData struct {
	Show map[string]bool
	Item viewCard
}

func cardOf(d drawnView, c viewCard) cardData { return cardData{Show: d.Show, Item: c} }

// layoutName names a layout for people.
func layoutName(l Layout) string {
	for _, p := range layouts {
		if p.Layout == l {
			return p.Title
		}
	}
	return string(l)
}

// viewFuncs are the template functions of the views' pages.
var viewFuncs = template.FuncMap{
	"number":     func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
	"day":        func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"card":       cardOf,
	"layoutName": layoutName,
	"hours":      hoursText,
	"lifetimes":  func() []int64 { return linkLifetimes },
}
