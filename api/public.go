package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
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
// entries grouped by horizon.
type publicPageData struct {
	publicRoadmapJSON
	JSONPath string
	Groups   []publicGroup
}

type publicGroup struct {
	Title   string
	Entries []publicEntryJSON
}

func publicPage(v publicRoadmapJSON) publicPageData {
	d := publicPageData{publicRoadmapJSON: v, JSONPath: "/public/" + v.Slug + ".json"}
	titles := map[string]string{"now": "Now", "next": "Next", "later": "Later", "": "On the roadmap"}
	for _, h := range []string{"now", "next", "later", ""} {
		g := publicGroup{Title: titles[h]}
		for _, e := range v.Entries {
			if e.Horizon == h {
				g.Entries = append(g.Entries, e)
			}
		}
		if len(g.Entries) > 0 {
			d.Groups = append(d.Groups, g)
		}
	}
	return d
}

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
<style>
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 46rem; padding: 1rem; overflow-wrap: anywhere; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 .5rem; border-bottom: 2px solid #1a1a1a; }
ul { list-style: none; padding: 0; margin: 0; }
li { padding: .6rem 0; border-bottom: 1px solid #ddd; }
.objectives { color: #444; font-size: .9rem; margin: .2rem 0 0; }
.proof { font-size: .85rem; }
footer { margin-top: 2rem; font-size: .85rem; color: #444; }
code { font: .85em ui-monospace, Menlo, Consolas, monospace; }
a { color: #0645ad; }
</style>
</head>
<body>
<main>
<h1>{{.Name}}</h1>
{{- range .Groups}}
<section>
<h2>{{.Title}}</h2>
<ul>
{{- range .Entries}}
<li><p>{{.Summary}}</p>
{{- if .Objectives}}<p class="objectives">Serves: {{range $i, $o := .Objectives}}{{if $i}}, {{end}}{{$o}}{{end}}</p>{{end}}
{{- if .Proof}}<p class="proof"><a href="{{.Proof}}">Proof in the signed ledger</a> (event {{.Sequence}})</p>{{else}}<p class="proof">Event {{.Sequence}}, not yet in a signed checkpoint</p>{{end}}</li>
{{- end}}
</ul>
</section>
{{- else}}
<p>Nothing is published on this roadmap yet.</p>
{{- end}}
</main>
<footer>
<p>This page shows the ledger at sequence {{.Sequence}}.
{{- with .Checkpoint}} The latest signed checkpoint covers {{.Size}} events, root <code>{{.Root}}</code>.{{else}} No checkpoint is signed yet.{{end}}
Read it as <a href="{{.JSONPath}}">JSON</a>; check it with <code>roadmap verify --public</code>.</p>
</footer>
</body>
</html>
`))
