package api_test

import (
	"strings"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// TestThePackShowsDeliveryCommitmentsAndPendingChanges scripts a month with
// a delivery, a product over its capacity, a dependency left behind, a
// risk and a change waiting for approval, and reads each in its section of
// the Markdown pack.
func TestThePackShowsDeliveryCommitmentsAndPendingChanges(t *testing.T) {
	l := startLedgerWith(t, app.Config{DataDir: t.TempDir(), Approvals: roadmap.ApprovalsMajor})
	approve := func(change map[string]any) {
		l.must(200, "POST", "/v1/changes/"+change["id"].(string)+"/approve", map[string]any{"rationale": "agreed"}, as, "chair")
	}
	l.must(200, "PUT", "/v1/products/web/capacity", map[string]any{"now": 5})
	platform := l.must(201, "POST", "/v1/items", map[string]any{"title": "Platform", "kind": "initiative", "product": "web", "effort": 3})["id"].(string)
	feature := l.must(201, "POST", "/v1/items", map[string]any{"title": "Feature", "kind": "idea", "product": "web", "effort": 4,
		"depends_on": []string{platform}, "risks": []string{"Vendor API | beta"}})["id"].(string)
	shipped := l.must(201, "POST", "/v1/items", map[string]any{"title": "Shipped thing", "kind": "idea", "product": "web"})["id"].(string)
	approve(l.must(202, "POST", "/v1/items/"+platform+"/prioritise", map[string]any{"horizon": "now", "rationale": "base"}))
	approve(l.must(202, "POST", "/v1/items/"+feature+"/prioritise", map[string]any{"horizon": "now", "rationale": "on top"}))
	l.must(200, "POST", "/v1/items/"+shipped+"/prioritise", map[string]any{"horizon": "next", "rationale": "small"})
	l.must(200, "POST", "/v1/items/"+shipped+"/deliver", map[string]any{"rationale": "released in 4.2", "evidence": []string{"https://example.com/4.2"}})
	// Out of now needs approval; it stays pending over the close.
	l.must(202, "POST", "/v1/items/"+platform+"/reprioritise", map[string]any{"horizon": "later", "rationale": "budget cut"})
	review := l.must(201, "POST", "/v1/reviews", map[string]any{"period": nextMonth()})["id"].(string)
	l.must(200, "POST", "/v1/reviews/"+review+"/close", map[string]any{}, as, "chair")

	res := l.do("GET", "/v1/reviews/"+review+"/pack", nil, "Accept", "text/markdown")
	if res.Status != 200 {
		t.Fatalf("pack: %d %s", res.Status, res.Body)
	}
	_, sections := mdSections(string(res.Body))
	find := func(prefix string) string {
		for h, body := range sections {
			if strings.Contains(h, prefix) {
				return body
			}
		}
		t.Fatalf("no section %q in %s", prefix, res.Body)
		return ""
	}
	for _, c := range []struct{ section, want string }{
		{"Progress", "Shipped thing"},
		{"Progress", "released in 4.2"},
		{"Capacity", "| web | now | 5 | 7 |"},
		{"Risks", `Vendor API \| beta`},
		{"Risks", "Feature"},
		{"Pending", "a reprioritisation out of now (to later)"},
		{"Pending", "budget cut"},
	} {
		if body := find(c.section); !strings.Contains(body, c.want) {
			t.Errorf("section %s lacks %q:\n%s", c.section, c.want, body)
		}
	}
}
