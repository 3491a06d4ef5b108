package web

import (
	"fmt"
	"html/template"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// parsePages parses every page with the layout it fills.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"when":    when,
		"score":   scoreText,
		"clip":    clip,
		"horizon": horizonName,
		"link":    link,
		"event":   eventName,
		"place":   placeText,
		"at":      placeOf,
		"moved":   moved,
		"status":  func(s roadmap.ItemStatus) string { return strings.ReplaceAll(string(s), "_", " ") },
		"seq":     func(n uint64) string { return strconv.FormatUint(n, 10) },
	}
	maps.Copy(funcs, viewFuncs)
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html"))
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "error", "board", "item", "changes", "compare", "backlog", "import", "reviews", "review", "objectives", "audit", "numbers", "objective", "views"} {
		t := template.Must(layout.Clone())
		pages[name] = template.Must(t.ParseFS(files, "templates/"+name+".html"))
	}
	// A view's page and the page a read-only link opens draw the view
	// the same way; the shared page has a layout of its own, with no
	// navigation.
	pages["view"] = template.Must(template.Must(layout.Clone()).ParseFS(files, "templates/view.html", "templates/viewbody.html"))
	pages["shared"] = template.Must(template.New("shared.html").Funcs(funcs).ParseFS(files, "templates/shared.html", "templates/viewbody.html"))
	pages["sharedhop"] = template.Must(template.New("sharedhop.html").Funcs(funcs).ParseFS(files, "templates/sharedhop.html"))
	return pages
}

// when shows a moment of the ledger's clock, in UTC to the minute.
func when(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// scoreText shows a score as its framework and value.
func scoreText(s *roadmap.Score) string {
	if s == nil {
		return "not scored"
	}
	return fmt.Sprintf("%s %s", strings.ToUpper(strings.ReplaceAll(s.Framework, "_", " ")), strconv.FormatFloat(s.Value, 'f', -1, 64))
}

// clip shortens text to n characters, ending it with an ellipsis.
func clip(n int, s string) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n])) + "…"
}

func horizonName(h roadmap.Horizon) string {
	switch h {
	case roadmap.Now:
		return "Now"
	case roadmap.Next:
		return "Next"
	case roadmap.Later:
		return "Later"
	}
	return string(h)
}

// placeText shows where an event left or found its item.
func placeText(p *projections.Place) string {
	if p == nil || p.Horizon == "" {
		return "off the roadmap"
	}
	return fmt.Sprintf("%s #%d", horizonName(p.Horizon), p.Rank)
}

// placeOf is placeText of a place held by value.
func placeOf(p projections.Place) string { return placeText(&p) }

// moved says whether an event moved its item on or off the roadmap.
func moved(from, to *projections.Place) bool {
	return (from != nil && from.Horizon != "") || (to != nil && to.Horizon != "")
}

// eventName shows an event type for people: item.reprioritised as
// "reprioritised".
func eventName(t string) string {
	if _, after, ok := strings.Cut(t, "."); ok {
		return strings.ReplaceAll(after, "_", " ")
	}
	return t
}

// link returns evidence as a URL when it is an http or https one, which the
// page may make a link of, and "" otherwise: a javascript: or data: URL in
// evidence stays text.
func link(s string) template.URL {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return template.URL(u.String())
}
