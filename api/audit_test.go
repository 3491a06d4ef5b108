package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/api"
	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// auditKeys are the keys every row of the audit trail has.
var auditKeys = []string{"seq", "event_id", "type", "at", "actor", "aggregate_type", "aggregate_id", "product", "title",
	"rationale", "evidence", "from", "to", "score", "objective_ids", "changes", "provenance", "prev_hash", "hash"}

func checkAuditKeys(t testing.TB, row map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := slices.Sorted(slices.Values(auditKeys)); !slices.Equal(keys, want) {
		t.Errorf("row %v has keys %v, want %v", row["seq"], keys, want)
	}
}

// place reads a from/to place as "horizon#rank", "off" for off the roadmap,
// "null" for none.
func place(v any) string {
	p, ok := v.(map[string]any)
	if !ok {
		return fmt.Sprint(v)
	}
	if p["horizon"] == nil && p["rank"] == nil {
		return "off"
	}
	return fmt.Sprintf("%v#%v", p["horizon"], p["rank"])
}

func rows(t testing.TB, v any) []map[string]any {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %v", v)
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		out[i] = e.(map[string]any)
	}
	return out
}

func TestItemHistoryShowsEveryDecisionWithItsPlaces(t *testing.T) {
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Now: newFakeClock().Now})
	okr := l.objective("Activation") // 1
	a := l.must(201, "POST", "/v1/items", map[string]any{"title": "A", "kind": "idea", "objective_ids": []string{okr}},
		as, "pm@example.com")["id"].(string) // 2
	b := l.item("B") // 3
	l.must(200, "POST", "/v1/items/"+a+"/prioritise", map[string]any{
		"horizon": "now", "rationale": "first", "evidence": []string{"https://example.com/a"},
		"score": map[string]any{"framework": "moscow", "category": "must"},
	}, as, "cpo@example.com") // 4: now A
	l.must(200, "POST", "/v1/items/"+b+"/prioritise", map[string]any{"horizon": "now", "rank": 1, "rationale": "b on top"})                   // 5: now B A
	l.must(200, "POST", "/v1/items/"+a+"/reprioritise", map[string]any{"horizon": "next", "objective_ids": []string{}, "rationale": "later"}) // 6
	l.must(200, "POST", "/v1/items/"+a+"/remove", map[string]any{"rationale": "gone"})                                                        // 7
	l.must(200, "POST", "/v1/items/"+a+"/prioritise", map[string]any{"horizon": "later", "rationale": "back"})                                // 8

	body := l.must(200, "GET", "/v1/items/"+a+"/history", nil)
	if body["item_id"] != a {
		t.Errorf("item_id %v, want %s", body["item_id"], a)
	}
	history := rows(t, body["history"])
	type row struct {
		seq             float64
		typ, actor, at  string
		rationale       any
		from, to        string
		objectives      string
		evidence, score string
	}
	// The numbers in the comments above count the test's own events; the
	// log has the setup tokens before them.
	n := float64(setupEvents)
	want := []row{
		{n + 2, "item.proposed", "pm@example.com", "2026-10-01T02:00:00Z", nil, "off", "off", "[" + okr + "]", "<nil>", "<nil>"},
		{n + 4, "item.prioritised", "cpo@example.com", "2026-10-01T04:00:00Z", "first", "off", "now#1", "[" + okr + "]", "[https://example.com/a]", "moscow"},
		// B went on top at 5, so A left now from #2: the place before ITS
		// event, though 5 is not in its history.
		{n + 6, "item.reprioritised", "bootstrap", "2026-10-01T06:00:00Z", "later", "now#2", "next#1", "[]", "[]", "moscow"},
		{n + 7, "item.removed", "bootstrap", "2026-10-01T07:00:00Z", "gone", "next#1", "off", "<nil>", "[]", "<nil>"},
		{n + 8, "item.prioritised", "bootstrap", "2026-10-01T08:00:00Z", "back", "off", "later#1", "[]", "[]", "<nil>"},
	}
	if len(history) != len(want) {
		t.Fatalf("history has %d rows, want %d: %v", len(history), len(want), history)
	}
	var chain []eventlog.Envelope
	if err := l.App.Log.Read(context.Background(), "item", a, func(r eventlog.Record) error {
		chain = append(chain, r.Envelope)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, h := range history {
		checkAuditKeys(t, h)
		score := "<nil>"
		if s, ok := h["score"].(map[string]any); ok {
			score = fmt.Sprint(s["framework"])
		}
		got := row{
			seq: h["seq"].(float64), typ: h["type"].(string), actor: h["actor"].(string), at: h["at"].(string),
			rationale: h["rationale"], from: place(h["from"]), to: place(h["to"]),
			objectives: fmt.Sprint(h["objective_ids"]), evidence: fmt.Sprint(h["evidence"]), score: score,
		}
		if got != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want[i])
		}
		if h["event_id"] != chain[i].ID || h["hash"] != chain[i].Hash || h["prev_hash"] != chain[i].PrevHash {
			t.Errorf("row %d: event %v hash %v prev %v, the log has %s %s %s", i, h["event_id"], h["hash"], h["prev_hash"], chain[i].ID, chain[i].Hash, chain[i].PrevHash)
		}
		if i > 0 && h["prev_hash"] != history[i-1]["hash"] {
			t.Errorf("row %d: prev_hash %v is not the hash of row %d", i, h["prev_hash"], i-1)
		}
		if h["aggregate_id"] != a || h["title"] != "A" || h["product"] != "default" {
			t.Errorf("row %d is about %v %v in %v", i, h["aggregate_id"], h["title"], h["product"])
		}
	}

	// B's history has B's events only.
	var bSeqs []float64
	for _, h := range rows(t, l.must(200, "GET", "/v1/items/"+b+"/history", nil)["history"]) {
		bSeqs = append(bSeqs, h["seq"].(float64))
	}
	if want := []float64{n + 3, n + 5}; !slices.Equal(bSeqs, want) {
		t.Errorf("B's history %v, want %v", bSeqs, want)
	}

	checkProblem(t, l.do("GET", "/v1/items/0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70/history", nil), 404)
	checkProblem(t, l.do("GET", "/v1/items/"+okr+"/history", nil), 404) // an objective is not an item
}

