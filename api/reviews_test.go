package api_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
)

// titles lists the titles of a list of JSON objects.
func titles(list any) []string {
	out := []string{}
	for _, v := range list.([]any) {
		out = append(out, v.(map[string]any)["title"].(string))
	}
	return out
}

func TestGovernanceReviewFreezesAMonth(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	l := startLedgerWith(t, app.Config{DataDir: dir, Now: clock.Now})

	served := l.objective("Activation")
	l.objective("Expansion") // nothing will serve it
	a := l.item("A", served)
	b := l.item("B")
	c := l.item("C", served)
	l.must(200, "POST", "/v1/items/"+a+"/prioritise", map[string]any{"horizon": "now", "rationale": "top churn reason"}, as, "pm")
	l.must(200, "POST", "/v1/items/"+b+"/prioritise", map[string]any{"horizon": "next", "rationale": "sales ask"}, as, "pm")
	l.must(200, "POST", "/v1/items/"+c+"/prioritise", map[string]any{"horizon": "later", "rationale": "bet"}, as, "pm")

	october := l.must(201, "POST", "/v1/reviews", map[string]any{"period": "2026-10"}, as, "chair")
	oct := october["id"].(string)
	if october["status"] != "open" || october["title"] != "Governance review 2026-10" || october["sequence"] != nil {
		t.Errorf("opened review %v", october)
	}
	open := l.must(200, "GET", "/v1/reviews/"+oct, nil)
	if got := len(open["decisions"].([]any)); got != 5 {
		t.Errorf("open review shows %d decisions, want 5 (2 objectives, 3 prioritisations)", got)
	}

	clock.Advance(100 * 24 * time.Hour) // A and B now sit undecided for 100 days
	for _, h := range []string{"next", "now", "later"} {
		l.must(200, "POST", "/v1/items/"+c+"/reprioritise", map[string]any{"horizon": h, "rationale": "moving " + h})
	}
	l.must(200, "POST", "/v1/items/"+a+"/reprioritise", map[string]any{"score": map[string]any{"framework": "moscow", "category": "must"}, "rationale": "board call"})
	closed := l.must(200, "POST", "/v1/reviews/"+oct+"/close", map[string]any{"notes": "C keeps moving; ask for evidence"}, as, "chair")
	if closed["status"] != "closed" || closed["sequence"] == nil || closed["chain_heads"] == nil {
		t.Fatalf("closed review %v", closed)
	}
	frozenAt := closed["sequence"].(float64)
	checkProblem(t, l.do("POST", "/v1/reviews/"+oct+"/close", map[string]any{}), 409)

	// The month goes on: B is removed, D arrives.
	// (frozenAt+1 is October's review.closed itself.)
	l.must(200, "POST", "/v1/items/"+b+"/remove", map[string]any{"rationale": "lost the deal"})
	d := l.item("D", served)
	l.must(200, "POST", "/v1/items/"+d+"/prioritise", map[string]any{"horizon": "next", "rationale": "new ask"})

	res := l.do("GET", "/v1/reviews/"+oct, nil)
	snap := decode(t, res.Body)
	checkVersioned(t, res, snap)
	if snap["sequence"] != frozenAt || snap["status"] != "closed" || snap["notes"] != "C keeps moving; ask for evidence" {
		t.Errorf("snapshot header %v %v %v", snap["sequence"], snap["status"], snap["notes"])
	}
	rm := snap["roadmap"].(map[string]any)
	if rm["sequence"] != frozenAt {
		t.Errorf("snapshot roadmap at %v, want %v", rm["sequence"], frozenAt)
	}
	hz := rm["horizons"].(map[string]any)
	if fmt.Sprint(titles(hz["now"]), titles(hz["next"]), titles(hz["later"])) != "[A] [B] [C]" {
		t.Errorf("frozen roadmap %v %v %v, want A | B | C (B's removal came after)", titles(hz["now"]), titles(hz["next"]), titles(hz["later"]))
	}
	if got := len(snap["decisions"].([]any)); got != 9 {
		t.Errorf("frozen decisions: %d, want 9 (5 before opening, 3 moves of C, A's rescore)", got)
	}
	sig := snap["signals"].(map[string]any)
	if got := fmt.Sprint(titles(sig["orphans"])); got != "[B]" {
		t.Errorf("orphans %s, want [B]", got)
	}
	if got := fmt.Sprint(titles(sig["orphaned_objectives"])); got != "[Expansion]" {
		t.Errorf("orphaned objectives %s, want [Expansion]", got)
	}
	if got := fmt.Sprint(titles(sig["stale"])); got != "[B]" {
		t.Errorf("stale %s, want [B] (A was rescored, C moved)", got)
	}
	churn := sig["churn"].([]any)
	if len(churn) != 1 || churn[0].(map[string]any)["title"] != "C" || churn[0].(map[string]any)["moves"] != 3.0 {
		t.Errorf("churn %v, want C with 3 moves", churn)
	}

	// November: diff against October cites the decisions behind each row.
	november := l.must(201, "POST", "/v1/reviews", map[string]any{"period": "2026-11", "title": "November board"})
	nov := november["id"].(string)
	checkProblem(t, l.do("POST", "/v1/reviews", map[string]any{"period": "2026-11"}), 409)
	l.must(200, "POST", "/v1/reviews/"+nov+"/close", map[string]any{})
	diff := l.must(200, "GET", "/v1/reviews/"+nov+"/diff?against="+oct, nil)
	rows := func(kind string) string {
		out := ""
		for _, r := range diff[kind].([]any) {
			row := r.(map[string]any)
			out += fmt.Sprintf("%s%v ", row["title"], row["decisions"])
		}
		return out
	}
	nov0 := decode(t, l.do("GET", "/v1/reviews/"+nov, nil).Body)
	if got, want := rows("removed"), fmt.Sprintf("B[%v] ", frozenAt+2); got != want {
		t.Errorf("removed: %q, want %q", got, want)
	}
	if got, want := rows("added"), fmt.Sprintf("D[%v] ", frozenAt+4); got != want {
		t.Errorf("added: %q, want %q", got, want)
	}
	if got := rows("moved") + rows("rescored"); got != "" {
		t.Errorf("moved and rescored: %q, want none", got)
	}
	if got := len(nov0["decisions"].([]any)); got != 2 {
		t.Errorf("November decisions: %d, want 2 (B removed, D prioritised)", got)
	}
	if nov0["since_sequence"] != frozenAt {
		t.Errorf("November since %v, want October's %v", nov0["since_sequence"], frozenAt)
	}

	list := l.must(200, "GET", "/v1/reviews", nil)["reviews"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["period"] != "2026-11" {
		t.Errorf("reviews list %v, want November then October", list)
	}

	// A snapshot rebuilt from the log after a restart is the same JSON.
	before := l.do("GET", "/v1/reviews/"+oct, nil).Body
	l.stop()
	l = startLedgerIn(t, dir)
	if after := l.do("GET", "/v1/reviews/"+oct, nil).Body; !bytes.Equal(before, after) {
		t.Errorf("snapshot after restart differs:\nbefore %s\nafter  %s", before, after)
	}
}

func TestReviewRequestsAreChecked(t *testing.T) {
	l := startLedger(t)
	r := l.must(201, "POST", "/v1/reviews", map[string]any{"period": nextMonth()})["id"].(string)
	const unknown = "01234567-89ab-7def-8123-456789abcdef"
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"a period that is not a month", "POST", "/v1/reviews", map[string]any{"period": "2026-13"}, 422},
		{"a period as a quarter", "POST", "/v1/reviews", map[string]any{"period": "2026-Q4"}, 422},
		{"an unknown field", "POST", "/v1/reviews", map[string]any{"period": "2026-10", "chair": "x"}, 400},
		{"the first month there is", "POST", "/v1/reviews", map[string]any{"period": "0001-01"}, 422},
		{"the last month there is", "POST", "/v1/reviews", map[string]any{"period": "9999-12"}, 422},
		{"the month after next", "POST", "/v1/reviews", map[string]any{"period": monthAfter(2)}, 422},
		{"cancelling an unknown review", "POST", "/v1/reviews/" + unknown + "/cancel", map[string]any{"rationale": "r"}, 404},
		{"cancelling without a rationale", "POST", "/v1/reviews/" + r + "/cancel", map[string]any{}, 422},
		{"cancelling with a blank rationale", "POST", "/v1/reviews/" + r + "/cancel", map[string]any{"rationale": " "}, 422},
		{"cancelling with an unknown field", "POST", "/v1/reviews/" + r + "/cancel", map[string]any{"rationale": "r", "notes": "n"}, 400},
		{"an unknown review", "GET", "/v1/reviews/" + unknown, nil, 404},
		{"closing an unknown review", "POST", "/v1/reviews/" + unknown + "/close", map[string]any{}, 404},
		{"a diff without against", "GET", "/v1/reviews/" + r + "/diff", nil, 400},
		{"a diff against an unknown review", "GET", "/v1/reviews/" + r + "/diff?against=" + unknown, nil, 404},
		{"a list with a query", "GET", "/v1/reviews?period=2026-09", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := l.messages()
			checkProblem(t, l.do(tc.method, tc.path, tc.body), tc.status)
			if got := l.messages(); got != before {
				t.Errorf("appended: %d events, want %d", got, before)
			}
		})
	}
}

