package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/web"
)

// httpSide is an HTTP server on a loopback port and the clients' transports,
// closed with it.
type httpSide struct {
	app        *app.App // nil for the echo side
	srv        *http.Server
	served     chan error
	base       string
	transports []*http.Transport
}

// serveLedger opens the ledger on cfg.DataDir as the serve command does,
// with benchToken as its bootstrap token, waits until it is ready and serves
// it on a loopback port: its own handler, or the handler front puts before
// it when front is not nil.
func serveLedger(ctx context.Context, cfg app.Config, front func(*app.App) (http.Handler, error)) (*httpSide, error) {
	cfg.BootstrapToken = benchToken
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := a.WaitReady(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("ledger not ready: %w", err)
	}
	h := a.Handler
	if front != nil {
		h, err = front(a)
	}
	var s *httpSide
	if err == nil {
		s, err = serveHandler(h)
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	s.app = a
	return s, nil
}

// serveBytes serves body on path from a plain echo server: the least a Go
// HTTP server can do to answer the same request.
func serveBytes(path, contentType string, body []byte) (*httpSide, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(path, func(c echo.Context) error { return c.Blob(http.StatusOK, contentType, body) })
	return serveHandler(e)
}

func serveHandler(h http.Handler) (*httpSide, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &httpSide{
		served: make(chan error, 1), base: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second},
	}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// client returns a client with its own keep-alive connection, straight to
// the loopback listener.
func (s *httpSide) client() *http.Client {
	t := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute, DisableCompression: true}
	s.transports = append(s.transports, t)
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

// get returns the body and content type of a GET that must answer 200.
func (s *httpSide) get(ctx context.Context, path string) ([]byte, string, error) {
	w := &getWorker{client: s.client(), base: s.base}
	if err := w.get(ctx, path); err != nil {
		return nil, "", err
	}
	return bytes.Clone(w.buf.Bytes()), w.contentType, nil
}

func (s *httpSide) close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, t := range s.transports {
		t.CloseIdleConnections()
	}
	err := s.srv.Shutdown(ctx)
	if e := <-s.served; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	if s.app != nil {
		err = errors.Join(err, s.app.Close())
	}
	return err
}

// getWorker is one keep-alive client making GET requests; next says which
// path to get and how to check the answer's body.
type getWorker struct {
	client      *http.Client
	base        string
	next        func(*getWorker) (path string, check func([]byte) error)
	op          string
	buf         bytes.Buffer
	contentType string
	index       int
	// session sends the benchmark's token as the web app's session cookie
	// as well.
	session bool
}

func getWorkers(s *httpSide, n int, next func(*getWorker) (string, func([]byte) error)) []worker {
	ws := make([]worker, n)
	for i := range ws {
		ws[i] = &getWorker{client: s.client(), base: s.base, next: next, op: "get", index: i}
	}
	return ws
}

func (w *getWorker) Do(ctx context.Context) (string, error) {
	path, check := w.next(w)
	if err := w.get(ctx, path); err != nil {
		return w.op, err
	}
	if check != nil {
		if err := check(w.buf.Bytes()); err != nil {
			return w.op, fmt.Errorf("GET %s: %w", path, err)
		}
	}
	return w.op, nil
}

// get reads the whole answer into w.buf and returns an error unless the
// status is 200.
func (w *getWorker) get(ctx context.Context, path string) error {
	res, err := send(ctx, w.client, http.MethodGet, w.base, path, "", http.StatusOK, &w.buf, w.session)
	if err != nil {
		return err
	}
	w.contentType = res.Header.Get("Content-Type")
	return nil
}

// call sends a request, with a JSON body unless body is empty, and the
// benchmark's token: every side gets it, the plain servers too, so they read
// the same request. It reads the whole answer into buf, so the connection
// is reused, and returns an error unless the status is want.
func call(ctx context.Context, client *http.Client, method, base, path, body string, want int, buf *bytes.Buffer) (*http.Response, error) {
	return send(ctx, client, method, base, path, body, want, buf, false)
}

// send is call, with the token as the web app's session cookie too when
// session is set: how a signed-in browser asks for a page.
func send(ctx context.Context, client *http.Client, method, base, path, body string, want int, buf *bytes.Buffer, session bool) (*http.Response, error) {
	var content io.Reader
	if body != "" {
		content = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, content)
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+benchToken)
	if session {
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: benchToken})
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, bytes.TrimSpace(buf.Bytes()))
	}
	return res, nil
}
