// Package htmltest reads parsed HTML pages for tests (the nodes that match,
// elements by tag, attributes by name) and says how the tests start
// headless Chromium. Only tests import it.
package htmltest

import "golang.org/x/net/html"

// Find returns the nodes under n that match, in document order.
func Find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if match(d) {
			out = append(out, d)
		}
	}
	return out
}

// Element matches the elements with the given tag.
func Element(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == tag }
}

// Attr returns the value of n's attribute name, or "" when it has none.
func Attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}
