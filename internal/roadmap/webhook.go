package roadmap

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Event types of webhook subscriptions. Their aggregate type is "webhook",
// one aggregate per subscription. The signing secret is never recorded in
// clear: webhook.created and webhook.secret_rotated record it sealed
// (AES-256-GCM) under the ledger's webhook key (WebhookKey), which the
// ledger derives from its signing key, so the server can sign deliveries
// and nobody who reads the log can.
const (
	TypeWebhookCreated       = "webhook.created"
	TypeWebhookSecretRotated = "webhook.secret_rotated"
	TypeWebhookDeleted       = "webhook.deleted"
)

// Webhook is a subscription as the ledger records it: where the events it
// asks for are posted, and with which sealed secret they are signed.
type Webhook struct {
	ID          string
	URL         string
	Types       []string
	Product     string
	Description string
	// SecretSealed is the signing secret sealed under the WebhookKey.
	SecretSealed string
	CreatedAt    time.Time
	CreatedBy    string
	// RotatedAt is when the secret was last replaced; nil if never.
	RotatedAt *time.Time
	// DeletedAt is nil while the subscription stands.
	DeletedAt *time.Time
	DeletedBy string
}

// WebhookCreated records a new subscription.
type WebhookCreated struct {
	URL          string   `json:"url"`
	Types        []string `json:"types"`
	Product      string   `json:"product"`
	Description  string   `json:"description"`
	SecretSealed string   `json:"secret_sealed"`
}

// WebhookSecretRotated records a new signing secret, sealed.
type WebhookSecretRotated struct {
	SecretSealed string `json:"secret_sealed"`
}

// WebhookDeleted records that a subscription receives nothing more.
type WebhookDeleted struct{}

// EventType implements Event.
func (WebhookCreated) EventType() string { return TypeWebhookCreated }

// EventType implements Event.
func (WebhookSecretRotated) EventType() string { return TypeWebhookSecretRotated }

// EventType implements Event.
func (WebhookDeleted) EventType() string { return TypeWebhookDeleted }

// CreateWebhook is the command that subscribes a URL to the ledger's
// events.
type CreateWebhook struct {
	URL         string
	Types       []string
	Product     string
	Description string
	// SecretSealed is the new secret, sealed (WebhookKey.Seal).
	SecretSealed string
}

// Limits of webhook subscriptions.
const (
	maxWebhookURL         = 2048
	maxWebhookDescription = 500
	maxWebhookTypes       = 50
)

// MatchType reports whether an event type is one of types, an exact type
// or a prefix ending in "." (item.); an empty list matches every type.
func MatchType(types []string, eventType string) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if t == eventType || (strings.HasSuffix(t, ".") && strings.HasPrefix(eventType, t)) {
			return true
		}
	}
	return false
}

// KnownTypeOrPrefix reports whether t is an event type of the catalogue or
// a prefix ending in "." of at least one.
func KnownTypeOrPrefix(t string) bool {
	for known := range SchemaVersions {
		if known == t || (strings.HasSuffix(t, ".") && strings.HasPrefix(known, t)) {
			return true
		}
	}
	return false
}

