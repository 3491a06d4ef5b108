package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// ProblemContentType is the media type of every error answer (RFC 9457).
const ProblemContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors lists the fields to fix, for 422 answers.
	Errors []roadmap.FieldError `json:"errors,omitempty"`
}

// problemError is an error that already knows its answer.
type problemError struct {
	status int
	kind   string
	detail string
}

func (e *problemError) Error() string { return e.detail }

func newProblem(status int, kind, detail string) error {
	return &problemError{status: status, kind: kind, detail: detail}
}

// errorKinds maps error kinds to their answer, in the order they are tried.
var errorKinds = []struct {
	err    error
	status int
	kind   string
}{
	{roadmap.ErrInvalid, http.StatusUnprocessableEntity, "invalid-value"},
	{ledger.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, "idempotency-key-reused"},
	{roadmap.ErrNotFound, http.StatusNotFound, "not-found"},
	{roadmap.ErrForbidden, http.StatusForbidden, "forbidden"},
	{ledger.ErrPreconditionFailed, http.StatusPreconditionFailed, "precondition-failed"},
	{roadmap.ErrConflict, http.StatusConflict, "conflict"},
	{eventlog.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
}

func problemType(kind string) string { return "urn:roadmap-ledger:problem:" + kind }

// toProblem turns any error into the answer the client gets. Unknown errors
// are internal: logged in full, answered without detail.
func toProblem(err error, logger *slog.Logger, r *http.Request) Problem {
	var pe *problemError
	if errors.As(err, &pe) {
		return Problem{Type: problemType(pe.kind), Title: http.StatusText(pe.status), Status: pe.status, Detail: pe.detail}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		p := Problem{Type: problemType("http"), Title: http.StatusText(he.Code), Status: he.Code}
		switch he.Code {
		case http.StatusNotFound:
			p.Type, p.Detail = problemType("not-found"), "no such resource: "+clip(r.URL.Path)
		case http.StatusMethodNotAllowed:
			p.Type, p.Detail = problemType("method-not-allowed"), clip(r.Method)+" is not allowed on "+clip(r.URL.Path)
		case http.StatusRequestEntityTooLarge:
			p.Type, p.Detail = problemType("body-too-large"), "the request body is larger than the limit"
		default:
			if he.Code >= 500 {
				logger.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
				p.Type, p.Detail = problemType("internal"), "internal error"
			}
		}
		return p
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			p := Problem{Type: problemType(k.kind), Title: http.StatusText(k.status), Status: k.status, Detail: err.Error()}
			var ve *roadmap.ValidationError
			if errors.As(err, &ve) {
				p.Detail, p.Errors = "the request has invalid values; see errors", ve.Fields
			}
			return p
		}
	}
	logger.Error("internal error", "method", r.Method, "path", r.URL.Path, "error", err)
	return Problem{Type: problemType("internal"), Title: http.StatusText(500), Status: 500, Detail: "internal error"}
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := toProblem(err, s.logger, c.Request())
	c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
	if p.Status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "1")
	}
	c.Response().WriteHeader(p.Status)
	if c.Request().Method == http.MethodHead {
		return
	}
	_ = writeJSON(c.Response(), p)
}
