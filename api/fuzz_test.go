package api

import (
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// The fuzz targets of this file run their seeds (the f.Add calls and the
// files under testdata/fuzz) with every go test; go test -fuzz=FuzzX explores
// from them. Each input does little work, so the fuzzer goes fast.

// requestBodies returns a fresh value of every request body type the API
// decodes, named by the route that reads it.
func requestBodies() map[string]any {
	return map[string]any{
		"define objective":         &defineObjectiveBody{},
		"retire objective":         &retireBody{},
		"remove item":              &rationaleBody{},
		"propose item":             &proposeBody{},
		"prioritise, reprioritise": &placementBody{},
		"open review":              &openReviewBody{},
		"close review":             &closeReviewBody{},
	}
}

// internalMarkers are what an answer to a client must never carry: Go type
// and package names, the decoder's own error prefix, source files, the
// engine underneath. They are matched as written, but the last four in any
// case.
var internalMarkers = []string{
	"json: ", "roadmap.", "api.", "eventlog.", "projections.", "ledger.", "reflect.", "runtime.",
	".go:", "struct {", "interface {", "*errors.", "<nil>",
}

var internalWords = []string{"goroutine", "panic", "nats", "jetstream"}

// checkRequestProblem fails unless err is nil or a problem with a 4xx status
// and a kind, whose detail names no internals.
func checkRequestProblem(t *testing.T, what string, body []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	status, kind, _, ok := kindOf(err)
	if !ok {
		t.Fatalf("%s: %q: error %T %v is not a problem", what, body, err, err)
	}
	if status < 400 || status > 499 || kind == "" {
		t.Fatalf("%s: %q: problem %d %q, want a 4xx with a kind", what, body, status, kind)
	}
	detail := err.Error()
	// An unknown field is named in the answer as the client spelled it.
	if strings.HasPrefix(detail, "unknown field ") {
		return
	}
	for _, m := range internalMarkers {
		if strings.Contains(detail, m) {
			t.Fatalf("%s: %q: detail %q names internals (%q)", what, body, detail, m)
		}
	}
	lower := strings.ToLower(detail)
	for _, m := range internalWords {
		if strings.Contains(lower, m) {
			t.Fatalf("%s: %q: detail %q names internals (%q)", what, body, detail, m)
		}
	}
}

// FuzzDecodeRequest decodes arbitrary bytes as every request body: it must
// never panic, every error is a 4xx problem, and a body it accepts is one
// JSON object of valid UTF-8.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"title":"Reduce onboarding time","kpi":"median minutes","target":"-30%","product":"web"}`,
		`{"title":"Guided setup","kind":"idea","product":"web","parent_id":"01a205a0-463e-7e01-b8e2-3bd3b120fdf3","objective_ids":["01a205a0-462e-77b6-8242-e960bb45a0a4"]}`,
		`{"horizon":"now","rank":1,"rationale":"r","evidence":["https://example.com"],"score":{"framework":"value_effort","customer_value":5,"business_value":5,"effort":3,"risk":4}}`,
		`{"horizon":"next","rank":null,"score":null,"objective_ids":null,"rationale":"r"}`,
		`{"score":{"framework":"rice","reach":1200,"impact":2,"confidence":0.8,"effort":3,"value":1,"version":1},"rationale":"r"}`,
		`{"rationale":"done","evidence":[]}`,
		`{"period":"2026-11","title":"November board"}`,
		`{"notes":"C keeps moving"}`,
		``, ` `, `null`, `[]`, `"x"`, `1`, `true`, `{}`, `{} {}`, `{}x`, `{"title":`, `{"title"}`, `{,}`,
		`{"owner":"me"}`, `{"title":1}`, `{"rank":"1"}`, `{"rank":1.5}`, `{"rank":1e400}`, `{"rank":-0}`,
		`{"rank":9223372036854775808}`, `{"rank":-9223372036854775809}`, `{"rank":"NaN"}`, `{"rank":NaN}`,
		`{"score":{"reach":1e400}}`, `{"score":[]}`, `{"score":"moscow"}`, `{"evidence":"x"}`, `{"evidence":[1]}`,
		`{"objective_ids":{}}`, `{"title":"a","title":"b"}`, `{"TITLE":"t"}`, `{"titlе":"cyrillic e"}`,
		"{\"title\":\"\xff\xfe\"}", "{\"title\":\"\\ud800\"}", "{\"title\":\"a\x00b\"}", "\xef\xbb\xbf{}",
		`{"authorization":"Bearer secret-token"}`, `{"__proto__":{"admin":true}}`,
		strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for what, dst := range requestBodies() {
			err := decodeStrict(body, dst)
			checkRequestProblem(t, what, body, err)
			if err == nil {
				if !utf8.Valid(body) || !json.Valid(body) {
					t.Fatalf("%s: accepted %q, which is not valid UTF-8 JSON", what, body)
				}
				if trimmed := strings.TrimSpace(string(body)); !strings.HasPrefix(trimmed, "{") {
					t.Fatalf("%s: accepted %q, which is not a JSON object", what, body)
				}
			}
		}
	})
}

