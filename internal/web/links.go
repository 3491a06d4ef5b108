package web

import (
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Link is a read-only link to a view (a viewer token bound to it) as it
// stands now: whether it can be used, and when this server last let a
// request through with it (nil if not since it started). Config.Links
// lists them; the API answers the same for GET /v1/views/{slug}/links.
type Link struct {
	projections.TokenView
	Status     roadmap.TokenStatus
	LastUsedAt *time.Time
}
