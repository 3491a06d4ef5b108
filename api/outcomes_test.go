package api_test

import (
	"sync"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
)

// setClock is a ledger clock a test sets: every decision is recorded at
// the time it says.
type setClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *setClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *setClock) Set(at string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := time.Parse("2006-01-02 15:04", at)
	if err != nil {
		panic(err)
	}
	c.now = t
}

// TestRoadmapMetricsByHand: four items into now in November, two
// delivered (after 8.5 and 17 days), one removed; the figures are worked
// out by hand.
func TestRoadmapMetricsByHand(t *testing.T) {
	clock := &setClock{}
	clock.Set("2026-10-01 00:00")
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Now: clock.Now})
	o := l.objective("Activation")
	ids := map[string]string{}
	for _, name := range []string{"A", "B", "C"} {
		ids[name] = l.item(name, o)
	}
	ids["D"] = l.item("D")
	for i, name := range []string{"A", "B", "C", "D"} {
		clock.Set("2026-11-0" + string(rune('2'+i)) + " 00:00")
		l.must(200, "POST", "/v1/items/"+ids[name]+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"})
	}
	clock.Set("2026-11-10 12:00")
	l.must(200, "POST", "/v1/items/"+ids["A"]+"/deliver", map[string]any{"rationale": "shipped"})
	clock.Set("2026-11-15 00:00")
	l.must(200, "POST", "/v1/items/"+ids["C"]+"/remove", map[string]any{"rationale": "dropped"})
	clock.Set("2026-11-20 00:00")
	l.must(200, "POST", "/v1/items/"+ids["B"]+"/deliver", map[string]any{"rationale": "shipped"})

	got := l.must(200, "GET", "/v1/metrics/roadmap?from=2026-11-01&to=2026-12-01&interval=month&product=default", nil)
	nov := got["total"].(map[string]any)
	want := map[string]any{
		"in_now": 4.0, "delivered": 2.0, "delivered_from_now": 2.0, "delivery_rate": 0.5,
		"cycle_time_days":  map[string]any{"p50": 8.5, "p90": 17.0},
		"time_in_now_days": map[string]any{"p50": 8.5, "p90": 17.0},
		"removed":          map[string]any{"total": 1.0, "from_now": 1.0},
		"items_at_end":     1.0, "unaligned_at_end": 1.0, "unaligned_share": 1.0,
		"active_objectives": 1.0, "covered_objectives": 0.0, "objective_coverage": 0.0,
		"reprioritisations": 0.0, "roadmap_items": 4.0, "churn": 0.0, "approval_time_hours": nil,
	}
	for k, v := range want {
		if jsonOf(nov[k]) != jsonOf(v) {
			t.Errorf("%s = %s, want %s", k, jsonOf(nov[k]), jsonOf(v))
		}
	}
	if periods := got["periods"].([]any); len(periods) != 1 || jsonOf(periods[0]) != jsonOf(nov) {
		t.Errorf("periods %s, want November alone, as the total", jsonOf(periods))
	}

	// December changes nothing of November, and the default range is
	// every month of the ledger.
	clock.Set("2026-12-03 00:00")
	l.must(200, "POST", "/v1/items/"+ids["D"]+"/deliver", map[string]any{"rationale": "shipped"})
	again := l.must(200, "GET", "/v1/metrics/roadmap", nil)
	periods := again["periods"].([]any)
	if len(periods) != 3 || jsonOf(periods[1]) != jsonOf(nov) {
		t.Errorf("October to December: %d periods, November %s; want 3 and November as before", len(periods), jsonOf(periods[1]))
	}

	for _, bad := range []string{"?interval=week", "?from=2026-12-01&to=2026-11-01", "?from=November", "?product=Not+A+Slug", "?from=2000-01-01&to=2026-01-01", "?x=1"} {
		checkProblem(t, l.do("GET", "/v1/metrics/roadmap"+bad, nil), 400)
	}
}

