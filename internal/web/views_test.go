package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/web"
)

// syncBuffer is a buffer the ledger's goroutines may log to at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Words the views must show or hide.
const (
	loyalty          = "Loyalty programme"
	loyaltyRationale = "Loyalty is what the board asked for"
	loyaltyRisk      = "Partner contract unsigned"
	pager            = "Pager rota"
)

// seedViews adds to the site an initiative in Now (serving the objective,
// depending on Checkout, with a risk and a rationale), an item of another
// product ("ops") in Next, and a measurement of the objective's KPI.
func (s *site) seedViews() {
	s.t.Helper()
	seed := ledger.Request{Actor: "seed"}
	effort := 5
	it, err := s.App.Ledger.ProposeItem(s.ctx, seed, roadmap.ProposeItem{
		Title: loyalty, Kind: roadmap.KindInitiative, Product: "shop", ObjectiveIDs: []string{s.objective},
		Effort: &effort, DependsOn: []string{s.items["Checkout"]}, Risks: []string{loyaltyRisk},
	})
	if err != nil {
		s.t.Fatalf("propose %s: %v", loyalty, err)
	}
	s.decide(it.Answer.Item.ID, roadmap.Prioritise{Horizon: roadmap.Now, Rationale: loyaltyRationale})
	s.items[loyalty] = it.Answer.Item.ID
	ops, err := s.App.Ledger.ProposeItem(s.ctx, seed, roadmap.ProposeItem{Title: pager, Product: "ops"})
	if err != nil {
		s.t.Fatalf("propose %s: %v", pager, err)
	}
	s.decide(ops.Answer.Item.ID, roadmap.Prioritise{Horizon: roadmap.Next, Rationale: "Ops asked"})
	value := 2.4
	if _, err := s.App.Ledger.MeasureObjective(s.ctx, seed, s.objective, roadmap.Measure{Value: &value, At: s.clock.now.Add(-time.Hour), Source: "warehouse"}); err != nil {
		s.t.Fatalf("measure: %v", err)
	}
}

// decide prioritises an item, approving the change when it is held.
func (s *site) decide(id string, cmd roadmap.Prioritise) {
	s.t.Helper()
	res, err := s.App.Ledger.Prioritise(s.ctx, ledger.Request{Actor: "seed"}, id, cmd)
	if err != nil {
		s.t.Fatalf("prioritise: %v", err)
	}
	if held := res.Answer.Held; held != nil {
		if _, err := s.App.Ledger.ApproveChange(s.ctx, ledger.Request{Actor: "seed approver"}, held.ID, roadmap.DecideChange{Rationale: "Seeded"}); err != nil {
			s.t.Fatalf("approve: %v", err)
		}
	}
}

// defineView saves a view through the ledger, as the API would.
func (s *site) defineView(cmd roadmap.DefineView) {
	s.t.Helper()
	if _, err := s.App.Ledger.DefineView(s.ctx, ledger.Request{Actor: "seed"}, cmd); err != nil {
		s.t.Fatalf("define the view %s: %v", cmd.Slug, err)
	}
}

