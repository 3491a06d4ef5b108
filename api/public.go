package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// publicMaxAge is how long a cache may keep a public answer: a public page
// is read by many and changes only with a decision.
const publicMaxAge = "public, max-age=60"

// mountPublic registers the public roadmap: pages anyone reads without a
// token, outside /v1. They show only published items of public views, by
// their public fields, and the proofs of the events that published them.
func (s *Server) mountPublic(e *echo.Echo) {
	e.GET("/public/:slug", s.publicView, s.afterReplay)
	e.GET("/public/:slug/proofs/:seq", s.publicProof, s.afterReplay)
}

// publicProofPath is where the proof of the event at seq, which published
// an entry of the public view slug, in the checkpoint of size size is read.
func publicProofPath(slug string, seq uint64, size int64) string {
	return fmt.Sprintf("/public/%s/proofs/%d?checkpoint=%d", slug, seq, size)
}

// publicView answers a public view: as JSON when the path ends in .json,
// else as a standalone HTML page.
func (s *Server) publicView(c echo.Context) error {
	if err := noQuery(c, "a public view"); err != nil {
		return err
	}
	slug, asJSON := strings.CutSuffix(c.Param("slug"), ".json")
	if !roadmap.ValidProduct(slug) {
		return problem(roadmap.ErrNotFound, fmt.Sprintf("no public view %q", clip(slug)))
	}
	v, err := s.attest.Public(c.Request().Context(), slug, s.cfg.Wait.WaitFor)
	if err != nil {
		return err
	}
	var statement *string
	if text, ok := v.Text(); ok && s.cfg.SignNote != nil {
		signed, err := s.cfg.SignNote(text)
		if err != nil {
			return err
		}
		note := string(signed)
		statement = &note
	}
	wire := publicWire(v, statement)
	var body bytes.Buffer
	contentType := echo.MIMEApplicationJSON
	if asJSON {
		if err := writeJSON(&body, wire); err != nil {
			return err
		}
	} else {
		contentType = mediaHTML + "; charset=utf-8"
		if err := publicTemplate.Execute(&body, publicPage(wire)); err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("Content-Security-Policy", publicPolicy)
		h.Set("Referrer-Policy", "same-origin")
	}
	return answerCacheable(c, contentType, body.Bytes())
}

// answerCacheable answers body, which any cache may keep for a while, with
// an ETag of its bytes, and 304 to a client that holds them already.
func answerCacheable(c echo.Context, contentType string, body []byte) error {
	sum := sha256.Sum256(body)
	tag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := c.Response().Header()
	h.Set("Cache-Control", publicMaxAge)
	h.Set("ETag", tag)
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, tag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, contentType, body)
}

// publicProof answers the inclusion proof of the event that published an
// entry of a public view, in a signed checkpoint: hashes only, never an
// event.
func (s *Server) publicProof(c echo.Context) error {
	seq, size, err := proofRequest(c)
	if err != nil {
		return err
	}
	inc, err := s.attest.PublicProof(c.Param("slug"), seq, size)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	if err := writeJSON(&body, inclusionJSON{Seq: inc.Seq, Checkpoint: inc.Checkpoint.Size, LeafHash: inc.Leaf.String(), Proof: hashStrings(inc.Proof)}); err != nil {
		return err
	}
	return answerCacheable(c, echo.MIMEApplicationJSON, body.Bytes())
}

// publicPageData is what the public page shows: the JSON answer, its
// entries in Now, Next and Later (or in one list, when the view does not
// show the horizon), and the proofs of them all for the footer.
type publicPageData struct {
	publicRoadmapJSON
	JSONPath string
	Columns  []publicGroup
	// Proven are the entries whose publish event the checkpoint covers,
	// Pending those it does not cover yet.
	Proven, Pending []publicEntryJSON
}

type publicGroup struct {
	Title   string
	Entries []publicEntryJSON
}

func publicPage(v publicRoadmapJSON) publicPageData {
	d := publicPageData{publicRoadmapJSON: v, JSONPath: "/public/" + v.Slug + ".json"}
	horizons := []string{"now", "next", "later"}
	titles := map[string]string{"now": "Now", "next": "Next", "later": "Later"}
	if !slices.ContainsFunc(v.Entries, func(e publicEntryJSON) bool { return e.Horizon != "" }) {
		horizons, titles[""] = []string{""}, "On our roadmap"
	}
	for _, h := range horizons {
		g := publicGroup{Title: titles[h]}
		for _, e := range v.Entries {
			if e.Horizon == h {
				g.Entries = append(g.Entries, e)
			}
		}
		d.Columns = append(d.Columns, g)
	}
	for _, e := range v.Entries {
		if e.Proof != nil {
			d.Proven = append(d.Proven, e)
		} else {
			d.Pending = append(d.Pending, e)
		}
	}
	return d
}