// TestAReviewPeriodCannotBeSquatted: an editor may open a review only for a
// month of the ledger, and an admin may cancel an open review, with a
// rationale, to free its month.
func TestAReviewPeriodCannotBeSquatted(t *testing.T) {
	l := startLedger(t)
	editor := bearer(l.token("pm editor", "editor"))

	before := l.messages()
	for _, period := range []string{"9999-12", "0001-01"} {
		p := checkProblem(t, l.do("POST", "/v1/reviews", map[string]any{"period": period}, editor...), 422)
		errs, _ := p["errors"].([]any)
		if len(errs) != 1 || !strings.Contains(fmt.Sprint(errs[0]), "from "+thisMonth()) || !strings.Contains(fmt.Sprint(errs[0]), "to "+nextMonth()) {
			t.Errorf("opening %s: errors %v, want one naming the range %s to %s", period, p["errors"], thisMonth(), nextMonth())
		}
	}
	if got := l.messages(); got != before {
		t.Errorf("refused openings appended %d events", got-before)
	}

	period := nextMonth()
	first := l.must(201, "POST", "/v1/reviews", map[string]any{"period": period}, editor...)["id"].(string)
	checkProblem(t, l.do("POST", "/v1/reviews", map[string]any{"period": period}, editor...), 409)

	before = l.messages()
	checkProblem(t, l.do("POST", "/v1/reviews/"+first+"/cancel", map[string]any{"rationale": "mine"}, editor...), 403)
	checkProblem(t, l.do("POST", "/v1/reviews/"+first+"/cancel", map[string]any{}), 422)
	if got := l.messages(); got != before {
		t.Errorf("refused cancellations appended %d events", got-before)
	}

	cancelled := l.must(200, "POST", "/v1/reviews/"+first+"/cancel",
		map[string]any{"rationale": "Opened for the wrong month", "evidence": []string{"https://example.com/minutes"}}, as, "ceo@example.com")
	if cancelled["status"] != "cancelled" || cancelled["closed_at"] != nil || cancelled["sequence"] != nil || cancelled["version"] != float64(before+1) {
		t.Errorf("the cancelled review is %v", cancelled)
	}
	checkProblem(t, l.do("POST", "/v1/reviews/"+first+"/cancel", map[string]any{"rationale": "again"}), 409)
	checkProblem(t, l.do("POST", "/v1/reviews/"+first+"/close", map[string]any{}), 409)

	// The month is free again; the cancelled review stays listed as such.
	second := l.must(201, "POST", "/v1/reviews", map[string]any{"period": period}, editor...)["id"].(string)
	list := l.must(200, "GET", "/v1/reviews", nil)["reviews"].([]any)
	statuses := map[string]any{}
	for _, r := range list {
		statuses[r.(map[string]any)["id"].(string)] = r.(map[string]any)["status"]
	}
	if len(list) != 2 || statuses[first] != "cancelled" || statuses[second] != "open" {
		t.Errorf("the reviews are %v, want the first cancelled and the second open", list)
	}
	if snap := l.must(200, "GET", "/v1/reviews/"+first, nil); snap["status"] != "cancelled" {
		t.Errorf("the cancelled review's snapshot is %v", snap["status"])
	}

	// The audit trail shows the cancellation with its why.
	trail := l.must(200, "GET", "/v1/audit?type=review.cancelled", nil)["events"].([]any)
	if len(trail) != 1 {
		t.Fatalf("the audit trail has %d cancellations, want 1: %v", len(trail), trail)
	}
	e := trail[0].(map[string]any)
	if e["aggregate_id"] != first || e["actor"] != "ceo@example.com" || e["rationale"] != "Opened for the wrong month" ||
		fmt.Sprint(e["evidence"]) != "[https://example.com/minutes]" {
		t.Errorf("the cancellation in the audit trail is %v", e)
	}

	// A closed review cannot be cancelled.
	l.must(200, "POST", "/v1/reviews/"+second+"/close", map[string]any{})
	before = l.messages()
	checkProblem(t, l.do("POST", "/v1/reviews/"+second+"/cancel", map[string]any{"rationale": "too late"}), 409)
	if got := l.messages(); got != before {
		t.Errorf("cancelling a closed review appended %d events", got-before)
	}
}