// makeView fills the views page's form with a layout and sends it, and
// waits for the view it made.
func makeView(t *testing.T, ctx context.Context, base, layout, name, slug, product, kind string, fields ...string) {
	t.Helper()
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/views"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/views"]`)),
		chromedp.Click(chromedp.CSS(`input[name=layout][value="` + layout + `"]`)),
		chromedp.SendKeys(chromedp.CSS(`#v-name`), name),
		chromedp.SendKeys(chromedp.CSS(`#v-slug`), slug),
	}
	if product != "" {
		actions = append(actions, chromedp.SendKeys(chromedp.CSS(`#v-product`), product))
	}
	if kind != "" {
		actions = append(actions, chromedp.SetValue(chromedp.CSS(`#v-kind`), kind))
	}
	for _, f := range fields {
		actions = append(actions, chromedp.Click(chromedp.CSS(`input[name=fields][value="`+f+`"]`)))
	}
	actions = append(actions, chromedp.Click(chromedp.CSS(`form[action="/views"] button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`.view-about`)))
	run(t, ctx, "make the view "+slug, actions...)
	if got := eval[string](t, ctx, `location.pathname`); got != "/views/"+slug {
		t.Fatalf("making the view %s opened %s", slug, got)
	}
}

// checkShows fails the test for each of want the page does not show, and
// each of hide it shows.
func checkShows(t *testing.T, ctx context.Context, what string, want, hide []string) {
	t.Helper()
	got := text(t, ctx)
	source := eval[string](t, ctx, `document.documentElement.outerHTML`)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not show %q:\n%s", what, w, got)
		}
	}
	for _, h := range hide {
		if strings.Contains(source, h) {
			t.Errorf("%s holds %q, which it must not show:\n%s", what, h, got)
		}
	}
}

// TestEachLayoutShowsWhatItShould makes a view from each ready-made layout
// with the views page's form, as an editor would, and reads each: the
// theme view shows the objectives, the initiatives serving them and the
// KPI's latest value, and no item detail; the release view one product's
// items per horizon with dependencies and risks; the technology view only
// the kind it filters on; the portfolio every product side by side. A
// view's fields decide what shows: the rationale only where a view names
// it. Every page passes axe-core at both widths.
func TestEachLayoutShowsWhatItShould(t *testing.T) {
	s := openSite(t)
	s.seedViews()
	// Each part in a tab of its own: a tab lasts 30 seconds.
	editor := func() context.Context {
		ctx := tab(t)
		signIn(t, ctx, s.URL, s.secrets[roadmap.RoleEditor])
		return ctx
	}
	ctx := editor()
	run(t, ctx, "open the views", chromedp.Navigate(s.URL+"/views"), chromedp.WaitVisible(chromedp.CSS(`form[action="/views"]`)))
	checkAccessible(t, ctx, "the views page")

	ctx = editor()
	makeView(t, ctx, s.URL, "theme", "Executive themes", "exec", "", "")
	checkShows(t, ctx, "the theme view",
		[]string{"Grow repeat orders", loyalty, "orders per customer", "latest 2.4"},
		[]string{loyaltyRationale, "Seeded for", loyaltyRisk, "Checkout", pager, "MOSCOW", "effort"})
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".theme h2"), h => h.textContent)`); strings.Join(got, "|") != "Grow repeat orders" {
		t.Errorf("the theme view's themes are %q, want the objective alone", got)
	}
	checkAccessible(t, ctx, "a theme view")

	ctx = editor()
	makeView(t, ctx, s.URL, "release", "Shop release", "shop-release", "shop", "")
	checkShows(t, ctx, "the release view",
		[]string{loyalty, "Depends on: Checkout", loyaltyRisk, "effort 5", "Search", "Dark mode"},
		[]string{loyaltyRationale, "Seeded for", pager})
	columns := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".column h2"), h => h.firstChild.textContent.trim())`)
	if strings.Join(columns, ",") != "Now,Next,Later" {
		t.Errorf("the release view's columns are %q, want Now, Next, Later", columns)
	}
	now := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#h-now ~ ul li.card h3"), h => h.textContent)`)
	if strings.Join(now, "|") != "Checkout|"+loyalty {
		t.Errorf("Now in the release view holds %q, want Checkout then %s", now, loyalty)
	}
	if got := eval[string](t, ctx, `document.title`); got == "owned" {
		t.Errorf("a title with markup ran as a script")
	}
	checkAccessible(t, ctx, "a release view")

	ctx = editor()
	makeView(t, ctx, s.URL, "technology", "Initiatives", "initiatives", "", "initiative")
	checkShows(t, ctx, "the technology view", []string{loyalty, "initiative", "on roadmap"}, []string{"Checkout", pager, loyaltyRationale})
	checkAccessible(t, ctx, "a technology view")

	ctx = editor()
	makeView(t, ctx, s.URL, "portfolio", "Portfolio", "portfolio", "", "")
	checkShows(t, ctx, "the portfolio", []string{"shop", "ops", pager, "Checkout", loyalty}, []string{loyaltyRationale, "Seeded for"})
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".product h2"), h => h.textContent)`); strings.Join(got, ",") != "ops,shop" {
		t.Errorf("the portfolio's products are %q, want ops and shop side by side", got)
	}
	checkAccessible(t, ctx, "a portfolio")

	// The fields chosen decide: a release view that names the rationale
	// shows it, and not the risks it does not name.
	ctx = editor()
	makeView(t, ctx, s.URL, "release", "Why we do it", "why", "shop", "", "title", "rationale")
	checkShows(t, ctx, "a view that shows the rationale", []string{"Why: " + loyaltyRationale, "Why: Seeded for now"}, []string{loyaltyRisk})

	ctx = editor()
	run(t, ctx, "back to the views", chromedp.Navigate(s.URL+"/views"), chromedp.WaitVisible(chromedp.CSS(`.view-list`)))
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".view-list > li"), li => li.querySelector("a").textContent + ":" + li.querySelector(".layout").textContent)`); strings.Join(got, ",") != "Executive themes:Theme view,Initiatives:Technology view,Portfolio:Portfolio,Shop release:Release view,Why we do it:Release view" {
		t.Errorf("the views page lists %q", got)
	}
	checkAccessible(t, ctx, "the views page with views")

	// A viewer reads views but is offered no form.
	ctx = tab(t)
	signIn(t, ctx, s.URL, s.secrets[roadmap.RoleViewer])
	run(t, ctx, "a viewer opens a view", chromedp.Navigate(s.URL+"/views/shop-release"), chromedp.WaitVisible(chromedp.CSS(`.view-about`)))
	if n := eval[int](t, ctx, `document.querySelectorAll("form[action^='/views']").length`); n != 0 {
		t.Errorf("a viewer sees %d forms on a view, want none", n)
	}
}

