package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// exportJSON is the answer of GET /v1/export/manifest.
type exportJSON struct {
	From       int64  `json:"from"`
	To         int64  `json:"to"`
	Manifest   string `json:"manifest"`
	Checkpoint string `json:"checkpoint"`
}

// exportManifest answers the signed manifest of the export bundle that
// since and until select (audit.Exports.Manifest says what it holds).
func (s *Server) exportManifest(c echo.Context) error {
	q, err := queryOf(c, "since", "until")
	if err != nil {
		return err
	}
	moment := func(name string) (*time.Time, error) {
		values, ok := q[name]
		if !ok {
			return nil, nil
		}
		if len(values) != 1 {
			return nil, problem(ErrBadQuery, fmt.Sprintf("query parameter %q is given %d times; give it once", name, len(values)))
		}
		t, err := time.Parse(time.RFC3339Nano, values[0])
		if err != nil {
			return nil, problem(ErrBadQuery, fmt.Sprintf("%s must be an RFC 3339 time such as 2026-11-01T09:00:00Z, not %q", name, clip(values[0])))
		}
		return &t, nil
	}
	since, err := moment("since")
	if err != nil {
		return err
	}
	until, err := moment("until")
	if err != nil {
		return err
	}
	if since != nil && until != nil && since.After(*until) {
		return problem(ErrBadQuery, "since must not be after until")
	}
	if s.exports == nil {
		return problem(ErrNotReady, "this server has no signing key")
	}
	m, err := s.exports.Manifest(c.Request().Context(), since, until)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, exportJSON{From: m.From, To: m.To, Manifest: m.Note, Checkpoint: m.Checkpoint})
}
