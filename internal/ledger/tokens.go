package ledger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"

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

// Limits of a bootstrap secret's strength, as zxcvbn estimates it.
const (
	// minBootstrapBits is the fewest guesses, as a power of two, an
	// estimate may put a bootstrap secret at. 32 random characters of any
	// alphabet, even hexadecimal, are estimated at 2^90 or more; a phrase of
	// words, a repeat or a keyboard walk of that length at far fewer.
	minBootstrapBits = 80
	// strengthChecked is how many characters of a secret the estimate reads
	// (its time grows with the square of the length): a longer secret
	// must be strong in its first strengthChecked characters alone.
	strengthChecked = 64
)

// CheckBootstrapSecret says what is wrong with a bootstrap secret, if
// anything. An operator chooses it, and a chosen secret may be guessable,
// so beside its length it must be strong: mostly not dictionary words,
// names or common passwords (the first thing a word list tries, whatever
// the length), and estimated at no fewer than 2^80 guesses (repeats,
// sequences, keyboard walks and dates count as the few guesses they are).
// The error says which and how to make one, and never quotes the secret.
func CheckBootstrapSecret(secret string) error {
	const make = "; use a random secret, such as the output of openssl rand -base64 32"
	if len(secret) < roadmap.MinSecretLength || !printableASCII(secret) {
		return fmt.Errorf("the bootstrap token must be at least %d printable ASCII characters without spaces%s", roadmap.MinSecretLength, make)
	}
	judged := secret[:min(len(secret), strengthChecked)]
	strength := zxcvbn.PasswordStrength(judged, nil)
	words := 0
	for _, m := range strength.Sequence {
		if m.Pattern == "dictionary" {
			words += m.J - m.I + 1
		}
	}
	if 2*words >= len(judged) {
		return fmt.Errorf("the bootstrap token is too easy to guess: %d of its %d characters are dictionary words, names or common passwords, which a word list tries first%s",
			words, len(judged), make)
	}
	if bits := math.Log2(strength.Guesses); bits < minBootstrapBits {
		return fmt.Errorf("the bootstrap token is too easy to guess: it is made of predictable parts (%s), estimated at about 2^%.0f guesses where a bootstrap token needs at least 2^%d%s",
			predictableParts(strength.Sequence), bits, minBootstrapBits, make)
	}
	return nil
}

// predictableParts names the kinds of predictable parts in a secret, in
// the order they come, once each.
func predictableParts(seq []*match.Match) string {
	names := map[string]string{
		"dictionary": "words", "spatial": "keyboard patterns", "repeat": "repeats", "sequence": "sequences",
		"regex": "years", "date": "dates",
	}
	var parts []string
	for _, m := range seq {
		if name, ok := names[m.Pattern]; ok && !slices.Contains(parts, name) {
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return "too few of its characters are random"
	}
	return strings.Join(parts, ", ")
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