// publicStyle is the public page's only style, inline so the page loads
// nothing, and allowed by its hash (publicPolicy), so no other style or
// script can run. The columns stack on a narrow screen.
const publicStyle = `
:root { color-scheme: light; --ink: #1f2933; --muted: #52606d; --line: #d9e2ec; --wash: #f5f7fa; --accent: #1d4ed8; }
* { box-sizing: border-box; }
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink); background: var(--wash); margin: 0; overflow-wrap: anywhere; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 2rem; padding-bottom: .5rem; }
h1 { font-size: 1.8rem; font-weight: 650; margin: 0 0 .25rem; }
.lede { color: var(--muted); margin: 0 0 1rem; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; }
@media (min-width: 48rem) { .columns { grid-template-columns: repeat(auto-fit, minmax(0, 1fr)); } }
.column { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.1rem; }
h2 { font-size: 1.1rem; font-weight: 650; margin: 0 0 .75rem; padding-bottom: .4rem; border-bottom: 3px solid var(--accent); }
ul { list-style: none; padding: 0; margin: 0; }
.entry { padding: .65rem 0; border-top: 1px solid var(--line); }
.entry:first-child { border-top: 0; padding-top: 0; }
.entry p { margin: 0; }
.objectives { color: var(--muted); font-size: .9rem; margin-top: .25rem; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 2.5rem; padding-bottom: 2rem; font-size: .875rem; color: var(--muted); }
footer h2 { font-size: .95rem; border-bottom: 1px solid var(--line); color: var(--ink); }
footer p { margin: .4rem 0; }
footer li { margin: .2rem 0; }
code { font: .85em ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
a { color: var(--accent); text-underline-offset: 2px; }
`

// publicPolicy is the Content-Security-Policy of the public page: that of
// every HTML answer (htmlPolicy), with its one inline style allowed by
// hash instead of any inline style.
var publicPolicy = func() string {
	sum := sha256.Sum256([]byte(publicStyle))
	return strings.Replace(htmlPolicy, "style-src 'unsafe-inline'", "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", 1)
}()

// publicTemplate is the public page: standalone, no script, nothing loaded
// from anywhere, every text escaped by html/template, readable on a narrow
// phone.
var publicTemplate = template.Must(template.New("public").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Name}} · roadmap</title>
<link rel="icon" href="data:,">
<style>` + publicStyle + `</style>
</head>
<body>
<header>
<h1>{{.Name}}</h1>
<p class="lede">What we are working on now, what comes next, and what comes later.</p>
</header>
<main>
<div class="columns">
{{- range .Columns}}
<section class="column" aria-label="{{.Title}}">
<h2>{{.Title}}</h2>
<ul>
{{- range .Entries}}
<li class="entry"><p>{{.Summary}}</p>
{{- if .Objectives}}<p class="objectives">Serves: {{range $i, $o := .Objectives}}{{if $i}}, {{end}}{{$o}}{{end}}</p>{{end}}</li>
{{- else}}
<li class="empty">Nothing here yet.</li>
{{- end}}
</ul>
</section>
{{- end}}
</div>
</main>
<footer>
<h2>Check this page</h2>
<p>This page shows the ledger at sequence {{.Sequence}}.
{{- with .Checkpoint}} The latest signed checkpoint covers {{.Size}} events, root <code>{{.Root}}</code>.{{else}} No checkpoint is signed yet.{{end}}</p>
{{- if .Proven}}
<p>Each statement above is an event of the signed ledger; its proof:</p>
<ul>
{{- range .Proven}}
<li><a href="{{.Proof}}">Proof of event {{.Sequence}}</a>: {{.Summary}}</li>
{{- end}}
</ul>
{{- end}}
{{- range .Pending}}
<p>Event {{.Sequence}} ({{.Summary}}) is not yet in a signed checkpoint.</p>
{{- end}}
<p>Read it as <a href="{{.JSONPath}}">JSON</a>; check it with <code>roadmap verify --public</code>.</p>
</footer>
</body>
</html>
`))
