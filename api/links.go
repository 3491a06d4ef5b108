package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
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
	return c.JSON(http.StatusCreated, s.linkWire(slug, res.Answer.TokenView, res.Answer.Secret))
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
	return c.JSON(http.StatusOK, s.linkWire(slug, res.Answer, ""))
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
