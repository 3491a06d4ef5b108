package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestThePublicPageOpensInABrowser opens a public view as a customer
// would, with no token, on a 360 px wide phone: the page shows the
// published summary as text, loads and runs nothing, fits the screen, and
// neither its text nor its source holds a title, rationale, person or
// unpublished item.
func TestThePublicPageOpensInABrowser(t *testing.T) {
	path := chromium(t)
	s := newPublicScene(t)
	url := s.l.URL + "/public/customers"

	browserCtx, seen, output, closeBrowser := newBrowser(t, path)
	if err := chromedp.Do(browserCtx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatalf("a 360 px screen: %v", err)
	}
	if err := chromedp.Do(browserCtx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v\nbrowser output:\n%s", url, err, lastLines(output.Bytes(), 30))
	}
	contentType := evaluate[string](t, browserCtx, `document.contentType`)
	title := evaluate[string](t, browserCtx, `document.title`)
	scripts := evaluate[int](t, browserCtx, `document.scripts.length`)
	resources := evaluate[int](t, browserCtx, `performance.getEntriesByType("resource").length`)
	text := evaluate[string](t, browserCtx, `document.body.innerText`)
	source := evaluate[string](t, browserCtx, `document.documentElement.outerHTML`)
	width := evaluate[int](t, browserCtx, `document.documentElement.scrollWidth`)
	links := evaluate[[]string](t, browserCtx, `Array.from(document.links, a => a.getAttribute("href"))`)
	closeBrowser()

	if contentType != "text/html" || title != "Our roadmap · roadmap" {
		t.Errorf("the browser got %q titled %q", contentType, title)
	}
	if scripts != 0 || resources != 0 {
		t.Errorf("the page has %d scripts and loaded %d resources, want none", scripts, resources)
	}
	for _, want := range []string{publicSummary, "Serves: " + publicObjective, "Next"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q as text:\n%s", want, text)
		}
	}
	s.checkNoSecrets(t, "the page's text", []byte(text))
	s.checkNoSecrets(t, "the page's source", []byte(source))
	if width > 360 {
		t.Errorf("the page is %d px wide on a 360 px screen", width)
	}
	if len(links) != 2 || !strings.HasPrefix(links[0], "/public/customers/proofs/") || links[1] != "/public/customers.json" {
		t.Errorf("links %q, want the entry's proof and the JSON", links)
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	for _, p := range seen.problems {
		t.Errorf("browser: %s", p)
	}
	if !slices.Equal(seen.requests, []string{url}) {
		t.Errorf("the browser requested %q, want the page alone", seen.requests)
	}
}
