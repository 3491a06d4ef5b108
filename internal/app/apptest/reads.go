package apptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// A ledger with something of every kind in it, and every read of it: for
// the tests that a ledger answers every read the same after a restart, or
// after SIGKILL, as before (the read models rebuilt from the log are the
// live ones).

// Scenario is what BuildScenario made: the ids the reads need.
type Scenario struct {
	Objective, Item, Delivered, Removed, Change, Rejected string
	ClosedReview, OpenReview, Checkpoint, Token           string
	// Sequence is the size of the last checkpoint signed, Earlier of one
	// signed before it.
	Sequence, Earlier int
	// Published is the sequence of the event that published Item on the
	// public view "customers".
	Published int
	// AsOf is a moment an hour after the scenario was built, for a read
	// of the roadmap as of a time: the same in every reading of it.
	AsOf string
}

// client sends requests to a ledger at base.
type client struct {
	tb   testing.TB
	http *http.Client
	base string
}

func (c client) send(want []int, method, path, token, accept string, body any) (int, http.Header, []byte) {
	c.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.http.Do(req)
	if err != nil {
		c.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		c.tb.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	if want != nil && !contains(want, res.StatusCode) {
		c.tb.Fatalf("%s %s answered %d, want %v: %s", method, path, res.StatusCode, want, data)
	}
	return res.StatusCode, res.Header, data
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// write sends a write and returns the answer's id.
func (c client) write(want int, method, path, token string, body any) string {
	c.tb.Helper()
	_, _, data := c.send([]int{want}, method, path, token, "", body)
	var answer struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &answer); err != nil {
		c.tb.Fatalf("%s %s: %v: %s", method, path, err, data)
	}
	return answer.ID
}

// BuildScenario fills the ledger at base, which holds the approvals policy
// major, through its API with admin's token: objectives, an initiative and
// items placed, moved, edited, removed and delivered; a change approved and
// one rejected; capacity; a review closed and one open; a signed
// checkpoint; tokens. thisMonth and nextMonth are the periods the ledger
// takes for its reviews.
func BuildScenario(tb testing.TB, hc *http.Client, base, admin, thisMonth, nextMonth string) Scenario {
	tb.Helper()
	c := client{tb, hc, base}
	secret := func(name, role string) (string, string) {
		_, _, data := c.send([]int{201}, "POST", "/v1/tokens", admin, "", map[string]any{"name": name, "role": role})
		var tok struct{ ID, Secret string }
		if err := json.Unmarshal(data, &tok); err != nil {
			tb.Fatal(err)
		}
		return tok.ID, tok.Secret
	}
	var s Scenario
	_, pm := secret("pm@example.com", "editor")
	_, cpo := secret("cpo@example.com", "approver")
	s.Token, _ = secret("auditor@example.com", "auditor")

	s.Objective = c.write(201, "POST", "/v1/objectives", pm, map[string]any{"title": "Reduce onboarding time", "kpi": "median minutes to first roadmap", "target": "-30% by Q2"})
	other := c.write(201, "POST", "/v1/objectives", pm, map[string]any{"title": "Grow expansion revenue", "kpi": "net revenue retention", "target": "115%"})
	initiative := c.write(201, "POST", "/v1/items", pm, map[string]any{"title": "Self-serve onboarding", "kind": "initiative", "product": "web", "objective_ids": []string{s.Objective}})
	s.Item = c.write(201, "POST", "/v1/items", pm, map[string]any{"title": "Guided setup", "product": "web", "parent_id": initiative, "objective_ids": []string{s.Objective}, "effort": 3})
	s.Removed = c.write(201, "POST", "/v1/items", pm, map[string]any{"title": "Usage-based pricing", "product": "web", "objective_ids": []string{other}})
	s.Delivered = c.write(201, "POST", "/v1/items", pm, map[string]any{"title": "Import from spreadsheets", "product": "web", "objective_ids": []string{s.Objective}})
	held := c.write(201, "POST", "/v1/items", pm, map[string]any{"title": "Team templates", "product": "mobile"})
	c.write(200, "PUT", "/v1/products/web/capacity", admin, map[string]any{"now": 8, "next": 13, "later": 21})

	place := func(id, horizon string, rank int) {
		c.write(200, "POST", "/v1/items/"+id+"/prioritise", pm, map[string]any{"horizon": horizon, "rank": rank, "rationale": "Placed for the scenario", "evidence": []string{"https://example.com/research"}})
	}
	place(s.Item, "next", 1)
	place(s.Removed, "later", 1)
	place(s.Delivered, "next", 2)
	place(held, "later", 1)
	c.write(200, "PATCH", "/v1/items/"+s.Item, pm, map[string]any{"title": "Guided setup wizard"})
	_, s.Earlier = c.checkpoint(cpo)

	periods := []string{thisMonth, nextMonth}
	s.ClosedReview = c.write(201, "POST", "/v1/reviews", pm, map[string]any{"period": periods[0], "title": "Review " + periods[0]})
	// Moves into now are major: held, then approved by another person, or
	// rejected.
	s.Change = c.write(202, "POST", "/v1/items/"+s.Item+"/reprioritise", pm, map[string]any{"horizon": "now", "rank": 1, "rationale": "Top churn reason"})
	c.write(200, "POST", "/v1/changes/"+s.Change+"/approve", cpo, map[string]any{"rationale": "Agreed at the board"})
	s.Rejected = c.write(202, "POST", "/v1/items/"+held+"/reprioritise", pm, map[string]any{"horizon": "now", "rank": 2, "rationale": "Asked for by sales"})
	c.write(200, "POST", "/v1/changes/"+s.Rejected+"/reject", cpo, map[string]any{"rationale": "No capacity this quarter"})
	c.write(200, "POST", "/v1/items/"+s.Removed+"/remove", pm, map[string]any{"rationale": "Superseded by the pricing review"})
	c.write(200, "POST", "/v1/items/"+s.Delivered+"/deliver", pm, map[string]any{"rationale": "Shipped in 3.2"})
	// Views for audiences, a publication (a major change) and a KPI
	// measurement.
	c.write(201, "POST", "/v1/views", pm, map[string]any{"name": "Our roadmap", "slug": "customers", "audience": "public", "objective_ids": []string{s.Objective}, "fields": []string{"summary", "horizon", "objectives"}})
	c.write(201, "POST", "/v1/views", pm, map[string]any{"name": "Web team", "slug": "web-team", "audience": "internal", "product": "web", "fields": []string{"title", "horizon", "rank", "score", "rationale", "last_decision"}})
	publication := c.write(202, "POST", "/v1/items/"+s.Item+"/publish", pm, map[string]any{"summary": "A guided setup for new teams", "rationale": "Announced at the conference"})
	_, _, data := c.send([]int{200}, "POST", "/v1/changes/"+publication+"/approve", cpo, "", map[string]any{"rationale": "Agreed"})
	var applied struct {
		Sequence int `json:"applied_sequence"`
	}
	if err := json.Unmarshal(data, &applied); err != nil {
		tb.Fatal(err)
	}
	s.Published = applied.Sequence
	c.send([]int{201}, "POST", "/v1/objectives/"+s.Objective+"/measurements", pm, "", map[string]any{"value": 42, "at": "2026-01-01T00:00:00Z", "source": "onboarding dashboard"})
	c.write(200, "POST", "/v1/reviews/"+s.ClosedReview+"/close", cpo, map[string]any{"notes": "Approved as presented"})
	s.Checkpoint, s.Sequence = c.checkpoint(cpo)
	s.OpenReview = c.write(201, "POST", "/v1/reviews", pm, map[string]any{"period": periods[1], "title": "Review " + periods[1]})
	s.AsOf = time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	return s
}

// checkpoint signs a checkpoint and returns its id and size.
func (c client) checkpoint(token string) (string, int) {
	c.tb.Helper()
	_, _, data := c.send([]int{201}, "POST", "/v1/checkpoints", token, "", nil)
	var cp struct {
		ID   string `json:"id"`
		Size int    `json:"size"`
	}
	if err := json.Unmarshal(data, &cp); err != nil {
		c.tb.Fatal(err)
	}
	return cp.ID, cp.Size
}

// lastUsed is the time a server last authenticated a token: it is kept in
// memory, not in the ledger, so it is not a read model.
var lastUsed = regexp.MustCompile(`"last_used_at":("[^"]*"|null)`)

// ReadEverything answers every read route of the ledger at base for the
// scenario, with admin's token: each answer's status and body by route,
// query and media type. An open review's pack, which is measured now, and
// the in-memory last use of tokens are left out.
func ReadEverything(tb testing.TB, hc *http.Client, base, admin string, s Scenario) map[string]string {
	tb.Helper()
	c := client{tb, hc, base}
	reads := []struct{ path, accept string }{
		{"/v1/roadmap", ""}, {"/v1/roadmap?view=objectives", ""}, {"/v1/roadmap?product=web", ""},
		{fmt.Sprintf("/v1/roadmap?at_seq=%d", s.Sequence/2), ""}, {"/v1/roadmap?as_of=" + s.AsOf, ""},
		{"/v1/items", ""}, {"/v1/items?status=removed", ""}, {"/v1/items?q=guided", ""}, {"/v1/items", "text/csv"},
		{"/v1/items/" + s.Item, ""}, {"/v1/items/" + s.Item + "/history", ""}, {"/v1/items/" + s.Item + "/why", ""},
		{"/v1/items/" + s.Delivered + "/history", ""}, {"/v1/items/" + s.Removed + "/why", ""},
		{"/v1/objectives", ""}, {"/v1/objectives/" + s.Objective, ""}, {"/v1/objectives/" + s.Objective + "/history", ""},
		{"/v1/audit", ""}, {"/v1/audit?limit=5", ""}, {"/v1/audit?item=" + s.Item, ""}, {"/v1/audit", "application/x-ndjson"}, {"/v1/audit", "text/csv"},
		{"/v1/reviews", ""}, {"/v1/reviews/" + s.ClosedReview, ""}, {"/v1/reviews/" + s.OpenReview, ""},
		{"/v1/reviews/" + s.OpenReview + "/diff?against=" + s.ClosedReview, ""},
		{"/v1/reviews/" + s.ClosedReview + "/pack", "text/markdown"}, {"/v1/reviews/" + s.ClosedReview + "/pack", "text/html"},
		{"/v1/changes", ""}, {"/v1/changes?status=approved", ""}, {"/v1/changes/" + s.Change, ""}, {"/v1/changes/" + s.Rejected, ""},
		{"/v1/checkpoints", ""}, {"/v1/checkpoints/latest", ""}, {"/v1/checkpoints/" + s.Checkpoint, ""}, {"/v1/checkpoints/public-key", ""},
		{fmt.Sprintf("/v1/checkpoints/consistency?from=%d&to=%d", s.Earlier, s.Sequence), ""},
		{"/v1/export/manifest", ""}, {"/v1/events", ""}, {fmt.Sprintf("/v1/events/%d/proof?checkpoint=%d", s.Earlier-1, s.Sequence), ""},
		{"/v1/products/web/capacity", ""}, {"/v1/tokens", ""}, {"/v1/tokens/" + s.Token, ""},
		{"/v1/views", ""}, {"/v1/views/customers", ""}, {"/v1/views/web-team/roadmap", ""}, {"/v1/views/customers/roadmap", ""},
		{"/public/customers", ""}, {"/public/customers.json", ""}, {fmt.Sprintf("/public/customers/proofs/%d?checkpoint=%d", s.Published, s.Sequence), ""},
		{"/v1/objectives/" + s.Objective + "/measurements", ""}, {"/v1/metrics/roadmap", ""}, {"/v1/metrics/roadmap?product=web&from=2026-01-01", ""},
	}
	out := map[string]string{}
	for _, r := range reads {
		status, header, body := c.send(nil, "GET", r.path, admin, r.accept, nil)
		if status != http.StatusOK {
			tb.Errorf("GET %s (%s) answered %d: %s", r.path, r.accept, status, body)
		}
		if strings.HasPrefix(r.path, "/v1/tokens") {
			body = lastUsed.ReplaceAll(body, []byte(`"last_used_at":"(in memory)"`))
		}
		out[fmt.Sprintf("GET %s (%s)", r.path, r.accept)] = fmt.Sprintf("%d %s ETag %q\n%s", status, header.Get("Content-Type"), header.Get("ETag"), body)
	}
	return out
}

// SameAnswers fails tb for every read whose answer after differs from
// before.
func SameAnswers(tb testing.TB, what string, before, after map[string]string) {
	tb.Helper()
	keys := make([]string, 0, len(before))
	for k := range before {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if after[k] != before[k] {
			tb.Errorf("%s: %s answers differently:\nbefore: %.2000s\nafter:  %.2000s", what, k, before[k], after[k])
		}
	}
	if len(after) != len(before) {
		tb.Errorf("%s: %d reads, before %d", what, len(after), len(before))
	}
}