func TestItemWhyChainsItemParentAndObjectives(t *testing.T) {
	l := startLedger(t)
	o1, o2, o3 := l.objective("Retention"), l.objective("Activation"), l.objective("Expansion")
	initiative := l.must(201, "POST", "/v1/items", map[string]any{
		"title": "Onboarding", "kind": "initiative", "objective_ids": []string{o1},
	}, as, "lead@example.com")["id"].(string)
	initiativeProposal := l.messages()
	l.must(200, "POST", "/v1/items/"+initiative+"/prioritise", map[string]any{"horizon": "now", "rationale": "top churn reason"})

	idea := l.must(201, "POST", "/v1/items", map[string]any{
		"title": "Guided setup", "kind": "idea", "parent_id": initiative, "objective_ids": []string{o2},
	}, as, "pm@example.com")["id"].(string)
	ideaProposal := l.messages()
	l.must(200, "POST", "/v1/items/"+idea+"/prioritise", map[string]any{"horizon": "next", "rationale": "keeps o2"})
	l.must(200, "POST", "/v1/items/"+idea+"/reprioritise", map[string]any{
		"objective_ids": []string{o2, o3}, "rationale": "also drives expansion", "evidence": []string{"https://example.com/exp"},
	}, as, "cpo@example.com")
	linkO3 := l.messages()
	l.must(200, "POST", "/v1/items/"+idea+"/reprioritise", map[string]any{"objective_ids": []string{o3}, "rationale": "not activation after all"})
	l.must(200, "POST", "/v1/items/"+idea+"/reprioritise", map[string]any{"objective_ids": []string{o3, o2}, "rationale": "activation again"})
	relinkO2 := l.messages()
	l.must(200, "POST", "/v1/items/"+idea+"/reprioritise", map[string]any{"horizon": "now", "rank": 1, "rationale": "urgent"})
	last := l.messages()
	l.must(200, "POST", "/v1/objectives/"+o1+"/retire", map[string]any{"rationale": "met"})

	why := l.must(200, "GET", "/v1/items/"+idea+"/why", nil)
	if why["sequence"] != float64(l.messages()) {
		t.Errorf("sequence %v, want %d", why["sequence"], l.messages())
	}
	item := why["item"].(map[string]any)
	if item["id"] != idea || item["kind"] != "idea" || item["status"] != "on_roadmap" || place(item["place"]) != "now#1" {
		t.Errorf("item %v, want the idea on the roadmap at now#1", item)
	}
	if _, ok := item["linked_by"]; ok {
		t.Errorf("the item the chain starts from has a linked_by: %v", item["linked_by"])
	}
	if d := item["last_decision"].(map[string]any); d["sequence"] != float64(last) || d["rationale"] != "urgent" || d["type"] != "item.reprioritised" {
		t.Errorf("last decision %v, want the reprioritisation at %d", d, last)
	}

	type link struct {
		objective, status string
		seq               float64
		typ, actor        string
		rationale         any
		evidence          string
	}
	links := func(node map[string]any) []link {
		var out []link
		for _, o := range rows(t, node["objectives"]) {
			by := o["linked_by"].(map[string]any)
			if o["kpi"] != "kpi of "+o["title"].(string) || o["target"] != "+10%" {
				t.Errorf("objective %v lacks its KPI and target", o)
			}
			out = append(out, link{o["id"].(string), o["status"].(string), by["seq"].(float64), by["type"].(string), by["actor"].(string), by["rationale"], fmt.Sprint(by["evidence"])})
		}
		return out
	}
	wantItem := []link{
		{o3, "active", float64(linkO3), "item.reprioritised", "cpo@example.com", "also drives expansion", "[https://example.com/exp]"},
		{o2, "active", float64(relinkO2), "item.reprioritised", "bootstrap", "activation again", "[]"},
	}
	if got := links(item); !reflect.DeepEqual(got, wantItem) {
		t.Errorf("item objectives:\n got %+v\nwant %+v", got, wantItem)
	}

	parent, ok := item["parent"].(map[string]any)
	if !ok {
		t.Fatalf("no parent in %v", item)
	}
	if parent["id"] != initiative || parent["kind"] != "initiative" || place(parent["place"]) != "now#2" || parent["parent"] != nil {
		t.Errorf("parent %v, want the initiative at now#2 with no parent", parent)
	}
	by := parent["linked_by"].(map[string]any)
	if by["seq"] != float64(ideaProposal) || by["type"] != "item.proposed" || by["actor"] != "pm@example.com" || by["rationale"] != nil || by["evidence"] != nil {
		t.Errorf("parent linked by %v, want the idea's proposal at %d by pm, without rationale", by, ideaProposal)
	}
	wantParent := []link{{o1, "retired", float64(initiativeProposal), "item.proposed", "lead@example.com", nil, "<nil>"}}
	if got := links(parent); !reflect.DeepEqual(got, wantParent) {
		t.Errorf("parent objectives:\n got %+v\nwant %+v", got, wantParent)
	}

	// An item with no parent and no objectives.
	lone := l.item("Lone")
	why = l.must(200, "GET", "/v1/items/"+lone+"/why", nil)
	item = why["item"].(map[string]any)
	if item["parent"] != nil || len(item["objectives"].([]any)) != 0 || item["last_decision"] != nil || place(item["place"]) != "off" {
		t.Errorf("lone item %v, want no parent, no objectives, no decision, off the roadmap", item)
	}
	checkProblem(t, l.do("GET", "/v1/items/0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70/why", nil), 404)
}

