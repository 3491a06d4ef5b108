package api

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// RequestObserver is told of every request the API has answered: its
// method, its route pattern (such as "/v1/items/:id", never the path a
// client sent, so an id or a title never becomes a label), its status and
// how long it took. The metrics implement it.
type RequestObserver interface {
	ObserveRequest(method, route string, status int, took time.Duration)
}

// unmatchedRoute stands for every path no route serves: one name for
// them all, whatever a client asked.
const unmatchedRoute = "unmatched"

// accessLog logs one line per request once it is answered (method, route
// pattern, status, duration, actor name; the request id is added by the
// logger), and tells the observer. The token is never logged: only the
// name of the token the request was authorised with.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			// Answer the error here, so the line has the status the client
			// gets (echo's own logger middleware does the same).
			c.Error(err)
		}
		took := time.Since(start)
		r := c.Request()
		route := c.Path()
		if route == "" {
			route = unmatchedRoute
		}
		status := c.Response().Status
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", took),
		}
		if name := requestToken(c).Name; name != "" {
			attrs = append(attrs, slog.String("actor", name))
		}
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
		if s.cfg.Requests != nil {
			s.cfg.Requests.ObserveRequest(r.Method, route, status, took)
		}
		return nil
	}
}
