package web_test

import (
	"context"
	"log/slog"

	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/app/apptest"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/web"
)

// site is a whole ledger (embedded JetStream in a temporary directory, the
// read models, the API and the web app) behind a real HTTP server on
// 127.0.0.1, with major changes held for approval as serve holds them.
type site struct {
	t   *testing.T
	URL string
	App *app.App
	ctx context.Context
	// secrets are the tokens' secrets by role: each token is named after
	// its role ("editor", "approver", ...).
	secrets map[roadmap.Role]string
	// items are the ids of the seeded items by title.
	items map[string]string
	// clock is the ledger's clock; objective the seeded objective's id;
	// logs what the ledger logged.
	clock     *clock
	objective string
	logs      *syncBuffer
}

const bootstrap = "Vq3cT8nEw2LkS9pXr4ZbY7hJ1mDfG6aH5uQ0oIy"

// hostileTitle is an item title holding markup, which every page must show
// as text.
const hostileTitle = `<img src=x onerror="document.title='owned'"><b>Bold claim</b>`

// clock is the ledger's clock in the tests: it starts on 2026-10-20 and
// moves on a day whenever a test says so, so time travel has days to go
// back to.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// openSite starts the ledger and seeds it: an objective, and items in
// Now (Checkout), Next (Search, Export, and one titled with markup) and
// Later (Dark mode), all in the product "shop"; Search and Export were
// placed a day later than Checkout.
func openSite(t *testing.T) *site {
	t.Helper()
	clk := &clock{now: time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{}
	a, ctx := apptest.Open(t, app.Config{BootstrapToken: bootstrap, Approvals: roadmap.ApprovalsMajor, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	s := &site{t: t, URL: srv.URL, App: a, ctx: ctx, secrets: map[roadmap.Role]string{}, items: map[string]string{}, clock: clk, logs: logs}
	admin := ledger.Request{Actor: "bootstrap"}
	for _, role := range []roadmap.Role{roadmap.RoleViewer, roadmap.RoleEditor, roadmap.RoleApprover, roadmap.RoleAuditor} {
		res, err := a.Ledger.CreateToken(ctx, admin, roadmap.CreateToken{Name: string(role), Role: role})
		if err != nil {
			t.Fatalf("make the %s token: %v", role, err)
		}
		s.secrets[role] = res.Answer.Secret
	}
	obj, err := a.Ledger.DefineObjective(ctx, ledger.Request{Actor: "seed"}, roadmap.DefineObjective{
		Title: "Grow repeat orders", KPI: "orders per customer", Target: "+10% by Q2",
	})
	if err != nil {
		t.Fatalf("define an objective: %v", err)
	}
	s.objective = obj.Answer.ID
	s.place("Checkout", roadmap.Now, obj.Answer.ID)
	clk.now = clk.now.Add(24 * time.Hour)
	s.place("Search", roadmap.Next, obj.Answer.ID)
	s.place("Export", roadmap.Next, "")
	s.place(hostileTitle, roadmap.Next, "")
	s.place("Dark mode", roadmap.Later, "")
	clk.now = clk.now.Add(24 * time.Hour)
	return s
}

// place proposes an item and puts it on the roadmap in h, approving the
// change when it is held.
func (s *site) place(title string, h roadmap.Horizon, objective string) {
	s.t.Helper()
	seed := ledger.Request{Actor: "seed"}
	cmd := roadmap.ProposeItem{Title: title, Product: "shop"}
	if objective != "" {
		cmd.ObjectiveIDs = []string{objective}
	}
	item, err := s.App.Ledger.ProposeItem(s.ctx, seed, cmd)
	if err != nil {
		s.t.Fatalf("propose %q: %v", title, err)
	}
	id := item.Answer.Item.ID
	score := &roadmap.Score{Framework: roadmap.FrameworkMoSCoW, Category: "must"}
	res, err := s.App.Ledger.Prioritise(s.ctx, seed, id, roadmap.Prioritise{Horizon: h, Score: score, Rationale: "Seeded for " + string(h)})
	if err != nil {
		s.t.Fatalf("prioritise %q: %v", title, err)
	}
	if held := res.Answer.Held; held != nil {
		if _, err := s.App.Ledger.ApproveChange(s.ctx, ledger.Request{Actor: "seed approver"}, held.ID, roadmap.DecideChange{Rationale: "Seeded"}); err != nil {
			s.t.Fatalf("approve %q: %v", title, err)
		}
	}
	s.items[title] = id
}

// horizonOf is where an item stands in the read model: its horizon and
// rank, or its status off the roadmap.
func (s *site) horizonOf(title string) string {
	v, ok := s.App.Current.ItemView(s.items[title])
	if !ok {
		s.t.Fatalf("no item %q", title)
	}
	if v.Status != roadmap.StatusOnRoadmap {
		return string(v.Status)
	}
	return string(v.Horizon) + " " + string(rune('0'+v.Rank))
}

// card is the CSS selector of an item's card on the board.
func (s *site) card(title string) string { return `li.card[data-id="` + s.items[title] + `"]` }

// post sends a form as a browser would from the ledger's own page, with
// the session cookie of secret.
func (s *site) post(path, secret string, form url.Values, headers map[string]string) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// TestSignInAndTheBoard signs in as an editor, as a person would, and
// reads the board: its columns in order with their cards, a card's score,
// objective and last decision; the cookie is out of the scripts' reach; the
// page passes axe-core; signing out ends the session.
func TestSignInAndTheBoard(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	run(t, ctx, "open the board", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	checkAccessible(t, ctx, "the sign-in page")
	run(t, ctx, "sign in with a wrong token",
		chromedp.SendKeys(chromedp.CSS(`#token`), "rlt_wrong"),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.problem`)))
	if got := text(t, ctx); !strings.Contains(got, "not known to this ledger") {
		t.Errorf("a wrong token: the page says %q, want why it cannot sign in", got)
	}
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleEditor])

	columns := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".column h2"), h => h.firstChild.textContent.trim())`)
	if strings.Join(columns, ",") != "Now,Next,Later" {
		t.Errorf("columns %q, want Now, Next, Later", columns)
	}
	next := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('ol[data-horizon="next"] li.card h3'), h => h.textContent)`)
	if strings.Join(next, "|") != "Search|Export|"+hostileTitle {
		t.Errorf("Next holds %q, want Search, Export and the title with markup, ranked", next)
	}
	checkout := eval[string](t, ctx, `document.querySelector('`+s.card("Checkout")+`').innerText`)
	for _, want := range []string{"MOSCOW 4", "Serves: Grow repeat orders", "prioritised by seed", "Seeded for now"} {
		if !strings.Contains(checkout, want) {
			t.Errorf("the Checkout card reads %q, want %q in it", checkout, want)
		}
	}
	if href := eval[string](t, ctx, `document.querySelector('`+s.card("Checkout")+` h3 a').getAttribute("href")`); href != "/items/"+s.items["Checkout"] {
		t.Errorf("the card links to %q, want the item's page", href)
	}
	if loads := eval[[]string](t, ctx, `performance.getEntriesByType("resource").map(e => new URL(e.name).pathname).filter(p => p !== "/live")`); len(loads) > 3 {
		t.Errorf("the board loaded %q after its HTML, want at most three requests", loads)
	}
	if c := eval[string](t, ctx, `document.cookie`); c != "" {
		t.Errorf("scripts read the cookies %q, want none", c)
	}
	checkAccessible(t, ctx, "the board")
	signOut(t, ctx)
	run(t, ctx, "open the board again", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
}

// TestSessionCookieAndHeaders checks the answer to a sign-in and to a page
// over plain HTTP: the cookie HttpOnly, SameSite=Strict, expiring (and not
// Secure, without TLS); the page's policy strict.
func TestSessionCookieAndHeaders(t *testing.T) {
	s := openSite(t)
	res := s.post("/signin", "", url.Values{"token": {s.secrets[roadmap.RoleViewer]}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in answered %d, want 303", res.StatusCode)
	}
	cookies := res.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("sign in set %d cookies, want 1", len(cookies))
	}
	c := cookies[0]
	if c.Name != web.SessionCookie || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge <= 0 || c.Secure {
		t.Errorf("the session cookie is %+v, want HttpOnly, SameSite=Strict, with a lifetime, not Secure over plain HTTP", c)
	}
	behindTLS := s.post("/signin", "", url.Values{"token": {s.secrets[roadmap.RoleViewer]}}, map[string]string{"X-Forwarded-Proto": "https"})
	if cs := behindTLS.Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("behind a proxy that ended TLS the cookie is %+v, want it Secure", cs)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
	req.AddCookie(c)
	page, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	csp := page.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self';", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("Content-Security-Policy %q allows something unsafe", csp)
	}
	if page.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("X-Content-Type-Options %q, want nosniff", page.Header.Get("X-Content-Type-Options"))
	}
}

// TestDragToNowApproveAndReadTheTimeline walks the main flow: an editor
// drags Search from Next to the top of Now and gives a rationale; into Now
// is a major change, so the card shows it pending; the editor cannot
// approve it; an approver approves it on the Approvals page; an auditor
// opens the item and reads the decision and its rationale in its timeline.
func TestDragToNowApproveAndReadTheTimeline(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleEditor])
	drag(t, ctx, s.card("Search")+" .meta", s.card("Checkout"))
	run(t, ctx, "the dialog opens", chromedp.WaitVisible(chromedp.CSS(`#decide`)))
	if what := eval[string](t, ctx, `document.getElementById("decide-what").textContent`); what != "Move “Search” to Now, position 1." {
		t.Errorf("the dialog asks %q, want the move to Now, position 1", what)
	}
	checkAccessible(t, ctx, "the decide dialog")
	run(t, ctx, "give a rationale and decide",
		chromedp.SendKeys(chromedp.CSS(`#decide-rationale`), "Search drives repeat orders, per the October study"),
		chromedp.SendKeys(chromedp.CSS(`#decide-evidence`), "https://example.com/study\njavascript:alert(1)"),
		chromedp.Click(chromedp.CSS(`#decide-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if got := text(t, ctx); !strings.Contains(got, "waits for a second person") {
		t.Errorf("after the drag the page says %q, want that the change waits for approval", got)
	}
	if badge := eval[string](t, ctx, `(document.querySelector('`+s.card("Search")+` .badge') || {}).textContent || ""`); !strings.Contains(badge, "Pending approval") {
		t.Errorf("the Search card's badge is %q, want Pending approval", badge)
	}
	if got := s.horizonOf("Search"); got != "next 1" {
		t.Errorf("Search stands at %s before approval, want next 1", got)
	}
	shoot(t, ctx, "board-with-a-pending-change")
	run(t, ctx, "the editor opens Approvals", chromedp.Navigate(s.URL+"/changes"), chromedp.WaitVisible(chromedp.CSS(`.change`)))
	if n := eval[int](t, ctx, `document.querySelectorAll("form.decide-change").length`); n != 0 {
		t.Errorf("the editor sees %d approval forms, want none", n)
	}
	signOut(t, ctx)

	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleApprover])
	run(t, ctx, "approve",
		chromedp.Navigate(s.URL+"/changes"),
		chromedp.WaitVisible(chromedp.CSS(`form.decide-change`)))
	checkAccessible(t, ctx, "the approvals page")
	run(t, ctx, "approve with a rationale",
		chromedp.SendKeys(chromedp.CSS(`form.decide-change textarea[name=rationale]`), "Agreed at the weekly review"),
		chromedp.Click(chromedp.CSS(`form.decide-change button[formaction$="/approve"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if got := s.horizonOf("Search"); got != "now 1" {
		t.Errorf("Search stands at %s once approved, want now 1", got)
	}
	signOut(t, ctx)

	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleAuditor])
	run(t, ctx, "open the item from its card",
		chromedp.Click(chromedp.CSS(s.card("Search")+` h3 a`)),
		chromedp.WaitVisible(chromedp.CSS(`.timeline`)))
	last := eval[string](t, ctx, `Array.from(document.querySelectorAll(".timeline .event")).pop().innerText`)
	for _, want := range []string{"reprioritised", "Next #1 → Now #1", "by approver", "Search drives repeat orders, per the October study", "https://example.com/study", "javascript:alert(1)", "hash"} {
		if !strings.Contains(last, want) {
			t.Errorf("the last event of the timeline reads %q, want %q in it", last, want)
		}
	}
	links := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".timeline .evidence a"), a => a.getAttribute("href"))`)
	if strings.Join(links, " ") != "https://example.com/study" {
		t.Errorf("the evidence links are %q, want only the https one", links)
	}
	checkAccessible(t, ctx, "the item page")
}

// TestKeyboardOnlyMove moves an item down its column with the keyboard
// alone: Tab to the card's controls, Enter to open them and to choose,
// the rationale typed, Enter to decide. Within Next it is no major change,
// so it is recorded at once.
func TestKeyboardOnlyMove(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleEditor])
	summary := s.card("Search") + ` summary`
	// Tab from the card's link to its controls.
	run(t, ctx, "reach the card's controls with Tab",
		chromedp.Focus(chromedp.CSS(s.card("Search")+` h3 a`)),
		chromedp.KeyEvent("\t"))
	if focused := eval[bool](t, ctx, `document.activeElement === document.querySelector('`+summary+`')`); !focused {
		t.Fatalf("Tab from the card's link focused %q, want its Decide control", eval[string](t, ctx, `document.activeElement.outerHTML.slice(0, 120)`))
	}
	run(t, ctx, "open the controls and choose Move down",
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(s.card("Search")+` button[data-rank="2"]`)),
		chromedp.KeyEvent("\t"),
	)
	if label := eval[string](t, ctx, `document.activeElement.textContent`); label != "Move down" {
		t.Fatalf("Tab from Decide focused %q, want Move down", label)
	}
	run(t, ctx, "decide with the keyboard",
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#decide`)))
	if focused := eval[string](t, ctx, `document.activeElement.id`); focused != "decide-rationale" {
		t.Fatalf("the dialog opened with %q focused, want the rationale", focused)
	}
	run(t, ctx, "type the rationale and send it",
		chromedp.KeyEvent("Export first: the audit needs it"),
		chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t"), // past the evidence to the submit button
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if got, want := s.horizonOf("Search")+", "+s.horizonOf("Export"), "next 2, next 1"; got != want {
		t.Errorf("Search and Export stand at %s, want %s", got, want)
	}
	if got := text(t, ctx); !strings.Contains(got, "Your decision is recorded.") {
		t.Errorf("after the move the page says %q", got)
	}
}

// TestViewerSeesNoWriteControlsAndForgedWritesAreRefused: a viewer's board
// has no control to decide with; a decision posted with a viewer's session
// anyway is refused, and so is an editor's sent from another site; nothing
// is appended.
func TestViewerSeesNoWriteControlsAndForgedWritesAreRefused(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleViewer])
	if n := eval[int](t, ctx, `document.querySelectorAll(".moves, #decide, [data-act]").length`); n != 0 {
		t.Errorf("the viewer's board has %d write controls, want none", n)
	}
	run(t, ctx, "open Approvals", chromedp.Navigate(s.URL+"/changes"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	checkAccessible(t, ctx, "the approvals page of a viewer")

	before := s.App.Current.Sequence()
	form := url.Values{"action": {"move"}, "horizon": {"later"}, "rationale": {"forged"}}
	if res := s.post("/items/"+s.items["Search"]+"/decide", s.secrets[roadmap.RoleViewer], form, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's decision answered %d, want 403", res.StatusCode)
	}
	cross := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	if res := s.post("/items/"+s.items["Search"]+"/decide", s.secrets[roadmap.RoleEditor], form, cross); res.StatusCode != http.StatusForbidden {
		t.Errorf("an editor's decision from another site answered %d, want 403", res.StatusCode)
	}
	if res := s.post("/signin", "", url.Values{"token": {s.secrets[roadmap.RoleEditor]}}, cross); res.StatusCode != http.StatusForbidden {
		t.Errorf("a sign-in from another site answered %d, want 403", res.StatusCode)
	}
	if after := s.App.Current.Sequence(); after != before {
		t.Errorf("the ledger moved from %d to %d, want nothing appended", before, after)
	}
	// A decision without a rationale is refused by the domain, with the
	// field named.
	if res := s.post("/items/"+s.items["Search"]+"/decide", s.secrets[roadmap.RoleEditor], url.Values{"action": {"move"}, "horizon": {"later"}}, nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a decision without rationale answered %d, want 422", res.StatusCode)
	}
	if after := s.App.Current.Sequence(); after != before {
		t.Errorf("the ledger moved from %d to %d, want nothing appended", before, after)
	}
}

// TestMarkupInATitleIsText: a title holding markup is shown as its text
// on the board and on the item page, and runs nothing.
func TestMarkupInATitleIsText(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleAuditor])
	card := s.card(hostileTitle)
	if got := eval[string](t, ctx, `document.querySelector('`+card+` h3').textContent`); got != hostileTitle {
		t.Errorf("the card's title reads %q, want the markup as text", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("main img, main b").length`); n != 0 {
		t.Errorf("the board has %d elements made from the title, want none", n)
	}
	run(t, ctx, "open the item", chromedp.Click(chromedp.CSS(card+` h3 a`)), chromedp.WaitVisible(chromedp.CSS(`.timeline`)))
	if got := eval[string](t, ctx, `document.querySelector("main h1").textContent`); got != hostileTitle {
		t.Errorf("the item's heading reads %q, want the markup as text", got)
	}
	if title := eval[string](t, ctx, `document.title`); title == "owned" {
		t.Error("the title's markup ran")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("main img, main b").length`); n != 0 {
		t.Errorf("the item page has %d elements made from the title, want none", n)
	}
}