// FuzzRoadmapQuery parses arbitrary query strings as the roadmap's: it must
// never panic, every error is a 400 bad-query problem, and what it accepts
// holds at most one moment, a product slug, and nothing unknown or repeated.
func FuzzRoadmapQuery(f *testing.F) {
	for _, s := range []string{
		"", "product=web", "view=objectives", "view=horizons", "as_of=2026-11-01", "as_of=2026-11-01T09:00:00Z",
		"at_seq=42", "at_seq=0", "product=web&view=objectives&as_of=2026-11-01T09:00:00.123456789+02:00",
		"as_of=2026-11-01&at_seq=1", "at_seq=18446744073709551615", "at_seq=18446744073709551616", "at_seq=-1",
		"at_seq=%2B1", "at_seq=1e3", "at_seq=0x10", "at_seq=", "as_of=", "as_of=9999-12-31", "as_of=0000-01-01T00:00:00Z",
		"as_of=2026-02-30", "as_of=2026-11-01T24:00:00Z", "product=", "product=Web", "product=-web", "product=" + strings.Repeat("a", 64),
		"product=web&product=app", "view=timeline", "limit=1", "access_token=secret", "%zz=1", "a=%", ";", "&&&", "=",
		"product=web%00", "product=%ff", "as_of=2026-11-01T09:00:00Z%0a", "view=%E2%80%AE", "product=web;view=objectives",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// Echo parses the query as url.URL.Query does: it drops what it
		// cannot decode and keeps the rest.
		q, _ := url.ParseQuery(raw)
		got, err := parseRoadmapQuery(q)
		if err != nil {
			if status, kind, _, _ := kindOf(err); status != 400 || kind != "bad-query" {
				t.Fatalf("%q: error %v, want a 400 bad-query problem", raw, err)
			}
			return
		}
		if got.asOf != nil && got.atSeq != nil {
			t.Fatalf("%q: both as_of and at_seq set", raw)
		}
		if (got.asOf != nil) != q.Has("as_of") || (got.atSeq != nil) != q.Has("at_seq") {
			t.Fatalf("%q: moment %v / %v does not follow the query", raw, got.asOf, got.atSeq)
		}
		if got.product != "" && !productSlug.MatchString(got.product) {
			t.Fatalf("%q: product %q is not a slug", raw, got.product)
		}
		if got.product != q.Get("product") {
			t.Fatalf("%q: product %q, the query says %q", raw, got.product, q.Get("product"))
		}
		for name, values := range q {
			switch name {
			case "product", "view", "as_of", "at_seq":
			default:
				t.Fatalf("%q: accepted unknown parameter %q", raw, name)
			}
			if len(values) != 1 {
				t.Fatalf("%q: accepted %q given %d times", raw, name, len(values))
			}
		}
		if got.byObjective != (q.Get("view") == "objectives") {
			t.Fatalf("%q: view %q gave byObjective %v", raw, q.Get("view"), got.byObjective)
		}
	})
}

