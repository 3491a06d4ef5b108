package roadmap

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestMajorChangeIsAnyDecisionIntoOrOutOfNow checks the one rule of the
// default policy against every kind of item decision, delivery and edits
// included: none takes an item into or out of a now column unseen.
func TestMajorChangeIsAnyDecisionIntoOrOutOfNow(t *testing.T) {
	onNow := Item{ID: "a", Status: StatusOnRoadmap, Horizon: Now}
	onNext := Item{ID: "a", Status: StatusOnRoadmap, Horizon: Next}
	proposed := Item{ID: "a", Status: StatusProposed}
	place := func(h Horizon) Placement { return Placement{Horizon: h, Rationale: "r"} }
	for _, c := range []struct {
		name string
		it   Item
		e    ItemDecision
		want string
	}{
		{"prioritised into now", proposed, &ItemPrioritised{place(Now)}, "a prioritisation into now"},
		{"prioritised into next", proposed, &ItemPrioritised{place(Next)}, ""},
		{"moved into now", onNext, &ItemReprioritised{place(Now)}, "a reprioritisation into now"},
		{"moved out of now", onNow, &ItemReprioritised{place(Later)}, "a reprioritisation out of now"},
		{"re-ranked within now", onNow, &ItemReprioritised{place(Now)}, ""},
		{"moved between next and later", onNext, &ItemReprioritised{place(Later)}, ""},
		{"removed from now", onNow, &ItemRemoved{Rationale: "r"}, "the removal of a now item"},
		{"removed from next", onNext, &ItemRemoved{Rationale: "r"}, ""},
		{"delivered from now", onNow, &ItemDelivered{Rationale: "r"}, "the delivery of a now item"},
		{"delivered from next", onNext, &ItemDelivered{Rationale: "r"}, ""},
		{"a now item moved to another product", onNow, &ItemEdited{Changed: []string{"product"}, After: ItemDetails{Product: "mobile"}}, "a move of a now item to another product"},
		{"a next item moved to another product", onNext, &ItemEdited{Changed: []string{"product"}, After: ItemDetails{Product: "mobile"}}, ""},
		{"a now item retitled", onNow, &ItemEdited{Changed: []string{"title"}, After: ItemDetails{Title: "New"}}, ""},
	} {
		if got := MajorChange(c.it, c.e); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestApprovingAChange(t *testing.T) {
	it := Item{ID: "item", Status: StatusOnRoadmap, Horizon: Next}
	proposed := ProposeChange(it, 7, &ItemReprioritised{Placement{Horizon: Now, Rationale: "deals"}}, "a reprioritisation into now")
	c := EvolveChange(Change{}, "change", proposed, time.Unix(0, 0), "pm")
	ok := DecideChange{Rationale: "agreed"}
	if _, err := DecideApproveChange(c, "pm", 7, ok); !errors.Is(err, ErrForbidden) {
		t.Errorf("the proposer approving: %v, want ErrForbidden", err)
	}
	if _, err := DecideApproveChange(c, "chair", 8, ok); !errors.Is(err, ErrConflict) {
		t.Errorf("approving a stale change: %v, want ErrConflict", err)
	}
	if _, err := DecideApproveChange(c, "chair", 7, DecideChange{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("approving without a rationale: %v, want ErrInvalid", err)
	}
	e, err := DecideApproveChange(c, "chair", 7, ok)
	if err != nil {
		t.Fatal(err)
	}
	c = EvolveChange(c, "change", e, time.Unix(1, 0), "chair")
	if c.Status != ChangeStatusApproved || c.DecidedBy != "chair" {
		t.Errorf("approved change %+v", c)
	}
	d, ok2 := c.Decision().(*ItemReprioritised)
	if !ok2 || d.Horizon != Now || d.Rationale != "deals" || d.Approval == nil || d.Approval.ChangeID != "change" || d.Approval.ProposedBy != "pm" {
		t.Errorf("the approved decision %+v", c.Decision())
	}
	if _, err := DecideRejectChange(c, ok); !errors.Is(err, ErrConflict) {
		t.Errorf("rejecting an approved change: %v, want ErrConflict", err)
	}
}

func TestTokensExpireAndRevoke(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	hour := int64(3600)
	e, err := DecideCreateToken(CreateToken{Name: " ci ", Role: RoleEditor, ExpiresIn: &hour, SecretHMAC: testTokenKey.Hash(NewSecret())}, now)
	if err != nil {
		t.Fatal(err)
	}
	tok := EvolveToken(Token{}, "t", e, now, "admin")
	if tok.Name != "ci" || tok.StatusAt(now) != TokenStatusActive || tok.StatusAt(now.Add(time.Hour)) != TokenStatusExpired {
		t.Errorf("token %+v", tok)
	}
	r, err := DecideRevokeToken(tok, RevokeToken{})
	if err != nil {
		t.Fatal(err)
	}
	tok = EvolveToken(tok, "t", r, now, "admin")
	if tok.StatusAt(now) != TokenStatusRevoked {
		t.Errorf("revoked token is %s", tok.StatusAt(now))
	}
	if _, err := DecideRevokeToken(tok, RevokeToken{}); !errors.Is(err, ErrConflict) {
		t.Errorf("revoking twice: %v", err)
	}
	if NewSecret() == NewSecret() || len(UnkeyedSecretHash("x")) != 64 {
		t.Errorf("secrets repeat or hashes are not hex SHA-256")
	}
}

// testTokenKey is a token key made for the tests.
var testTokenKey = NewTokenKey(bytes.Repeat([]byte{7}, TokenKeySize))

func TestANewTokenRecordsOnlyAKeyedHashOfItsSecret(t *testing.T) {
	secret := NewSecret()
	other := NewTokenKey(bytes.Repeat([]byte{8}, TokenKeySize))
	keyed := testTokenKey.Hash(secret)
	if len(keyed) != 64 || keyed != testTokenKey.Hash(secret) {
		t.Fatalf("Hash = %q, want the same 64 hex digits every time", keyed)
	}
	if keyed == UnkeyedSecretHash(secret) || keyed == other.Hash(secret) || keyed == testTokenKey.Hash(NewSecret()) {
		t.Error("the keyed hash does not depend on both the key and the secret")
	}
	e, err := DecideCreateToken(CreateToken{Name: "ci", Role: RoleViewer, SecretHMAC: keyed}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"name":"ci","role":"viewer","secret_hmac_sha256":"` + keyed + `","expires_at":null}`; string(data) != want {
		t.Errorf("token.created is %s, want %s", data, want)
	}
	if got := SchemaVersions[TypeTokenCreated]; got != 2 {
		t.Errorf("token.created is written as version %d, want 2", got)
	}

	// The zero key hashes nothing, and nothing is recorded without a hash.
	if got := (TokenKey{}).Hash(secret); got != "" {
		t.Errorf("the zero key hashes %q", got)
	}
	if _, err := DecideCreateToken(CreateToken{Name: "ci", Role: RoleViewer}, time.Now()); !errors.Is(err, ErrInvalid) {
		t.Errorf("a token without a hash of its secret: %v, want ErrInvalid", err)
	}
}

func TestATokenRecordedByVersionOneKeepsItsUnkeyedHash(t *testing.T) {
	var e TokenCreated
	hash := UnkeyedSecretHash("old secret")
	if err := json.Unmarshal([]byte(`{"name":"bootstrap","role":"admin","secret_sha256":"`+hash+`","expires_at":null,"bootstrap":true}`), &e); err != nil {
		t.Fatal(err)
	}
	tok := EvolveToken(Token{}, "t", &e, time.Now(), "bootstrap")
	if tok.SecretSHA256 != hash || tok.SecretHMAC != "" || !tok.Bootstrap || tok.Role != RoleAdmin {
		t.Errorf("token %+v, want the version-1 token with its SHA-256", tok)
	}
}
