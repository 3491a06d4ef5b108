package api

import (
	"bytes"
	"embed"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/oasdiff/yaml"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// The spec as the repository holds it, and the API reference page: Redoc
// 2.5.4 (MIT), vendored from its npm package unchanged (apidocs/VENDORED.md),
// and the page and script that start it.
var (
	//go:embed openapi.yaml
	specYAML []byte
	//go:embed apidocs/index.html apidocs/init.js apidocs/redoc.standalone.js
	apidocs embed.FS
)

// docsPolicy is the Content-Security-Policy of the API reference page: its
// scripts are files of this server (no inline script, no eval); Redoc
// styles the page with style elements it makes, and fetches the spec from
// this server.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// specDocs serves the spec and the page that renders it, without a token.
type specDocs struct {
	json []byte // the spec as JSON, converted once
}

func newSpecDocs() (*specDocs, error) {
	j, err := yaml.YAMLToJSON(specYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml as JSON: %w", err)
	}
	return &specDocs{json: j}, nil
}

func (d *specDocs) register(e *echo.Echo) {
	e.GET("/openapi.yaml", d.specYAML)
	e.GET("/openapi.json", d.specJSON)
	e.GET("/docs/api", d.page)
	e.GET("/docs/api/:asset", d.asset)
}

func (d *specDocs) specYAML(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", specYAML)
}

func (d *specDocs) specJSON(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.json)
}

func (d *specDocs) page(c echo.Context) error {
	b, err := apidocs.ReadFile("apidocs/index.html")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", docsPolicy)
	return c.Blob(http.StatusOK, echo.MIMETextHTMLCharsetUTF8, b)
}

// asset serves the page's two scripts; any other name is 404.
func (d *specDocs) asset(c echo.Context) error {
	name := c.Param("asset")
	if name != "init.js" && name != "redoc.standalone.js" {
		return problem(roadmap.ErrNotFound, "no such resource: "+c.Request().URL.Path)
	}
	b, err := apidocs.ReadFile("apidocs/" + name)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", b)
}

// Spec returns the OpenAPI document the server is built with, as YAML: the
// one GET /openapi.yaml serves.
func Spec() []byte { return bytes.Clone(specYAML) }
