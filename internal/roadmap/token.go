package roadmap

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Event types of access tokens. Their aggregate type is "token", one
// aggregate per token. The secret itself is never recorded: token.created
// records its HMAC-SHA256 under the ledger's token key (TokenKey), since
// version 2; version 1 recorded its plain SHA-256.
const (
	TypeTokenCreated = "token.created"
	TypeTokenRevoked = "token.revoked"
)

// Role is what a token may do. Each role's permissions are in
// RolePermissions.
type Role string

// Roles.
const (
	RoleViewer   Role = "viewer"
	RoleEditor   Role = "editor"
	RoleApprover Role = "approver"
	RoleAuditor  Role = "auditor"
	RoleAdmin    Role = "admin"
)

// Roles lists every role, least powerful first.
var Roles = []Role{RoleViewer, RoleEditor, RoleApprover, RoleAuditor, RoleAdmin}

// Permission is one kind of thing a route does; every route needs one.
type Permission string

// Permissions.
const (
	// PermRead reads the roadmap, objectives, items, reviews, review packs
	// and pending changes.
	PermRead Permission = "read"
	// PermDecide defines and retires objectives, proposes items, takes item
	// decisions (prioritise, reprioritise, remove, deliver) and opens
	// reviews.
	PermDecide Permission = "decide"
	// PermApprove approves and rejects pending changes, closes reviews and
	// signs checkpoints.
	PermApprove Permission = "approve"
	// PermAudit reads the audit trail: item histories, why chains, the
	// audit export, the raw log, proofs, checkpoints and export manifests.
	PermAudit Permission = "audit"
	// PermAdmin manages tokens and product settings.
	PermAdmin Permission = "admin"
)

// RolePermissions is what each role may do.
var RolePermissions = map[Role][]Permission{
	RoleViewer:   {PermRead},
	RoleEditor:   {PermRead, PermDecide},
	RoleApprover: {PermRead, PermDecide, PermApprove},
	RoleAuditor:  {PermRead, PermAudit},
	RoleAdmin:    {PermRead, PermDecide, PermApprove, PermAudit, PermAdmin},
}

// Allows reports whether role r has permission p.
func (r Role) Allows(p Permission) bool {
	for _, have := range RolePermissions[r] {
		if have == p {
			return true
		}
	}
	return false
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := RolePermissions[r]; return ok }

// Token is an access token as the ledger records it: who it speaks for (its
// name, the actor of every decision taken with it), its role and its life.
type Token struct {
	ID   string
	Name string
	Role Role
	// SecretHMAC is the hex HMAC-SHA256 of the secret under the ledger's
	// token key (TokenKey.Hash); SecretSHA256 is the hex SHA-256 of the
	// secret of a token recorded by token.created version 1. A token has
	// one or the other.
	SecretHMAC   string
	SecretSHA256 string
	CreatedAt    time.Time
	CreatedBy    string
	// ExpiresAt is nil for a token that does not expire.
	ExpiresAt *time.Time
	// RevokedAt is nil while the token is not revoked.
	RevokedAt *time.Time
	RevokedBy string
	Bootstrap bool
	// ViewID, when set, makes the token a read-only link to that view: it
	// opens the view and nothing else.
	ViewID string
}

// TokenStatus is where a token is in its life at a moment.
type TokenStatus string

// Token statuses.
const (
	TokenStatusActive  TokenStatus = "active"
	TokenStatusExpired TokenStatus = "expired"
	TokenStatusRevoked TokenStatus = "revoked"
)

// StatusAt returns whether t can be used at now.
func (t Token) StatusAt(now time.Time) TokenStatus {
	switch {
	case t.RevokedAt != nil:
		return TokenStatusRevoked
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return TokenStatusExpired
	}
	return TokenStatusActive
}

// TokenCreated records a new token. The secret is not in it, only a hash
// of it: since version 2 a keyed one, SecretHMAC, which tells nothing of the
// secret to anyone without the ledger's token key; version 1 recorded the
// plain SHA-256 instead, SecretSHA256, which is read as it was written and
// never written again.
type TokenCreated struct {
	Name         string     `json:"name"`
	Role         Role       `json:"role"`
	SecretSHA256 string     `json:"secret_sha256,omitempty"`
	SecretHMAC   string     `json:"secret_hmac_sha256,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at"`
	// Bootstrap marks the token made at start from the bootstrap secret or
	// for the first start of an empty ledger.
	Bootstrap bool `json:"bootstrap,omitempty"`
	// ViewID is set on a read-only link to one view (optional; still
	// version 2 with it).
	ViewID string `json:"view_id,omitempty"`
}

// TokenRevoked records that a token may no longer be used.
type TokenRevoked struct {
	Reason string `json:"reason"`
}

// EventType implements Event.
func (TokenCreated) EventType() string { return TypeTokenCreated }

// EventType implements Event.
func (TokenRevoked) EventType() string { return TypeTokenRevoked }

