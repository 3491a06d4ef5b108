package api

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// tokenKey is where an authenticated request keeps its token in the echo
// context.
const tokenKey = "roadmap.token"

// TokenViews are the access tokens as the API authenticates requests
// against them.
type TokenViews interface {
	// TokenBySecret finds a token by its secret, hashed with key.
	TokenBySecret(key roadmap.TokenKey, secret string) (projections.TokenView, bool)
	TokenView(id string) (projections.TokenView, bool)
	Tokens() []projections.TokenView
}

// lastUse remembers when each token was last used by this process. It is
// not recorded in the log: a read is not a decision, and a ledger event per
// request would swamp the decisions.
type lastUse struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (l *lastUse) touch(id string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil {
		l.at = map[string]time.Time{}
	}
	l.at[id] = now
}

func (l *lastUse) get(id string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.at[id]
	return t, ok
}

// unauthorized is the 401 answer, with the challenge RFC 6750 asks for.
func unauthorized(c echo.Context, detail string, invalid bool) error {
	challenge := `Bearer realm="roadmap"`
	if invalid {
		challenge += `, error="invalid_token"`
	}
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, challenge)
	return problem(ErrUnauthorized, detail)
}

// authorize returns the middleware that lets a request through only with a
// valid bearer token whose role has permission perm.
func (s *Server) authorize(perm roadmap.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Request().Header.Get(echo.HeaderAuthorization)
			if h == "" {
				return unauthorized(c, "this request needs a token: send Authorization: Bearer TOKEN", false)
			}
			scheme, secret, ok := strings.Cut(h, " ")
			secret = strings.TrimSpace(secret)
			if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
				return unauthorized(c, "the Authorization header must be Bearer TOKEN", true)
			}
			t, err := s.Authenticate(secret)
			if err != nil {
				var invalid *invalidToken
				if errors.As(err, &invalid) {
					return unauthorized(c, invalid.detail, true)
				}
				return err
			}
			s.lastUse.touch(t.ID, time.Now())
			if !t.Role.Allows(perm) {
				return problem(roadmap.ErrForbidden, "the token's role, "+string(t.Role)+", may not "+permissionVerb[perm])
			}
			if err := s.linkScope(c, t); err != nil {
				return err
			}
			c.Set(tokenKey, t)
			c.Set(recheckKey, func() error { return s.stillValid(c, t.ID) })
			return next(c)
		}
	}
}

// recheckKey is where an authenticated request keeps the check of its
// token again (tokenStillValid).
const recheckKey = "roadmap.token.recheck"

// stillValid refuses, 401, a request whose token id was revoked or expired
// since the request was authorised.
func (s *Server) stillValid(c echo.Context, id string) error {
	_, err := s.Recheck(id)
	var invalid *invalidToken
	if errors.As(err, &invalid) {
		return unauthorized(c, invalid.during, true)
	}
	return err
}

// invalidToken is why a token cannot be used: unknown, revoked or expired.
// It is of kind ErrUnauthorized. during says it of a token that was valid
// when its request was authorised.
type invalidToken struct{ detail, during string }

func (e *invalidToken) Error() string { return e.detail }
func (e *invalidToken) Unwrap() error { return ErrUnauthorized }

// Authenticate finds the token whose secret is secret and checks that it
// can be used now: the one lookup of a token by its secret, for a bearer
// and for the web app's sign-in alike. It returns an error of kind
// ErrUnauthorized saying why a token cannot be used.
func (s *Server) Authenticate(secret string) (projections.TokenView, error) {
	t, ok := s.cfg.Views.TokenBySecret(s.cfg.TokenKey, secret)
	if !ok {
		return t, unknownToken
	}
	return t, s.usable(t)
}

// authenticateSession is Authenticate for a page of the web app, which
// counts as a use of the token, as a bearer request does.
func (s *Server) authenticateSession(secret string) (projections.TokenView, error) {
	t, err := s.Authenticate(secret)
	if err == nil {
		s.lastUse.touch(t.ID, time.Now())
	}
	return t, err
}

var unknownToken = &invalidToken{"the token is not known to this ledger", "the token is not known to this ledger"}

// Recheck finds the token with id and checks that it can still be used:
// what a request already authenticated asks again (a write once its body
// is read, each page of a web session).
func (s *Server) Recheck(id string) (projections.TokenView, error) {
	t, ok := s.cfg.Views.TokenView(id)
	if !ok {
		return t, unknownToken
	}
	return t, s.usable(t)
}

// usable says why t cannot be used now, or nil.
func (s *Server) usable(t projections.TokenView) error {
	switch s.tokenStatus(t) {
	case roadmap.TokenStatusRevoked:
		return &invalidToken{"the token was revoked", "the token was revoked while the request was being received"}
	case roadmap.TokenStatusExpired:
		return &invalidToken{"the token has expired", "the token expired while the request was being received"}
	}
	return nil
}

// tokenStillValid checks the request's token again, once its body is read
// and before anything is decided: a client can take up to the server's read
// timeout to send a body, and a revocation answered meanwhile must hold for
// it. A request whose decision is read before the revocation is applied may
// still land after it in the log, by the time of one append.
func tokenStillValid(c echo.Context) error {
	if check, ok := c.Get(recheckKey).(func() error); ok {
		return check()
	}
	return nil
}

// tokenStatus is whether t can be used now. The ledger's clock is read
// only for a token that expires.
func (s *Server) tokenStatus(t projections.TokenView) roadmap.TokenStatus {
	now := time.Time{}
	if t.ExpiresAt != nil {
		now = s.cfg.Now()
	}
	return t.StatusAt(now)
}

// permissionVerb says what a permission lets a role do, for 403 answers.
var permissionVerb = map[roadmap.Permission]string{
	roadmap.PermRead:    "read the roadmap",
	roadmap.PermDecide:  "take decisions (editor, approver or admin)",
	roadmap.PermApprove: "approve changes, close reviews or sign checkpoints (approver or admin)",
	roadmap.PermAudit:   "read the audit trail, the log and its proofs (auditor or admin)",
	roadmap.PermAdmin:   "manage tokens and product settings (admin)",
}

// requestToken returns the token the request was authenticated with.
func requestToken(c echo.Context) projections.TokenView {
	t, _ := c.Get(tokenKey).(projections.TokenView)
	return t
}
