package projections

import (
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
// secret. They are part of the state like every aggregate, so a rebuild
// gives the same tokens, but time travel never needs them.
type tokens struct {
	byID   map[string]*TokenView
	byHash map[string]*TokenView
}

func newTokens() tokens {
	return tokens{byID: map[string]*TokenView{}, byHash: map[string]*TokenView{}}
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
	if t.SecretHash != "" {
		s.tokens.byHash[t.SecretHash] = &t
	}
}

// TokenView returns the token with the given id.
func (s *State) TokenView(id string) (TokenView, bool) { return lookup(s.tokens.byID, id) }

// TokenBySecretHash returns the token whose secret has the given hash.
func (s *State) TokenBySecretHash(hash string) (TokenView, bool) {
	t := s.tokens.byHash[hash]
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

// TokenBySecretHash returns the token whose secret has the given hash, as it
// stands.
func (c *Current) TokenBySecretHash(hash string) (TokenView, bool) {
	return readOne(c, (*State).TokenBySecretHash, hash)
}

// Tokens returns every token as it stands, oldest first.
func (c *Current) Tokens() (out []TokenView) {
	c.Read(func(s *State) { out = s.Tokens() })
	return out
}