// auditLedger records 8 events an hour apart from 01:00, by three actors in
// two products, after the setup tokens, and returns the ids of the two
// items.
func auditLedger(t *testing.T) (*testLedger, string, string) {
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Now: newFakeClock().Now})
	ceo, pm, pm2 := []string{as, "ceo@example.com"}, []string{as, "pm@example.com"}, []string{as, "pm2@example.com"}
	l.must(201, "POST", "/v1/objectives", map[string]any{"title": "W", "kpi": "k", "target": "t", "product": "web"}, ceo...)     // 1
	l.must(201, "POST", "/v1/objectives", map[string]any{"title": "M", "kpi": "k", "target": "t", "product": "app"}, ceo...)     // 2
	x := l.must(201, "POST", "/v1/items", map[string]any{"title": "X", "kind": "idea", "product": "web"}, pm...)["id"].(string)  // 3
	y := l.must(201, "POST", "/v1/items", map[string]any{"title": "Y", "kind": "idea", "product": "app"}, pm2...)["id"].(string) // 4
	l.must(200, "POST", "/v1/items/"+x+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"}, pm...)                 // 5
	l.must(200, "POST", "/v1/items/"+y+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"}, pm2...)                // 6
	l.must(200, "POST", "/v1/items/"+x+"/reprioritise", map[string]any{"horizon": "next", "rationale": "r"}, pm...)              // 7
	l.must(200, "POST", "/v1/items/"+y+"/remove", map[string]any{"rationale": "r"}, pm2...)                                      // 8
	return l, x, y
}

// seqs returns the sequences of a JSON page of the audit trail, checking its
// rows have every key.
func seqs(t testing.TB, page map[string]any) []int {
	t.Helper()
	var out []int
	for _, r := range rows(t, page["events"]) {
		checkAuditKeys(t, r)
		out = append(out, int(r["seq"].(float64)))
	}
	return out
}

func TestAuditFiltersEachHold(t *testing.T) {
	l, x, y := auditLedger(t)
	// ev turns the numbers of auditLedger's events into their sequences:
	// the setup tokens come first. setup is the sequences of those tokens,
	// all made by the bootstrap admin before 01:00.
	ev := func(n ...int) []int {
		out := make([]int, len(n))
		for i, k := range n {
			out[i] = int(setupEvents) + k
		}
		return out
	}
	var setup []int
	for seq := 1; seq <= int(setupEvents); seq++ {
		setup = append(setup, seq)
	}
	after := func(n int) string { return "after=" + strconv.Itoa(ev(n)[0]) }
	for _, tc := range []struct {
		query string
		want  []int
	}{
		{"", append(setup, ev(1, 2, 3, 4, 5, 6, 7, 8)...)},
		{"since=2026-10-01T04:00:00Z", ev(4, 5, 6, 7, 8)},
		{"since=2026-10-01T03:30:00Z", ev(4, 5, 6, 7, 8)},
		{"since=2026-10-01T04:00:00.000001Z", ev(5, 6, 7, 8)},
		{"until=2026-10-01T05:00:00Z", append(setup, ev(1, 2, 3, 4, 5)...)},
		{"until=2026-10-01T04:59:59.999999Z", append(setup, ev(1, 2, 3, 4)...)},
		{"until=2026-10-01T00:00:00Z", setup},
		{"since=2026-10-01T03:00:00Z&until=2026-10-01T06:00:00Z", ev(3, 4, 5, 6)},
		{"since=2026-10-01T05:00:00%2B02:00", ev(3, 4, 5, 6, 7, 8)}, // 03:00 UTC
		{"since=2026-10-02T00:00:00Z", nil},
		{"until=2026-09-30T00:00:00Z", nil},
		{"actor=pm%40example.com", ev(3, 5, 7)},
		{"actor=ceo%40example.com", ev(1, 2)},
		{"actor=bootstrap", setup},
		{"actor=anonymous", nil},
		{"type=item.prioritised", ev(5, 6)},
		{"type=item.prioritised,item.removed", ev(5, 6, 8)},
		{"type=item.prioritised&type=item.removed", ev(5, 6, 8)},
		{"type=objective.defined,item.proposed&type=item.removed", ev(1, 2, 3, 4, 8)},
		{"type=token.created", setup},
		{"product=app", ev(2, 4, 6, 8)},
		{"product=web", ev(1, 3, 5, 7)},
		{"product=nothing", nil},
		{"item=" + x, ev(3, 5, 7)},
		{"item=" + y + "&" + after(4), ev(6, 8)},
		{"item=" + y + "&" + after(4) + "&limit=1", ev(6)},
		{"item=0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70", nil},
		{after(5), ev(6, 7, 8)},
		{after(8), nil},
		{"after=9223372036854775807", nil},
		{"product=web&type=item.reprioritised", ev(7)},
		{"actor=pm2%40example.com&until=2026-10-01T06:00:00Z", ev(4, 6)},
	} {
		t.Run(tc.query, func(t *testing.T) {
			page := l.must(200, "GET", "/v1/audit?"+tc.query, nil)
			if got := seqs(t, page); !slices.Equal(got, tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			if full := strings.Contains(tc.query, "limit=1") && len(tc.want) == 1; (page["next"] != nil) != full {
				t.Errorf("next %v, want one only for a full page", page["next"])
			}
		})
	}

	// A row carries what the event says.
	page := l.must(200, "GET", "/v1/audit?type=item.reprioritised", nil)
	r := rows(t, page["events"])[0]
	if r["actor"] != "pm@example.com" || r["at"] != "2026-10-01T07:00:00Z" || r["product"] != "web" || r["title"] != "X" ||
		r["aggregate_type"] != "item" || r["aggregate_id"] != x || place(r["from"]) != "now#1" || place(r["to"]) != "next#1" || r["rationale"] != "r" {
		t.Errorf("reprioritisation row %v", r)
	}
	r = rows(t, l.must(200, "GET", "/v1/audit?"+after(0)+"&limit=1", nil)["events"])[0]
	if r["type"] != "objective.defined" || r["aggregate_type"] != "objective" || r["from"] != nil || r["to"] != nil || r["rationale"] != nil || r["objective_ids"] != nil || r["prev_hash"] != "" {
		t.Errorf("objective definition row %v, want nulls for what does not apply", r)
	}
	r = rows(t, l.must(200, "GET", "/v1/audit?limit=1", nil)["events"])[0]
	if r["seq"] != 1.0 || r["type"] != "token.created" || r["aggregate_type"] != "token" || r["actor"] != "bootstrap" ||
		r["from"] != nil || r["to"] != nil || r["rationale"] != nil || r["objective_ids"] != nil || r["score"] != nil || r["prev_hash"] != "" {
		t.Errorf("first row %v, want the bootstrap token's creation, with nulls for what does not apply", r)
	}
}

// walk follows next links from the first page of query, checking that every
// page but the last is full, and returns the sequences of every page.
func walk(t *testing.T, l *testLedger, query string, limit int) []int {
	t.Helper()
	var all []int
	path := "/v1/audit?" + query
	for pages := 0; path != ""; pages++ {
		if pages > 1000 {
			t.Fatal("the pages do not end")
		}
		page := l.must(200, "GET", path, nil)
		got := seqs(t, page)
		all = append(all, got...)
		next, _ := page["next"].(string)
		if next != "" && len(got) != limit {
			t.Errorf("%s: a page of %d events with a next, want %d", path, len(got), limit)
		}
		if next != "" {
			u, err := url.Parse(next)
			if err != nil || u.Path != "/v1/audit" || u.Query().Get("after") != strconv.Itoa(got[len(got)-1]) {
				t.Fatalf("next %q: want /v1/audit with after=%d", next, got[len(got)-1])
			}
			// The same filters.
			prev, _ := url.ParseQuery(query)
			for name, values := range prev {
				if name != "after" && !slices.Equal(u.Query()[name], values) {
					t.Errorf("next %q lost %s=%v", next, name, values)
				}
			}
		}
		path = next
	}
	return all
}

func TestAuditPagesAndExportsAgree(t *testing.T) {
	l := startLedger(t)
	okr := l.objective("Retention")
	// 104 events after the setup tokens: a few with text a spreadsheet
	// would take for a formula, and evidence lists.
	for i := range 34 {
		product := []string{"web", "app"}[i%2]
		title := fmt.Sprintf("Item %d", i)
		if i == 3 {
			title = "+1 for dark mode"
		}
		id := l.must(201, "POST", "/v1/items", map[string]any{"title": title, "kind": "idea", "product": product, "objective_ids": []string{okr}},
			as, []string{"pm@example.com", "@ops-bot"}[i%2])["id"].(string)
		rationale := fmt.Sprintf("because, \"%d\"\nsecond line", i)
		if i == 5 {
			rationale = "=HYPERLINK(\"https://example.com\")"
		}
		l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{
			"horizon": "now", "rank": 1, "rationale": rationale, "evidence": []string{"-5% churn", "https://example.com/" + strconv.Itoa(i)},
			"score": map[string]any{"framework": "rice", "reach": 1000 + i, "impact": 0.5, "confidence": 0.8, "effort": 3},
		})
		l.must(200, "POST", "/v1/items/"+id+"/reprioritise", map[string]any{"horizon": "later", "rationale": "r"})
	}
	l.must(200, "POST", "/v1/objectives/"+okr+"/retire", map[string]any{"rationale": "met"})
	total := int(l.messages())
	if total != int(setupEvents)+104 {
		t.Fatalf("the ledger holds %d events, want %d", total, setupEvents+104)
	}
	every := make([]int, total)
	for i := range every {
		every[i] = i + 1
	}

	// The default page is 100 events, with a next to the rest.
	first := l.must(200, "GET", "/v1/audit", nil)
	if got := seqs(t, first); !slices.Equal(got, every[:100]) {
		t.Errorf("first page %v, want 1 to 100", got)
	}
	if first["next"] != "/v1/audit?after=100" {
		t.Errorf("next %v, want /v1/audit?after=100", first["next"])
	}
	rest := l.must(200, "GET", first["next"].(string), nil)
	if got := seqs(t, rest); !slices.Equal(got, every[100:]) || rest["next"] != nil {
		t.Errorf("second page %v next %v, want 101 to %d and no next", got, rest["next"], total)
	}

	// Walking pages of 7 gives every event once, in order; so do pages of
	// 4 that end exactly at the last event.
	if got := walk(t, l, "limit=7", 7); !slices.Equal(got, every) {
		t.Errorf("walked %v, want 1 to %d once each", got, total)
	}
	if got := walk(t, l, "limit=4", 4); !slices.Equal(got, every) {
		t.Errorf("walked %v, want 1 to %d once each", got, total)
	}
	filtered := "product=web&type=item.prioritised,item.reprioritised&actor=bootstrap"
	all := seqs(t, l.must(200, "GET", "/v1/audit?limit=1000&"+filtered, nil))
	if len(all) != 34 { // 17 web items, two decisions each
		t.Errorf("filtered events %v, want 34", all)
	}
	if got := walk(t, l, "limit=5&"+filtered, 5); !slices.Equal(got, all) {
		t.Errorf("walked %v, want %v", got, all)
	}

	// The exports give the same events as the pages, whole, in order.
	pages := func(query string) []map[string]any {
		var out []map[string]any
		for path := "/v1/audit?limit=13&" + query; path != ""; {
			page := l.must(200, "GET", path, nil)
			out = append(out, rows(t, page["events"])...)
			path, _ = page["next"].(string)
		}
		return out
	}
	for _, query := range []string{"", filtered, "after=50&until=2100-01-01T00:00:00Z"} {
		want := pages(query)
		t.Run("ndjson "+query, func(t *testing.T) {
			got := exportNDJSON(t, l, "/v1/audit?"+query)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the JSON Lines export (%d rows) differs from the pages (%d rows)", len(got), len(want))
			}
		})
		t.Run("csv "+query, func(t *testing.T) {
			got := exportCSV(t, l, "/v1/audit?"+query)
			if len(got) != len(want) {
				t.Fatalf("the CSV export has %d rows, the pages %d", len(got), len(want))
			}
			for i := range want {
				g := slices.Clone(got[i])
				if g[csvScoreColumn] != "" {
					var score any
					if err := json.Unmarshal([]byte(g[csvScoreColumn]), &score); err != nil || !reflect.DeepEqual(score, want[i]["score"]) {
						t.Errorf("CSV row %d: score %s, want %v", i, g[csvScoreColumn], want[i]["score"])
					}
					g[csvScoreColumn] = "score"
				}
				for _, col := range csvJSONColumns {
					g[col] = jsonCell(t, g[col])
				}
				if w := csvOf(t, want[i]); !slices.Equal(g, w) {
					t.Errorf("CSV row %d:\n got %q\nwant %q", i, g, w)
				}
			}
		})
	}

	// Exports with a limit give that many rows after the cursor.
	if got := exportNDJSON(t, l, "/v1/audit?after=20&limit=10"); len(got) != 10 || got[0]["seq"] != 21.0 || got[9]["seq"] != 30.0 {
		t.Errorf("JSON Lines with a limit: %d rows from %v", len(got), got)
	}
	if got := exportCSV(t, l, fmt.Sprintf("/v1/audit?after=%d&limit=10", total-4)); len(got) != 4 || got[0][0] != strconv.Itoa(total-3) || got[3][0] != strconv.Itoa(total) {
		t.Errorf("CSV with a limit past the end: %v", got)
	}
	if got := exportCSV(t, l, fmt.Sprintf("/v1/audit?after=%d", total)); len(got) != 0 {
		t.Errorf("CSV of nothing: %v, want the header only", got)
	}
}

