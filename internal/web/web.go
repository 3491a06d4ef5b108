// Package web serves the ledger's web app: server-rendered pages for people
// (the board, an item and its timeline, the changes held for approval) on
// the same echo instance and port as the API, which mounts it. It holds no
// rule of its own: who may do what is each page's roadmap.Permission,
// checked against the token the API's own lookup finds; writes go through
// the ledger's use cases and reads through the read models and the audit
// trail, as the API's do. It never makes an HTTP request to the API.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/audit"
	"github.com/roadmap-ledger/roadmap/internal/governance"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

//go:embed assets templates
var files embed.FS

// Views are the read models the pages are drawn from.
type Views interface {
	ItemView(id string) (projections.ItemView, bool)
	ChangeView(id string) (projections.ChangeView, bool)
	ReviewView(id string) (projections.ReviewView, bool)
	// Read calls fn with the live state.
	Read(fn func(*projections.State))
	// At calls fn with the state at a past sequence.
	At(ctx context.Context, seq uint64, fn func(*projections.State) error) error
	Sequence() uint64
	SequenceAt(t time.Time) (uint64, error)
	// DiffBetween compares the roadmap at two positions; Scan reads the
	// decisions behind it.
	DiffBetween(ctx context.Context, from, to projections.ReviewPoint) (projections.Diff, error)
	// Diff compares two reviews' roadmaps.
	Diff(ctx context.Context, id, against string) (projections.Diff, error)
	Scan(ctx context.Context, from, to uint64, fn func(projections.Record) (bool, error)) error
	FirstSequenceFrom(t time.Time) (uint64, error)
}

// Config wires the web app. The API makes it, so the pages share its
// token lookup and its error table.
type Config struct {
	Ledger *ledger.Service
	Views  Views
	Trail  *audit.Trail
	// Packs assembles review packs, as for GET /v1/reviews/{id}/pack.
	Packs *governance.Packs
	// Authenticate finds the token a secret belongs to, when it can be
	// used now: the API's own lookup. Its error says why not, for the
	// person to read.
	Authenticate func(secret string) (projections.TokenView, error)
	// Explain turns an error of a use case into the status and the words
	// the API would answer it with.
	Explain func(err error, r *http.Request) (status int, detail string)
	// ReadImport reads the rows of an imported CSV file (the ledger's own
	// columns, or a Jira export's): the API's reading of POST /v1/imports.
	ReadImport func(body []byte, jira bool) (ledger.ImportFile, error)
	// AnswerAudit answers c as GET /v1/audit answers a request made with
	// t (its query and Accept as c carries them): the API's own rendering
	// of the audit trail, for the downloads of the audit page.
	AnswerAudit func(c echo.Context, t projections.TokenView) error
	// Metrics computes the roadmap's figures, as for GET
	// /v1/metrics/roadmap: the numbers page and the review pack call it.
	Metrics governance.Metrics
	// Links lists the read-only links to the view with the given id,
	// newest first, as GET /v1/views/{slug}/links answers them.
	Links func(viewID string) []Link
	// VerifierKey is the public key of the key that signs checkpoints.
	VerifierKey string
	// WaitReady blocks until the read models have caught up with the log.
	WaitReady func(ctx context.Context) error
	Logger    *slog.Logger
}

// SessionCookie is the name of the cookie that holds a signed-in person's
// token.
const SessionCookie = "roadmap_session"

// SessionLifetime is how long a sign-in lasts before the browser forgets
// it.
const SessionLifetime = 8 * time.Hour

// Policy is the Content-Security-Policy of every page: scripts, styles and
// images from the ledger itself only, no inline script or style, forms
// posted only back to it, and no framing.
const Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// App is the web app's handlers.
type App struct {
	cfg   Config
	pages map[string]*template.Template
	csrf  *http.CrossOriginProtection
	// boards keeps the latest drawings of the board's columns.
	boards boardCache
}

// New returns the web app. It panics when a template does not parse,
// which the package's tests catch.
func New(cfg Config) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &App{cfg: cfg, pages: parsePages(), csrf: http.NewCrossOriginProtection()}
}

// Register adds the pages to e, each with the permission it needs, the
// same as the /v1 route it stands for. Every write is refused when it
// comes from another site.
func (a *App) Register(e *echo.Echo) {
	assets, _ := fs.Sub(files, "assets")
	e.GET(assetsPath, echo.WrapHandler(http.StripPrefix("/assets/", assetServer(assets))))
	for _, r := range a.routes() {
		if r.method == http.MethodPost {
			// Every write is refused from another site first.
			e.POST(r.path, r.handler, a.sameOrigin)
			continue
		}
		e.GET(r.path, r.handler)
	}
}

