package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// BootstrapName is the name of the admin token made at start.
const BootstrapName = "bootstrap"

// CreatedToken is the answer to a token's creation: the token and its
// secret, which the ledger never shows again. Secret is empty in the answer
// to a retry (an Idempotency-Key seen before): it is not kept.
type CreatedToken struct {
	projections.TokenView
	Secret string
}

// CreateToken makes a new token with a fresh secret. It returns
// roadmap.ErrInvalid for a bad name, role or lifetime.
func (s *Service) CreateToken(ctx context.Context, req Request, cmd roadmap.CreateToken) (Result[CreatedToken], error) {
	secret := roadmap.NewSecret()
	cmd.SecretHMAC, cmd.Bootstrap = s.tokenKey.Hash(secret), false
	res, err := s.createToken(ctx, req, newID(), cmd)
	out := Result[CreatedToken]{Created: res.Created, Replayed: res.Replayed, Sequence: res.Sequence, Answer: CreatedToken{TokenView: res.Answer}}
	if err == nil && !res.Replayed {
		out.Answer.Secret = secret
	}
	return out, err
}

func (s *Service) createToken(ctx context.Context, req Request, id string, cmd roadmap.CreateToken) (Result[projections.TokenView], error) {
	if s.tokenKey.IsZero() {
		return Result[projections.TokenView]{}, ErrNoTokenKey
	}
	return write(ctx, s, req, tokenAnswer, func() (aggregate, roadmap.Event, error) {
		agg, err := fresh(req, "token", id)
		if err != nil {
			return agg, nil, err
		}
		agg.at = s.eventTime()
		e, err := roadmap.DecideCreateToken(cmd, agg.at)
		return agg, e, err
	})
}

// RevokeToken revokes a token. It returns roadmap.ErrNotFound,
// roadmap.ErrInvalid, roadmap.ErrConflict (already revoked),
// ErrPreconditionFailed.
func (s *Service) RevokeToken(ctx context.Context, req Request, id string, cmd roadmap.RevokeToken) (Result[projections.TokenView], error) {
	return write(ctx, s, req, tokenAnswer, s.onState(func(st *projections.State) (aggregate, roadmap.Event, error) {
		t, ok := st.TokenView(id)
		agg, err := existing(req, "token", id, ok, t.Version, t.Head)
		return decideOn(agg, err, func() (roadmap.Event, error) { return roadmap.DecideRevokeToken(t.Token, cmd) })
	}))
}

// Bootstrap makes sure the ledger can be administered, once the
// projections have caught up with the log. With a secret, it makes that
// secret an admin token named "bootstrap" unless a token with that secret
// is already recorded (revoked or not: a revoked bootstrap secret stays
// revoked). Without one, on a ledger that has never had a token, it makes
// an admin token with a fresh secret and returns that secret, for the
// operator to see once; otherwise it returns "".
//
// Several processes starting at once on one cluster make one token between
// them: the bootstrap token's aggregate id is derived from its secret's
// keyed hash (or, for the first start, fixed), so only the first append
// lands. Like the hash, the id tells nothing of the secret without the
// key. A token recorded by an earlier release, with the unkeyed hash of
// the secret, is found as well: the secret is not recorded twice.
func (s *Service) Bootstrap(ctx context.Context, secret string) (string, error) {
	req := Request{Actor: BootstrapName}
	cmd := roadmap.CreateToken{Name: BootstrapName, Role: roadmap.RoleAdmin, Bootstrap: true}
	var id string
	if secret != "" {
		if err := CheckBootstrapSecret(secret); err != nil {
			return "", err
		}
		if _, ok := s.views.TokenBySecret(s.tokenKey, secret); ok {
			return "", nil
		}
		cmd.SecretHMAC = s.tokenKey.Hash(secret)
		id, secret = bootstrapID(cmd.SecretHMAC), ""
	} else {
		if len(s.views.Tokens()) > 0 {
			return "", nil
		}
		secret = roadmap.NewSecret()
		cmd.SecretHMAC, id = s.tokenKey.Hash(secret), bootstrapID("first start")
	}
	_, err := s.createToken(ctx, req, id, cmd)
	if errors.Is(err, roadmap.ErrConflict) {
		return "", nil // another process made it first
	}
	if err != nil {
		return "", err
	}
	return secret, nil
}

// CheckBootstrapSecret says what is wrong with a bootstrap secret, if
// anything.
func CheckBootstrapSecret(secret string) error {
	if len(secret) < roadmap.MinSecretLength || !printableASCII(secret) {
		return fmt.Errorf("the bootstrap token must be at least %d printable ASCII characters without spaces", roadmap.MinSecretLength)
	}
	return nil
}

// bootstrapNamespace derives the ids of bootstrap tokens.
var bootstrapNamespace = uuid.MustParse("6f1b8a52-3c1e-4d0a-9a57-6d2f0c4b7e11")

func bootstrapID(name string) string {
	return uuid.NewSHA1(bootstrapNamespace, []byte("bootstrap token: "+name)).String()
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
