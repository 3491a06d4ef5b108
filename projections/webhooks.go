package projections

import (
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// WebhookView is a webhook subscription as the log records it, with its
// version.
type WebhookView struct {
	roadmap.Webhook
	// Created is the sequence of its webhook.created: it receives the
	// events after it.
	Created uint64
	Version uint64
	Head    string
}

// applyWebhook folds the event of a webhook aggregate into s.
func (s *State) applyWebhook(ev Event) {
	env := ev.Envelope
	w := WebhookView{}
	if old := s.webhooks[env.AggregateID]; old != nil {
		w = *old
	}
	w.Webhook = roadmap.EvolveWebhook(w.Webhook, env.AggregateID, ev.Data, env.Time, env.Actor)
	if _, ok := ev.Data.(*roadmap.WebhookCreated); ok {
		w.Created = ev.Sequence
	}
	w.Version, w.Head = ev.Sequence, env.Hash
	s.webhooks[env.AggregateID] = &w
}

// WebhookView returns the subscription with the given id, deleted or not.
func (s *State) WebhookView(id string) (WebhookView, bool) { return lookup(s.webhooks, id) }

// Webhooks returns every subscription, deleted ones included, oldest first.
func (s *State) Webhooks() []WebhookView {
	out := values(s.webhooks)
	oldestFirst(out, func(w WebhookView) (time.Time, string) { return w.CreatedAt, w.ID })
	return out
}

// WebhookView returns the subscription with the given id as it stands.
func (c *Current) WebhookView(id string) (WebhookView, bool) {
	return readOne(c, (*State).WebhookView, id)
}

// Webhooks returns every subscription as it stands, oldest first.
func (c *Current) Webhooks() (out []WebhookView) {
	c.Read(func(s *State) { out = s.Webhooks() })
	return out
}
