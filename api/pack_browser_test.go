package api_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/roadmap-ledger/roadmap/internal/htmltest"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = htmltest.ChromiumPath

// chromiumInstall is how to install it.
const chromiumInstall = "apt-get install -y --no-install-recommends chromium"

// chromium returns the browser's path. When it is missing and this process
// can install Debian's package (root, with apt-get), it does, so the test
// command alone sets a fresh machine up; otherwise the test fails saying how
// to install it. Only TestReviewPackOpensInABrowser calls it.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return chromiumPath
	}
	aptGet, err := exec.LookPath("apt-get")
	if err != nil || os.Geteuid() != 0 {
		t.Fatalf("the review pack is checked in Chromium, which is not at %s; install it (on Debian, as root: %s) and run the tests again", chromiumPath, chromiumInstall)
	}
	t.Logf("Chromium is not at %s: installing Debian's chromium package", chromiumPath)
	for _, args := range [][]string{{"update"}, strings.Fields(chromiumInstall)[1:]} {
		cmd := exec.Command(aptGet, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apt-get %s: %v\n%s\ninstall Chromium (%s) and run the tests again", strings.Join(args, " "), err, lastLines(out, 20), chromiumInstall)
		}
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("apt-get installed chromium, yet %s is missing: %v", chromiumPath, err)
	}
	return chromiumPath
}

func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// browserLog gathers what a page reports while it loads and prints: every
// console call, error log entry and uncaught exception, every request and
// every failed or refused load.
type browserLog struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (b *browserLog) add(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

func (b *browserLog) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			args = append(args, string(a.Value)+a.Description)
		}
		b.add("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		description := ""
		if d.Exception != nil {
			description = d.Exception.Description
		}
		b.add("exception at %s:%d: %s %s", d.URL, d.LineNumber+1, d.Text, description)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			b.add("log error (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		b.mu.Lock()
		b.requests = append(b.requests, ev.Request.URL)
		b.mu.Unlock()
	case *network.EventLoadingFailed:
		b.add("load failed: %s (%s, blocked: %s)", ev.RequestID, ev.ErrorText, ev.BlockedReason)
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			b.add("load answered %d: %s", ev.Response.Status, ev.Response.URL)
		}
	}
}

// evaluate runs a JavaScript expression in the page and returns its value.
func evaluate[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// newBrowser starts headless Chromium at path for the test, for at most
// 90 s, and returns its context, what its pages log, its own output, and
// closeBrowser, which closes it before the test ends (so that nothing is
// logged after a check); it is closed when the test ends in any case.
func newBrowser(t *testing.T, path string) (ctx context.Context, seen *browserLog, output *bytes.Buffer, closeBrowser func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	output = &bytes.Buffer{}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, htmltest.ChromiumOptions(t.TempDir(), output)...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	seen = &browserLog{}
	if err := chromedp.Listen(browserCtx, seen.listen); err != nil {
		t.Fatalf("start Chromium: %v\nbrowser output:\n%s", err, lastLines(output.Bytes(), 30))
	}
	return browserCtx, seen, output, cancelBrowser
}

// TestReviewPackOpensInABrowser opens a closed review's pack the way a
// board member would, by its link in a browser, once: the browser's own
// Accept gets the HTML document, which loads nothing else, runs nothing,
// reports nothing, has its sections in order, and prints.
func TestReviewPackOpensInABrowser(t *testing.T) {
	path := chromium(t)
	m := scriptMonth(t)
	url := m.l.URL + "/v1/reviews/" + m.january + "/pack"

	browserCtx, seen, output, closeBrowser := newBrowser(t, path)
	// The pack is read with a viewer's token, as a board member's browser
	// would send it.
	_, viewer := newToken(m.l, "board member", "viewer")
	headers := network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Bearer " + viewer}}
	if _, err := chromedp.Call(browserCtx, network.SetExtraHTTPHeaders, headers); err != nil {
		t.Fatalf("set the token header: %v", err)
	}
	if err := chromedp.Do(browserCtx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v\nbrowser output:\n%s", url, err, lastLines(output.Bytes(), 30))
	}
	contentType := evaluate[string](t, browserCtx, `document.contentType`)
	title := evaluate[string](t, browserCtx, `document.title`)
	ids := evaluate[[]string](t, browserCtx, `Array.from(document.querySelectorAll("section[id]"), s => s.id)`)
	scripts := evaluate[int](t, browserCtx, `document.scripts.length`)
	resources := evaluate[int](t, browserCtx, `performance.getEntriesByType("resource").length`)
	text := evaluate[string](t, browserCtx, `document.body.innerText`)
	pdf, err := chromedp.Run(browserCtx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatalf("print %s: %v", url, err)
	}
	closeBrowser() // closes the browser, so no event comes in after the checks

	if contentType != "text/html" || title != "January board · governance review pack" {
		t.Errorf("the browser got %q titled %q, want the HTML pack titled January board", contentType, title)
	}
	if !slices.Equal(ids, packIDs) {
		t.Errorf("section ids in the DOM %q, want %q", ids, packIDs)
	}
	if scripts != 0 || resources != 0 {
		t.Errorf("the page has %d scripts and loaded %d resources, want none", scripts, resources)
	}
	for _, want := range []string{hostileTitle, hostileRationale, "No capacity set.", "Backlog gravity"} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("printing gave %d bytes, not a PDF", len(pdf))
	}
	seen.mu.Lock()
	defer seen.mu.Unlock()
	for _, p := range seen.problems {
		t.Errorf("browser: %s", p)
	}
	if !slices.Equal(seen.requests, []string{url}) {
		t.Errorf("the browser requested %q, want the pack alone", seen.requests)
	}
}
