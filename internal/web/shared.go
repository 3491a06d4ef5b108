package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/projections"
)

// LinkCookie is the name of the cookie that holds a read-only link's
// secret, sent back only to /shared.
const LinkCookie = "roadmap_link"

// linkOnly is why a read-only link opens no page but its view's.
const linkOnly = "That is a read-only link to one view: it opens that view at the address it was given, and nothing else."

// openLink opens a read-only link: GET /shared/{secret} keeps the secret
// in a cookie only /shared is sent, and sends the browser on to /shared,
// so the secret leaves the address bar, the history and any Referer at
// once. Its path is never logged: the access log names the route, and
// the path is rewritten here before anything else can log it.
func (a *App) openLink(c echo.Context) error {
	secret := c.Param("secret")
	r := c.Request()
	r.URL.Path, r.URL.RawPath, r.RequestURI = "/shared/-", "", "/shared/-"
	noReferrer(c)
	if a.cfg.WaitReady != nil {
		if err := a.cfg.WaitReady(r.Context()); err != nil {
			return a.sharedProblem(c, http.StatusServiceUnavailable, "The ledger is not ready yet. Try again in a moment.")
		}
	}
	t, err := a.cfg.Authenticate(secret)
	if err != nil {
		return a.sharedProblem(c, http.StatusUnauthorized, linkGone(t))
	}
	if t.ViewID == "" {
		return a.sharedProblem(c, http.StatusForbidden, "This address is not a read-only link to a view.")
	}
	c.SetCookie(&http.Cookie{
		Name: LinkCookie, Value: secret, Path: "/shared", MaxAge: int(SessionLifetime / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r),
	})
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		// A browser does not send a SameSite=Strict cookie on a request
		// another site started, redirects included: a link clicked in a
		// mail reader or a chat would find /shared without its cookie. The
		// page moves on to /shared by itself, a navigation this site
		// starts, which carries the cookie.
		return a.render(c, http.StatusOK, "sharedhop", page{Title: "Opening the shared roadmap"})
	}
	return c.Redirect(http.StatusSeeOther, "/shared")
}

// shared shows the view the link in the cookie opens, and nothing else:
// no navigation, no link to any other page.
func (a *App) shared(c echo.Context) error {
	noReferrer(c)
	if a.cfg.WaitReady != nil {
		if err := a.cfg.WaitReady(c.Request().Context()); err != nil {
			return a.sharedProblem(c, http.StatusServiceUnavailable, "The ledger is not ready yet. Try again in a moment.")
		}
	}
	cookie, err := c.Cookie(LinkCookie)
	if err != nil || cookie.Value == "" {
		return a.sharedProblem(c, http.StatusUnauthorized, "Open the link you were given again: this browser holds none.")
	}
	t, err := a.cfg.Authenticate(cookie.Value)
	if err != nil {
		forgetLink(c)
		return a.sharedProblem(c, http.StatusUnauthorized, linkGone(t))
	}
	if t.ViewID == "" {
		forgetLink(c)
		return a.sharedProblem(c, http.StatusForbidden, "This browser holds no read-only link to a view.")
	}
	var d drawnView
	var ok bool
	a.cfg.Views.Read(func(st *projections.State) {
		var v projections.SavedView
		if v, ok = st.SavedView(t.ViewID); ok && !v.Deleted {
			d = drawView(st, v)
		} else {
			ok = false
		}
	})
	if !ok {
		return a.sharedProblem(c, http.StatusNotFound, "The view this link opened was deleted.")
	}
	return a.render(c, http.StatusOK, "shared", page{Title: d.View.Name, Data: d})
}

// linkGone says why a link no longer opens its view: Authenticate
// answers the token it found along with why it cannot be used.
func linkGone(t projections.TokenView) string {
	switch {
	case t.ID == "":
		return "This link is not known to this ledger."
	case t.RevokedAt != nil:
		return "This link was revoked: ask whoever shared it for a new one."
	}
	return "This link has expired: ask whoever shared it for a new one."
}

func (a *App) sharedProblem(c echo.Context, status int, detail string) error {
	return a.render(c, status, "shared", page{Title: http.StatusText(status), Problem: detail})
}

// noReferrer keeps a shared page out of every cache and its address out
// of every Referer.
func noReferrer(c echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
}

func forgetLink(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: LinkCookie, Value: "", Path: "/shared", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: overTLS(c.Request()),
	})
}