// TestTimeTravelAndCompare travels back to a date and sees the board as it
// stood, by a shareable link, then compares two dates and reads what moved
// and the decision behind it.
func TestTimeTravelAndCompare(t *testing.T) {
	s := openSite(t)
	// On the 22nd, Export goes to Later.
	if _, err := s.App.Ledger.Reprioritise(s.ctx, ledger.Request{Actor: "pm"}, s.items["Export"], roadmap.Reprioritise{Horizon: roadmap.Later, Rationale: "Export waits for the audit"}); err != nil {
		t.Fatal(err)
	}
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleEditor])
	run(t, ctx, "travel to the 20th", chromedp.Navigate(s.URL+"/?as_of=2026-10-20"), chromedp.WaitVisible(chromedp.CSS(`.past`)))
	cards := func() string {
		return eval[string](t, ctx, `Array.from(document.querySelectorAll("ol.cards"), ol => ol.dataset.horizon + ":" + Array.from(ol.querySelectorAll("li.card h3"), h => h.textContent).join("+")).join(" ")`)
	}
	if got, want := cards(), "now:Checkout next: later:"; got != want {
		t.Errorf("the board on the 20th holds %q, want %q", got, want)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll(".moves, #decide").length`); n != 0 {
		t.Errorf("the board of the past has %d write controls, want none", n)
	}
	checkAccessible(t, ctx, "the board of the past")
	run(t, ctx, "travel to the 21st with the date control",
		setValues(`document.getElementById("as_of").value = "2026-10-21"; true`),
		chromedp.Click(chromedp.CSS(`form.travel button`)))
	waitFor(t, ctx, `location.search.includes("2026-10-21") && document.readyState === "complete"`)
	if got, want := cards(), "now:Checkout next:Search+Export+"+hostileTitle+" later:Dark mode"; got != want {
		t.Errorf("the board on the 21st holds %q, want %q", got, want)
	}

	run(t, ctx, "compare the 21st with the 22nd",
		chromedp.Navigate(s.URL+"/compare"),
		chromedp.WaitVisible(chromedp.CSS(`#from`)),
		setValues(`document.getElementById("from").value = "2026-10-21"; document.getElementById("to").value = "2026-10-22"; true`),
		chromedp.Click(chromedp.CSS(`form.travel button`)),
		chromedp.WaitVisible(chromedp.CSS(`#diff-moved`)))
	moved := eval[string](t, ctx, `document.querySelector('section[aria-labelledby="diff-moved"]').innerText`)
	for _, want := range []string{"Export", "Next #2 → Later #2", "reprioritised by pm", "Export waits for the audit"} {
		if !strings.Contains(moved, want) {
			t.Errorf("the moved section reads %q, want %q in it", moved, want)
		}
	}
	if added := eval[int](t, ctx, `document.querySelectorAll('section[aria-labelledby="diff-added"] li').length`); added != 0 {
		t.Errorf("%d items added between the 21st and the 22nd, want none", added)
	}
	checkAccessible(t, ctx, "the comparison")
}