// CreateToken is the command that creates a token.
type CreateToken struct {
	Name string
	Role Role
	// ExpiresIn is the token's lifetime in seconds; nil means it does not
	// expire.
	ExpiresIn *int64
	// SecretHMAC is the keyed hash of the secret (TokenKey.Hash).
	SecretHMAC string
	Bootstrap  bool
}

// RevokeToken is the command that revokes a token.
type RevokeToken struct {
	Reason string
}

// Limits of tokens.
const (
	maxTokenName = 100
	// MinSecretLength is the shortest secret a bootstrap token may have.
	MinSecretLength = 32
	maxExpiresIn    = 10 * 366 * 24 * 3600
)

// DecideCreateToken checks a new token made at now. It returns ErrInvalid
// for a bad name, role or lifetime.
func DecideCreateToken(cmd CreateToken, now time.Time) (*TokenCreated, error) {
	var p problems
	name := clean(cmd.Name)
	switch {
	case name == "":
		p.add("name", "is required and must not be blank")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxTokenName:
		p.add("name", "must be at most %d characters of valid UTF-8", maxTokenName)
	case strings.ContainsFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }):
		p.add("name", "must be printable characters only")
	}
	if !cmd.Role.Valid() {
		p.add("role", "must be one of viewer, editor, approver, auditor, admin")
	}
	if cmd.ExpiresIn != nil && (*cmd.ExpiresIn < 1 || *cmd.ExpiresIn > maxExpiresIn) {
		p.add("expires_in", "must be a number of seconds from 1 to %d (ten years), or left out for a token that does not expire", maxExpiresIn)
	}
	if len(cmd.SecretHMAC) != 2*sha256.Size {
		p.add("secret", "is missing")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	e := &TokenCreated{Name: name, Role: cmd.Role, SecretHMAC: cmd.SecretHMAC, Bootstrap: cmd.Bootstrap}
	if cmd.ExpiresIn != nil {
		at := now.Add(time.Duration(*cmd.ExpiresIn) * time.Second)
		e.ExpiresAt = &at
	}
	return e, nil
}

// DecideRevokeToken checks the revocation of t. It returns ErrInvalid for a
// reason that is too long and ErrConflict when t is already revoked.
func DecideRevokeToken(t Token, cmd RevokeToken) (*TokenRevoked, error) {
	var p problems
	optionalText(&p, "reason", cmd.Reason, maxRationale)
	if err := p.err(); err != nil {
		return nil, err
	}
	if t.RevokedAt != nil {
		return nil, conflictf("token %s (%s) is already revoked", t.ID, t.Name)
	}
	return &TokenRevoked{Reason: clean(cmd.Reason)}, nil
}

// EvolveToken returns t with the event e, recorded at at by actor, applied.
func EvolveToken(t Token, id string, e Event, at time.Time, actor string) Token {
	switch e := e.(type) {
	case *TokenCreated:
		return Token{ID: id, Name: e.Name, Role: e.Role, SecretHMAC: e.SecretHMAC, SecretSHA256: e.SecretSHA256,
			CreatedAt: at, CreatedBy: actor, ExpiresAt: e.ExpiresAt, Bootstrap: e.Bootstrap, ViewID: e.ViewID}
	case *TokenRevoked:
		t.RevokedAt, t.RevokedBy = &at, actor
	}
	return t
}

// secretPrefix starts every secret the ledger makes, so a leaked one is easy
// to recognise (and to search for in code and logs).
const secretPrefix = "rlt_"

// NewSecret returns a new random token secret: 256 bits, base64url, with a
// recognisable prefix.
func NewSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("roadmap: no randomness for a token secret: " + err.Error())
	}
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// TokenKey is the ledger's key for token secrets: token.created records
// the HMAC-SHA256 of a secret under it, and a request's bearer secret is
// looked up by the same. The ledger derives it from its signing key, so it
// never leaves the data directory (or the operator's key file) and every
// server of one ledger has it; a word list is of no use against the
// recorded hashes without it. The zero TokenKey hashes nothing.
type TokenKey struct {
	key []byte
}

// TokenKeySize is the length of a token key in bytes.
const TokenKeySize = 32

// NewTokenKey returns the token key made of key, which must be
// TokenKeySize secret random bytes; it panics otherwise.
func NewTokenKey(key []byte) TokenKey {
	if len(key) != TokenKeySize {
		panic("roadmap: a token key must be 32 bytes")
	}
	return TokenKey{key: bytes.Clone(key)}
}

// IsZero reports whether k is the zero TokenKey, which hashes nothing.
func (k TokenKey) IsZero() bool { return k.key == nil }

// Hash returns the hex HMAC-SHA256 of a token secret under k: what
// token.created records of it. A secret has 256 random bits (a bootstrap
// secret must be as strong), so a fast keyed hash is as safe as a slow
// one here. It returns "" for the zero TokenKey.
func (k TokenKey) Hash(secret string) string {
	if k.IsZero() {
		return ""
	}
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(secret))
	return hex.EncodeToString(m.Sum(nil))
}

// UnkeyedSecretHash returns the hex SHA-256 of a token secret: what
// token.created version 1 recorded, by which the tokens it recorded are
// still looked up. Nothing records it any more.
func UnkeyedSecretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
