package api

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

type (
	// changeJSON is a major change held for approval.
	changeJSON struct {
		ID          string     `json:"id"`
		Status      string     `json:"status"`
		ItemID      string     `json:"item_id"`
		ItemVersion uint64     `json:"item_version"`
		Decision    string     `json:"decision"`
		Reason      string     `json:"reason"`
		Horizon     *string    `json:"horizon"`
		Rank        *int       `json:"rank"`
		Score       any        `json:"score"`
		Objectives  []string   `json:"objective_ids"`
		Rationale   string     `json:"rationale"`
		Evidence    []string   `json:"evidence"`
		ProposedBy  string     `json:"proposed_by"`
		ProposedAt  time.Time  `json:"proposed_at"`
		DecidedBy   *string    `json:"decided_by"`
		DecidedAt   *time.Time `json:"decided_at"`
		// DecisionRationale is the approver's or rejecter's.
		DecisionRationale *string  `json:"decision_rationale"`
		DecisionEvidence  []string `json:"decision_evidence"`
		AppliedSequence   *uint64  `json:"applied_sequence"`
		// Changes are the fields a held edit changes, before and after;
		// null for another decision.
		Changes []fieldChangeJSON `json:"changes"`
		Version uint64            `json:"version"`
	}
)

func changeAnswer(v projections.ChangeView) changeJSON {
	c := v.Change
	out := changeJSON{
		ID: c.ID, Status: string(c.Status), ItemID: c.ItemID, ItemVersion: c.ItemVersion, Decision: c.ChangeProposed.Decision,
		Reason: c.Reason, ProposedBy: c.ProposedBy, ProposedAt: c.ProposedAt, DecidedAt: c.DecidedAt, Version: v.Version,
		Evidence: []string{},
	}
	if held := c.Held(); held != nil {
		rationale, evidence := held.Why()
		out.Rationale, out.Evidence = rationale, projections.NonNil(evidence)
	}
	if p := c.Placement; p != nil {
		h := string(p.Horizon)
		out.Horizon, out.Rank, out.Objectives = &h, p.Rank, p.ObjectiveIDs
		if p.Score != nil {
			out.Score = p.Score
		}
	}
	if e := c.Edit; e != nil {
		out.Changes = wireList(projections.EditChanges(e), fieldChangeWire)
	}
	if c.Status != roadmap.ChangeStatusPending {
		by, rationale := c.DecidedBy, c.Rationale
		out.DecidedBy, out.DecisionRationale, out.DecisionEvidence = &by, &rationale, projections.NonNil(c.Evidence)
	}
	if v.AppliedSequence != 0 {
		seq := v.AppliedSequence
		out.AppliedSequence = &seq
	}
	return out
}

func (s *Server) listChanges(c echo.Context) error {
	q, err := query(c)
	if err != nil {
		return err
	}
	status := roadmap.ChangeStatus(q.Get("status"))
	for name, values := range q {
		if name != "status" || len(values) != 1 {
			return problem(ErrBadQuery, "the change list takes one optional status parameter")
		}
	}
	switch status {
	case "", roadmap.ChangeStatusPending, roadmap.ChangeStatusApproved, roadmap.ChangeStatusRejected:
	default:
		return problem(ErrBadQuery, "status must be pending, approved or rejected")
	}
	return answerList(c, "changes", wireList(s.cfg.Views.Changes(status), changeAnswer))
}

// knownChange is the id of the change the path names, if there is one.
func (s *Server) knownChange(c echo.Context) (string, error) {
	v, err := known(c, "change", s.cfg.Views.ChangeView)
	return v.ID, err
}

// decideChange is the decision on a change the body gives.
func (b rationaleBody) decideChange() roadmap.DecideChange {
	return roadmap.DecideChange{Rationale: b.Rationale, Evidence: b.Evidence}
}

func (s *Server) getChange(c echo.Context) error {
	return get(c, "change", s.cfg.Views.ChangeView, showChange)
}

func (s *Server) approveChange(c echo.Context) error {
	return writeTo(c, s.knownChange, showChange, func(ctx context.Context, req ledger.Request, id string, b rationaleBody) (ledger.Result[projections.ChangeView], error) {
		return s.cfg.Ledger.ApproveChange(ctx, req, id, b.decideChange())
	})
}

func (s *Server) rejectChange(c echo.Context) error {
	return writeTo(c, s.knownChange, showChange, func(ctx context.Context, req ledger.Request, id string, b rationaleBody) (ledger.Result[projections.ChangeView], error) {
		return s.cfg.Ledger.RejectChange(ctx, req, id, b.decideChange())
	})
}

func (s *Server) deliver(c echo.Context) error {
	return writeTo(c, s.knownItem, showItem, func(ctx context.Context, req ledger.Request, id string, b rationaleBody) (ledger.Result[ledger.ItemOutcome], error) {
		return s.cfg.Ledger.Deliver(ctx, req, id, roadmap.Deliver{Rationale: b.Rationale, Evidence: b.Evidence})
	})
}
