package htmltest

import (
	"io"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where the tests find Chromium: Debian's chromium package.
const ChromiumPath = "/usr/bin/chromium"

// ChromiumOptions are how the tests start headless Chromium: as root in a
// container (no sandbox), with none of the background connections it would
// otherwise make at every start, in a user data directory of its own, its
// output to output.
func ChromiumOptions(userDataDir string, output io.Writer) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(userDataDir),
		chromedp.CombinedOutput(output),
	}
}
