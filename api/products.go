package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

type (
	capacityBody struct {
		Now   *int `json:"now"`
		Next  *int `json:"next"`
		Later *int `json:"later"`
	}
	// capacityJSON is a product's capacity per horizon beside what is
	// committed to each.
	capacityJSON struct {
		Product   string                  `json:"product"`
		Capacity  roadmap.Capacity        `json:"capacity"`
		Committed map[roadmap.Horizon]int `json:"committed"`
		Over      []roadmap.Horizon       `json:"over"`
		Version   uint64                  `json:"version"`
	}
)

func (s *Server) capacityAnswer(product string) capacityJSON {
	out := capacityJSON{Product: product, Committed: map[roadmap.Horizon]int{}, Over: []roadmap.Horizon{}}
	s.cfg.Views.Read(func(st *projections.State) {
		if v, ok := st.CapacityView(product); ok {
			out.Capacity, out.Version = v.Capacity, v.Version
		}
		for _, h := range roadmap.Horizons {
			out.Committed[h] = st.Committed(product, h)
			if c := out.Capacity.Of(h); c != nil && out.Committed[h] > *c {
				out.Over = append(out.Over, h)
			}
		}
	})
	return out
}

func productParam(c echo.Context) (string, error) {
	product := c.Param("product")
	if !roadmap.ValidProduct(product) {
		return "", problem(roadmap.ErrNotFound, fmt.Sprintf("no product %q: a product is a slug of lower-case letters, digits and dashes", clip(product)))
	}
	return product, nil
}

func (s *Server) getCapacity(c echo.Context) error {
	product, err := productParam(c)
	if err != nil {
		return err
	}
	out := s.capacityAnswer(product)
	return answerAt(c, out.Version, out)
}

// setCapacity replaces a product's capacity per horizon; a horizon left
// out or null has no limit.
func (s *Server) setCapacity(c echo.Context) error {
	product, err := productParam(c)
	if err != nil {
		return err
	}
	var body capacityBody
	req, err := readRequest(c, &body)
	if err != nil {
		return err
	}
	res, err := s.cfg.Ledger.SetCapacity(c.Request().Context(), req, product, roadmap.Capacity{Now: body.Now, Next: body.Next, Later: body.Later})
	if err != nil {
		return err
	}
	out := s.capacityAnswer(product)
	out.Capacity, out.Version = res.Answer.Capacity, res.Answer.Version
	h := c.Response().Header()
	h.Set("ETag", etag(out.Version))
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	return c.JSON(http.StatusOK, out)
}
