package api

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// How answers reach a client that reads slowly, or not at all. Every answer
// has a write deadline; a streamed answer (the raw log, the audit trail's
// exports, the backlog's CSV) is written in chunks of at most streamChunk
// bytes, each with a deadline of its own, and reads the log only a little
// ahead of what it has sent. So a client that stops
// reading holds a bounded amount of the server's memory, and for a bounded
// time; and one token holds at most StreamsPerToken streams at once.
// (eventlog.ForClient says how a read is made a client's.)

const (
	// answerWriteTimeout is how long a whole answer that is not streamed
	// may take to reach the client once its headers are written.
	answerWriteTimeout = 30 * time.Second
	// chunkWriteTimeout is how long one chunk of a streamed answer may
	// take to reach the client.
	chunkWriteTimeout = 15 * time.Second
	// streamChunk is the most a streamed answer holds before it writes.
	streamChunk = 32 << 10
	// DefaultStreamsPerToken and DefaultStreamsTotal bound the answers
	// streamed at once, per token and in all, when Config leaves them 0.
	DefaultStreamsPerToken = 4
	DefaultStreamsTotal    = 64
)

// writeDeadline gives every answer a deadline to reach the client, set
// when its headers are written: a client that never reads cannot hold a
// handler, and what it holds, forever. Streams move it on chunk by chunk.
func writeDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rc := http.NewResponseController(c.Response())
		c.Response().Before(func() {
			_ = rc.SetWriteDeadline(time.Now().Add(answerWriteTimeout))
		})
		return next(c)
	}
}

// streamSlots counts the answers streaming, per token and in all.
type streamSlots struct {
	perToken, total int
	mu              sync.Mutex
	byToken         map[string]int
	all             int
}

func newStreamSlots(perToken, total int) *streamSlots {
	if perToken <= 0 {
		perToken = DefaultStreamsPerToken
	}
	if total <= 0 {
		total = DefaultStreamsTotal
	}
	return &streamSlots{perToken: perToken, total: total, byToken: map[string]int{}}
}

// take takes a slot for a stream of token, or refuses with
// ErrTooManyStreams; release gives it back.
func (s *streamSlots) take(token string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.byToken[token] >= s.perToken:
		return nil, problem(ErrTooManyStreams, fmt.Sprintf("this token already has %d answers streaming, the most it may have at once; finish one first", s.perToken))
	case s.all >= s.total:
		return nil, problem(ErrTooManyStreams, fmt.Sprintf("the server has %d answers streaming, the most it takes at once; try again shortly", s.total))
	}
	s.byToken[token]++
	s.all++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.byToken[token]--; s.byToken[token] == 0 {
				delete(s.byToken, token)
			}
			s.all--
		})
	}, nil
}

// clientStream is a streamed answer: what is written to it reaches the
// client in chunks of at most streamChunk bytes, each written within
// chunkWriteTimeout.
type clientStream struct {
	*bufio.Writer
	s       *Server
	c       echo.Context
	what    string
	release func()
}

// openStream takes a stream slot for the request's token and answers 200
// with the headers set so far; the caller writes the body and ends with
// end. what names the answer in the service's log.
func (s *Server) openStream(c echo.Context, what string) (*clientStream, error) {
	release, err := s.streams.take(requestToken(c).ID)
	if err != nil {
		return nil, err
	}
	// What the answer reads of the log, it reads only a little ahead.
	c.SetRequest(c.Request().WithContext(eventlog.ForClient(c.Request().Context())))
	c.Response().WriteHeader(http.StatusOK)
	out := &chunkWriter{res: c.Response(), rc: http.NewResponseController(c.Response())}
	return &clientStream{Writer: bufio.NewWriterSize(out, streamChunk), s: s, c: c, what: what, release: release}, nil
}

// Flush sends what is held to the client now.
func (st *clientStream) Flush() error {
	if err := st.Writer.Flush(); err != nil {
		return err
	}
	return http.NewResponseController(st.c.Response()).Flush()
}

// end finishes the stream: with err nil, it sends the rest; otherwise the
// answer is cut, so that a client never takes a part for the whole. A
// client that went away is logged at debug, a client too slow to take a
// chunk at info, anything else as an error. rows says how far it got.
func (st *clientStream) end(rows int, err error) error {
	defer st.release()
	if err == nil {
		err = st.Flush()
	}
	if err == nil {
		return nil
	}
	ctx, path := st.c.Request().Context(), st.c.Request().URL.Path
	switch {
	case errors.Is(err, errSlowClient):
		st.s.cfg.Logger.InfoContext(ctx, "client too slow: answer cut", "path", path, "answer", st.what, "rows", rows, "error", err)
	case clientGone(ctx, err):
		st.s.cfg.Logger.DebugContext(ctx, "client went away", "path", path, "answer", st.what, "rows", rows, "error", err)
		return nil
	default:
		st.s.cfg.Logger.ErrorContext(ctx, st.what+" failed", "path", path, "rows", rows, "error", err)
	}
	panic(http.ErrAbortHandler)
}

// errSlowClient is a chunk the client did not take within its deadline.
var errSlowClient = errors.New("the client took no chunk within the write deadline")

// chunkWriter writes each chunk to the client with a deadline of its own.
type chunkWriter struct {
	res *echo.Response
	rc  *http.ResponseController
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	if err := w.rc.SetWriteDeadline(time.Now().Add(chunkWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, err
	}
	n, err := w.res.Write(p)
	if err == nil {
		err = w.rc.Flush()
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("%w: %w", errSlowClient, err)
	}
	return n, err
}