// exportNDJSON gets a JSON Lines export and decodes every line.
func exportNDJSON(t testing.TB, l *testLedger, path string) []map[string]any {
	t.Helper()
	res := l.do("GET", path, nil, "Accept", "application/x-ndjson")
	if res.Status != 200 || res.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("GET %s: %d %s", path, res.Status, res.Header.Get("Content-Type"))
	}
	out := []map[string]any{}
	if len(res.Body) > 0 && res.Body[len(res.Body)-1] != '\n' {
		t.Errorf("the export does not end with a line break")
	}
	sc := bufio.NewScanner(bytes.NewReader(res.Body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("line %d: %v: %s", len(out)+1, err, sc.Bytes())
		}
		checkAuditKeys(t, row)
		out = append(out, row)
	}
	return out
}

// exportCSV gets a CSV export and returns its rows after the header.
func exportCSV(t testing.TB, l *testLedger, path string) [][]string {
	t.Helper()
	res := l.do("GET", path, nil, "Accept", "text/csv")
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET %s: %d %s", path, res.Status, res.Header.Get("Content-Type"))
	}
	r := csv.NewReader(bytes.NewReader(res.Body))
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("GET %s: not CSV: %v", path, err)
	}
	header := []string{"seq", "event_id", "type", "at", "actor", "aggregate_type", "aggregate_id", "product", "title",
		"rationale", "evidence", "from_horizon", "from_rank", "to_horizon", "to_rank",
		"score_framework", "score_value", "score", "objective_ids", "changes", "provenance", "prev_hash", "hash"}
	if len(records) == 0 || !slices.Equal(records[0], header) {
		t.Fatalf("CSV header %v, want %v", records[:min(1, len(records))], header)
	}
	return records[1:]
}

