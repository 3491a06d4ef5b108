package web_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/roadmap-ledger/roadmap/internal/htmltest"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = htmltest.ChromiumPath

//go:embed testdata/axe.min.js
var axeSource string

// browser is the one headless Chromium the package's tests share: each test
// opens its own tabs in it (and its own cookie jar, by a fresh browser
// context).
var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	output bytes.Buffer
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

// tab opens a new tab in a browser context of its own (so its cookies are
// its own), closed when the test ends. It fails the test when Chromium
// cannot start.
func tab(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the web app is tested in Chromium, which is not at %s; install it (on Debian: apt-get install -y --no-install-recommends chromium)", chromiumPath)
	}
	browser.once.Do(func() {
		dir, err := os.MkdirTemp("", "web-chromium-")
		if err != nil {
			browser.err = err
			return
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), htmltest.ChromiumOptions(dir, &browser.output)...)
		ctx, cancel := chromedp.NewContext(alloc)
		browser.ctx = ctx
		browser.cancel = func() { cancel(); cancelAlloc(); os.RemoveAll(dir) }
		browser.err = chromedp.Do(ctx)
	})
	if browser.err != nil {
		t.Fatalf("start Chromium: %v\n%s", browser.err, browser.output.String())
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 30*time.Second)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	var exceptions []string
	var mu sync.Mutex
	err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*runtime.EventExceptionThrown); ok {
			mu.Lock()
			exceptions = append(exceptions, ev.ExceptionDetails.Text+" "+describe(ev.ExceptionDetails.Exception))
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range exceptions {
			t.Errorf("the page threw: %s", e)
		}
	})
	return ctx
}

func describe(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	return o.Description
}

// run runs browser actions, failing the test with what it was doing.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		t.Fatalf("%s: %v\nthe page: %s", what, err, page)
	}
}

// eval runs a JavaScript expression in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// signIn signs in on the page at base with secret, as a person would: the
// token typed into the form, the form sent.
func signIn(t *testing.T, ctx context.Context, base, secret string) {
	t.Helper()
	run(t, ctx, "sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), secret),
		chromedp.Click(chromedp.CSS(`form.signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#board`)),
	)
}

func signOut(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS(`form.signout button`)),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
	)
}

// text is the page's visible text.
func text(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.body.innerText`)
}

// checkAccessible runs axe-core on the page at a phone's width and a
// desktop's, and fails the test for every serious or critical violation.
func checkAccessible(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	for _, width := range []int64{360, 1280} {
		run(t, ctx, "resize", chromedp.EmulateViewport(width, 900))
		if !eval[bool](t, ctx, `typeof window.axe === "object"`) {
			eval[bool](t, ctx, axeSource+";\ntrue")
		}
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(
			r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
			 .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html)}))))`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("run axe-core on %s: %v", page, err)
		}
		var violations []struct {
			ID, Impact, Help string
			Nodes            []string
		}
		if err := json.Unmarshal([]byte(out), &violations); err != nil {
			t.Fatalf("axe-core's answer: %v", err)
		}
		for _, v := range violations {
			t.Errorf("%s at %dpx: %s (%s): %s; %s", page, width, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | "))
		}
		shoot(t, ctx, fmt.Sprintf("%s-%d", strings.ReplaceAll(page, " ", "-"), width))
		// Nothing may stick out sideways at a phone's width.
		if width == 360 {
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 360 {
				t.Errorf("%s at 360px is %dpx wide: it scrolls sideways", page, w)
			}
		}
	}
}

// drag drags the element from onto the upper part of the element to, with
// the mouse, as a person would.
func drag(t *testing.T, ctx context.Context, from, to string) {
	t.Helper()
	center := func(sel string, upper bool) (float64, float64) {
		q := fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.left + r.width / 2, r.top + (%t ? r.height / 4 : r.height / 2)]; })()`, sel, upper)
		run(t, ctx, "find "+sel, chromedp.ScrollIntoView(chromedp.CSS(sel)))
		box := eval[[]float64](t, ctx, q)
		return box[0], box[1]
	}
	x0, y0 := center(from, false)
	x1, y1 := center(to, true)
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0, y0),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	}
	for i := 1; i <= 12; i++ {
		f := float64(i) / 12
		actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0+(x1-x0)*f, y0+(y1-y0)*f, chromedp.ButtonLeft), chromedp.Sleep(15*time.Millisecond))
	}
	actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x1, y1, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	run(t, ctx, "drag "+from+" to "+to, actions...)
}

// shoot saves a screenshot of the page as name.png in the directory
// WEB_SCREENSHOTS names, when it names one: for people to look at the
// pages.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("WEB_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until a JavaScript condition holds in the page, polling;
// it fails the test when it does not within ten seconds.
func waitFor(t *testing.T, ctx context.Context, condition string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](condition))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s (last error: %v)", condition, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