// setValues runs a script that sets form fields, as a person's typing
// would; it answers true.
func setValues(script string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](script)(ctx, t)
		return err
	})
}

// TestBacklogProposeAndImportThroughThePreview proposes an item from the
// backlog page, then imports a small CSV file: the preview is a dry run
// that records nothing and says what the import would do, and importing
// it records the rows.
func TestBacklogProposeAndImportThroughThePreview(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleEditor])
	run(t, ctx, "open the backlog", chromedp.Navigate(s.URL+"/backlog"), chromedp.WaitVisible(chromedp.CSS(`#p-title`)))
	checkAccessible(t, ctx, "the backlog")
	run(t, ctx, "propose an item",
		chromedp.SendKeys(chromedp.CSS(`#p-title`), "Saved carts"),
		chromedp.SendKeys(chromedp.CSS(`#p-product`), "shop"),
		chromedp.Click(chromedp.CSS(`form[action="/items"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if h1 := eval[string](t, ctx, `document.querySelector("main h1").textContent`); h1 != "Saved carts" {
		t.Errorf("after proposing, the page is %q, want the new item's", h1)
	}

	file := filepath.Join(t.TempDir(), "backlog.csv")
	if err := os.WriteFile(file, []byte("title,product,kind\nBulk export,shop,idea\nAudit log,shop,initiative\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "preview the import",
		chromedp.Navigate(s.URL+"/backlog"),
		chromedp.WaitVisible(chromedp.CSS(`#i-file`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#i-file`), []string{file}))
	before := s.App.Current.Sequence()
	run(t, ctx, "send it", chromedp.Click(chromedp.CSS(`form[action="/imports/preview"] button`)))
	waitFor(t, ctx, `location.pathname === "/imports/preview" && document.readyState === "complete"`)
	if got := text(t, ctx); !strings.Contains(got, "would create 2, update 0") || !strings.Contains(got, "Bulk export") {
		t.Errorf("the preview reads %q, want 2 items to create, listed", got)
	}
	if after := s.App.Current.Sequence(); after != before {
		t.Errorf("the preview moved the ledger from %d to %d, want nothing recorded", before, after)
	}
	checkAccessible(t, ctx, "the import preview")
	run(t, ctx, "import", chromedp.Click(chromedp.CSS(`form[action="/imports"] button`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if got := text(t, ctx); !strings.Contains(got, "Imported: 2 created, 0 updated, 0 unchanged.") || !strings.Contains(got, "Audit log") {
		t.Errorf("after the import the backlog reads %q", got)
	}
	run(t, ctx, "search the backlog",
		chromedp.SendKeys(chromedp.CSS(`#f-q`), "audit"),
		chromedp.Click(chromedp.CSS(`form.filters button`)))
	waitFor(t, ctx, `location.search.includes("q=audit") && document.readyState === "complete"`)
	if rows := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".items tbody td:first-child a"), a => a.textContent)`); strings.Join(rows, ",") != "Audit log" {
		t.Errorf("searching for audit lists %q, want Audit log", rows)
	}
}

// TestOpenAndCloseAReviewThenOpenItsPack opens a review, reads its agenda,
// closes it as an approver and opens its pack, the standalone HTML
// document, from its page.
func TestOpenAndCloseAReviewThenOpenItsPack(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleApprover])
	run(t, ctx, "open a review",
		chromedp.Navigate(s.URL+"/reviews"),
		chromedp.WaitVisible(chromedp.CSS(`#r-title`)),
		chromedp.SendKeys(chromedp.CSS(`#r-title`), "October board"),
		chromedp.Click(chromedp.CSS(`form[action="/reviews"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#close-notes`)))
	agenda := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".agenda a"), a => a.textContent)`)
	if len(agenda) != 9 || agenda[0] != "Goals" || agenda[7] != "Diff against the previous review" || agenda[8] != "Figures against the previous review" {
		t.Errorf("the agenda reads %q, want the pack's nine sections", agenda)
	}
	if got := eval[string](t, ctx, `document.getElementById("goals").innerText`); !strings.Contains(got, "Grow repeat orders") || !strings.Contains(got, "Checkout") {
		t.Errorf("the goals read %q, want the objective and the items serving it", got)
	}
	checkAccessible(t, ctx, "an open review")
	run(t, ctx, "close it",
		chromedp.SendKeys(chromedp.CSS(`#close-notes`), "Agreed: search first"),
		chromedp.Click(chromedp.CSS(`form[action$="/close"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if n := eval[int](t, ctx, `document.querySelectorAll("#close-notes").length`); n != 0 {
		t.Error("a closed review still offers to close it")
	}
	run(t, ctx, "open its pack", chromedp.Click(chromedp.CSS(`a[href$="/pack"]`)))
	waitFor(t, ctx, `location.pathname.endsWith("/pack") && document.readyState === "complete"`)
	if title := eval[string](t, ctx, `document.title`); title != "October board · governance review pack" {
		t.Errorf("the pack is titled %q", title)
	}
	if got := text(t, ctx); !strings.Contains(got, "Agreed: search first") {
		t.Errorf("the pack does not show the notes of the meeting: %q", got)
	}
	run(t, ctx, "list the reviews", chromedp.Navigate(s.URL+"/reviews"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	checkAccessible(t, ctx, "the reviews")

	// The next month's review, open, compared with October's: Dark mode
	// moved since.
	october := eval[string](t, ctx, `document.querySelector(".changes a").getAttribute("href").split("/").pop()`)
	if _, err := s.App.Ledger.Reprioritise(s.ctx, ledger.Request{Actor: "pm"}, s.items["Dark mode"], roadmap.Reprioritise{Horizon: roadmap.Next, Rationale: "Customers ask for it daily"}); err != nil {
		t.Fatal(err)
	}
	november, err := s.App.Ledger.OpenReview(s.ctx, ledger.Request{Actor: "pm"}, roadmap.OpenReview{Period: "2026-11", Title: "November board"})
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "compare the two reviews",
		chromedp.Navigate(s.URL+"/compare?against="+october+"&review="+november.Answer.ID),
		chromedp.WaitVisible(chromedp.CSS(`#diff-moved`)))
	if got := eval[string](t, ctx, `document.querySelector('section[aria-labelledby="diff-moved"]').innerText`); !strings.Contains(got, "Dark mode") || !strings.Contains(got, "Customers ask for it daily") {
		t.Errorf("the reviews' moved section reads %q, want Dark mode and the rationale of its move", got)
	}
}

// TestObjectivesAndAudit reads the objectives page and, as an auditor,
// the audit page: its filters, its verification state and a download of
// the filtered trail in CSV, which is the API's own rendering. An editor
// is refused the audit page.
func TestObjectivesAndAudit(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleAuditor])
	run(t, ctx, "open the objectives", chromedp.Navigate(s.URL+"/objectives"), chromedp.WaitVisible(chromedp.CSS(`.objective`)))
	objective := eval[string](t, ctx, `document.querySelector(".objective").innerText`)
	for _, want := range []string{"Grow repeat orders", "target +10% by Q2", "Now: Checkout", "Next: Search"} {
		if !strings.Contains(objective, want) {
			t.Errorf("the objective reads %q, want %q in it", objective, want)
		}
	}
	if got := eval[string](t, ctx, `document.querySelector('section[aria-labelledby="h-unaligned"]').innerText`); !strings.Contains(got, "Export") || !strings.Contains(got, "Dark mode") {
		t.Errorf("the unaligned items read %q, want Export and Dark mode", got)
	}
	checkAccessible(t, ctx, "the objectives")

	run(t, ctx, "open the audit page filtered by actor",
		chromedp.Navigate(s.URL+"/audit?actor=seed+approver"),
		chromedp.WaitVisible(chromedp.CSS(`#verify-title`)))
	events := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".timeline .event .head strong"), s => s.textContent)`)
	if strings.Join(events, ",") != "item.prioritised,change.approved" {
		t.Errorf("the seed approver's events are %q, want the approval and the decision it recorded", events)
	}
	if key := eval[string](t, ctx, `document.getElementById("verify-title").parentElement.innerText`); !strings.Contains(key, s.App.VerifierKey) {
		t.Errorf("the verification state does not show the verifier key: %q", key)
	}
	checkAccessible(t, ctx, "the audit page")

	req, _ := http.NewRequest(http.MethodGet, s.URL+"/audit/download?format=csv&actor=seed+approver", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: s.secrets[roadmap.RoleAuditor]})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || strings.Count(string(body), "\n") != 3 {
		t.Errorf("the CSV download answered %d %s:\n%s\nwant a header and two rows", res.StatusCode, res.Header.Get("Content-Type"), body)
	}

	req, _ = http.NewRequest(http.MethodGet, s.URL+"/audit", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: s.secrets[roadmap.RoleEditor]})
	if res, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("an editor's audit page answered %d, want 403", res.StatusCode)
	}
}

// TestAnOpenBoardUpdatesItself: a decision taken elsewhere shows on an
// open board without a reload.
func TestAnOpenBoardUpdatesItself(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleViewer])
	eval[bool](t, ctx, `window.notReloaded = true`)
	if _, err := s.App.Ledger.Reprioritise(s.ctx, ledger.Request{Actor: "pm"}, s.items["Dark mode"], roadmap.Reprioritise{Horizon: roadmap.Next, Rationale: "Customers ask for it daily"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `!!document.querySelector('ol[data-horizon="next"] `+s.card("Dark mode")+`')`)
	if !eval[bool](t, ctx, `window.notReloaded === true`) {
		t.Error("the board reloaded to show the decision, want it redrawn in place")
	}
	if got := eval[string](t, ctx, `document.querySelector('`+s.card("Dark mode")+`').innerText`); !strings.Contains(got, "Customers ask for it daily") {
		t.Errorf("the redrawn card reads %q, want its new last decision", got)
	}
}

// TestRemoveDeliverAndEdit removes an item and records another delivered
// from their cards, each through the dialog with its rationale, and edits
// a third from its page.
func TestRemoveDeliverAndEdit(t *testing.T) {
	s := openSite(t)
	ctx := tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleEditor])
	for _, c := range []struct{ title, act, rationale, want string }{
		{"Dark mode", "remove", "No customer asked for it in a year", "removed"},
		{"Export", "deliver", "Shipped in 4.2", "delivered"},
	} {
		card := s.card(c.title)
		// From a fresh board, with no notice left from the decision
		// before, so that the wait below sees this decision's.
		run(t, ctx, c.act+" "+c.title,
			chromedp.Navigate(s.URL+"/"),
			chromedp.Click(chromedp.CSS(card+` summary`)),
			chromedp.Click(chromedp.CSS(card+` button[data-act="`+c.act+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#decide`)),
			chromedp.SendKeys(chromedp.CSS(`#decide-rationale`), c.rationale),
			chromedp.Click(chromedp.CSS(`#decide-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`.notice`)))
		if got := s.horizonOf(c.title); got != c.want {
			t.Errorf("%s is %s, want %s", c.title, got, c.want)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll('`+card+`').length`); n != 0 {
			t.Errorf("%s is still on the board", c.title)
		}
	}
	run(t, ctx, "edit Search",
		chromedp.Navigate(s.URL+"/items/"+s.items["Search"]),
		chromedp.Click(chromedp.CSS(`details.edit summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#e-title`)),
		setValues(`document.getElementById("e-title").value = "Search with filters"; true`),
		chromedp.SendKeys(chromedp.CSS(`#e-rationale`), "Filters are what users ask for"),
		chromedp.Click(chromedp.CSS(`form[action$="/edit"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if h1 := eval[string](t, ctx, `document.querySelector("main h1").textContent`); h1 != "Search with filters" {
		t.Errorf("after the edit the item is titled %q", h1)
	}
	checkAccessible(t, ctx, "an item an editor may edit")
}