// assetsPath is where the embedded assets are served.
const assetsPath = "/assets/*"

// pageRoute is one route of the web app.
type pageRoute struct {
	method, path string
	handler      echo.HandlerFunc
}

// routes are the web app's routes, each with the permission it needs.
func (a *App) routes() []pageRoute {
	return []pageRoute{
		{http.MethodGet, "/", a.signedIn(roadmap.PermRead, a.board)},
		{http.MethodPost, "/signin", a.signin},
		{http.MethodPost, "/signout", a.signout},
		{http.MethodGet, "/items/:id", a.signedIn(roadmap.PermRead, a.item)},
		{http.MethodPost, "/items/:id/edit", a.signedIn(roadmap.PermDecide, a.edit)},
		{http.MethodPost, "/items/:id/decide", a.signedIn(roadmap.PermDecide, a.decide)},
		{http.MethodGet, "/changes", a.signedIn(roadmap.PermRead, a.changes)},
		{http.MethodPost, "/changes/:id/approve", a.signedIn(roadmap.PermApprove, a.approve)},
		{http.MethodPost, "/changes/:id/reject", a.signedIn(roadmap.PermApprove, a.reject)},
		{http.MethodGet, "/backlog", a.signedIn(roadmap.PermRead, a.backlog)},
		{http.MethodPost, "/items", a.signedIn(roadmap.PermDecide, a.propose)},
		{http.MethodPost, "/imports/preview", a.signedIn(roadmap.PermDecide, a.importPreview)},
		{http.MethodPost, "/imports", a.signedIn(roadmap.PermDecide, a.importRun)},
		{http.MethodGet, "/reviews", a.signedIn(roadmap.PermRead, a.reviews)},
		{http.MethodPost, "/reviews", a.signedIn(roadmap.PermDecide, a.openReview)},
		{http.MethodGet, "/reviews/:id", a.signedIn(roadmap.PermRead, a.review)},
		{http.MethodPost, "/reviews/:id/close", a.signedIn(roadmap.PermApprove, a.closeReview)},
		{http.MethodGet, "/reviews/:id/pack", a.signedIn(roadmap.PermRead, a.reviewPack)},
		{http.MethodGet, "/audit", a.signedIn(roadmap.PermAudit, a.auditLog)},
		{http.MethodGet, "/audit/download", a.signedIn(roadmap.PermAudit, a.auditDownload)},
		{http.MethodGet, "/objectives", a.signedIn(roadmap.PermRead, a.objectives)},
		{http.MethodGet, "/compare", a.signedIn(roadmap.PermRead, a.compare)},
		{http.MethodGet, "/live", a.signedIn(roadmap.PermRead, a.live)},
		{http.MethodGet, "/numbers", a.signedIn(roadmap.PermRead, a.numbers)},
		{http.MethodGet, "/objectives/:id", a.signedIn(roadmap.PermRead, a.objective)},
		{http.MethodPost, "/objectives/:id/measurements", a.signedIn(roadmap.PermDecide, a.measure)},
		{http.MethodGet, "/views", a.signedIn(roadmap.PermRead, a.views)},
		{http.MethodPost, "/views", a.signedIn(roadmap.PermDecide, a.defineView)},
		{http.MethodGet, "/views/:slug", a.signedIn(roadmap.PermRead, a.view)},
		{http.MethodPost, "/views/:slug/links", a.signedIn(roadmap.PermDecide, a.shareView)},
		{http.MethodPost, "/views/:slug/links/:id/revoke", a.signedIn(roadmap.PermDecide, a.revokeLink)},
		{http.MethodGet, "/shared/:secret", a.openLink},
		{http.MethodGet, "/shared", a.shared},
	}
}

// IsPage says whether path is one of the web app's routes, not the API's.
func IsPage(path string) bool {
	if path == assetsPath {
		return true
	}
	for _, p := range (&App{}).routes() {
		if p.path == path {
			return true
		}
	}
	return false
}

// assetServer serves the embedded assets, cached for an hour: they change
// only with the binary.
func assetServer(assets fs.FS) http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// sameOrigin refuses a write that a browser says comes from another site
// (Sec-Fetch-Site, else Origin against Host), before anything is read.
func (a *App) sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := a.csrf.Check(c.Request()); err != nil {
			return a.fail(c, http.StatusForbidden, "This form was sent from another site, so it was refused. Open the ledger and send it from there.")
		}
		return next(c)
	}
}

