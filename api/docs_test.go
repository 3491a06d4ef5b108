package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/oasdiff/yaml"

	"github.com/roadmap-ledger/roadmap/api"
)

// getUnauthenticated sends a GET without a token through the spec check and returns the
// answer and its body.
func getUnauthenticated(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	client := &http.Client{Transport: newSpecCheckingTransport(t, http.DefaultTransport)}
	res, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// TestSpecIsServed reads the spec from a server, without a token, as YAML
// and as JSON: both are the repository's openapi.yaml.
func TestSpecIsServed(t *testing.T) {
	srv := httptest.NewServer(api.New(api.Config{}))
	defer srv.Close()
	file, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}

	res, body := getUnauthenticated(t, srv.URL+"/openapi.yaml")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/yaml" || !bytes.Equal(body, file) {
		t.Errorf("GET /openapi.yaml: %d %s, %d bytes; want 200 application/yaml, openapi.yaml's %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(body), len(file))
	}

	res, body = getUnauthenticated(t, srv.URL+"/openapi.json")
	want, err := yaml.YAMLToJSON(file)
	if err != nil {
		t.Fatal(err)
	}
	var got, wantDoc any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("GET /openapi.json: not JSON: %v", err)
	}
	if err := json.Unmarshal(want, &wantDoc); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !reflect.DeepEqual(got, wantDoc) {
		t.Errorf("GET /openapi.json: %d %s; want 200, openapi.yaml as JSON", res.StatusCode, res.Header.Get("Content-Type"))
	}

	res, body = getUnauthenticated(t, srv.URL+"/docs/api")
	if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 200 || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("GET /docs/api: %d, Content-Security-Policy %q; want 200 with scripts of this server only", res.StatusCode, csp)
	}
	if bytes.Contains(body, []byte("<script>")) {
		t.Errorf("the API reference page has an inline script:\n%s", body)
	}
	res, _ = getUnauthenticated(t, srv.URL+"/docs/api/secrets.js")
	if res.StatusCode != 404 {
		t.Errorf("GET /docs/api/secrets.js: %d, want 404", res.StatusCode)
	}
}

// TestAPIReferenceRendersInABrowser opens /docs/api in Chromium, under the
// page's Content-Security-Policy: Redoc renders every operation of the
// spec, and the browser reports no error and no refused load.
func TestAPIReferenceRendersInABrowser(t *testing.T) {
	path := chromium(t)
	srv := httptest.NewServer(api.New(api.Config{}))
	defer srv.Close()
	doc, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			summaries = append(summaries, op.Summary)
		}
	}
	slices.Sort(summaries)

	browserCtx, seen, output, closeBrowser := newBrowser(t, path)
	url := srv.URL + "/docs/api"
	if err := chromedp.Do(browserCtx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v\nbrowser output:\n%s", url, err, lastLines(output.Bytes(), 30))
	}
	// Redoc renders once it has fetched the spec: wait for the operations.
	var text string
	deadline := time.Now().Add(60 * time.Second)
	for {
		text = evaluate[string](t, browserCtx, `document.body.innerText`)
		if strings.Contains(text, summaries[0]) && strings.Contains(text, summaries[len(summaries)-1]) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	operations := evaluate[int](t, browserCtx, `document.querySelectorAll('[data-section-id^="operation/"]').length`)
	closeBrowser()

	for _, s := range summaries {
		if !strings.Contains(text, s) {
			t.Errorf("the API reference does not show the operation %q", s)
		}
	}
	if operations != len(summaries) {
		t.Errorf("the page has %d operation sections, want the spec's %d", operations, len(summaries))
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	for _, p := range seen.problems {
		if !expectedInReference(p) {
			t.Errorf("browser: %s", p)
		}
	}
}

// expectedInReference tells the browser reports the API reference is
// expected to cause: Redoc's sidebar shows its maker's logo from the
// maker's site, which the page's policy blocks (the page loads nothing from
// elsewhere, and the image removes itself), and its example generator warns
// of the allOf beside type: array that nullable lists of ids are written
// with (docs/api.md, "The spec: adding to it").
func expectedInReference(report string) bool {
	return strings.Contains(report, "'https://cdn.redoc.ly/redoc/logo-mini.svg' violates the following Content Security Policy directive") ||
		strings.HasPrefix(report, "load failed: ") && strings.HasSuffix(report, "(, blocked: csp)") ||
		strings.HasPrefix(report, `console.warning: "OpenAPI Sampler: found allOf with \"array\" type.`)
}
