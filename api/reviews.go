package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

type (
	openReviewBody struct {
		Period string `json:"period"`
		Title  string `json:"title"`
	}
	closeReviewBody struct {
		Notes string `json:"notes"`
	}
	// reviewJSON is a review without its snapshot: what opening, closing and
	// listing answer.
	reviewJSON struct {
		ID         string              `json:"id"`
		Period     string              `json:"period"`
		Title      string              `json:"title"`
		Status     string              `json:"status"`
		OpenedAt   time.Time           `json:"opened_at"`
		ClosedAt   *time.Time          `json:"closed_at"`
		Notes      string              `json:"notes"`
		Sequence   *uint64             `json:"sequence"`
		ChainHeads *roadmap.ChainHeads `json:"chain_heads"`
		// Checkpoint is the signed note of the checkpoint made on closing.
		Checkpoint *string `json:"checkpoint"`
		Version    uint64  `json:"version"`
	}
)

func reviewAnswer(v projections.ReviewView) reviewJSON {
	out := reviewJSON{
		ID: v.ID, Period: v.Period, Title: v.Title, Status: string(v.Status), OpenedAt: v.OpenedAt,
		Notes: v.Notes, Version: v.Version,
	}
	if v.Status == roadmap.ReviewStatusClosed {
		closedAt, seq, heads := v.ClosedAt, v.Sequence, v.Heads
		out.ClosedAt, out.Sequence, out.ChainHeads = &closedAt, &seq, &heads
		if v.Checkpoint != nil {
			note := v.Checkpoint.Note
			out.Checkpoint = &note
		}
	}
	return out
}

func (s *Server) openReview(c echo.Context) error {
	return write(c, showReview, func(ctx context.Context, req ledger.Request, b openReviewBody) (ledger.Result[projections.ReviewView], error) {
		return s.cfg.Ledger.OpenReview(ctx, req, roadmap.OpenReview{Period: b.Period, Title: b.Title})
	})
}

func (s *Server) listReviews(c echo.Context) error {
	if err := noQuery(c, "the list of reviews"); err != nil {
		return err
	}
	var list []reviewJSON
	s.cfg.Views.Read(func(st *projections.State) { list = wireList(st.Reviews(), reviewAnswer) })
	slices.Reverse(list) // the latest period first
	return answerList(c, "reviews", list)
}

func (s *Server) getReview(c echo.Context) error {
	id, err := s.knownReview(c)
	if err != nil {
		return err
	}
	snap, err := s.cfg.Views.Snapshot(c.Request().Context(), id, time.Now())
	if err != nil {
		return err
	}
	return answerAt(c, snap.Version, snapshotWire(snap))
}

func (s *Server) closeReview(c echo.Context) error {
	return writeTo(c, s.knownReview, showReview, func(ctx context.Context, req ledger.Request, id string, b closeReviewBody) (ledger.Result[projections.ReviewView], error) {
		return s.cfg.Ledger.CloseReview(ctx, req, id, roadmap.CloseReview{Notes: b.Notes})
	})
}

func (s *Server) cancelReview(c echo.Context) error {
	return writeTo(c, s.knownReview, showReview, func(ctx context.Context, req ledger.Request, id string, b rationaleBody) (ledger.Result[projections.ReviewView], error) {
		return s.cfg.Ledger.CancelReview(ctx, req, id, roadmap.CancelReview{Rationale: b.Rationale, Evidence: b.Evidence})
	})
}

func (s *Server) reviewDiff(c echo.Context) error {
	id, err := s.knownReview(c)
	if err != nil {
		return err
	}
	q, err := query(c)
	if err != nil {
		return err
	}
	against := q.Get("against")
	if len(q) != 1 || len(q["against"]) != 1 || against == "" {
		return problem(ErrBadQuery, "the diff takes one query parameter: against, the id of the review to compare with")
	}
	if _, ok := s.cfg.Views.ReviewView(against); !ok {
		return problem(roadmap.ErrNotFound, fmt.Sprintf("no review %q to compare with", clip(against)))
	}
	d, err := s.cfg.Views.Diff(c.Request().Context(), id, against)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, diffWire(d))
}

func (s *Server) knownReview(c echo.Context) (string, error) {
	_, err := known(c, "review", s.cfg.Views.ReviewView)
	return c.Param("id"), err
}
