// Package spectest checks HTTP traffic against the API's OpenAPI document
// (api/openapi.yaml, as the api package embeds it): a client transport for
// tests that send requests, and a handler wrapper for tests whose requests
// are sent by code under test (the command-line tools). Every exchange that
// does not match the spec fails the test. Only tests import it.
package spectest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/roadmap-ledger/roadmap/api"
)

// Load reads and validates the spec the api package is built with. It
// returns an error when the document is not valid OpenAPI.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.Spec())
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
}

// The spec and its router are built once for every ledger the tests start.
var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

func specAndRouter() (*openapi3.T, routers.Router, error) {
	specOnce.Do(func() {
		// The review pack's documents are checked as text, against their
		// media type and status; their contents have tests of their own.
		openapi3filter.RegisterBodyDecoder("text/markdown", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
		// The spec itself and the reference page's scripts, as text.
		openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/javascript", openapi3filter.PlainBodyDecoder)
		specDoc, specErr = Load()
		if specErr != nil {
			return
		}
		// The spec names the default listen address as its server; the tests'
		// servers listen on other ports, so routing matches paths only.
		routed := *specDoc
		routed.Servers = nil
		specRouter, specErr = gorillamux.NewRouter(&routed)
		if specErr == nil {
			specDoc = &routed
		}
	})
	return specDoc, specRouter, specErr
}

// checkLines checks each line of a JSON Lines answer against the schema the
// spec names for it (x-line-schema: OpenAPI 3.0 describes a stream only as
// bytes, and kin-openapi checks such a body as a file, not through a body
// decoder).
func checkLines(op *openapi3.Operation, status int, header http.Header, body []byte) error {
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if mt != "application/x-ndjson" || op == nil {
		return nil
	}
	ref := op.Responses.Status(status)
	if ref == nil || ref.Value == nil || ref.Value.Content[mt] == nil {
		return nil // ValidateResponse reports it
	}
	line, err := lineSchema(ref.Value.Content[mt].Schema)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for n := 1; ; n++ {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if err := line.VisitJSON(v, openapi3.DisableSchemaErrorDetails()); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
}

// lineSchema returns the component schema a stream's x-line-schema names.
func lineSchema(stream *openapi3.SchemaRef) (*openapi3.Schema, error) {
	if stream == nil || stream.Value == nil {
		return nil, errors.New("a JSON Lines answer without a schema")
	}
	ref, _ := stream.Value.Extensions["x-line-schema"].(map[string]any)
	name, ok := strings.CutPrefix(fmt.Sprint(ref["$ref"]), "#/components/schemas/")
	if !ok {
		return nil, errors.New("a JSON Lines answer whose schema names no x-line-schema: {$ref: '#/components/schemas/...'}")
	}
	s := specDoc.Components.Schemas[name]
	if s == nil || s.Value == nil {
		return nil, fmt.Errorf("x-line-schema names %s, which components.schemas does not have", name)
	}
	return s.Value, nil
}

// specCheckingTransport checks every exchange against the OpenAPI spec.
type specCheckingTransport struct {
	checker
	next http.RoundTripper
}

// checker checks exchanges against the spec, reporting to t.
type checker struct {
	t      Reporter
	doc    *openapi3.T
	router routers.Router
	// damagedLog skips the check of each line of the raw log.
	damagedLog bool
}

// Option changes what Handler checks.
type Option func(*checker)

// DamagedLog is for tests that damage the stored log on purpose: the raw
// log then holds the damaged message as the stream holds it, which no line
// schema of an intact log describes, so its lines are checked as bytes
// only. Everything else is checked as usual.
func DamagedLog() Option { return func(c *checker) { c.damagedLog = true } }

// Transport returns a transport that sends requests through
// next and checks every exchange against api/openapi.yaml, reporting
// mismatches with t.Errorf:
//
//   - every response must be one the spec declares for the operation: its
//     status, its headers, its content type and its body;
//   - a request the server accepted (2xx) must conform to the spec; a request
//     it refused (4xx, 5xx) may be deliberately bad, so only its answer is
//     checked;
//   - a request the spec has no operation for is a failure, unless the server
//     answered it as the spec's general rules say: 404 for a path the spec
//     does not have, 405 for a method a path does not have, 204 with Allow
//     for OPTIONS.
func Transport(t testing.TB, next http.RoundTripper) http.RoundTripper {
	t.Helper()
	doc, router, err := specAndRouter()
	if err != nil {
		t.Fatalf("OpenAPI spec: %v", err)
	}
	return &specCheckingTransport{checker: checker{t: t, doc: doc, router: router}, next: next}
}

func (s *specCheckingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	sent := req
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("spec check: read request body: %w", err)
		}
		sent = req.Clone(req.Context())
		sent.Body = io.NopCloser(bytes.NewReader(reqBody))
		sent.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	}
	res, err := s.next.RoundTrip(sent)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("spec check: read response body: %w", err)
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	res.Request = req
	s.check(req, reqBody, res, resBody)
	return res, nil
}

