package ledger

import (
	"context"
	"errors"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// ErrNoWebhookKey means the ledger has no key to seal webhook secrets
// with, so it makes no subscription.
var ErrNoWebhookKey = errors.New("the ledger has no key to seal webhook secrets with")

// SetWebhookKey sets the key webhook signing secrets are sealed with
// (roadmap.WebhookKey). Call it before serving.
func (s *Service) SetWebhookKey(k roadmap.WebhookKey) { s.webhookKey = k }

// WebhookSecret returns the signing secret of subscription w, opened with
// the ledger's webhook key. It returns an error when the key cannot open
// it (the signing key was replaced).
func (s *Service) WebhookSecret(w roadmap.Webhook) (string, error) {
	return s.webhookKey.Open(w.ID, w.SecretSealed)
}

// CreatedWebhook is the answer to a subscription's creation or to the
// rotation of its secret: the subscription and its new secret, which the
// ledger shows once. Secret is empty in the answer to a retry (an
// Idempotency-Key seen before).
type CreatedWebhook struct {
	projections.WebhookView
	Secret string
}

var webhookAnswer = viewAnswer(nil, (*projections.State).WebhookView)

// CreateWebhook subscribes a URL with a fresh signing secret. It returns
// roadmap.ErrInvalid for a bad URL, type, product or description.
func (s *Service) CreateWebhook(ctx context.Context, req Request, cmd roadmap.CreateWebhook) (Result[CreatedWebhook], error) {
	if s.webhookKey.IsZero() {
		return Result[CreatedWebhook]{}, ErrNoWebhookKey
	}
	id, secret := newID(), roadmap.NewWebhookSecret()
	cmd.SecretSealed = s.webhookKey.Seal(id, secret)
	res, err := write(ctx, s, req, webhookAnswer, func() (aggregate, roadmap.Event, error) {
		agg, err := fresh(req, "webhook", id)
		if err != nil {
			return agg, nil, err
		}
		agg.at = s.eventTime()
		e, err := roadmap.DecideCreateWebhook(cmd)
		return agg, e, err
	})
	return withSecret(res, err, secret)
}

// RotateWebhookSecret gives subscription id a fresh signing secret; the
// old one signs nothing more. It returns roadmap.ErrNotFound,
// roadmap.ErrConflict (deleted) and ErrPreconditionFailed.
func (s *Service) RotateWebhookSecret(ctx context.Context, req Request, id string) (Result[CreatedWebhook], error) {
	if s.webhookKey.IsZero() {
		return Result[CreatedWebhook]{}, ErrNoWebhookKey
	}
	secret := roadmap.NewWebhookSecret()
	sealed := s.webhookKey.Seal(id, secret)
	res, err := write(ctx, s, req, webhookAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		w, ok := st.WebhookView(id)
		agg, err := existing(req, "webhook", id, ok, w.Version, w.Head)
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideRotateWebhookSecret(w.Webhook, sealed) })
	}))
	return withSecret(res, err, secret)
}

// DeleteWebhook ends subscription id. It returns roadmap.ErrNotFound,
// roadmap.ErrConflict (already deleted) and ErrPreconditionFailed.
func (s *Service) DeleteWebhook(ctx context.Context, req Request, id string) (Result[projections.WebhookView], error) {
	return write(ctx, s, req, webhookAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		w, ok := st.WebhookView(id)
		agg, err := existing(req, "webhook", id, ok, w.Version, w.Head)
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideDeleteWebhook(w.Webhook) })
	}))
}

func withSecret(res Result[projections.WebhookView], err error, secret string) (Result[CreatedWebhook], error) {
	out := Result[CreatedWebhook]{Created: res.Created, Replayed: res.Replayed, Sequence: res.Sequence, Answer: CreatedWebhook{WebhookView: res.Answer}}
	if err == nil && !res.Replayed {
		out.Answer.Secret = secret
	}
	return out, err
}
