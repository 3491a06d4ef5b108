package api

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// htmlPolicy is the Content-Security-Policy of every HTML answer: the
// document may load nothing (its styles are inline), run no script, be
// framed by no page, and send no form.
const htmlPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// securityHeaders gives every answer X-Content-Type-Options: nosniff, so a
// browser never runs an answer as another type than it says, and every
// HTML answer that sets no policy of its own (the web app's pages, the API
// reference page's docsPolicy, the public page's publicPolicy) the Content-Security-Policy htmlPolicy as a
// header, which (unlike a <meta> tag) also forbids framing.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		res.Header().Set("X-Content-Type-Options", "nosniff")
		res.Before(func() {
			if strings.HasPrefix(res.Header().Get("Content-Type"), mediaHTML) && res.Header().Get("Content-Security-Policy") == "" {
				res.Header().Set("Content-Security-Policy", htmlPolicy)
			}
		})
		return next(c)
	}
}

// noStore keeps the answers of the routes for auditors and admins (the
// audit trail, the raw log, proofs, exports, tokens) out of every cache:
// they are for the one who asked.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}