// viewer is who is signed in, as the pages see it.
type viewer struct {
	Name  string
	Role  roadmap.Role
	token projections.TokenView
}

// Can says whether the viewer's role has permission perm ("decide",
// "approve", ...): the role rules of the API.
func (v viewer) Can(perm string) bool { return v.Role.Allows(roadmap.Permission(perm)) }

// handler is a page's handler, given who asks.
type handler func(c echo.Context, who viewer) error

// signedIn lets a request through with the session's token when its role
// has perm. Without a session, the page is the sign-in form.
func (a *App) signedIn(perm roadmap.Permission, next handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "same-origin")
		if a.cfg.WaitReady != nil {
			if err := a.cfg.WaitReady(c.Request().Context()); err != nil {
				return a.fail(c, http.StatusServiceUnavailable, "The ledger is not ready yet: "+err.Error())
			}
		}
		cookie, err := c.Cookie(SessionCookie)
		if err != nil || cookie.Value == "" {
			return a.signinPage(c, http.StatusOK, "")
		}
		t, err := a.cfg.Authenticate(cookie.Value)
		if err != nil {
			clearSession(c)
			return a.signinPage(c, http.StatusUnauthorized, "You were signed out: "+err.Error()+".")
		}
		if t.ViewID != "" {
			clearSession(c)
			return a.signinPage(c, http.StatusForbidden, linkOnly)
		}
		who := viewer{Name: t.Name, Role: t.Role, token: t}
		c.Set("viewer", who)
		if !t.Role.Allows(perm) {
			return a.fail(c, http.StatusForbidden, fmt.Sprintf("Your role, %s, may not do this.", t.Role))
		}
		return next(c, who)
	}
}

func (a *App) signin(c echo.Context) error {
	secret := strings.TrimSpace(c.FormValue("token"))
	if secret == "" {
		return a.signinPage(c, http.StatusBadRequest, "Give your token to sign in.")
	}
	t, err := a.cfg.Authenticate(secret)
	if err != nil {
		return a.signinPage(c, http.StatusUnauthorized, "That token cannot sign in: "+err.Error()+".")
	}
	if t.ViewID != "" {
		return a.signinPage(c, http.StatusForbidden, linkOnly)
	}
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/", MaxAge: int(SessionLifetime / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(c.Request()),
	})
	return c.Redirect(http.StatusSeeOther, "/")
}

func (a *App) signout(c echo.Context) error {
	clearSession(c)
	return c.Redirect(http.StatusSeeOther, "/")
}

func clearSession(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: overTLS(c.Request()),
	})
}

// overTLS says whether the browser reached the ledger over TLS: directly,
// or through a proxy that ended TLS and says so (X-Forwarded-Proto:
// https). A forged header can only make a browser keep the cookie to
// itself over plain HTTP, never send it where it would not.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (a *App) signinPage(c echo.Context, status int, problem string) error {
	return a.render(c, status, "signin", page{Title: "Sign in", Problem: problem})
}

// page is what every page's template gets.
type page struct {
	Title   string
	Who     *viewer
	Problem string
	Data    any
}

// render writes the named page with status, under the page's policy.
func (a *App) render(c echo.Context, status int, name string, p page) error {
	if who, ok := c.Get("viewer").(viewer); ok {
		p.Who = &who
	}
	var b strings.Builder
	if err := a.pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", Policy)
	return c.HTMLBlob(status, []byte(b.String()))
}

// renderPart writes one named part of a page, without the layout: what a
// page that redraws itself fetches.
func (a *App) renderPart(c echo.Context, name, part string, p page) error {
	var b strings.Builder
	if err := a.pages[name].ExecuteTemplate(&b, part, p); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", Policy)
	return c.HTMLBlob(http.StatusOK, []byte(b.String()))
}

// fail answers a page saying what went wrong.
func (a *App) fail(c echo.Context, status int, detail string) error {
	return a.render(c, status, "error", page{Title: http.StatusText(status), Problem: detail})
}

// failWith answers the error of a use case as the API would, in a page,
// naming each invalid field.
func (a *App) failWith(c echo.Context, err error) error {
	status, detail := a.cfg.Explain(err, c.Request())
	var ve *roadmap.ValidationError
	if errors.As(err, &ve) {
		detail = ve.Error()
	}
	return a.fail(c, status, detail)
}

// request is who decides, for the ledger: the token's name, as for the
// API.
func request(who viewer) ledger.Request { return ledger.Request{Actor: who.Name} }

// evidenceLines reads the evidence field: one link or note a line.
func evidenceLines(s string) []string {
	var out []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}