// FuzzAuditQuery parses arbitrary query strings as the audit trail's: it must
// never panic, every error is a 400 bad-query problem whose detail stays
// short whatever was sent, and what it accepts keeps every bound.
func FuzzAuditQuery(f *testing.F) {
	for _, s := range []string{
		"", "since=2026-11-01T00:00:00Z&until=2026-12-01T00:00:00Z", "actor=pm@example.com", "type=item.prioritised,item.reprioritised",
		"type=item.removed&type=objective.defined", "product=web", "item=01a205a0-464d-7caf-ae2b-69c5709021e3", "after=42", "limit=1000",
		"limit=0", "limit=1001", "limit=-1", "limit=1e3", "after=9223372036854775807", "after=9223372036854775808", "after=-1",
		"since=2026-12-01T00:00:00Z&until=2026-11-01T00:00:00Z", "since=2026-11-01", "until=yesterday", "actor=", "actor=%ff",
		"actor=" + strings.Repeat("a", 201), "type=", "type=item.prioritised,", "type=,", "item=01A205A0-464D-7CAF-AE2B-69C5709021E3",
		"item=../../etc/passwd", "product=web&product=app", "access_token=secret", "%zz", "a=%", ";", "limit=1;limit=2",
		"since=0000-01-01T00:00:00Z&until=9999-12-31T23:59:59.999999999Z", strings.Repeat("x", 300) + "=1",
		"type=" + strings.Repeat("\xff", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := parseAuditQuery(raw)
		if err != nil {
			if status, kind, _, _ := kindOf(err); status != 400 || kind != "bad-query" {
				t.Fatalf("%q: error %v, want a 400 bad-query problem", raw, err)
			}
			// clip keeps every echoed value to 64 bytes; quoted, a byte
			// takes at most 4; the list of event types is the longest
			// fixed text.
			if len(err.Error()) > 1024 {
				t.Fatalf("%q: detail of %d bytes echoes too much: %.200q", raw, len(err.Error()), err.Error())
			}
			return
		}
		q := got.values
		for name, values := range q {
			known := false
			for _, p := range auditParams {
				known = known || p == name
			}
			if !known {
				t.Fatalf("%q: accepted unknown parameter %q", raw, name)
			}
			if len(values) > 1 && name != "type" {
				t.Fatalf("%q: accepted %q given %d times", raw, name, len(values))
			}
		}
		if got.since != nil && got.until != nil && got.since.After(*got.until) {
			t.Fatalf("%q: since after until", raw)
		}
		if got.actor != nil && (*got.actor == "" || len(*got.actor) > 200 || !utf8.ValidString(*got.actor)) {
			t.Fatalf("%q: accepted actor %q", raw, *got.actor)
		}
		for typ := range got.types {
			if _, ok := roadmap.SchemaVersions[typ]; !ok {
				t.Fatalf("%q: accepted event type %q", raw, typ)
			}
		}
		if q.Has("type") && len(got.types) == 0 {
			t.Fatalf("%q: a type filter that lets nothing through", raw)
		}
		if got.product != "" && !productSlug.MatchString(got.product) {
			t.Fatalf("%q: accepted product %q", raw, got.product)
		}
		if got.item != "" && !itemIDPattern.MatchString(got.item) {
			t.Fatalf("%q: accepted item %q", raw, got.item)
		}
		if got.after > math.MaxInt64 {
			t.Fatalf("%q: after %d leaves no room for the next sequence", raw, got.after)
		}
		if got.limit < 0 || got.limit > auditMaxLimit || (q.Has("limit") && got.limit == 0) {
			t.Fatalf("%q: limit %d", raw, got.limit)
		}
		// The next link must be one this parser accepts again.
		next := got.next(got.after)
		if _, err := parseAuditQuery(strings.TrimPrefix(next, "/v1/audit?")); err != nil {
			t.Fatalf("%q: the next link %q is refused: %v", raw, next, err)
		}
	})
}
