package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// settableClock is a clock that stands still until set.
type settableClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *settableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *settableClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestATokensSecretIsShownOnceAndNeverRecorded(t *testing.T) {
	l := startLedger(t)
	before := l.messages()
	res := l.do("POST", "/v1/tokens", map[string]any{"name": "ci-bot", "role": "editor"})
	if res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	tok := decode(t, res.Body)
	secret, _ := tok["secret"].(string)
	if !strings.HasPrefix(secret, "rlt_") || len(secret) < 40 {
		t.Fatalf("secret %q, want rlt_ and 256 random bits", secret)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store on an answer with a secret", res.Header.Get("Cache-Control"))
	}
	if tok["name"] != "ci-bot" || tok["role"] != "editor" || tok["status"] != "active" || tok["created_by"] != "bootstrap" || tok["expires_at"] != nil {
		t.Errorf("token %v", tok)
	}
	if l.messages() != before+1 {
		t.Errorf("the log grew by %d events, want 1", l.messages()-before)
	}
	// The log holds the secret's hash, never the secret.
	var stored []byte
	if err := l.App.Log.Read(context.Background(), "token", tok["id"].(string), func(r eventlog.Record) error {
		stored = append(stored, r.Body...)
		if r.Envelope.Type != "token.created" {
			t.Errorf("event %s, want token.created", r.Envelope.Type)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte(secret)) || bytes.Contains(stored, []byte(secret[4:])) {
		t.Errorf("the log holds the secret: %s", stored)
	}
	if !bytes.Contains(stored, []byte(`"secret_hmac_sha256"`)) {
		t.Errorf("the log does not hold the secret's hash: %s", stored)
	}
	// The list and the token itself never show it again.
	for _, path := range []string{"/v1/tokens", "/v1/tokens/" + tok["id"].(string)} {
		if body := l.do("GET", path, nil).Body; bytes.Contains(body, []byte(secret)) || bytes.Contains(body, []byte(`"secret"`)) {
			t.Errorf("GET %s shows the secret: %s", path, body)
		}
	}

	// A decision taken with it is the token's name's, whatever the client says.
	item := l.must(201, "POST", "/v1/items", map[string]any{"title": "Built by CI", "kind": "idea"}, bearer(secret)...)
	history := l.must(200, "GET", "/v1/items/"+item["id"].(string)+"/history", nil)
	if actor := rows(t, history["history"])[0]["actor"]; actor != "ci-bot" {
		t.Errorf("actor %v, want the token's name ci-bot", actor)
	}
	n := l.messages()
	res = l.do("POST", "/v1/items", map[string]any{"title": "Claimed", "kind": "idea"}, append(bearer(secret), "X-Actor", "ceo@example.com")...)
	checkProblem(t, res, 400)
	if !strings.Contains(string(res.Body), "X-Actor") || l.messages() != n {
		t.Errorf("an X-Actor header must be refused and append nothing: %s", res.Body)
	}

	// Last use is shown once the token has been used.
	got := l.must(200, "GET", "/v1/tokens/"+tok["id"].(string), nil)
	if got["last_used_at"] == nil {
		t.Errorf("last_used_at is null after use: %v", got)
	}
}

func TestARevokedTokenIsRefusedFromThenOn(t *testing.T) {
	dir := t.TempDir()
	l := startLedgerIn(t, dir)
	id, secret := newToken(l, "leaver@example.com", "editor")
	l.must(200, "GET", "/v1/roadmap", nil, bearer(secret)...)
	revoked := l.must(200, "DELETE", "/v1/tokens/"+id, map[string]any{"reason": "left the company"})
	if revoked["status"] != "revoked" || revoked["revoked_by"] != "bootstrap" || revoked["revoked_at"] == nil {
		t.Errorf("revoked token %v", revoked)
	}
	res := l.do("GET", "/v1/roadmap", nil, bearer(secret)...)
	checkProblem(t, res, 401)
	if !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate %q", res.Header.Get("WWW-Authenticate"))
	}
	checkProblem(t, l.do("DELETE", "/v1/tokens/"+id, nil), 409)
	checkProblem(t, l.do("DELETE", "/v1/tokens/01a2061d-0000-7000-8000-000000000000", nil), 404)

	// A restart rebuilds the same tokens from the log.
	l.stop()
	again := startLedgerIn(t, dir)
	checkProblem(t, again.do("GET", "/v1/roadmap", nil, bearer(secret)...), 401)
}

func TestAnExpiredTokenIsRefused(t *testing.T) {
	clock := &settableClock{now: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Now: clock.Now})
	tok := l.must(201, "POST", "/v1/tokens", map[string]any{"name": "contractor", "role": "viewer", "expires_in": 3600})
	if tok["expires_at"] != "2026-11-01T10:00:00Z" {
		t.Errorf("expires_at %v, want an hour after creation", tok["expires_at"])
	}
	secret := tok["secret"].(string)
	clock.Set(time.Date(2026, 11, 1, 9, 59, 59, 0, time.UTC))
	l.must(200, "GET", "/v1/roadmap", nil, bearer(secret)...)
	clock.Set(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC))
	checkProblem(t, l.do("GET", "/v1/roadmap", nil, bearer(secret)...), 401)
	if got := l.must(200, "GET", "/v1/tokens/"+tok["id"].(string), nil); got["status"] != "expired" {
		t.Errorf("status %v, want expired", got["status"])
	}
	for _, bad := range []any{0, -1, 316224001, "3600", 1.5} {
		checkProblem(t, l.do("POST", "/v1/tokens", map[string]any{"name": "x", "role": "viewer", "expires_in": bad}), 422)
	}
	for _, bad := range []map[string]any{{"name": " ", "role": "viewer"}, {"name": "x", "role": "root"}, {"name": "x"}, {"name": strings.Repeat("n", 101), "role": "viewer"}, {"name": "tab\there", "role": "viewer"}} {
		checkProblem(t, l.do("POST", "/v1/tokens", bad), 422)
	}
}

