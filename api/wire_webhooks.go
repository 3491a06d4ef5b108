package api

import (
	"time"

	"github.com/roadmap-ledger/roadmap/internal/webhook"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Webhook subscriptions and their deliveries as the API shows them.

type (
	createWebhookBody struct {
		URL         string   `json:"url"`
		Types       []string `json:"types"`
		Product     string   `json:"product"`
		Description string   `json:"description"`
	}
	// webhookJSON is a subscription with where its delivery stands. Its
	// secret is only in the answers to its creation and to a rotation.
	webhookJSON struct {
		ID          string     `json:"id"`
		URL         string     `json:"url"`
		Types       []string   `json:"types"`
		Product     *string    `json:"product"`
		Description string     `json:"description"`
		Status      string     `json:"status"`
		Position    uint64     `json:"position"`
		FailedSeq   *uint64    `json:"failed_seq"`
		FailingAt   *time.Time `json:"failing_since"`
		LastError   *string    `json:"last_error"`
		CreatedAt   time.Time  `json:"created_at"`
		CreatedBy   string     `json:"created_by"`
		RotatedAt   *time.Time `json:"secret_rotated_at"`
		DeletedAt   *time.Time `json:"deleted_at"`
		Version     uint64     `json:"version"`
		Secret      string     `json:"secret,omitempty"`
	}
	// deliveryJSON is one attempt to deliver one event.
	deliveryJSON struct {
		Sequence   uint64    `json:"seq"`
		EventID    string    `json:"event_id"`
		At         time.Time `json:"at"`
		Status     *int      `json:"status"`
		Error      *string   `json:"error"`
		DurationMS float64   `json:"duration_ms"`
	}
)

// Statuses of a webhook subscription.
const (
	webhookActive  = "active"
	webhookFailing = "failing"
	webhookDeleted = "deleted"
)

func webhookWire(w projections.WebhookView, st webhook.State) webhookJSON {
	out := webhookJSON{
		ID: w.ID, URL: w.URL, Types: w.Types, Description: w.Description, Status: webhookActive,
		Position: max(st.Position, w.Created), CreatedAt: w.CreatedAt, CreatedBy: w.CreatedBy,
		RotatedAt: w.RotatedAt, DeletedAt: w.DeletedAt, Version: w.Version,
	}
	if out.Types == nil {
		out.Types = []string{}
	}
	if w.Product != "" {
		p := w.Product
		out.Product = &p
	}
	switch {
	case w.DeletedAt != nil:
		out.Status = webhookDeleted
	case st.Failing:
		out.Status = webhookFailing
		seq, lastError := st.FailedSeq, st.LastError
		out.FailedSeq, out.FailingAt, out.LastError = &seq, st.Since, &lastError
	}
	return out
}

func deliveryWire(a webhook.Attempt) deliveryJSON {
	out := deliveryJSON{Sequence: a.Sequence, EventID: a.EventID, At: a.At, DurationMS: float64(a.Duration.Microseconds()) / 1000}
	if a.Status != 0 {
		status := a.Status
		out.Status = &status
	}
	if a.Error != "" {
		e := a.Error
		out.Error = &e
	}
	return out
}
