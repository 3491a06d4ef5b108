package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/webhook"
	"github.com/roadmap-ledger/roadmap/projections"
)

// WebhookViews are the webhook subscriptions as the projections hold them.
type WebhookViews interface {
	WebhookView(id string) (projections.WebhookView, bool)
	Webhooks() []projections.WebhookView
}

// Deliveries is where delivery to each subscription stands;
// *webhook.Dispatcher is one.
type Deliveries interface {
	State(ctx context.Context, id string) (webhook.State, error)
	Attempts(ctx context.Context, id string) ([]webhook.Attempt, error)
	Resume(ctx context.Context, id string) error
}

var _ Deliveries = (*webhook.Dispatcher)(nil)

// webhookAnswer is a subscription with where its delivery stands.
func (s *Server) webhookAnswer(ctx context.Context, w projections.WebhookView) (webhookJSON, error) {
	var st webhook.State
	if s.cfg.Deliveries != nil {
		var err error
		if st, err = s.cfg.Deliveries.State(ctx, w.ID); err != nil {
			return webhookJSON{}, err
		}
	}
	return webhookWire(w, st), nil
}

// answerWebhook answers a subscription made or changed by a write.
func (s *Server) answerWebhook(c echo.Context, status int, res ledger.Result[ledger.CreatedWebhook]) error {
	out, err := s.webhookAnswer(c.Request().Context(), res.Answer.WebhookView)
	if err != nil {
		return err
	}
	out.Secret = res.Answer.Secret
	h := c.Response().Header()
	h.Set("ETag", etag(out.Version))
	if status == http.StatusCreated {
		h.Set("Location", "/v1/webhooks/"+out.ID)
	}
	if res.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	return c.JSON(status, out)
}

func (s *Server) createWebhook(c echo.Context) error {
	var body createWebhookBody
	req, err := readRequest(c, &body)
	if err != nil {
		return err
	}
	cmd := roadmap.CreateWebhook{URL: body.URL, Types: body.Types, Product: body.Product, Description: body.Description}
	if _, err := roadmap.DecideCreateWebhook(roadmap.CreateWebhook{URL: cmd.URL, Types: cmd.Types, Product: cmd.Product, Description: cmd.Description, SecretSealed: "-"}); err != nil {
		return err
	}
	if s.cfg.CheckWebhookURL != nil {
		if err := s.cfg.CheckWebhookURL(c.Request().Context(), body.URL); err != nil {
			return err
		}
	}
	res, err := s.cfg.Ledger.CreateWebhook(c.Request().Context(), req, cmd)
	if err != nil {
		return err
	}
	return s.answerWebhook(c, http.StatusCreated, res)
}

func (s *Server) listWebhooks(c echo.Context) error {
	if err := noQuery(c, "the webhook list"); err != nil {
		return err
	}
	var out []webhookJSON
	for _, w := range s.cfg.Views.Webhooks() {
		j, err := s.webhookAnswer(c.Request().Context(), w)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	return answerList(c, "webhooks", out)
}

func (s *Server) getWebhook(c echo.Context) error {
	w, err := known(c, "webhook", s.cfg.Views.WebhookView)
	if err != nil {
		return err
	}
	out, err := s.webhookAnswer(c.Request().Context(), w)
	if err != nil {
		return err
	}
	return answerAt(c, w.Version, out)
}

// bodilessWebhookWrite finds the webhook {id} and reads the request of a
// write on it, whose body is empty or {}.
func (s *Server) bodilessWebhookWrite(c echo.Context) (projections.WebhookView, ledger.Request, error) {
	w, err := known(c, "webhook", s.cfg.Views.WebhookView)
	if err != nil {
		return w, ledger.Request{}, err
	}
	if err := emptyBodyIsObject(c); err != nil {
		return w, ledger.Request{}, err
	}
	var body struct{}
	req, err := readRequest(c, &body)
	return w, req, err
}

func (s *Server) deleteWebhook(c echo.Context) error {
	w, req, err := s.bodilessWebhookWrite(c)
	if err != nil {
		return err
	}
	res, err := s.cfg.Ledger.DeleteWebhook(c.Request().Context(), req, w.ID)
	if err != nil {
		return err
	}
	return s.answerWebhook(c, http.StatusOK, ledger.Result[ledger.CreatedWebhook]{Replayed: res.Replayed, Sequence: res.Sequence, Answer: ledger.CreatedWebhook{WebhookView: res.Answer}})
}

func (s *Server) rotateWebhookSecret(c echo.Context) error {
	w, req, err := s.bodilessWebhookWrite(c)
	if err != nil {
		return err
	}
	res, err := s.cfg.Ledger.RotateWebhookSecret(c.Request().Context(), req, w.ID)
	if err != nil {
		return err
	}
	return s.answerWebhook(c, http.StatusOK, res)
}

func (s *Server) resumeWebhook(c echo.Context) error {
	w, _, err := s.bodilessWebhookWrite(c)
	if err != nil {
		return err
	}
	if w.DeletedAt != nil {
		return problem(roadmap.ErrConflict, "webhook "+w.ID+" is deleted")
	}
	if s.cfg.Deliveries == nil {
		return problem(ErrNotReady, "this server delivers no webhooks")
	}
	if err := s.cfg.Deliveries.Resume(c.Request().Context(), w.ID); err != nil {
		return err
	}
	out, err := s.webhookAnswer(c.Request().Context(), w)
	if err != nil {
		return err
	}
	return answerAt(c, w.Version, out)
}

func (s *Server) webhookDeliveries(c echo.Context) error {
	w, err := known(c, "webhook", s.cfg.Views.WebhookView)
	if err != nil {
		return err
	}
	if err := noQuery(c, "the deliveries"); err != nil {
		return err
	}
	var attempts []webhook.Attempt
	if s.cfg.Deliveries != nil {
		if attempts, err = s.cfg.Deliveries.Attempts(c.Request().Context(), w.ID); err != nil {
			return err
		}
	}
	return answerList(c, "deliveries", wireList(attempts, deliveryWire))
}
