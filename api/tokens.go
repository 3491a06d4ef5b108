package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

type (
	createTokenBody struct {
		Name      string `json:"name"`
		Role      string `json:"role"`
		ExpiresIn *int64 `json:"expires_in"`
	}
	revokeTokenBody struct {
		Reason string `json:"reason"`
	}
	tokenJSON struct {
		ID         string     `json:"id"`
		Name       string     `json:"name"`
		Role       string     `json:"role"`
		Status     string     `json:"status"`
		CreatedAt  time.Time  `json:"created_at"`
		CreatedBy  string     `json:"created_by"`
		ExpiresAt  *time.Time `json:"expires_at"`
		RevokedAt  *time.Time `json:"revoked_at"`
		RevokedBy  *string    `json:"revoked_by"`
		LastUsedAt *time.Time `json:"last_used_at"`
		Bootstrap  bool       `json:"bootstrap"`
		Version    uint64     `json:"version"`
		// Secret is only in the answer to the creation, once.
		Secret string `json:"secret,omitempty"`
		// ViewID is the view a read-only link opens; left out of any
		// other token.
		ViewID string `json:"view_id,omitempty"`
	}
)

func (s *Server) tokenAnswer(v projections.TokenView) tokenJSON {
	t := v.Token
	out := tokenJSON{
		ID: t.ID, Name: t.Name, Role: string(t.Role), Status: string(s.tokenStatus(v)),
		CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt,
		Bootstrap: t.Bootstrap, Version: v.Version, ViewID: t.ViewID,
	}
	if t.RevokedAt != nil {
		by := t.RevokedBy
		out.RevokedBy = &by
	}
	if at, ok := s.lastUse.get(t.ID); ok {
		at = at.UTC()
		out.LastUsedAt = &at
	}
	return out
}

func (s *Server) createToken(c echo.Context) error {
	var body createTokenBody
	req, err := readRequest(c, &body)
	if err != nil {
		return err
	}
	cmd := roadmap.CreateToken{Name: body.Name, Role: roadmap.Role(body.Role), ExpiresIn: body.ExpiresIn}
	res, err := s.cfg.Ledger.CreateToken(c.Request().Context(), req, cmd)
	if err != nil {
		return err
	}
	out := s.tokenAnswer(res.Answer.TokenView)
	out.Secret = res.Answer.Secret
	h := c.Response().Header()
	h.Set("ETag", etag(out.Version))
	h.Set("Location", "/v1/tokens/"+out.ID)
	h.Set(echo.HeaderCacheControl, "no-store")
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) listTokens(c echo.Context) error {
	if err := noQuery(c, "the token list"); err != nil {
		return err
	}
	return answerList(c, "tokens", wireList(s.cfg.Views.Tokens(), s.tokenAnswer))
}

func (s *Server) getToken(c echo.Context) error {
	t, err := known(c, "token", s.cfg.Views.TokenView)
	if err != nil {
		return err
	}
	return answerAt(c, t.Version, s.tokenAnswer(t))
}

func (s *Server) revokeToken(c echo.Context) error {
	t, err := known(c, "token", s.cfg.Views.TokenView)
	if err != nil {
		return err
	}
	id := t.ID
	if err := emptyBodyIsObject(c); err != nil {
		return err
	}
	var body revokeTokenBody
	req, err := readRequest(c, &body)
	if err != nil {
		return err
	}
	res, err := s.cfg.Ledger.RevokeToken(c.Request().Context(), req, id, roadmap.RevokeToken{Reason: body.Reason})
	if err != nil {
		return err
	}
	t = res.Answer
	h := c.Response().Header()
	h.Set("ETag", etag(t.Version))
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	return c.JSON(http.StatusOK, s.tokenAnswer(t))
}
