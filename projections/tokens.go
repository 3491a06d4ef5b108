package projections

import (
	"maps"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// TokenView is an access token as the log records it, with its version.
type TokenView struct {
	roadmap.Token
	Version uint64
	Head    string
}

// tokens are the access tokens of the ledger, by id and by the hash of their
// secret as recorded: keyed (byHMAC), or unkeyed for the tokens of
// token.created version 1 (bySHA256). They are part of the state like every
// aggregate, so a rebuild gives the same tokens, but time travel never needs
// them.
type tokens struct {
	byID     map[string]*TokenView
	byHMAC   map[string]*TokenView
	bySHA256 map[string]*TokenView
}

func newTokens() tokens {
	return tokens{byID: map[string]*TokenView{}, byHMAC: map[string]*TokenView{}, bySHA256: map[string]*TokenView{}}
}

// clone returns a copy of t that changes independently of it.
func (t tokens) clone() tokens {
	return tokens{byID: maps.Clone(t.byID), byHMAC: maps.Clone(t.byHMAC), bySHA256: maps.Clone(t.bySHA256)}
}

// applyToken folds the event of a token aggregate into s.
func (s *State) applyToken(ev Event) {
	env := ev.Envelope
	t := TokenView{}
	if old := s.tokens.byID[env.AggregateID]; old != nil {
		t = *old
	}
	t.Token = roadmap.EvolveToken(t.Token, env.AggregateID, ev.Data, env.Time, env.Actor)
	t.Version, t.Head = ev.Sequence, env.Hash
	s.tokens.byID[env.AggregateID] = &t
	if t.SecretHMAC != "" {
		s.tokens.byHMAC[t.SecretHMAC] = &t
	}
	if t.SecretSHA256 != "" {
		s.tokens.bySHA256[t.SecretSHA256] = &t
	}
}

// TokenView returns the token with the given id.
func (s *State) TokenView(id string) (TokenView, bool) { return lookup(s.tokens.byID, id) }

// TokenBySecret returns the token whose secret is secret: the one recorded
// with its keyed hash under key, or else one recorded by token.created
// version 1 with its unkeyed hash. Nothing else finds a token by its
// secret.
func (s *State) TokenBySecret(key roadmap.TokenKey, secret string) (TokenView, bool) {
	t := s.tokens.byHMAC[key.Hash(secret)]
	if t == nil {
		t = s.tokens.bySHA256[roadmap.UnkeyedSecretHash(secret)]
	}
	if t == nil {
		return TokenView{}, false
	}
	return *t, true
}

// Tokens returns every token, oldest first.
func (s *State) Tokens() []TokenView {
	out := values(s.tokens.byID)
	// Ids are time-ordered UUIDs; the creation time comes first for tokens
	// made within the same millisecond by different processes.
	oldestFirst(out, func(t TokenView) (time.Time, string) { return t.CreatedAt, t.ID })
	return out
}

// TokenView returns the token with the given id as it stands.
func (c *Current) TokenView(id string) (TokenView, bool) {
	return readOne(c, (*State).TokenView, id)
}

// TokenBySecret returns the token whose secret is secret (keyed by key), as
// it stands.
func (c *Current) TokenBySecret(key roadmap.TokenKey, secret string) (out TokenView, ok bool) {
	c.Read(func(s *State) { out, ok = s.TokenBySecret(key, secret) })
	return out, ok
}

// Tokens returns every token as it stands, oldest first.
func (c *Current) Tokens() (out []TokenView) {
	c.Read(func(s *State) { out = s.Tokens() })
	return out
}