// TestKPIMeasurementsAreRecordedAndListed records measurements, in any
// order, and refuses bad ones appending nothing.
func TestKPIMeasurementsAreRecordedAndListed(t *testing.T) {
	clock := &setClock{}
	clock.Set("2026-11-30 12:00")
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Now: clock.Now})
	o := l.objective("Onboarding")
	path := "/v1/objectives/" + o + "/measurements"
	m := l.must(201, "POST", path, map[string]any{"value": 42.5, "at": "2026-11-30T00:00:00Z", "source": "dashboard", "note": "after the launch"})
	if m["value"] != 42.5 || m["objective_id"] != o || m["recorded_by"] != "bootstrap" || m["note"] != "after the launch" {
		t.Errorf("measurement %v", m)
	}
	l.must(201, "POST", path, map[string]any{"value": 50, "at": "2026-10-31T00:00:00Z", "source": "dashboard"})
	before := l.messages()
	for name, body := range map[string]map[string]any{
		"no value":      {"at": "2026-11-01T00:00:00Z", "source": "s"},
		"no time":       {"value": 1, "source": "s"},
		"in the future": {"value": 1, "at": "2026-12-01T00:00:00Z", "source": "s"},
		"no source":     {"value": 1, "at": "2026-11-01T00:00:00Z"},
		"blank source":  {"value": 1, "at": "2026-11-01T00:00:00Z", "source": "  "},
	} {
		if res := l.do("POST", path, body); res.Status != 422 {
			t.Errorf("%s: %d, want 422: %s", name, res.Status, res.Body)
		}
	}
	checkProblem(t, l.do("POST", path, map[string]any{"value": "many", "at": "2026-11-01T00:00:00Z", "source": "s"}), 422)
	checkProblem(t, l.do("POST", "/v1/objectives/0193a5c4-6f00-7a2b-8c3d-4e5f60718293/measurements", map[string]any{"value": 1, "at": "2026-11-01T00:00:00Z", "source": "s"}), 404)
	if after := l.messages(); after != before {
		t.Errorf("refused measurements appended %d events", after-before)
	}
	list := l.must(200, "GET", path, nil)["measurements"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["value"] != 50.0 || list[1].(map[string]any)["value"] != 42.5 {
		t.Errorf("measurements %s, want October's then November's", jsonOf(list))
	}
}

// TestAReviewsOutcomesAgainstThePreviousReview reads November's review
// beside October's: each month's figures, as the metrics route gives them.
func TestAReviewsOutcomesAgainstThePreviousReview(t *testing.T) {
	clock := &setClock{}
	clock.Set("2026-10-01 00:00")
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Now: clock.Now})
	a, b := l.item("A"), l.item("B")
	clock.Set("2026-10-05 00:00")
	l.must(200, "POST", "/v1/items/"+a+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"})
	clock.Set("2026-10-10 00:00")
	l.must(200, "POST", "/v1/items/"+a+"/deliver", map[string]any{"rationale": "shipped"})
	clock.Set("2026-10-31 00:00")
	october := l.must(201, "POST", "/v1/reviews", map[string]any{"period": "2026-10"})["id"].(string)
	first := l.must(200, "GET", "/v1/reviews/"+october+"/outcomes", nil)
	if first["previous"] != nil {
		t.Errorf("a first review compares with %v, want nothing", first["previous"])
	}
	l.must(200, "POST", "/v1/reviews/"+october+"/close", map[string]any{"notes": "ok"})
	clock.Set("2026-11-02 00:00")
	l.must(200, "POST", "/v1/items/"+b+"/prioritise", map[string]any{"horizon": "now", "rationale": "r"})
	clock.Set("2026-11-04 00:00")
	l.must(200, "POST", "/v1/items/"+b+"/remove", map[string]any{"rationale": "dropped"})
	clock.Set("2026-11-30 00:00")
	november := l.must(201, "POST", "/v1/reviews", map[string]any{"period": "2026-11"})["id"].(string)

	got := l.must(200, "GET", "/v1/reviews/"+november+"/outcomes", nil)
	nov := got["figures"].(map[string]any)
	prev := got["previous"].(map[string]any)
	if prev["review_id"] != october || prev["period"] != "2026-10" {
		t.Fatalf("previous %v, want October's review", prev)
	}
	oct := prev["figures"].(map[string]any)
	if oct["delivered"] != 1.0 || jsonOf(oct["cycle_time_days"]) != `{"p50":5,"p90":5}` || nov["delivered"] != 0.0 || jsonOf(nov["removed"]) != `{"from_now":1,"total":1}` {
		t.Errorf("October %s, November %s", jsonOf(oct), jsonOf(nov))
	}
	for month, want := range map[string]map[string]any{"from=2026-10-01&to=2026-11-01": oct, "from=2026-11-01&to=2026-12-01": nov} {
		if total := l.must(200, "GET", "/v1/metrics/roadmap?"+month, nil)["total"]; jsonOf(total) != jsonOf(want) {
			t.Errorf("%s: the metrics route says %s, the review %s", month, jsonOf(total), jsonOf(want))
		}
	}
}