// csvOf is the CSV row the export documents for a JSON row: nulls empty,
// lists joined with line breaks, text that would start a formula behind an
// apostrophe.
func csvOf(t testing.TB, row map[string]any) []string {
	t.Helper()
	text := func(v any) string {
		if v == nil {
			return ""
		}
		return v.(string)
	}
	safe := func(s string) string {
		if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
			return "'" + s
		}
		return s
	}
	list := func(v any) string {
		if v == nil {
			return ""
		}
		var parts []string
		for _, e := range v.([]any) {
			parts = append(parts, e.(string))
		}
		return strings.Join(parts, "\n")
	}
	placeCells := func(v any) (string, string) {
		p, _ := v.(map[string]any)
		if p == nil || p["rank"] == nil {
			return "", ""
		}
		return p["horizon"].(string), strconv.Itoa(int(p["rank"].(float64)))
	}
	fh, fr := placeCells(row["from"])
	th, tr := placeCells(row["to"])
	var framework, value, score string
	if s, ok := row["score"].(map[string]any); ok {
		framework, value = s["framework"].(string), strconv.FormatFloat(s["value"].(float64), 'f', -1, 64)
		score = "score" // compared as JSON below
	}
	return []string{
		strconv.Itoa(int(row["seq"].(float64))), text(row["event_id"]), text(row["type"]), text(row["at"]),
		safe(text(row["actor"])), text(row["aggregate_type"]), text(row["aggregate_id"]), text(row["product"]), safe(text(row["title"])),
		safe(text(row["rationale"])), safe(list(row["evidence"])), fh, fr, th, tr, framework, value, score,
		list(row["objective_ids"]), jsonOf(row["changes"]), jsonOf(row["provenance"]), text(row["prev_hash"]), text(row["hash"]),
	}
}

