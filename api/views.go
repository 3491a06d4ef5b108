package api

import (
	"context"
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

func (s *Server) publish(c echo.Context) error {
	return writeTo(c, s.knownItem, showItem, func(ctx context.Context, req ledger.Request, id string, b publishBody) (ledger.Result[ledger.ItemOutcome], error) {
		return s.cfg.Ledger.Publish(ctx, req, id, roadmap.Publish{Summary: b.Summary, Rationale: b.Rationale, Evidence: b.Evidence})
	})
}

func (s *Server) unpublish(c echo.Context) error {
	return writeTo(c, s.knownItem, showItem, func(ctx context.Context, req ledger.Request, id string, b rationaleBody) (ledger.Result[ledger.ItemOutcome], error) {
		return s.cfg.Ledger.Unpublish(ctx, req, id, roadmap.Unpublish{Rationale: b.Rationale, Evidence: b.Evidence})
	})
}

func (s *Server) defineView(c echo.Context) error {
	return write(c, showView, func(ctx context.Context, req ledger.Request, b viewBody) (ledger.Result[projections.SavedView], error) {
		return s.cfg.Ledger.DefineView(ctx, req, roadmap.DefineView{
			Name: b.Name, Slug: b.Slug, Audience: b.Audience, Product: b.Product,
			ObjectiveIDs: b.ObjectiveIDs, Kinds: b.Kinds, Horizons: b.Horizons, Fields: b.Fields,
		})
	})
}

func (s *Server) listViews(c echo.Context) error {
	if err := noQuery(c, "the list of views"); err != nil {
		return err
	}
	var list []viewJSON
	s.cfg.Views.Read(func(st *projections.State) { list = wireList(st.SavedViews(), viewWire) })
	return answerList(c, "views", list)
}

// savedView looks up the view the :slug of the path names, and answers 404
// when there is none.
func (s *Server) savedView(c echo.Context) (projections.SavedView, error) {
	slug := c.Param("slug")
	var v projections.SavedView
	var ok bool
	s.cfg.Views.Read(func(st *projections.State) { v, ok = st.SavedViewBySlug(slug) })
	if !ok {
		return v, problem(roadmap.ErrNotFound, fmt.Sprintf("no view %q", clip(slug)))
	}
	return v, nil
}

func (s *Server) knownView(c echo.Context) (string, error) {
	_, err := s.savedView(c)
	return c.Param("slug"), err
}

func (s *Server) getView(c echo.Context) error {
	if err := noQuery(c, "a view"); err != nil {
		return err
	}
	v, err := s.savedView(c)
	if err != nil {
		return err
	}
	return answerAt(c, v.Version, viewWire(v))
}

func (s *Server) editView(c echo.Context) error {
	return writeTo(c, s.knownView, showView, func(ctx context.Context, req ledger.Request, slug string, b viewPatchBody) (ledger.Result[projections.SavedView], error) {
		return s.cfg.Ledger.EditView(ctx, req, slug, roadmap.EditView{
			Name: b.Name, Audience: b.Audience, Product: b.Product,
			ObjectiveIDs: b.ObjectiveIDs, Kinds: b.Kinds, Horizons: b.Horizons, Fields: b.Fields,
		})
	})
}

// deleteView deletes a view; the request has no body, or an empty JSON
// object.
func (s *Server) deleteView(c echo.Context) error {
	if _, err := s.savedView(c); err != nil {
		return err
	}
	if err := emptyBodyIsObject(c); err != nil {
		return err
	}
	return write(c, showView, func(ctx context.Context, req ledger.Request, _ struct{}) (ledger.Result[projections.SavedView], error) {
		return s.cfg.Ledger.DeleteView(ctx, req, c.Param("slug"))
	})
}
