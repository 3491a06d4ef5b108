package api

import (
	"bytes"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/pack"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// Media types of the review pack.
const (
	mediaMarkdown = "text/markdown"
	mediaHTML     = "text/html"
)

// How many review packs are built at once, and how many closed reviews'
// packs are kept. A pack is built from the roadmap as it stood at the
// review (time travel), which costs far more than sending it: builds wait
// their turn, so a crowd asking for packs cannot take the server's memory,
// and a closed review's pack, which never changes, is built once.
const (
	packBuildsAtOnce = 2
	closedPacksKept  = 64
)

// packCache holds the rendered packs of closed reviews and the turns of
// the builds.
type packCache struct {
	closed *lru.Cache[packKey, []byte]
	builds chan struct{}
}

type packKey struct{ review, media string }

func newPackCache() *packCache {
	closed, err := lru.New[packKey, []byte](closedPacksKept)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &packCache{closed: closed, builds: make(chan struct{}, packBuildsAtOnce)}
}

// reviewPack answers the governance review pack of a review, as Markdown or
// as a standalone HTML document. A closed review's pack is made from its
// frozen snapshot alone, so it is the same bytes every time: it is built
// once and kept.
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
	contentType := media + "; charset=utf-8"
	r, _ := s.cfg.Views.ReviewView(id)
	closed := r.Status == roadmap.ReviewStatusClosed
	key := packKey{id, media}
	if body, ok := s.built.closed.Get(key); ok && closed {
		return c.Blob(http.StatusOK, contentType, body)
	}
	ctx := c.Request().Context()
	select {
	case s.built.builds <- struct{}{}:
		defer func() { <-s.built.builds }()
	case <-ctx.Done():
		return ctx.Err()
	}
	p, err := s.packs.Pack(ctx, id, time.Now())
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
	if p.Status == string(roadmap.ReviewStatusClosed) {
		s.built.closed.Add(key, body.Bytes())
	}
	return c.Blob(http.StatusOK, contentType, body.Bytes())
}