// check validates one exchange and reports every mismatch.
func (s *checker) check(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) {
	s.t.Helper()
	ctx := context.Background()
	where := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, res.StatusCode)
	vreq := asServerSees(req, reqBody)
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		// The error names the field and the rule; the whole schema is noise.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}

	operation := ""
	route, params, err := s.router.FindRoute(vreq)
	if err != nil {
		fallback, ok := s.generalRoute(err, vreq)
		if !ok {
			s.t.Errorf("OpenAPI: %s: the spec has no operation for this request (%v)", where, err)
			return
		}
		route, params = fallback, map[string]string{}
		operation = fmt.Sprintf("the spec has no operation for this request (%v), so only its general %s answer fits", err, fallbackName(err, vreq.Method))
	} else if res.StatusCode >= 200 && res.StatusCode < 300 {
		in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			s.t.Errorf("OpenAPI: %s: the server accepted a request the spec does not allow: %v\nrequest body: %s", where, err, specClip(reqBody))
		}
	}

	if operation == "" {
		operation = "operation " + route.Method + " " + route.Path
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(resBody)),
		Options:                opts,
	}); err != nil {
		s.t.Errorf("OpenAPI: %s (%s): the answer does not match the spec: %v\nanswer body: %s", where, operation, err, specClip(resBody))
	}
	if s.damagedLog {
		return
	}
	if err := checkLines(route.Operation, res.StatusCode, res.Header, resBody); err != nil {
		s.t.Errorf("OpenAPI: %s (%s): a line of the answer does not match the spec: %v\nanswer body: %s", where, operation, err, specClip(resBody))
	}
}

// generalRoute returns the operation that stands for the spec's general rules
// when the router found none: a path the spec does not have may only be
// answered with its NotFound response, a method it does not have on a path
// only with its MethodNotAllowed response (Options for OPTIONS).
func (s *checker) generalRoute(err error, req *http.Request) (*routers.Route, bool) {
	name := fallbackName(err, req.Method)
	status := map[string]int{"NotFound": http.StatusNotFound, "MethodNotAllowed": http.StatusMethodNotAllowed, "Options": http.StatusNoContent}[name]
	if status == 0 {
		return nil, false
	}
	ref := s.doc.Components.Responses[name]
	if ref == nil {
		s.t.Errorf("OpenAPI: the spec has no components.responses.%s", name)
		return nil, false
	}
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(status, ref))
	return &routers.Route{Spec: s.doc, Path: req.URL.Path, Method: req.Method, Operation: op}, true
}

// fallbackName names the response of components.responses that stands for a
// routing error: NotFound, MethodNotAllowed, Options for an OPTIONS request
// on a path the spec has, or "" for any other error.
func fallbackName(err error, method string) string {
	switch {
	case errors.Is(err, routers.ErrPathNotFound):
		return "NotFound"
	case errors.Is(err, routers.ErrMethodNotAllowed) && method == http.MethodOptions:
		return "Options"
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return "MethodNotAllowed"
	}
	return ""
}

// asServerSees returns a copy of req, with a fresh body, as the server sees
// it: header values trimmed as they are on the wire, and empty ones dropped
// (the API treats an empty Idempotency-Key or If-Match as none). A
// body of an application/*+json type, which the API reads as JSON, is
// checked as application/json: OpenAPI media type keys cannot name the
// "+json" suffix.
func asServerSees(req *http.Request, body []byte) *http.Request {
	out := req.Clone(context.Background())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	for name, values := range out.Header {
		var kept []string
		for _, v := range values {
			if v = textproto.TrimString(v); v != "" {
				kept = append(kept, v)
			}
		}
		if len(kept) == 0 {
			out.Header.Del(name)
			continue
		}
		out.Header[name] = kept
	}
	if mt, params, err := mime.ParseMediaType(out.Header.Get("Content-Type")); err == nil && mt != "application/json" && strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json") {
		out.Header.Set("Content-Type", mime.FormatMediaType("application/json", params))
	}
	return out
}

func specClip(b []byte) string {
	const max = 2000
	if len(b) > max {
		return string(b[:max]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}

// Reporter is where Handler reports mismatches: a testing.TB, or, for a
// server shared by a package's tests, a collector TestMain reads.
type Reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// Handler returns next behind a check of every exchange against the spec,
// as Transport checks them, for servers whose requests the code under test
// sends (the command-line tools): the request as the server received it,
// the answer as next wrote it. Answers stream through unchanged; each is
// checked once next has returned, and mismatches are reported to r. The
// server must be closed before r stops taking reports (the test ends).
func Handler(r Reporter, next http.Handler, opts ...Option) http.Handler {
	r.Helper()
	doc, router, err := specAndRouter()
	if err != nil {
		r.Errorf("OpenAPI spec: %v", err)
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the OpenAPI spec does not load", http.StatusInternalServerError)
		})
	}
	c := &checker{t: r, doc: doc, router: router}
	for _, o := range opts {
		o(c)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reqBody []byte
		if r.Body != nil && r.Body != http.NoBody {
			var err error
			if reqBody, err = io.ReadAll(r.Body); err != nil {
				http.Error(w, "spec check: read request body: "+err.Error(), http.StatusBadRequest)
				return
			}
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		seen := r.Clone(context.Background())
		seen.URL.Scheme, seen.URL.Host = "http", r.Host
		rec := &teeWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
			rec.header = w.Header().Clone()
		}
		res := &http.Response{StatusCode: rec.status, Header: rec.header, Request: seen}
		c.check(seen, reqBody, res, rec.body.Bytes())
	})
}

// teeWriter writes an answer through and keeps a copy of its status,
// headers and body.
type teeWriter struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status, w.header = status, w.ResponseWriter.Header().Clone()
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Flush lets streamed answers (the raw log) reach the client as they are
// written.
func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Collector is a Reporter for a server shared by a package's tests, which
// outlives each of them: TestMain reads its reports once the tests ran.
type Collector struct {
	mu      sync.Mutex
	reports []string
}

// Helper does nothing: a collector has no call stack to trim.
func (c *Collector) Helper() {}

// Errorf records a report.
func (c *Collector) Errorf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reports = append(c.reports, fmt.Sprintf(format, args...))
}

// Reports returns what was reported so far.
func (c *Collector) Reports() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.reports...)
}
