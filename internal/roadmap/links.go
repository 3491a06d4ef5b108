package roadmap

import (
	"crypto/sha256"
	"time"
)

// maxLinkLife bounds a read-only link's life: a link is shared, so it
// must end.
const maxLinkLife = 366 * 24 * 3600

// ShareView is the command that makes a read-only link to a view: a
// viewer token bound to the view, which opens it and nothing else, and
// expires.
type ShareView struct {
	// Name says who the link is for; "link to SLUG" when empty.
	Name string
	// ExpiresIn is the link's life in seconds; required.
	ExpiresIn *int64
	// SecretHMAC is the keyed hash of the link's secret (TokenKey.Hash).
	SecretHMAC string
}

// DecideShareView checks a read-only link to v made at now. It returns a
// *ValidationError (ErrInvalid) for a bad name or life, and ErrConflict
// for a deleted view or a public one, which anyone reads without a link.
func DecideShareView(v View, cmd ShareView, now time.Time) (*TokenCreated, error) {
	var p problems
	name := clean(cmd.Name)
	if name == "" {
		name = "link to " + v.Slug
	}
	optionalText(&p, "name", name, maxTokenName)
	if cmd.ExpiresIn == nil || *cmd.ExpiresIn < 1 || *cmd.ExpiresIn > maxLinkLife {
		p.add("expires_in", "is required: the link's life in seconds, from 1 to %d (a year)", maxLinkLife)
	}
	if len(cmd.SecretHMAC) != 2*sha256.Size {
		p.add("secret", "is missing")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	switch {
	case v.Deleted:
		return nil, conflictf("view %s is deleted", v.Slug)
	case v.Audience == AudiencePublic:
		return nil, conflictf("view %s is public: anyone reads it at /public/%s, without a link", v.Slug, v.Slug)
	}
	at := now.Add(time.Duration(*cmd.ExpiresIn) * time.Second)
	return &TokenCreated{Name: name, Role: RoleViewer, SecretHMAC: cmd.SecretHMAC, ExpiresAt: &at, ViewID: v.ID}, nil
}