// csvScoreColumn is the index of the score column, whose JSON is compared
// decoded.
const csvScoreColumn = 17

// csvJSONColumns are the indexes of the changes and provenance columns,
// JSON compared as jsonCell writes it.
var csvJSONColumns = []int{19, 20}

// jsonOf is a value decoded from JSON written again, its keys sorted; ""
// for null.
func jsonOf(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// jsonCell is the JSON of a CSV cell written as jsonOf writes it.
func jsonCell(t testing.TB, cell string) string {
	t.Helper()
	if cell == "" {
		return ""
	}
	var v any
	if err := json.Unmarshal([]byte(cell), &v); err != nil {
		t.Fatalf("cell %q is not JSON: %v", cell, err)
	}
	return jsonOf(v)
}

func TestAuditCSVScoreCellIsTheWholeScore(t *testing.T) {
	l := startLedger(t)
	id := l.item("Scored")
	l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{
		"horizon": "now", "rationale": "r",
		"score": map[string]any{"framework": "wsjf", "business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": 5},
	})
	rowsCSV := exportCSV(t, l, "/v1/audit?type=item.prioritised")
	if len(rowsCSV) != 1 {
		t.Fatalf("rows %v", rowsCSV)
	}
	var score map[string]any
	if err := json.Unmarshal([]byte(rowsCSV[0][csvScoreColumn]), &score); err != nil {
		t.Fatalf("score cell %q is not JSON: %v", rowsCSV[0][csvScoreColumn], err)
	}
	want := rows(t, l.must(200, "GET", "/v1/audit?type=item.prioritised", nil)["events"])[0]["score"]
	if !reflect.DeepEqual(score, want) {
		t.Errorf("score cell %v, want %v", score, want)
	}
	if rowsCSV[0][15] != "wsjf" || rowsCSV[0][16] != "3.2" {
		t.Errorf("score framework and value cells %q %q, want wsjf 3.2", rowsCSV[0][15], rowsCSV[0][16])
	}
}

