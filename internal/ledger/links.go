package ledger

import (
	"cmp"
	"context"
	"fmt"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// ShareView makes a read-only link to the view with the given slug (event
// token.created, with the view's id): a viewer token that opens the view
// and nothing else, until it expires or is revoked. Its secret is in the
// answer, once. It returns roadmap.ErrNotFound, roadmap.ErrInvalid,
// roadmap.ErrConflict (a public view), ErrNoTokenKey.
func (s *Service) ShareView(ctx context.Context, req Request, slug string, cmd roadmap.ShareView) (Result[CreatedToken], error) {
	if s.tokenKey.IsZero() {
		return Result[CreatedToken]{}, ErrNoTokenKey
	}
	secret := roadmap.NewSecret()
	cmd.SecretHMAC = s.tokenKey.Hash(secret)
	res, err := write(ctx, s, req, tokenAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		v, ok := st.SavedViewBySlug(slug)
		if !ok {
			return aggregate{}, nil, fmt.Errorf("%w: view %s", roadmap.ErrNotFound, slug)
		}
		agg, err := fresh(req, "token", newID())
		agg.at = s.eventTime()
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideShareView(v.View, cmd, agg.at) })
	}))
	out := Result[CreatedToken]{Created: res.Created, Replayed: res.Replayed, Sequence: res.Sequence, Answer: CreatedToken{TokenView: res.Answer}}
	if err == nil && !res.Replayed {
		out.Answer.Secret = secret
	}
	return out, err
}

// RevokeLink revokes a read-only link to the view with the given slug. It
// returns roadmap.ErrNotFound (no such view, or no link of it by that id)
// and the errors of RevokeToken.
func (s *Service) RevokeLink(ctx context.Context, req Request, slug, id string, cmd roadmap.RevokeToken) (Result[projections.TokenView], error) {
	var linked bool
	s.views.Read(func(st *projections.State) {
		v, ok := st.SavedViewBySlug(slug)
		t, found := st.TokenView(id)
		linked = ok && found && t.ViewID == v.ID
	})
	if !linked {
		return Result[projections.TokenView]{}, fmt.Errorf("%w: view %s has no link %s", roadmap.ErrNotFound, slug, cmp.Or(id, `""`))
	}
	return s.RevokeToken(ctx, req, id, cmd)
}
