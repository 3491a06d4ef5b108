package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/pack"
)

// Media types of the review pack.
const (
	mediaMarkdown = "text/markdown"
	mediaHTML     = "text/html"
)

// reviewPack answers the governance review pack of a review, as Markdown or
// as a standalone HTML document. A closed review's pack is made from its
// frozen snapshot alone, so it is the same bytes every time.
func (s *Server) reviewPack(c echo.Context) error {
	id, err := s.knownReview(c)
	if err != nil {
		return err
	}
	if q, err := query(c); err != nil || len(q) > 0 {
		return problem(ErrBadQuery, "the review pack takes no query parameters; choose its format with Accept")
	}
	media, err := negotiateFormat(c, "the review pack", mediaMarkdown, mediaHTML)
	if err != nil {
		return err
	}
	p, err := s.packs.Pack(c.Request().Context(), id, time.Now())
	if err != nil {
		return err
	}
	render := pack.Markdown
	if media == mediaHTML {
		render = pack.HTML
	}
	var body bytes.Buffer
	if err := render(&body, p); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, media+"; charset=utf-8", body.Bytes())
}