func TestTheFirstStartMakesOneAdminTokenAndShowsItOnce(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var shown []string
	start := func(bootstrap string) *app.App {
		t.Helper()
		a, err := app.Open(context.Background(), app.Config{DataDir: dir, BootstrapToken: bootstrap, OnFirstToken: func(secret string) {
			mu.Lock()
			defer mu.Unlock()
			shown = append(shown, secret)
		}})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.WaitReady(context.Background()); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := start("")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(shown) != 1 || !strings.HasPrefix(shown[0], "rlt_") {
		t.Fatalf("first start showed %q, want one secret", shown)
	}
	first := shown[0]
	mu.Unlock()

	// The next starts have a token already: they make none and show none,
	// and the same secret given as the bootstrap token is not recorded
	// twice.
	for _, bootstrap := range []string{"", first} {
		a := start(bootstrap)
		tokens := a.Current.Tokens()
		if len(tokens) != 1 || tokens[0].Name != "bootstrap" || tokens[0].Role != "admin" || !tokens[0].Bootstrap {
			t.Errorf("tokens %+v, want the one bootstrap admin", tokens)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(shown) != 1 {
		t.Errorf("a restart showed another secret")
	}
}

func TestARevokedBootstrapSecretStaysRevoked(t *testing.T) {
	dir := t.TempDir()
	l := startLedgerIn(t, dir)
	var id string
	for _, tok := range l.must(200, "GET", "/v1/tokens", nil)["tokens"].([]any) {
		if tok := tok.(map[string]any); tok["name"] == "bootstrap" {
			id = tok["id"].(string)
		}
	}
	// Another admin revokes the bootstrap token, as an operator should once
	// named admins exist.
	_, admin := newToken(l, "ops@example.com", "admin")
	l.must(200, "DELETE", "/v1/tokens/"+id, nil, bearer(admin)...)
	l.stop()
	again := startLedgerIn(t, dir) // started with the same bootstrap secret
	checkProblem(t, again.do("GET", "/v1/roadmap", nil), 401)
	again.must(200, "GET", "/v1/roadmap", nil, bearer(admin)...)
}

func TestAWeakBootstrapSecretIsRefusedAtStart(t *testing.T) {
	for _, tc := range []struct{ secret, why string }{
		{"too-short", "at least 32"},
		{"Roadmap-Ledger-Bootstrap-Secret-2026", "dictionary words"},
		{"abcabcabcabcabcabcabcabcabcabcabcabc", "repeats"},
	} {
		dir := t.TempDir()
		_, err := app.Open(context.Background(), app.Config{DataDir: dir, BootstrapToken: tc.secret})
		if err == nil || !strings.Contains(err.Error(), tc.why) || !strings.Contains(err.Error(), "too easy to guess") && tc.secret != "too-short" {
			t.Errorf("open with the bootstrap secret %q: %v, want a refusal saying it is too easy to guess (%s)", tc.secret, err, tc.why)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("a refused start left %d files in the data directory", len(entries))
		}
	}

	// A random one opens the ledger, as its admin.
	strong := base64.StdEncoding.EncodeToString([]byte(rand.Text() + rand.Text()))
	a, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir(), BootstrapToken: strong})
	if err != nil {
		t.Fatalf("open with a random bootstrap secret: %v", err)
	}
	t.Cleanup(func() { a.Close() })
	if err := a.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("GET", srv.URL+"/v1/tokens", nil)
	req.Header.Set("Authorization", "Bearer "+strong)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET /v1/tokens with the bootstrap secret: %d, want 200", res.StatusCode)
	}
}