func TestAuditNegotiatesItsFormat(t *testing.T) {
	l := startLedger(t)
	l.objective("Retention")
	for _, tc := range []struct {
		accept string
		want   string // the media type of the answer, "" for 406
	}{
		{"", "application/json"},
		{"*/*", "application/json"},
		{"application/json", "application/json"},
		{"application/*", "application/json"},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/json"},
		{"application/x-ndjson", "application/x-ndjson"},
		{"application/x-ndjson, */*", "application/x-ndjson"},
		{"text/csv", "text/csv"},
		{"text/*", "text/csv"},
		{"text/csv;q=0.5, application/json", "application/json"},
		{"text/csv, application/json;q=0.2", "text/csv"},
		{"application/json;q=0, */*", "application/x-ndjson"},
		{"text/html", ""},
		{"application/xml", ""},
		{"image/png, text/plain", ""},
		{"text/csv;q=0, application/json;q=0", ""},
		{"not a media type", ""},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			res := l.do("GET", "/v1/audit", nil, "Accept", tc.accept)
			if tc.want == "" {
				checkProblem(t, res, 406)
				return
			}
			if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), tc.want) {
				t.Errorf("status %d Content-Type %q, want 200 %s", res.Status, res.Header.Get("Content-Type"), tc.want)
			}
		})
	}
}

func TestAuditQueryIsCheckedBeforeAnythingIsSent(t *testing.T) {
	l := startLedger(t)
	l.objective("Retention")
	huge := strings.Repeat("x", 100_000)
	for _, q := range []string{
		"since=yesterday", "since=2026-11-01", "until=2026-13-01T00:00:00Z", "since=" + huge,
		"since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z",
		"since=2026-11-01T00:00:00Z&since=2026-11-02T00:00:00Z",
		"limit=0", "limit=1001", "limit=-1", "limit=ten", "limit=", "limit=1&limit=2", "limit=99999999999999999999",
		"after=-1", "after=x", "after=9223372036854775808",
		"actor=", "actor=%ff%fe", "actor=" + huge,
		"type=item.nope", "type=item.prioritised,", "type=", "type=%ff", "type=" + huge,
		"product=Web", "product=" + huge, "product=%ff",
		"item=not-an-id", "item=" + huge,
		"page=2", "Since=2026-11-01T00:00:00Z", huge + "=1", "%ff=1", "since=%zz", "%zz",
	} {
		name := q
		if len(name) > 60 {
			name = name[:60] + "…"
		}
		t.Run(name, func(t *testing.T) {
			for _, accept := range []string{"", "application/x-ndjson", "text/csv"} {
				res := l.do("GET", "/v1/audit?"+q, nil, "Accept", accept)
				p := checkProblem(t, res, 400)
				if p["type"] != "urn:roadmap-ledger:problem:bad-query" {
					t.Errorf("Accept %q: problem %v, want bad-query", accept, p)
				}
				if len(res.Body) > 2000 {
					t.Errorf("Accept %q: a problem of %d bytes echoes the query", accept, len(res.Body))
				}
			}
		})
	}
}

// slowViews serves the audit trail from a made-up ledger of 300 events whose
// scan stops after 150 until released, or fails there.
type slowViews struct {
	api.Views
	release chan struct{}
	fail    bool
}

// TokenBySecret knows one token, an admin with the test ledgers'
// bootstrap secret.
func (v *slowViews) TokenBySecret(_ roadmap.TokenKey, secret string) (projections.TokenView, bool) {
	if secret != adminSecret {
		return projections.TokenView{}, false
	}
	return projections.TokenView{Token: roadmap.Token{ID: "t", Name: "bootstrap", Role: roadmap.RoleAdmin}, Version: 1}, true
}

func (v *slowViews) Sequence() uint64                            { return 300 }
func (v *slowViews) SequenceAt(time.Time) (uint64, error)        { return 300, nil }
func (v *slowViews) FirstSequenceFrom(time.Time) (uint64, error) { return 1, nil }

