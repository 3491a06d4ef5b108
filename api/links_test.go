package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/app"
)

// TestALinkOpensItsViewAndNothingElse shares an internal view with a
// read-only link: the link reads the view and what it shows, only the
// fields it names, and is refused everything else; it stops working once
// revoked, and another once expired.
func TestALinkOpensItsViewAndNothingElse(t *testing.T) {
	clock := &setClock{}
	clock.Set("2026-11-01 09:00")
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Now: clock.Now})
	o := l.objective("Retention")
	it := l.item("Churn alerts", o)
	l.must(200, "POST", "/v1/items/"+it+"/prioritise", map[string]any{"horizon": "next", "rationale": "the board asked"})
	l.item("Not on the roadmap")
	l.must(201, "POST", "/v1/views", map[string]any{"name": "Sales", "slug": "sales", "audience": "internal", "fields": []string{"title", "horizon", "objectives"}})
	l.must(201, "POST", "/v1/views", map[string]any{"name": "Board", "slug": "board", "audience": "internal", "fields": []string{"title", "rationale"}})
	l.must(201, "POST", "/v1/views", map[string]any{"name": "Public", "slug": "public", "audience": "public", "fields": []string{"summary"}})

	before := l.messages()
	link := l.must(201, "POST", "/v1/views/sales/links", map[string]any{"name": "Sales team", "expires_in": 3600}, as, "pm@example.com")
	if l.messages() != before+1 {
		t.Errorf("making a link appended %d events, want its token.created", l.messages()-before)
	}
	secret := link["secret"].(string)
	if link["url"] != "/v1/views/sales/roadmap" || link["status"] != "active" || link["expires_at"] != "2026-11-01T10:00:00Z" {
		t.Errorf("link %v", link)
	}
	if tok := l.must(200, "GET", "/v1/tokens/"+link["id"].(string), nil); tok["view_id"] == nil || tok["role"] != "viewer" || tok["created_by"] != "pm@example.com" {
		t.Errorf("the link as a token: %v", tok)
	}

	shown := l.must(200, "GET", "/v1/views/sales/roadmap", nil, bearer(secret)...)
	entries := shown["entries"].([]any)
	if len(entries) != 1 {
		t.Fatalf("the view shows %d entries, want the one on the roadmap", len(entries))
	}
	e := entries[0].(map[string]any)
	if e["title"] != "Churn alerts" || e["horizon"] != "next" || len(e) != 4 {
		t.Errorf("entry %v, want its id, title, horizon and objectives only", e)
	}
	l.must(200, "GET", "/v1/views/sales", nil, bearer(secret)...)

	for _, path := range []string{"/v1/views/board/roadmap", "/v1/views/board", "/v1/views", "/v1/roadmap", "/v1/items", "/v1/items/" + it, "/v1/objectives", "/v1/metrics/roadmap", "/v1/reviews", "/v1/changes"} {
		checkProblem(t, l.do("GET", path, nil, bearer(secret)...), 403)
	}
	checkProblem(t, l.do("POST", "/v1/views/sales/links", map[string]any{"expires_in": 60}, bearer(secret)...), 403)
	checkProblem(t, l.do("POST", "/v1/views/public/links", map[string]any{"expires_in": 60}), 409)
	checkProblem(t, l.do("POST", "/v1/views/sales/links", map[string]any{}), 422)

	checkProblem(t, l.do("GET", "/v1/views/sales/links", nil, bearer(secret)...), 403)

	// Revoked: 401 from then on.
	l.must(200, "DELETE", "/v1/views/sales/links/"+link["id"].(string), nil)
	checkProblem(t, l.do("GET", "/v1/views/sales/roadmap", nil, bearer(secret)...), 401)
	checkProblem(t, l.do("DELETE", "/v1/views/board/links/"+link["id"].(string), nil), 404)

	// Expired: 401 once its hour is over.
	clock.Set("2026-11-01 09:30")
	made := l.must(201, "POST", "/v1/views/sales/links", map[string]any{"name": "Partners", "expires_in": 1800})
	other := made["secret"].(string)
	l.must(200, "GET", "/v1/views/sales/roadmap", nil, bearer(other)...)
	clock.Set("2026-11-01 10:00")
	checkProblem(t, l.do("GET", "/v1/views/sales/roadmap", nil, bearer(other)...), 401)

	// The list: newest first, each with its state, maker and last use, and
	// no secret anywhere in the answer.
	res := l.do("GET", "/v1/views/sales/links", nil)
	body := string(res.Body)
	if res.Status != 200 {
		t.Fatalf("GET the links: %d %s", res.Status, body)
	}
	for _, s := range []string{secret, other} {
		if strings.Contains(body, s) {
			t.Errorf("the list of links holds a secret: %s", body)
		}
	}
	var list struct{ Links []map[string]any }
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Links) != 2 {
		t.Fatalf("the list has %d links, want 2: %s", len(list.Links), body)
	}
	got := func(i int, key string) any { return list.Links[i][key] }
	if got(0, "id") != made["id"] || got(0, "name") != "Partners" || got(0, "status") != "expired" || got(0, "expires_at") != "2026-11-01T10:00:00Z" || got(0, "last_used_at") == nil {
		t.Errorf("the newest link %v, want Partners, expired at 10:00, used", list.Links[0])
	}
	if got(1, "id") != link["id"] || got(1, "status") != "revoked" || got(1, "revoked_at") == nil || got(1, "created_by") != "pm@example.com" || got(1, "last_used_at") == nil {
		t.Errorf("the first link %v, want Sales team, revoked, made by pm@example.com, used", list.Links[1])
	}
	if _, ok := list.Links[0]["secret"]; ok {
		t.Errorf("a link in the list has a secret field: %v", list.Links[0])
	}
	if l.must(200, "GET", "/v1/views/board/links", nil)["links"] == nil {
		t.Errorf("a view with no link lists no links as null, want []")
	}
	checkProblem(t, l.do("GET", "/v1/views/nope/links", nil), 404)
}