// ledgerTokenKey returns the key of the token secrets of the ledger whose
// data directory is dir: derived from its signing key, there.
func ledgerTokenKey(t *testing.T, l *testLedger, dir string) roadmap.TokenKey {
	t.Helper()
	skey, _, err := proof.LoadOrCreateKey(dir, l.App.Origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := proof.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return app.TokenKey(signer)
}

// storedBodies returns the stored bodies of one aggregate's events, one a
// line.
func storedBodies(t *testing.T, l *testLedger, aggregateType, id string) []byte {
	t.Helper()
	var stored []byte
	if err := l.App.Log.Read(context.Background(), aggregateType, id, func(r eventlog.Record) error {
		stored = append(append(stored, r.Body...), '\n')
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return stored
}

// getBody answers the body of a GET that must succeed, with Accept: accept
// unless it is "".
func getBody(t *testing.T, l *testLedger, path, accept string) []byte {
	t.Helper()
	res := l.do("GET", path, nil, "Accept", accept)
	if res.Status != 200 {
		t.Fatalf("GET %s (%s): %d %s", path, accept, res.Status, res.Body)
	}
	return res.Body
}

// auditViews are the audit trail's answers about tokens, in each format.
var auditViews = []struct{ path, accept string }{
	{"/v1/audit?type=token.created,token.revoked", "application/json"},
	{"/v1/audit?type=token.created,token.revoked", "application/x-ndjson"},
	{"/v1/audit?type=token.created,token.revoked", "text/csv"},
}

func TestATokensSecretIsRecordedOnlyAsAHashUnderTheLedgersKey(t *testing.T) {
	dir := t.TempDir()
	l := startLedgerIn(t, dir)
	id, secret := newToken(l, "ci-bot", "editor")
	keyed := ledgerTokenKey(t, l, dir).Hash(secret)

	// The stored event carries the secret's keyed hash, and no unkeyed
	// hash of any secret: neither of this one nor of the bootstrap one.
	stored := storedBodies(t, l, "token", id)
	want := `"type":"token.created","schema_version":2,`
	data := `"data":{"name":"ci-bot","role":"editor","secret_hmac_sha256":"` + keyed + `","expires_at":null}`
	if !bytes.Contains(stored, []byte(want)) || !bytes.Contains(stored, []byte(data)) {
		t.Errorf("the stored event is %s, want %s and %s", stored, want, data)
	}
	raw := getBody(t, l, "/v1/events", "")
	if !bytes.Contains(raw, []byte(keyed)) {
		t.Fatalf("the raw log does not hold the token's event: %s", raw)
	}
	for _, s := range []string{secret, adminSecret} {
		if unkeyed := roadmap.UnkeyedSecretHash(s); bytes.Contains(raw, []byte(unkeyed)) || bytes.Contains(raw, []byte(s)) {
			t.Errorf("the raw log, as served to auditors and exported, holds a secret or its SHA-256 %s", unkeyed)
		}
	}
	// The audit trail shows no hash of a secret at all.
	for _, v := range auditViews {
		body := getBody(t, l, v.path, v.accept)
		if !bytes.Contains(body, []byte(id)) {
			t.Errorf("the audit trail (%s) does not show the token's event: %s", v.accept, body)
		}
		if bytes.Contains(body, []byte(keyed)) || bytes.Contains(body, []byte(roadmap.UnkeyedSecretHash(secret))) || bytes.Contains(body, []byte("secret")) {
			t.Errorf("the audit trail (%s) shows a hash of the secret: %s", v.accept, body)
		}
	}

	// The secret opens the ledger, and again after a restart.
	l.must(200, "GET", "/v1/roadmap", nil, bearer(secret)...)
	l.stop()
	again := startLedgerIn(t, dir)
	again.must(200, "GET", "/v1/roadmap", nil, bearer(secret)...)
	checkProblem(t, again.do("GET", "/v1/roadmap", nil, bearer(keyed)...), 401)
}

// appendVersion1Token records an admin token with the given secret as the
// release before token.created version 2 did: with the secret's unkeyed
// SHA-256. It returns the token's id.
func appendVersion1Token(t *testing.T, l *testLedger, name, secret string) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	env, err := eventlog.NewEnvelope(&roadmap.TokenCreated{
		Name: name, Role: roadmap.RoleAdmin, SecretSHA256: roadmap.UnkeyedSecretHash(secret), Bootstrap: true,
	}, eventlog.Meta{ID: uuid.Must(uuid.NewV7()).String(), AggregateType: "token", AggregateID: id, Time: time.Now().UTC().Truncate(time.Microsecond), Actor: "bootstrap"})
	if err != nil {
		t.Fatal(err)
	}
	env.SchemaVersion = 1
	ack, err := l.App.Log.Append(context.Background(), env, "", eventlog.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.App.Runner.WaitFor(context.Background(), ack.Sequence); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestATokenRecordedWithAnUnkeyedHashStillOpensTheLedger(t *testing.T) {
	dir := t.TempDir()
	l := startLedgerIn(t, dir)
	old := "_h-WyjJl-2MnhDBLh2A-bJPj46u_VkUDmap9k_W7"
	id := appendVersion1Token(t, l, "bootstrap", old)
	unkeyed := roadmap.UnkeyedSecretHash(old)
	if stored := storedBodies(t, l, "token", id); !bytes.Contains(stored, []byte(`"schema_version":1,`)) ||
		!bytes.Contains(stored, []byte(`"data":{"name":"bootstrap","role":"admin","secret_sha256":"`+unkeyed+`","expires_at":null,"bootstrap":true}`)) {
		t.Fatalf("the event is %s, want token.created as version 1 wrote it", stored)
	}
	l.must(200, "GET", "/v1/roadmap", nil, bearer(old)...)

	// The raw log keeps the stored bytes, the hash included (the chain and
	// the checkpoints are over them); the audit trail shows no hash.
	if raw := getBody(t, l, "/v1/events", ""); !bytes.Contains(raw, []byte(unkeyed)) {
		t.Errorf("the raw log lost the stored bytes of the version 1 event")
	}
	for _, v := range auditViews {
		body := getBody(t, l, v.path, v.accept)
		if !bytes.Contains(body, []byte(id)) || bytes.Contains(body, []byte(unkeyed)) {
			t.Errorf("the audit trail (%s) shows the hash of a version 1 token's secret, or not its event: %s", v.accept, body)
		}
	}

	// After a restart it still opens the ledger, and given as the bootstrap
	// secret it is not recorded a second time.
	n := l.messages()
	l.stop()
	again := startLedgerWith(t, app.Config{DataDir: dir, BootstrapToken: old})
	if got := again.messages(); got != n {
		t.Errorf("a start with the bootstrap secret of a version 1 token appended %d events, want none", got-n)
	}
	again.must(200, "GET", "/v1/roadmap", nil, bearer(old)...)
	checkProblem(t, again.do("GET", "/v1/roadmap", nil, bearer(unkeyed)...), 401)
}
