package api_test

import (
	"testing"
)

func flagKinds(t *testing.T, item map[string]any) []string {
	t.Helper()
	var kinds []string
	for _, f := range item["flags"].([]any) {
		kinds = append(kinds, f.(map[string]any)["kind"].(string))
	}
	return kinds
}

func TestADecisionOverCapacityIsAcceptedAndFlagged(t *testing.T) {
	l := startLedger(t)
	checkProblem(t, l.do("PUT", "/v1/products/web/capacity", map[string]any{"now": -1}), 422)
	set := l.must(200, "PUT", "/v1/products/web/capacity", map[string]any{"now": 10, "next": 20})
	if set["capacity"].(map[string]any)["now"] != float64(10) || set["capacity"].(map[string]any)["later"] != nil {
		t.Errorf("capacity %v", set)
	}
	a := l.must(201, "POST", "/v1/items", map[string]any{"title": "A", "kind": "idea", "product": "web", "effort": 6})["id"].(string)
	b := l.must(201, "POST", "/v1/items", map[string]any{"title": "B", "kind": "idea", "product": "web", "effort": 5})["id"].(string)
	first := l.must(200, "POST", "/v1/items/"+a+"/prioritise", map[string]any{"horizon": "now", "rationale": "fits"})
	if len(flagKinds(t, first)) != 0 {
		t.Errorf("6 of 10 is flagged: %v", first["flags"])
	}
	n := l.messages()
	second := l.must(200, "POST", "/v1/items/"+b+"/prioritise", map[string]any{"horizon": "now", "rationale": "squeeze it in"})
	if l.messages() != n+1 {
		t.Errorf("the decision over capacity was not recorded")
	}
	if kinds := flagKinds(t, second); len(kinds) != 1 || kinds[0] != "over-capacity" {
		t.Fatalf("flags %v, want over-capacity", second["flags"])
	}
	row := second["flags"].([]any)[0].(map[string]any)["capacity"].(map[string]any)
	if row["committed"] != float64(11) || row["capacity"] != float64(10) || row["horizon"] != "now" {
		t.Errorf("capacity row %v", row)
	}
	got := l.must(200, "GET", "/v1/products/web/capacity", nil)
	if got["committed"].(map[string]any)["now"] != float64(11) || len(got["over"].([]any)) != 1 {
		t.Errorf("capacity %v", got)
	}
	// Re-estimating brings it back under.
	back := l.must(200, "POST", "/v1/items/"+b+"/reprioritise", map[string]any{"effort": 4, "rationale": "smaller cut"})
	if len(flagKinds(t, back)) != 0 || back["effort"] != float64(4) {
		t.Errorf("after re-estimating: %v", back)
	}
}

func TestRemovingADependencyIsFlagged(t *testing.T) {
	l := startLedger(t)
	platform := l.must(201, "POST", "/v1/items", map[string]any{"title": "Platform", "kind": "initiative"})["id"].(string)
	feature := l.must(201, "POST", "/v1/items", map[string]any{"title": "Feature", "kind": "idea", "depends_on": []string{platform}, "risks": []string{"vendor lock-in"}})["id"].(string)
	checkProblem(t, l.do("POST", "/v1/items", map[string]any{"title": "X", "kind": "idea", "depends_on": []string{"01a2061d-0000-7000-8000-000000000000"}}), 409)
	l.must(200, "POST", "/v1/items/"+platform+"/prioritise", map[string]any{"horizon": "now", "rationale": "foundation"})
	ok := l.must(200, "POST", "/v1/items/"+feature+"/prioritise", map[string]any{"horizon": "next", "rationale": "after the platform"})
	if len(flagKinds(t, ok)) != 0 {
		t.Errorf("a dependency ahead is flagged: %v", ok["flags"])
	}
	// Deprioritising the platform behind the feature that needs it.
	moved := l.must(200, "POST", "/v1/items/"+platform+"/reprioritise", map[string]any{"horizon": "later", "rationale": "budget"})
	if kinds := flagKinds(t, moved); len(kinds) != 1 || kinds[0] != "dependency" {
		t.Fatalf("flags %v, want dependency", moved["flags"])
	}
	removed := l.must(200, "POST", "/v1/items/"+platform+"/remove", map[string]any{"rationale": "cut"})
	dep := removed["flags"].([]any)[0].(map[string]any)["dependency"].(map[string]any)
	if dep["item_id"] != feature || dep["depends_on"] != platform || dep["dependency_status"] != "removed" {
		t.Errorf("dependency flag %v", dep)
	}
	// The item that depends shows it too, and its risks.
	f := l.must(200, "GET", "/v1/items/"+feature, nil)
	if kinds := flagKinds(t, f); len(kinds) != 1 || f["risks"].([]any)[0] != "vendor lock-in" || f["depends_on"].([]any)[0] != platform {
		t.Errorf("feature %v", f)
	}
}
