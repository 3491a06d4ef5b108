package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/proof"
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
	// Errors lists what to fix, for 422 answers: the fields of a request
	// ([]roadmap.FieldError), or the rows of an imported file
	// ([]rowErrorJSON). Nil otherwise.
	Errors any `json:"errors,omitempty"`
}

// Errors of the HTTP layer itself: what is wrong with a request before any
// use case sees it. Each has one row in errorKinds, like the domain's and
// the ledger's errors.
var (
	// ErrBadQuery means a query parameter is unknown, repeated or malformed.
	ErrBadQuery = errors.New("bad query")
	// ErrMalformedBody means the request body is not the JSON object the
	// route takes.
	ErrMalformedBody = errors.New("malformed body")
	// ErrBadHeader means a request header has a value the API does not take.
	ErrBadHeader = errors.New("bad header")
	// ErrUnsupportedMediaType means the body is not sent as JSON.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrBodyTooLarge means the body is larger than MaxBodyBytes.
	ErrBodyTooLarge = errors.New("body too large")
	// ErrNotAcceptable means the route cannot answer in any media type the
	// Accept header allows.
	ErrNotAcceptable = errors.New("not acceptable")
	// ErrNotReady means the ledger cannot answer yet (replaying, no
	// signing key, the log not taking writes).
	ErrNotReady = errors.New("not ready")
	// ErrUnauthorized means the request carries no valid token.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBeyondLedger means a request names a ledger position past its end.
	ErrBeyondLedger = errors.New("beyond the ledger")
	// ErrTooManyStreams means the token, or the server, has as many
	// answers streaming as it takes: finish one first, or retry shortly.
	ErrTooManyStreams = errors.New("too many streams")
)

// detailed is an error of one kind of errorKinds whose message is exactly
// the detail the client reads.
type detailed struct {
	kind   error
	detail string
}

func (e *detailed) Error() string { return e.detail }
func (e *detailed) Unwrap() error { return e.kind }

// problem returns an error of kind (a sentinel with a row in errorKinds)
// that says detail.
func problem(kind error, detail string) error {
	return &detailed{kind: kind, detail: detail}
}

// errorKinds is the one table from errors to answers, tried in order with
// errors.Is: adding a failure means adding a sentinel and a row here, never
// a status at the call site.
var errorKinds = []struct {
	err    error
	status int
	kind   string
	// prefix, when set, comes before the error's own words in the detail.
	prefix string
}{
	{roadmap.ErrInvalid, http.StatusUnprocessableEntity, "invalid-value", ""},
	{ledger.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, "idempotency-key-reused", ""},
	{ErrBeyondLedger, http.StatusUnprocessableEntity, "beyond-the-ledger", ""},
	{roadmap.ErrNotFound, http.StatusNotFound, "not-found", ""},
	{ErrUnauthorized, http.StatusUnauthorized, "unauthorized", ""},
	{roadmap.ErrForbidden, http.StatusForbidden, "forbidden", ""},
	{ledger.ErrPreconditionFailed, http.StatusPreconditionFailed, "precondition-failed", ""},
	{roadmap.ErrConflict, http.StatusConflict, "conflict", ""},
	{ErrBadQuery, http.StatusBadRequest, "bad-query", ""},
	{ErrMalformedBody, http.StatusBadRequest, "malformed-body", ""},
	{ErrBadHeader, http.StatusBadRequest, "bad-header", ""},
	{ErrUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported-media-type", ""},
	{ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "body-too-large", ""},
	{ErrNotAcceptable, http.StatusNotAcceptable, "not-acceptable", ""},
	{ErrTooManyStreams, http.StatusTooManyRequests, "too-many-streams", ""},
	{ErrNotReady, http.StatusServiceUnavailable, "not-ready", ""},
	{ledger.ErrNoSigningKey, http.StatusServiceUnavailable, "not-ready", ""},
	{ledger.ErrNoTokenKey, http.StatusServiceUnavailable, "not-ready", ""},
	{ledger.ErrNoWebhookKey, http.StatusServiceUnavailable, "not-ready", ""},
	{proof.ErrBroken, http.StatusServiceUnavailable, "not-ready", "the ledger cannot prove its log: "},
	{eventlog.ErrUnavailable, http.StatusServiceUnavailable, "unavailable", ""},
}

// kindOf returns the status and problem kind of the first row of
// errorKinds that err is, and false for an error of no known kind.
func kindOf(err error) (status int, kind, prefix string, ok bool) {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.status, k.kind, k.prefix, true
		}
	}
	return 0, "", "", false
}

func problemType(kind string) string { return "urn:roadmap-ledger:problem:" + kind }

// toProblem turns any error into the answer the client gets. Unknown errors
// are internal: logged in full (logInternal), answered without detail.
func toProblem(err error, logger *slog.Logger, r *http.Request) Problem {
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
				logInternal(logger, r, err)
				p.Type, p.Detail = problemType("internal"), "internal error"
			}
		}
		return p
	}
	if status, kind, prefix, ok := kindOf(err); ok {
		p := Problem{Type: problemType(kind), Title: http.StatusText(status), Status: status, Detail: prefix + err.Error()}
		var ve *roadmap.ValidationError
		var ie *roadmap.ImportError
		switch {
		case errors.As(err, &ve):
			p.Detail, p.Errors = "the request has invalid values; see errors", ve.Fields
		case errors.As(err, &ie):
			p.Detail, p.Errors = fmt.Sprintf("the file has %d error(s); see errors. Nothing was imported: fix them all and import it again", len(ie.Rows)), wireList(ie.Rows, rowErrorWire)
		}
		return p
	}
	logInternal(logger, r, err)
	return Problem{Type: problemType("internal"), Title: http.StatusText(500), Status: 500, Detail: "internal error"}
}

// explain is toProblem for the web app's pages: the status and the words
// the API would answer err with.
func (s *Server) explain(err error, r *http.Request) (int, string) {
	p := toProblem(err, s.cfg.Logger, r)
	return p.Status, p.Detail
}

// logInternal logs an error of no known kind in full: at error, unless it
// is the client going away, which is no failure of the ledger.
func logInternal(logger *slog.Logger, r *http.Request, err error) {
	ctx := r.Context()
	if clientGone(ctx, err) {
		logger.DebugContext(ctx, "client went away", "method", r.Method, "path", r.URL.Path, "error", err)
		return
	}
	logger.ErrorContext(ctx, "internal error", "method", r.Method, "path", r.URL.Path, "error", err)
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := toProblem(err, s.cfg.Logger, c.Request())
	c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
	if p.Status == http.StatusServiceUnavailable || p.Status == http.StatusTooManyRequests {
		c.Response().Header().Set("Retry-After", "1")
	}
	c.Response().WriteHeader(p.Status)
	if c.Request().Method == http.MethodHead {
		return
	}
	_ = writeJSON(c.Response(), p)
}