// DecideCreateWebhook checks a new subscription. It returns ErrInvalid for
// a URL that is not absolute http or https, an unknown type, a bad product
// or a description too long. Where the URL points is checked when each
// event is delivered, after its name is resolved.
func DecideCreateWebhook(cmd CreateWebhook) (*WebhookCreated, error) {
	var p problems
	u, err := url.Parse(cmd.URL)
	switch {
	case cmd.URL == "":
		p.add("url", "is required")
	case len(cmd.URL) > maxWebhookURL:
		p.add("url", "must be at most %d characters", maxWebhookURL)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		p.add("url", "must be an absolute http or https URL, such as https://hooks.example.com/roadmap")
	case u.User != nil:
		p.add("url", "must not carry a user name or password")
	case u.Fragment != "":
		p.add("url", "must not have a fragment")
	}
	if len(cmd.Types) > maxWebhookTypes {
		p.add("types", "must list at most %d types", maxWebhookTypes)
	}
	types := []string{}
	for _, t := range cmd.Types {
		if !KnownTypeOrPrefix(t) {
			p.add("types", "%q is neither an event type nor the prefix of one (such as item.)", clip(t))
			continue
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if cmd.Product != "" && !productPattern.MatchString(cmd.Product) {
		p.add("product", "must be a slug: lower-case letters, digits and dashes, 1 to 63 characters, starting with a letter or digit")
	}
	optionalText(&p, "description", cmd.Description, maxWebhookDescription)
	if cmd.SecretSealed == "" {
		p.add("secret", "is missing")
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return &WebhookCreated{URL: cmd.URL, Types: types, Product: cmd.Product, Description: clean(cmd.Description), SecretSealed: cmd.SecretSealed}, nil
}

// clip shortens a value quoted in a problem.
func clip(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}

// DecideRotateWebhookSecret checks a new secret for w. It returns
// ErrConflict when w is deleted.
func DecideRotateWebhookSecret(w Webhook, sealed string) (*WebhookSecretRotated, error) {
	if w.DeletedAt != nil {
		return nil, conflictf("webhook %s is deleted", w.ID)
	}
	return &WebhookSecretRotated{SecretSealed: sealed}, nil
}

// DecideDeleteWebhook checks the deletion of w. It returns ErrConflict when
// w is already deleted.
func DecideDeleteWebhook(w Webhook) (*WebhookDeleted, error) {
	if w.DeletedAt != nil {
		return nil, conflictf("webhook %s is already deleted", w.ID)
	}
	return &WebhookDeleted{}, nil
}

// EvolveWebhook returns w with the event e, recorded at at by actor,
// applied.
func EvolveWebhook(w Webhook, id string, e Event, at time.Time, actor string) Webhook {
	switch e := e.(type) {
	case *WebhookCreated:
		return Webhook{ID: id, URL: e.URL, Types: e.Types, Product: e.Product, Description: e.Description,
			SecretSealed: e.SecretSealed, CreatedAt: at, CreatedBy: actor}
	case *WebhookSecretRotated:
		w.SecretSealed, w.RotatedAt = e.SecretSealed, &at
	case *WebhookDeleted:
		w.DeletedAt, w.DeletedBy = &at, actor
	}
	return w
}

// webhookSecretPrefix starts every webhook signing secret, as Standard
// Webhooks writes them.
const webhookSecretPrefix = "whsec_"

// NewWebhookSecret returns a new signing secret: "whsec_" and the standard
// base64 of 32 random bytes.
func NewWebhookSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("roadmap: no randomness for a webhook secret: " + err.Error())
	}
	return webhookSecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// WebhookSecretBytes returns the key a secret signs with: the bytes its
// base64 after "whsec_" decodes to. It returns ErrInvalid for a secret
// that is not one.
func WebhookSecretBytes(secret string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, webhookSecretPrefix))
	if err != nil || len(b) == 0 {
		return nil, errors.Join(ErrInvalid, errors.New("not a webhook secret"))
	}
	return b, nil
}

// WebhookKey seals webhook signing secrets for the log with AES-256-GCM.
// The ledger derives it from its signing key, so a secret can be opened
// only where that key is. The zero WebhookKey seals nothing.
type WebhookKey struct {
	aead cipher.AEAD
}

// NewWebhookKey returns the webhook key made of 32 bytes of key material.
func NewWebhookKey(key []byte) WebhookKey {
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		panic("roadmap: webhook key: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("roadmap: webhook key: " + err.Error())
	}
	return WebhookKey{aead: aead}
}

// IsZero reports whether k is the zero key.
func (k WebhookKey) IsZero() bool { return k.aead == nil }

// Seal returns secret sealed for subscription id: base64 of a random nonce
// and the ciphertext, the id bound in as associated data so that a sealed
// secret cannot be moved to another subscription.
func (k WebhookKey) Seal(id, secret string) string {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("roadmap: no randomness for a nonce: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(k.aead.Seal(nonce, nonce, []byte(secret), []byte(id)))
}

// Open returns the secret sealed for subscription id. It returns an error
// when the sealed text was not sealed by this key for that id.
func (k WebhookKey) Open(id, sealed string) (string, error) {
	if k.aead == nil {
		return "", errors.New("no webhook key")
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(b) < k.aead.NonceSize() {
		return "", errors.New("the sealed secret is malformed")
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, b[:n], b[n:], []byte(id))
	if err != nil {
		return "", errors.New("the secret was sealed under another key: the signing key changed")
	}
	return string(plain), nil
}
