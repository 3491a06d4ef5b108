package api

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"syscall"

	"github.com/labstack/echo/v4"
)

// HeaderRequestID names a request in the service's log. A client may send
// one; the answer always carries the one every log line of the request
// names.
const HeaderRequestID = "X-Request-Id"

// maxRequestIDLen bounds a request id a client sends: a longer one is
// replaced, not cut.
const maxRequestIDLen = 128

type requestIDKey struct{}

// requestID gives the request an id, the client's X-Request-Id when it is
// a sane token (1 to maxRequestIDLen printable ASCII characters, no
// spaces), else a fresh one; answers it in X-Request-Id and carries it on
// the request's context for the log.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		id := r.Header.Get(HeaderRequestID)
		if id == "" || len(id) > maxRequestIDLen || !printableASCII(id) {
			id = rand.Text()
		}
		c.Response().Header().Set(HeaderRequestID, id)
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		return next(c)
	}
}

// requestIDs is a slog.Handler that adds the request_id of the context a
// line is logged with, when it has one.
type requestIDs struct{ slog.Handler }

func (h requestIDs) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDs{h.Handler.WithAttrs(attrs)}
}

func (h requestIDs) WithGroup(name string) slog.Handler {
	return requestIDs{h.Handler.WithGroup(name)}
}

// clientGone reports whether err is the client going away: the request's
// own context canceled (the server cancels it when the connection closes),
// or the connection broken under a write. That is no failure of the
// ledger: it is logged at debug.
func clientGone(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) && ctx.Err() != nil ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
