package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/web"
)

// The audit page takes its days as the API's audit trail takes them: an
// event decided on the last day that the log holds after one decided just
// past midnight is on the page, and the one past midnight is not; from the
// next day on, only that one is.
func TestTheAuditPageTakesItsDaysAsTheAPIDoes(t *testing.T) {
	clk := &clock{now: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)}
	a, ctx := apptest.Open(t, app.Config{BootstrapToken: bootstrap, Approvals: roadmap.ApprovalsOff, Now: clk.Now})
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	auditor, err := a.Ledger.CreateToken(ctx, ledger.Request{Actor: "bootstrap"}, roadmap.CreateToken{Name: "auditor", Role: roadmap.RoleAuditor})
	if err != nil {
		t.Fatal(err)
	}
	define := func(actor string, at time.Time) {
		clk.now = at
		if _, err := a.Ledger.DefineObjective(ctx, ledger.Request{Actor: actor}, roadmap.DefineObjective{Title: actor, KPI: "k", Target: "t", Product: "shop"}); err != nil {
			t.Fatal(err)
		}
	}
	define("before-midnight", time.Date(2026, 10, 1, 23, 59, 0, 0, time.UTC))
	define("past-midnight", time.Date(2026, 10, 2, 0, 0, 30, 0, time.UTC))
	define("late-on-the-first", time.Date(2026, 10, 1, 23, 59, 50, 0, time.UTC)) // a clock a little behind

	page := func(query string) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/audit?"+query, nil)
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: auditor.Answer.Secret})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/audit?%s answered %d", query, res.StatusCode)
		}
		return string(body)
	}
	for _, tc := range []struct {
		query    string
		shown    []string
		notShown []string
	}{
		{"until=2026-10-01", []string{"before-midnight", "late-on-the-first"}, []string{"past-midnight"}},
		{"since=2026-10-02", []string{"past-midnight"}, []string{"before-midnight", "late-on-the-first"}},
	} {
		body := page(tc.query)
		for _, actor := range tc.shown {
			if !strings.Contains(body, actor) {
				t.Errorf("/audit?%s does not show the event of %s", tc.query, actor)
			}
		}
		for _, actor := range tc.notShown {
			if strings.Contains(body, actor) {
				t.Errorf("/audit?%s shows the event of %s", tc.query, actor)
			}
		}
	}
}
