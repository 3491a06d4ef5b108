package api_test

import (
	"strings"
	"testing"
)

// TestBadRequestsAreRefusedAndAppendNothing walks a catalogue of requests a
// client may get wrong, each of which must get a 4xx problem+json answer that
// says what to fix, and none of which may append anything.
func TestBadRequestsAreRefusedAndAppendNothing(t *testing.T) {
	l := startLedger(t)
	active := l.objective("Active objective")
	retired := l.objective("Retired objective")
	l.must(200, "POST", "/v1/objectives/"+retired+"/retire", map[string]any{"rationale": "done"})
	proposed := l.item("Proposed idea")
	onRoadmap := l.item("On the roadmap", active)
	l.must(200, "POST", "/v1/items/"+onRoadmap+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"})
	removed := l.item("Removed idea")
	l.must(200, "POST", "/v1/items/"+removed+"/prioritise", map[string]any{"horizon": "later", "rationale": "r"})
	l.must(200, "POST", "/v1/items/"+removed+"/remove", map[string]any{"rationale": "r"})
	const unknown = "01234567-89ab-7def-8123-456789abcdef"

	objective := `{"title":"t","kpi":"k","target":"x"}`
	prio := func(field string) string { return `{"horizon":"now","rationale":"r",` + field + `}` }
	rice := func(inputs string) string { return prio(`"score":{"framework":"rice",` + inputs + `}`) }

	cases := []struct {
		name         string
		method, path string
		body         string
		headers      []string
		status       int
		detail       string // a part of the answer that tells what to fix
	}{
		{"malformed JSON", "POST", "/v1/objectives", `{"title":`, nil, 400, "not valid JSON"},
		{"an unknown field", "POST", "/v1/objectives", `{"title":"t","kpi":"k","target":"x","owner":"me"}`, nil, 400, `unknown field \"owner\"`},
		{"a text/plain body", "POST", "/v1/objectives", objective, []string{"Content-Type", "text/plain"}, 415, "application/json"},
		{"a form body", "POST", "/v1/items", "title=x&kind=idea", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "application/json"},
		{"an empty body", "POST", "/v1/objectives", "", nil, 400, "empty"},
		{"a JSON array", "POST", "/v1/objectives", `[]`, nil, 400, "JSON object"},
		{"a JSON string", "POST", "/v1/items", `"idea"`, nil, 400, "JSON object"},
		{"data after the object", "POST", "/v1/objectives", objective + ` {}`, nil, 400, "after the JSON object"},
		{"invalid UTF-8", "POST", "/v1/objectives", "{\"title\":\"\xff\xfe\",\"kpi\":\"k\",\"target\":\"x\"}", nil, 400, "UTF-8"},
		{"deeply nested JSON", "POST", "/v1/objectives", strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000), nil, 400, "nests more than 16"},
		{"17 levels inside a known field", "POST", "/v1/items", `{"title":"t","risks":` + strings.Repeat("[", 16) + strings.Repeat("]", 16) + `}`, nil, 400, "nests more than 16 levels"},
		{"16 levels is no nesting problem, only a wrong type", "POST", "/v1/items", `{"title":"t","risks":` + strings.Repeat("[", 15) + strings.Repeat("]", 15) + `}`, nil, 422, "risks[0]"},
		{"a body over 1 MiB", "POST", "/v1/items", `{"title":"` + strings.Repeat("x", 2<<20) + `","kind":"idea"}`, nil, 413, "larger"},
		{"a missing title", "POST", "/v1/objectives", `{"kpi":"k","target":"x"}`, nil, 422, "title"},
		{"a blank KPI", "POST", "/v1/objectives", `{"title":"t","kpi":"   ","target":"x"}`, nil, 422, "kpi"},
		{"a product that is not a slug", "POST", "/v1/objectives", `{"title":"t","kpi":"k","target":"x","product":"Web App!"}`, nil, 422, "product"},
		{"a title over 200 characters", "POST", "/v1/items", `{"title":"` + strings.Repeat("é", 201) + `","kind":"idea"}`, nil, 422, "title"},
		{"a title of the wrong type", "POST", "/v1/items", `{"title":42,"kind":"idea"}`, nil, 422, "title"},
		{"an unknown objective id", "GET", "/v1/objectives/" + unknown, "", nil, 404, unknown},
		{"a path traversal", "GET", "/v1/items/..%2F..%2Fetc%2Fpasswd", "", nil, 404, ""},
		{"an unknown route", "GET", "/v1/nothing-here", "", nil, 404, ""},
		{"a method the route does not have", "DELETE", "/v1/items/" + proposed, "", nil, 405, "DELETE"},
		{"retiring without a rationale", "POST", "/v1/objectives/" + active + "/retire", `{}`, nil, 422, "rationale"},
		{"retiring an unknown objective", "POST", "/v1/objectives/" + unknown + "/retire", `{"rationale":"r"}`, nil, 404, unknown},
		{"retiring a retired objective", "POST", "/v1/objectives/" + retired + "/retire", `{"rationale":"r"}`, nil, 409, "already retired"},
		{"a kind that is neither initiative nor idea", "POST", "/v1/items", `{"title":"t","kind":"epic"}`, nil, 422, "kind"},
		{"an unknown parent", "POST", "/v1/items", `{"title":"t","kind":"idea","parent_id":"` + unknown + `"}`, nil, 409, "parent"},
		{"a parent that is an idea", "POST", "/v1/items", `{"title":"t","kind":"idea","parent_id":"` + proposed + `"}`, nil, 409, "initiative"},
		{"an objective id that is not a UUID", "POST", "/v1/items", `{"title":"t","kind":"idea","objective_ids":["okr-1"]}`, nil, 422, "objective_ids[0]"},
		{"an unknown objective", "POST", "/v1/items", `{"title":"t","kind":"idea","objective_ids":["` + unknown + `"]}`, nil, 409, "does not exist"},
		{"linking a retired objective", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"objective_ids":["` + retired + `"]`), nil, 409, "retired"},
		{"an unknown horizon", "POST", "/v1/items/" + proposed + "/prioritise", `{"horizon":"soon","rationale":"r"}`, nil, 422, "horizon"},
		{"a missing rationale", "POST", "/v1/items/" + proposed + "/prioritise", `{"horizon":"now"}`, nil, 422, "rationale"},
		{"a blank rationale", "POST", "/v1/items/" + proposed + "/prioritise", `{"horizon":"now","rationale":" \t "}`, nil, 422, "rationale"},
		{"rank 0", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"rank":0`), nil, 422, "rank"},
		{"a fractional rank", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"rank":1.5`), nil, 422, "rank"},
		{"a rank as a string", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"rank":"1"`), nil, 422, "rank"},
		{"a rank beyond 64 bits", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"rank":1e40`), nil, 422, "rank"},
		{"a RICE impact off the scale", "POST", "/v1/items/" + proposed + "/prioritise", rice(`"reach":100,"impact":7,"confidence":0.8,"effort":2`), nil, 422, "score.impact"},
		{"a RICE confidence as a percentage", "POST", "/v1/items/" + proposed + "/prioritise", rice(`"reach":100,"impact":1,"confidence":80,"effort":2`), nil, 422, "score.confidence"},
		{"a RICE effort of zero", "POST", "/v1/items/" + proposed + "/prioritise", rice(`"reach":100,"impact":1,"confidence":0.5,"effort":0`), nil, 422, "score.effort"},
		{"a RICE score with a MoSCoW input", "POST", "/v1/items/" + proposed + "/prioritise", rice(`"reach":1,"impact":1,"confidence":1,"effort":1,"category":"must"`), nil, 422, "score.category"},
		{"an unknown framework", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"score":{"framework":"gut-feel"}`), nil, 422, "score.framework"},
		{"a value/effort input of 6", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"score":{"framework":"value_effort","customer_value":6,"business_value":1,"effort":1,"risk":1}`), nil, 422, "score.customer_value"},
		{"a MoSCoW category that is not one", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"score":{"framework":"moscow","category":"maybe"}`), nil, 422, "score.category"},
		{"an unknown score field", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"score":{"framework":"moscow","category":"must","weight":2}`), nil, 400, "weight"},
		{"a blank evidence entry", "POST", "/v1/items/" + proposed + "/prioritise", prio(`"evidence":["https://example.com",""]`), nil, 422, "evidence[1]"},
		{"prioritising an unknown item", "POST", "/v1/items/" + unknown + "/prioritise", prio(`"rank":1`), nil, 404, unknown},
		{"prioritising an item already on the roadmap", "POST", "/v1/items/" + onRoadmap + "/prioritise", `{"horizon":"next","rationale":"r"}`, nil, 409, "reprioritise"},
		{"reprioritising a proposed item", "POST", "/v1/items/" + proposed + "/reprioritise", `{"horizon":"next","rationale":"r"}`, nil, 409, "prioritise it first"},
		{"a reprioritisation that changes nothing", "POST", "/v1/items/" + onRoadmap + "/reprioritise", `{"horizon":"now","rank":1,"rationale":"r"}`, nil, 409, "changes nothing"},
		{"removing a proposed item", "POST", "/v1/items/" + proposed + "/remove", `{"rationale":"r"}`, nil, 409, "not on the roadmap"},
		{"removing a removed item", "POST", "/v1/items/" + removed + "/remove", `{"rationale":"r"}`, nil, 409, "not on the roadmap"},
		{"a stale If-Match", "POST", "/v1/items/" + onRoadmap + "/reprioritise", `{"horizon":"next","rationale":"r"}`, []string{"If-Match", `"1"`}, 412, "version"},
		{"an If-Match on a creation, which has no version yet", "POST", "/v1/items", `{"title":"t","kind":"idea"}`, []string{"If-Match", `"1"`}, 412, "version"},
		{"a malformed If-Match", "POST", "/v1/items/" + onRoadmap + "/reprioritise", `{"horizon":"next","rationale":"r"}`, []string{"If-Match", "yesterday"}, 400, "If-Match"},
		{"an Idempotency-Key over 255 characters", "POST", "/v1/items", `{"title":"t","kind":"idea"}`, []string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, "Idempotency-Key"},
		{"an X-Actor header, even naming a real actor", "POST", "/v1/items", `{"title":"t","kind":"idea"}`, []string{"X-Actor", "pm@example.com"}, 400, "X-Actor is not accepted"},
		{"an X-Actor header naming the token's own name", "POST", "/v1/items", `{"title":"t","kind":"idea"}`, []string{"X-Actor", "bootstrap"}, 400, "X-Actor is not accepted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := l.messages()
			var body any
			if tc.body != "" || tc.method == "POST" {
				body = tc.body
			}
			res := l.do(tc.method, tc.path, body, tc.headers...)
			p := checkProblem(t, res, tc.status)
			if !strings.Contains(string(res.Body), tc.detail) {
				t.Errorf("answer %s does not mention %q", res.Body, tc.detail)
			}
			if d, _ := p["detail"].(string); strings.Contains(d, "internal") || strings.Contains(d, "nats") || strings.Contains(d, "goroutine") {
				t.Errorf("answer leaks internals: %s", d)
			}
			if got := l.messages(); got != before {
				t.Errorf("stream went from %d to %d events", before, got)
			}
		})
	}
	if len(cases) < 25 {
		t.Fatalf("the catalogue has %d bad requests, want at least 25", len(cases))
	}
}
