package api

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/web"
	"github.com/roadmap-ledger/roadmap/projections"
)

// linkRoutes are the routes a read-only link opens, for its own view only.
var linkRoutes = map[string]bool{
	http.MethodGet + " /v1/views/:slug":         true,
	http.MethodGet + " /v1/views/:slug/roadmap": true,
}

// linkScope refuses, 403, a request made with a read-only link to a view
// unless it reads that view: a link opens its view and nothing else.
func (s *Server) linkScope(c echo.Context, t projections.TokenView) error {
	if t.ViewID == "" {
		return nil
	}
	if linkRoutes[c.Request().Method+" "+c.Path()] {
		var v projections.SavedView
		var ok bool
		s.cfg.Views.Read(func(st *projections.State) { v, ok = st.SavedViewBySlug(c.Param("slug")) })
		if ok && v.ID == t.ViewID {
			return nil
		}
	}
	return problem(roadmap.ErrForbidden, "the token is a read-only link to one view: it opens that view and nothing else")
}

// shareView makes a read-only link to a view.
func (s *Server) shareView(c echo.Context) error {
	slug, err := s.knownView(c)
	if err != nil {
		return err
	}
	var b shareViewBody
	req, err := readRequest(c, &b)
	if err != nil {
		return err
	}
	res, err := s.cfg.Ledger.ShareView(c.Request().Context(), req, slug, roadmap.ShareView{Name: b.Name, ExpiresIn: b.ExpiresIn})
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("ETag", etag(res.Answer.Version))
	h.Set("Location", "/v1/views/"+slug+"/links/"+res.Answer.ID)
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	return c.JSON(http.StatusCreated, linkWire(slug, s.link(res.Answer.TokenView), res.Answer.Secret))
}

// listLinks lists the read-only links to a view, newest first: who made
// each, its expiry, whether it is active, expired or revoked, and when this
// server last saw it used; never a secret.
func (s *Server) listLinks(c echo.Context) error {
	if err := noQuery(c, "a view's links"); err != nil {
		return err
	}
	v, err := s.savedView(c)
	if err != nil {
		return err
	}
	return answerList(c, "links", wireList(s.viewLinks(v.ID), func(l web.Link) linkJSON { return linkWire(v.Slug, l, "") }))
}

// viewLinks is the one reading of the links to the view with id, newest
// first, each with its status now and its last use by this process: for
// the list route and for the web app's view page alike.
func (s *Server) viewLinks(viewID string) []web.Link {
	var out []web.Link
	for _, t := range s.cfg.Views.Tokens() {
		if t.ViewID == viewID {
			out = append(out, s.link(t))
		}
	}
	// Ids are UUIDv7, in the order they were made: they break a tie of
	// the ledger's clock.
	slices.SortStableFunc(out, func(a, b web.Link) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	return out
}

// link is a token bound to a view as it stands now.
func (s *Server) link(t projections.TokenView) web.Link {
	l := web.Link{TokenView: t, Status: s.tokenStatus(t)}
	if at, ok := s.lastUse.get(t.ID); ok {
		at = at.UTC()
		l.LastUsedAt = &at
	}
	return l
}

// revokeLink revokes a read-only link to a view; the body is optional,
// {"reason": "..."}.
func (s *Server) revokeLink(c echo.Context) error {
	slug, err := s.knownView(c)
	if err != nil {
		return err
	}
	if err := emptyBodyIsObject(c); err != nil {
		return err
	}
	var b revokeTokenBody
	req, err := readRequest(c, &b)
	if err != nil {
		return err
	}
	res, err := s.cfg.Ledger.RevokeLink(c.Request().Context(), req, slug, c.Param("id"), roadmap.RevokeToken{Reason: b.Reason})
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", etag(res.Answer.Version))
	return c.JSON(http.StatusOK, linkWire(slug, s.link(res.Answer), ""))
}

// viewRoadmap answers what a view shows, as the ledger stands.
func (s *Server) viewRoadmap(c echo.Context) error {
	if err := noQuery(c, "a view's roadmap"); err != nil {
		return err
	}
	if _, err := s.savedView(c); err != nil {
		return err
	}
	var out viewRoadmapJSON
	s.cfg.Views.Read(func(st *projections.State) {
		v, _ := st.SavedViewBySlug(c.Param("slug"))
		out = viewRoadmapWire(v, st.Sequence, st.ViewEntries(v.ViewSpec))
	})
	return c.JSON(http.StatusOK, out)
}