// navigationStatus is the HTTP status of the page the tab shows.
func navigationStatus(t *testing.T, ctx context.Context) int {
	t.Helper()
	return eval[int](t, ctx, `performance.getEntriesByType("navigation")[0].responseStatus`)
}

// TestAReadOnlyLinkOpensItsViewAndNothingElse shares an internal view as
// an editor would, on the view's page: the link is shown once; opened in
// another browser it shows that view, with no navigation and no other
// data, leaves the secret out of the address bar, and opens no other page
// of the app (not with its cookie, not as a sign-in, not as a session);
// revoked, it stops working at once, and a link expired does too.
func TestAReadOnlyLinkOpensItsViewAndNothingElse(t *testing.T) {
	s := openSite(t)
	s.seedViews()
	s.defineView(roadmap.DefineView{Name: "Sales roadmap", Slug: "sales", Audience: roadmap.AudienceInternal, Product: "shop", Fields: []string{"title", "horizon"}})
	s.defineView(roadmap.DefineView{Name: "Board only", Slug: "board", Audience: roadmap.AudienceInternal, Fields: []string{"title", "rationale"}})

	editor := tab(t)
	signIn(t, editor, s.URL, s.secrets[roadmap.RoleEditor])
	run(t, editor, "open the view", chromedp.Navigate(s.URL+"/views/sales"), chromedp.WaitVisible(chromedp.CSS(`form.share`)))
	run(t, editor, "make a link",
		chromedp.SendKeys(chromedp.CSS(`#l-name`), "Sales team"),
		chromedp.SetValue(chromedp.CSS(`#l-life`), "1"),
		chromedp.Click(chromedp.CSS(`form.share button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-link`)))
	link := eval[string](t, editor, `document.getElementById("new-link").value`)
	if !strings.HasPrefix(link, s.URL+"/shared/rlt_") {
		t.Fatalf("the new link is %q, want %s/shared/ and a secret", link, s.URL)
	}
	secret := strings.TrimPrefix(link, s.URL+"/shared/")
	checkAccessible(t, editor, "a view with a new link")
	run(t, editor, "reload the view", chromedp.Navigate(s.URL+"/views/sales"), chromedp.WaitVisible(chromedp.CSS(`.link-list`)))
	if got := eval[string](t, editor, `document.documentElement.outerHTML`); strings.Contains(got, secret) {
		t.Errorf("the view's page shows the link's secret again")
	}
	if got := eval[string](t, editor, `document.querySelector(".link-list li").innerText`); !strings.Contains(got, "Sales team · active") || !strings.Contains(got, "Made by editor") {
		t.Errorf("the link is listed as %q", got)
	}

	// Opened in another browser: the view, and nothing else.
	guest := tab(t)
	run(t, guest, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`.view-about`)))
	if got := eval[string](t, guest, `location.href`); got != s.URL+"/shared" {
		t.Errorf("the link left the browser at %s, want %s/shared with no secret", got, s.URL)
	}
	checkShows(t, guest, "the shared page", []string{"Sales roadmap", "Checkout", loyalty, "Now", "Next"},
		[]string{secret, pager, loyaltyRationale, loyaltyRisk, "Board only", "Sign out", "editor"})
	if n := eval[int](t, guest, `document.links.length + document.forms.length + document.scripts.length`); n != 0 {
		t.Errorf("the shared page has %d links, forms and scripts, want none", n)
	}
	if c := eval[string](t, guest, `document.cookie`); c != "" {
		t.Errorf("scripts read the cookies %q, want none", c)
	}
	checkAccessible(t, guest, "the shared page")

	// Each part from here in a fresh browser of its own (a tab lasts 30
	// seconds), which opens the link first.
	openLink := func() context.Context {
		ctx := tab(t)
		run(t, ctx, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`.view-about`)))
		return ctx
	}
	guest = openLink()
	for _, path := range []string{"/", "/views", "/views/sales", "/views/board", "/items/" + s.items["Checkout"], "/backlog", "/objectives", "/changes", "/audit"} {
		run(t, guest, "open "+path, chromedp.Navigate(s.URL+path), chromedp.WaitReady(chromedp.CSS(`body`)))
		if eval[int](t, guest, `document.querySelectorAll("#token").length`) != 1 {
			t.Errorf("with the link, %s is not the sign-in form", path)
		}
		checkShows(t, guest, "with the link, "+path, nil, []string{"Checkout", loyalty, "Sales roadmap"})
	}
	if res := get(t, s.URL+"/v1/views/sales/roadmap", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the browser's link opened GET /v1/views/sales/roadmap: %d", res.StatusCode)
	}
	run(t, guest, "sign in with the link",
		chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), secret),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.problem`)))
	if got := navigationStatus(t, guest); got != http.StatusForbidden {
		t.Errorf("signing in with a link answered %d, want 403", got)
	}
	checkShows(t, guest, "a sign-in with a link", []string{"read-only link to one view"}, []string{"Checkout"})
	for _, path := range []string{"/", "/views/sales", "/items/" + s.items["Checkout"]} {
		if _, err := chromedp.Call(guest, network.SetCookie, network.SetCookieParams{Name: web.SessionCookie, Value: secret, URL: s.URL + "/"}); err != nil {
			t.Fatalf("set the session cookie: %v", err)
		}
		run(t, guest, "the link as a session cookie on "+path, chromedp.Navigate(s.URL+path), chromedp.WaitReady(chromedp.CSS(`body`)))
		if got := navigationStatus(t, guest); got != http.StatusForbidden {
			t.Errorf("the link as a session opened %s: %d, want 403", path, got)
		}
		checkShows(t, guest, "the link as a session on "+path, []string{"read-only link to one view"}, []string{"Checkout", loyalty})
	}
	// Revoked: the next page is a 401 that says so, not the view.
	guest = openLink()
	editor = tab(t)
	signIn(t, editor, s.URL, s.secrets[roadmap.RoleEditor])
	run(t, editor, "revoke the link",
		chromedp.Navigate(s.URL+"/views/sales"), chromedp.WaitVisible(chromedp.CSS(`.link-list form button`)),
		chromedp.Click(chromedp.CSS(`.link-list form button`)))
	waitFor(t, editor, `(document.querySelector(".link-list .state") || {}).textContent === "revoked" && !document.querySelector(".link-list form")`)
	run(t, guest, "reload the shared page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`.problem`)))
	if got := navigationStatus(t, guest); got != http.StatusUnauthorized {
		t.Errorf("a revoked link answered %d, want 401", got)
	}
	checkShows(t, guest, "a revoked link", []string{"This link was revoked"}, []string{"Checkout", loyalty})
	checkAccessible(t, guest, "a revoked link")
	run(t, guest, "open the revoked link again", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`.problem`)))
	checkShows(t, guest, "a revoked link opened again", []string{"This link was revoked"}, []string{"Checkout", loyalty, secret})

	// Expired: a link that lasts a minute works, and stops once the
	// ledger's clock is past its minute.
	minute := int64(60)
	made, err := s.App.Ledger.ShareView(s.ctx, ledger.Request{Actor: "editor"}, "sales", roadmap.ShareView{Name: "Partners", ExpiresIn: &minute})
	if err != nil {
		t.Fatal(err)
	}
	partner := tab(t)
	run(t, partner, "open a link with a minute left", chromedp.Navigate(s.URL+"/shared/"+made.Answer.Secret), chromedp.WaitVisible(chromedp.CSS(`.view-about`)))
	checkShows(t, partner, "a link with a minute left", []string{"Checkout"}, nil)
	s.clock.now = s.clock.now.Add(2 * time.Minute)
	run(t, partner, "reload once the minute is over", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`.problem`)))
	if got := navigationStatus(t, partner); got != http.StatusUnauthorized {
		t.Errorf("an expired link answered %d, want 401", got)
	}
	checkShows(t, partner, "an expired link", []string{"This link has expired"}, []string{"Checkout", loyalty})
	run(t, editor, "the list of links", chromedp.Navigate(s.URL+"/views/sales"), chromedp.WaitVisible(chromedp.CSS(`.link-list`)))
	if got := eval[[]string](t, editor, `Array.from(document.querySelectorAll(".link-list .state"), e => e.textContent)`); strings.Join(got, ",") != "expired,revoked" {
		t.Errorf("the links are listed as %q, want the expired then the revoked", got)
	}

	if logs := s.logs.String(); strings.Contains(logs, secret) || strings.Contains(logs, made.Answer.Secret) {
		t.Errorf("the log holds a link's secret:\n%s", logs)
	}
}

// get sends a GET with headers, not following redirects.
func get(t *testing.T, url string, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// TestOpeningALinkKeepsItsSecretOutOfTheAddress checks the answer to
// GET /shared/{secret}: a 303 to /shared with no Referer sent on, the
// secret in a cookie scripts cannot read, sent only to /shared, only to
// this site, and only over TLS when the ledger is reached over TLS; an
// unknown secret sets no cookie.
func TestOpeningALinkKeepsItsSecretOutOfTheAddress(t *testing.T) {
	s := openSite(t)
	minute := int64(60)
	s.defineView(roadmap.DefineView{Name: "Sales", Slug: "sales", Audience: roadmap.AudienceInternal, Fields: []string{"title"}})
	made, err := s.App.Ledger.ShareView(s.ctx, ledger.Request{Actor: "editor"}, "sales", roadmap.ShareView{ExpiresIn: &minute})
	if err != nil {
		t.Fatal(err)
	}
	res := get(t, s.URL+"/shared/"+made.Answer.Secret, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/shared" {
		t.Errorf("opening a link answered %d to %q, want 303 to /shared", res.StatusCode, res.Header.Get("Location"))
	}
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q, want no-referrer", got)
	}
	cookies := res.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("opening a link set %d cookies, want 1", len(cookies))
	}
	c := cookies[0]
	if c.Name != web.LinkCookie || c.Value != made.Answer.Secret || c.Path != "/shared" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure {
		t.Errorf("the link's cookie is %+v, want HttpOnly, SameSite=Strict, for /shared only, not Secure over plain HTTP", c)
	}
	if cs := get(t, s.URL+"/shared/"+made.Answer.Secret, map[string]string{"X-Forwarded-Proto": "https"}).Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("behind a proxy that ended TLS the cookie is %+v, want it Secure", cs)
	}
	unknown := get(t, s.URL+"/shared/rlt_not-a-link", nil)
	if unknown.StatusCode != http.StatusUnauthorized || len(unknown.Cookies()) != 0 {
		t.Errorf("an unknown link answered %d with cookies %v, want 401 and none", unknown.StatusCode, unknown.Cookies())
	}
	if regular := get(t, s.URL+"/shared/"+s.secrets[roadmap.RoleViewer], nil); regular.StatusCode != http.StatusForbidden || len(regular.Cookies()) != 0 {
		t.Errorf("a token that is no link answered %d with cookies %v, want 403 and none", regular.StatusCode, regular.Cookies())
	}
	page := get(t, s.URL+"/shared", nil)
	if page.StatusCode != http.StatusUnauthorized || page.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("/shared without a link answered %d, Cache-Control %q", page.StatusCode, page.Header.Get("Cache-Control"))
	}
	if strings.Contains(s.logs.String(), made.Answer.Secret) {
		t.Errorf("the log holds the link's secret:\n%s", s.logs.String())
	}
}

// publish publishes an item with a public summary, approving the change
// when it is held.
func (s *site) publish(title, summary string) {
	s.t.Helper()
	res, err := s.App.Ledger.Publish(s.ctx, ledger.Request{Actor: "seed"}, s.items[title], roadmap.Publish{Summary: summary, Rationale: "Publish rationale kept internal"})
	if err != nil {
		s.t.Fatalf("publish %s: %v", title, err)
	}
	if held := res.Answer.Held; held != nil {
		if _, err := s.App.Ledger.ApproveChange(s.ctx, ledger.Request{Actor: "seed approver"}, held.ID, roadmap.DecideChange{Rationale: "Seeded"}); err != nil {
			s.t.Fatalf("approve publishing %s: %v", title, err)
		}
	}
}

// TestThePublicPageIsCalmAndAccessible opens a public view as a customer
// would: its published summaries in Now, Next and Later, side by side on a
// desktop and stacked on a 360 px phone, with the ledger's sequence, the
// checkpoint and the proofs in the footer; no script, its style allowed
// by the page's policy, axe-core content at both widths, and no title,
// rationale or person anywhere in the page or its source.
func TestThePublicPageIsCalmAndAccessible(t *testing.T) {
	s := openSite(t)
	s.seedViews()
	s.defineView(roadmap.DefineView{Name: "Our roadmap", Slug: "customers", Audience: roadmap.AudiencePublic, ObjectiveIDs: []string{s.objective}, Fields: []string{"summary", "horizon", "objectives"}})
	s.publish(loyalty, "Rewards for loyal customers")
	s.publish("Search", "Find products faster")
	if _, err := s.App.Ledger.SignCheckpoint(s.ctx, ledger.Request{Actor: "seed approver"}); err != nil {
		t.Fatalf("sign a checkpoint: %v", err)
	}
	s.publish("Checkout", "A faster way to pay")

	ctx := tab(t)
	run(t, ctx, "open the public page", chromedp.EmulateViewport(360, 900), chromedp.Navigate(s.URL+"/public/customers"), chromedp.WaitVisible(chromedp.CSS(`footer`)))
	checkAccessible(t, ctx, "the public page")
	checkShows(t, ctx, "the public page",
		[]string{"Rewards for loyal customers", "Find products faster", "A faster way to pay", "Serves: Grow repeat orders", "sequence", "signed checkpoint", "not yet in a signed checkpoint"},
		[]string{loyalty, "Checkout", "Export", "Bold claim", loyaltyRationale, "Publish rationale", "Seeded", "seed", "editor", "orders per customer", loyaltyRisk})
	if got := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".column h2"), h => h.textContent)`); strings.Join(got, ",") != "Now,Next,Later" {
		t.Errorf("the public page's columns are %q, want Now, Next, Later", got)
	}
	if n := eval[int](t, ctx, `document.scripts.length + document.forms.length`); n != 0 {
		t.Errorf("the public page has %d scripts and forms, want none", n)
	}
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector(".column")).borderTopLeftRadius`); got != "10px" {
		t.Errorf("the page's style was not applied (a column's radius is %q): its policy refuses it", got)
	}
	proofs := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("footer a"), a => a.getAttribute("href"))`)
	if len(proofs) != 3 || !strings.HasPrefix(proofs[0], "/public/customers/proofs/") || !strings.HasPrefix(proofs[1], "/public/customers/proofs/") || proofs[2] != "/public/customers.json" {
		t.Errorf("the footer links to %q, want the two proofs and the JSON", proofs)
	}
	// Side by side on a desktop, stacked on a phone.
	tops := `Array.from(document.querySelectorAll(".column"), c => Math.round(c.getBoundingClientRect().top))`
	lefts := `Array.from(document.querySelectorAll(".column"), c => Math.round(c.getBoundingClientRect().left))`
	run(t, ctx, "a desktop", chromedp.EmulateViewport(1280, 900))
	if got := eval[[]int](t, ctx, tops); len(got) != 3 || got[0] != got[1] || got[1] != got[2] {
		t.Errorf("at 1280 px the columns' tops are %v, want side by side", got)
	}
	run(t, ctx, "a phone", chromedp.EmulateViewport(360, 900))
	if got := eval[[]int](t, ctx, lefts); len(got) != 3 || got[0] != got[1] || got[1] != got[2] {
		t.Errorf("at 360 px the columns' lefts are %v, want stacked", got)
	}
	res := get(t, s.URL+"/public/customers", nil)
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "style-src 'sha256-"} {
		if !strings.Contains(csp, want) {
			t.Errorf("the public page's policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("the public page's headers: policy %q, X-Content-Type-Options %q", csp, res.Header.Get("X-Content-Type-Options"))
	}
}

// TestALinkClickedOnAnotherSiteOpensItsView follows a read-only link from
// a page of another site, as from a mail reader: the browser withholds a
// SameSite=Strict cookie on the redirect another site started, so the
// ledger moves on to /shared from a page of its own, and the view opens.
func TestALinkClickedOnAnotherSiteOpensItsView(t *testing.T) {
	s := openSite(t)
	s.defineView(roadmap.DefineView{Name: "Sales roadmap", Slug: "sales", Audience: roadmap.AudienceInternal, Product: "shop", Fields: []string{"title", "horizon"}})
	hour := int64(3600)
	made, err := s.App.Ledger.ShareView(s.ctx, ledger.Request{Actor: "editor"}, "sales", roadmap.ShareView{ExpiresIn: &hour})
	if err != nil {
		t.Fatal(err)
	}
	mail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>Mail</title><a id="link" href="`+s.URL+`/shared/`+made.Answer.Secret+`">the roadmap</a>`)
	}))
	t.Cleanup(mail.Close)
	// localhost and 127.0.0.1 are two sites to a browser.
	other := strings.Replace(mail.URL, "127.0.0.1", "localhost", 1)
	ctx := tab(t)
	run(t, ctx, "click the link in the mail",
		chromedp.Navigate(other+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#link`)),
		chromedp.Click(chromedp.CSS(`#link`)),
		chromedp.WaitVisible(chromedp.CSS(`.view-about`)))
	if got := eval[string](t, ctx, `location.href`); got != s.URL+"/shared" {
		t.Errorf("the link left the browser at %s, want %s/shared", got, s.URL)
	}
	checkShows(t, ctx, "the view opened from another site", []string{"Sales roadmap", "Checkout"}, []string{made.Answer.Secret})
}