func (v *slowViews) Scan(ctx context.Context, from, to uint64, fn func(projections.Record) (bool, error)) error {
	for seq := from; seq <= to; seq++ {
		if seq == 151 {
			if v.fail {
				return errors.New("the log broke")
			}
			select {
			case <-v.release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		more, err := fn(projections.Record{
			Sequence: seq, EventID: fmt.Sprintf("e%d", seq), Type: "objective.defined", AggregateType: "objective",
			AggregateID: "o", Actor: "a", At: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Hash: "h",
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func slowServer(t *testing.T, views *slowViews) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(api.New(api.Config{
		Views: views, Ready: func() error { return nil }, WaitReady: func(context.Context) error { return nil },
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestAuditExportsStreamRowsAsTheyAreRead(t *testing.T) {
	for _, accept := range []string{"application/x-ndjson", "text/csv"} {
		t.Run(accept, func(t *testing.T) {
			views := &slowViews{release: make(chan struct{})}
			srv := slowServer(t, views)
			req, _ := http.NewRequest("GET", srv.URL+"/v1/audit", nil)
			req.Header.Set("Accept", accept)
			req.Header.Set("Authorization", "Bearer "+adminSecret)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := http.DefaultClient.Do(req.WithContext(ctx))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			// The first 100 rows arrive while the scan is held at 150: the
			// answer is written as it is read, not gathered first.
			lines := make(chan int, 1)
			br := bufio.NewReader(res.Body)
			go func() {
				n := 0
				for n < 100 {
					if _, err := br.ReadString('\n'); err != nil {
						break
					}
					n++
				}
				lines <- n
			}()
			select {
			case n := <-lines:
				if n != 100 {
					t.Fatalf("read %d lines before the stream ended", n)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no rows arrived while the scan was still running")
			}
			close(views.release)
			restBytes, err := io.ReadAll(br)
			if err != nil {
				t.Fatal(err)
			}
			// 300 rows in all, and the CSV's header line.
			want := 200
			if accept == "text/csv" {
				want++
			}
			if rest := strings.Count(string(restBytes), "\n"); rest != want {
				t.Errorf("%d more lines after the first 100, want %d", rest, want)
			}
		})
	}
}

func TestAuditExportThatFailsMidwayIsCutNotEnded(t *testing.T) {
	srv := slowServer(t, &slowViews{fail: true})
	req, _ := http.NewRequest("GET", srv.URL+"/v1/audit", nil)
	req.Header.Set("Accept", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+adminSecret)
	_, body, err := apptest.Do(t, req)
	if err == nil {
		t.Fatalf("the export ended cleanly after %d lines; a failed export must not look whole", bytes.Count(body, []byte("\n")))
	}
	if n := bytes.Count(body, []byte("\n")); n < 100 || n > 150 {
		t.Errorf("%d lines before the cut, want the flushed ones", n)
	}
}

func TestItemHistoryRefusesABrokenChain(t *testing.T) {
	l := startLedger(t)
	id := l.item("Forged")
	l.must(200, "POST", "/v1/items/"+id+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"})
	l.must(200, "GET", "/v1/items/"+id+"/history", nil)

	// An event whose own hash is right but which does not link to the item's
	// last event, written to the stream behind the ledger's back.
	forged := &eventlog.Envelope{
		ID: "0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a71", Type: "item.removed", SchemaVersion: 1,
		AggregateType: "item", AggregateID: id, Time: time.Now().UTC().Truncate(time.Microsecond), Actor: "mallory",
		Data: json.RawMessage(`{"rationale":"forged","evidence":[]}`),
	}
	body, err := forged.Seal("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ack, err := l.App.Log.JetStream().Publish(ctx, eventlog.Subject("item", id), body)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.App.Runner.WaitFor(ctx, ack.Sequence); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/items/" + id + "/history", "/v1/items/" + id + "/why"} {
		p := checkProblem(t, l.do("GET", path, nil), 500)
		if p["type"] != "urn:roadmap-ledger:problem:internal" {
			t.Errorf("GET %s: %v, want an internal error rather than a history with a broken chain", path, p)
		}
	}
}

func TestObjectiveHistory(t *testing.T) {
	l := startLedger(t)
	obj := l.objective("Retention")
	l.item("Serves it", obj) // an item's event is not in the objective's history
	l.must(200, "POST", "/v1/objectives/"+obj+"/retire", map[string]any{"rationale": "met the target"})

	body := l.must(200, "GET", "/v1/objectives/"+obj+"/history", nil)
	if body["objective_id"] != obj {
		t.Errorf("objective_id %v, want %s", body["objective_id"], obj)
	}
	history := rows(t, body["history"])
	if len(history) != 2 {
		t.Fatalf("history %v, want the definition and the retirement", history)
	}
	for i, want := range []string{"objective.defined", "objective.retired"} {
		h := history[i]
		if h["type"] != want || h["aggregate_type"] != "objective" || h["aggregate_id"] != obj || h["title"] != "Retention" {
			t.Errorf("row %d: %v, want %s of the objective", i, h, want)
		}
	}
	if history[0]["prev_hash"] != "" || history[1]["prev_hash"] != history[0]["hash"] {
		t.Errorf("the rows do not chain: %v", history)
	}
	if history[1]["rationale"] != "met the target" || history[1]["actor"] != "bootstrap" {
		t.Errorf("the retirement %v, want its rationale and actor", history[1])
	}

	checkProblem(t, l.do("GET", "/v1/objectives/0193a5c4-7b1e-7c3a-9f10-2b7d4e5f6a70/history", nil), 404)
	item := l.item("An item")
	if p := checkProblem(t, l.do("GET", "/v1/objectives/"+item+"/history", nil), 404); !strings.Contains(fmt.Sprint(p["detail"]), "no objective") {
		t.Errorf("an item's id: %v, want no objective", p)
	}
}
