// Package api serves the ledger over HTTP with echo: routes, request decoding,
// answers with ETags, and errors as RFC 9457 problem+json. Handlers call the
// ledger for writes and read the projections for GETs.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/roadmap-ledger/roadmap/internal/attest"
	"github.com/roadmap-ledger/roadmap/internal/audit"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/governance"
	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/web"
	"github.com/roadmap-ledger/roadmap/projections"
)

// MaxBodyBytes is the largest request body the API reads.
const MaxBodyBytes = 1 << 20

// Views are the projections the API answers GETs from.
type Views interface {
	ObjectiveView(id string) (projections.ObjectiveView, bool)
	ItemView(id string) (projections.ItemView, bool)
	ReviewView(id string) (projections.ReviewView, bool)
	// Read calls fn with the live state.
	Read(fn func(*projections.State))
	// At calls fn with the state at a past sequence.
	At(ctx context.Context, seq uint64, fn func(*projections.State) error) error
	Sequence() uint64
	SequenceAt(t time.Time) (uint64, error)
	// Record, Scan and FirstSequenceFrom serve the audit trail.
	Record(rec eventlog.Record) (projections.Record, error)
	Scan(ctx context.Context, from, to uint64, fn func(projections.Record) (bool, error)) error
	FirstSequenceFrom(t time.Time) (uint64, error)
	// Snapshot and Diff build governance reviews.
	Snapshot(ctx context.Context, id string, now time.Time) (projections.Snapshot, error)
	Diff(ctx context.Context, id, against string) (projections.Diff, error)
	// DiffBetween compares the roadmap at two positions (the web app's
	// comparison of two dates).
	DiffBetween(ctx context.Context, from, to projections.ReviewPoint) (projections.Diff, error)
	TokenViews
	ChangeViews
	WebhookViews
	CapacityView(product string) (projections.CapacityView, bool)
	ItemFlags(id string) []projections.Flag
}

// ChangeViews are the major changes held for approval.
type ChangeViews interface {
	ChangeView(id string) (projections.ChangeView, bool)
	Changes(status roadmap.ChangeStatus) []projections.ChangeView
}

// Log is the event log as the API reads it directly: the audit trail and
// exports stream from it rather than from memory.
type Log interface {
	LastSequence(ctx context.Context) (uint64, error)
	Follow(ctx context.Context, from uint64, fn func(eventlog.Record) error) error
	Read(ctx context.Context, aggregateType, aggregateID string, fn func(eventlog.Record) error) error
}

// Waiter waits until the projections have applied a sequence.
type Waiter interface {
	WaitFor(ctx context.Context, seq uint64) error
}

// Config wires a Server.
type Config struct {
	Ledger *ledger.Service
	Views  Views
	Log    Log
	Wait   Waiter
	// Ready reports whether the projections have caught up; nil when so.
	Ready func() error
	// WaitReady blocks until they have, so no request sees a half-replayed
	// ledger.
	WaitReady func(ctx context.Context) error
	// Health reports whether the event log takes writes; nil means it does.
	Health func(ctx context.Context) eventlog.Health
	Logger *slog.Logger
	// Proofs is the Merkle tree of the log, fed by the same runner as Views.
	Proofs ProofTree
	// VerifierKey is the public key of the key that signs checkpoints.
	VerifierKey string
	// SignNote signs a text the API made itself (an export manifest) with
	// the checkpoints' key; never a text a client sent.
	SignNote func(text string) ([]byte, error)
	// Now is the clock tokens expire by; time.Now when nil.
	Now func() time.Time
	// StreamsPerToken and StreamsTotal bound the answers streamed at once
	// (the raw log, the audit trail's and the backlog's exports), per
	// token and in all; DefaultStreamsPerToken and DefaultStreamsTotal
	// when 0.
	StreamsPerToken, StreamsTotal int
	// TokenKey is the key the hashes of token secrets are recorded with,
	// the ledger's (ledger.Service.SetTokenKey): bearer secrets are looked
	// up by it.
	TokenKey roadmap.TokenKey
	// Requests is told of every request answered; nil tells no one.
	Requests RequestObserver
	// Metrics, when not nil, serves GET /metrics, without a token, beside
	// the API rather than as one of its routes: no access line, no
	// request id, and no count of its own scrapes.
	Metrics http.Handler
	// FeedSource names the ledger in the change feed's CloudEvents;
	// DefaultFeedSource when empty.
	FeedSource string
	// FeedHeartbeat and FeedBuffer override DefaultFeedHeartbeat and
	// DefaultFeedBuffer (for tests).
	FeedHeartbeat time.Duration
	FeedBuffer    int
	// Deliveries is where webhook delivery stands; nil on a server that
	// delivers none.
	Deliveries Deliveries
	// CheckWebhookURL refuses a new subscription's URL that points where
	// deliveries may not go (webhook.CheckURL); nil checks nothing more
	// than the URL's form.
	CheckWebhookURL func(ctx context.Context, url string) error
}

// Server is the HTTP API.
type Server struct {
	echo *echo.Echo
	// cfg is the Config the Server was made with, its clock and logger
	// set.
	cfg      Config
	roadmaps roadmapCache
	// attest answers proofs, packs assembles review packs and trail is
	// the audit trail: the services below the API that GETs call.
	attest *attest.Service
	packs  *governance.Packs
	trail  *audit.Trail
	// exports is nil without a signing key.
	exports     *audit.Exports
	permissions []RoutePermission
	lastUse     lastUse
	streams     *streamSlots
	// built keeps closed reviews' packs and takes turns at building them.
	built *packCache
	// figures keeps answers of the roadmap's figures (metrics_cache.go).
	figures *metricsCache
	// feed fans the change feed out to the event stream's clients.
	feed *feedHub
}

// New returns the API's handler with every route registered.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// A line logged with a request's context names the request.
	cfg.Logger = slog.New(requestIDs{cfg.Logger.Handler()})
	if cfg.FeedSource == "" {
		cfg.FeedSource = DefaultFeedSource
	}
	if cfg.FeedHeartbeat <= 0 {
		cfg.FeedHeartbeat = DefaultFeedHeartbeat
	}
	if cfg.FeedBuffer <= 0 {
		cfg.FeedBuffer = DefaultFeedBuffer
	}
	s := &Server{echo: echo.New(), cfg: cfg, streams: newStreamSlots(cfg.StreamsPerToken, cfg.StreamsTotal), built: newPackCache(), figures: newMetricsCache()}
	s.feed = newFeedHub(cfg.Log, cfg.Views, cfg.Wait, cfg.FeedSource, cfg.FeedBuffer)
	s.attest, s.packs, s.trail = attest.New(cfg.Proofs, cfg.Views), governance.NewPacks(cfg.Views).WithMetrics(s.metrics), audit.New(cfg.Log, cfg.Views)
	if cfg.SignNote != nil {
		s.exports = audit.NewExports(cfg.Log, cfg.Views, cfg.Proofs, cfg.SignNote)
	}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(requestID, s.accessLog)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		s.cfg.Logger.ErrorContext(c.Request().Context(), "panic", "path", c.Request().URL.Path, "error", err, "stack", string(stack))
		return err
	}}))

	e.Use(securityHeaders, writeDeadline)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	docs, err := newSpecDocs()
	if err != nil {
		// The spec is compiled in: a build whose spec is not YAML is broken,
		// and every test fails on it.
		panic(err)
	}
	docs.register(e)
	s.mountPublic(e)

	// The readiness wait and the role check are per route, not group
	// middleware: echo answers 404 instead of 405 for a group with
	// middleware. Every /v1 route names the permission it needs.
	read, decide, approve := roadmap.PermRead, roadmap.PermDecide, roadmap.PermApprove
	audit, admin := roadmap.PermAudit, roadmap.PermAdmin
	for _, r := range []struct {
		method, path string
		handler      echo.HandlerFunc
		needs        roadmap.Permission
	}{
		{http.MethodGet, "/objectives", s.listObjectives, read},
		{http.MethodPost, "/objectives", s.defineObjective, decide},
		{http.MethodGet, "/objectives/:id", s.getObjective, read},
		{http.MethodGet, "/objectives/:id/history", s.objectiveHistory, audit},
		{http.MethodPatch, "/objectives/:id", s.editObjective, decide},
		{http.MethodPost, "/objectives/:id/retire", s.retireObjective, decide},
		{http.MethodGet, "/items", s.listItems, read},
		{http.MethodPost, "/items", s.proposeItem, decide},
		{http.MethodPost, "/imports", s.importBacklog, decide},
		{http.MethodGet, "/items/:id", s.getItem, read},
		{http.MethodPatch, "/items/:id", s.editItem, decide},
		{http.MethodPost, "/items/:id/prioritise", s.prioritise, decide},
		{http.MethodPost, "/items/:id/reprioritise", s.reprioritise, decide},
		{http.MethodPost, "/items/:id/remove", s.remove, decide},
		{http.MethodPost, "/items/:id/deliver", s.deliver, decide},
		{http.MethodPost, "/items/:id/publish", s.publish, decide},
		{http.MethodPost, "/items/:id/unpublish", s.unpublish, decide},
		{http.MethodPost, "/views", s.defineView, decide},
		{http.MethodGet, "/views", s.listViews, read},
		{http.MethodGet, "/views/:slug", s.getView, read},
		{http.MethodPatch, "/views/:slug", s.editView, decide},
		{http.MethodDelete, "/views/:slug", s.deleteView, decide},
		{http.MethodGet, "/views/:slug/roadmap", s.viewRoadmap, read},
		{http.MethodPost, "/views/:slug/links", s.shareView, decide},
		{http.MethodGet, "/views/:slug/links", s.listLinks, decide},
		{http.MethodDelete, "/views/:slug/links/:id", s.revokeLink, decide},
		{http.MethodPost, "/objectives/:id/measurements", s.measureObjective, decide},
		{http.MethodGet, "/objectives/:id/measurements", s.listMeasurements, read},
		{http.MethodGet, "/metrics/roadmap", s.roadmapMetrics, read},
		{http.MethodGet, "/reviews/:id/outcomes", s.reviewOutcomes, read},
		{http.MethodGet, "/items/:id/history", s.itemHistory, audit},
		{http.MethodGet, "/items/:id/why", s.itemWhy, audit},
		{http.MethodGet, "/roadmap", s.getRoadmap, read},
		{http.MethodGet, "/audit", s.audit, audit},
		{http.MethodPost, "/reviews", s.openReview, decide},
		{http.MethodGet, "/reviews", s.listReviews, read},
		{http.MethodGet, "/reviews/:id", s.getReview, read},
		{http.MethodPost, "/reviews/:id/close", s.closeReview, approve},
		{http.MethodPost, "/reviews/:id/cancel", s.cancelReview, admin},
		{http.MethodGet, "/reviews/:id/diff", s.reviewDiff, read},
		{http.MethodGet, "/reviews/:id/pack", s.reviewPack, read},
		{http.MethodGet, "/events", s.rawEvents, audit},
		{http.MethodGet, "/events/stream", s.streamEvents, read},
		{http.MethodGet, "/events/:seq/proof", s.eventProof, audit},
		{http.MethodPost, "/checkpoints", s.signCheckpoint, approve},
		{http.MethodGet, "/checkpoints", s.listCheckpoints, audit},
		{http.MethodGet, "/checkpoints/latest", s.latestCheckpoint, audit},
		{http.MethodGet, "/checkpoints/public-key", s.publicKey, read},
		{http.MethodGet, "/checkpoints/consistency", s.consistencyProof, audit},
		{http.MethodGet, "/checkpoints/:id", s.getCheckpoint, audit},
		{http.MethodGet, "/export/manifest", s.exportManifest, audit},
		{http.MethodGet, "/changes", s.listChanges, read},
		{http.MethodGet, "/changes/:id", s.getChange, read},
		{http.MethodPost, "/changes/:id/approve", s.approveChange, approve},
		{http.MethodPost, "/changes/:id/reject", s.rejectChange, approve},
		{http.MethodGet, "/products/:product/capacity", s.getCapacity, read},
		{http.MethodPut, "/products/:product/capacity", s.setCapacity, admin},
		{http.MethodPost, "/tokens", s.createToken, admin},
		{http.MethodGet, "/tokens", s.listTokens, admin},
		{http.MethodGet, "/tokens/:id", s.getToken, admin},
		{http.MethodDelete, "/tokens/:id", s.revokeToken, admin},
		{http.MethodPost, "/webhooks", s.createWebhook, admin},
		{http.MethodGet, "/webhooks", s.listWebhooks, admin},
		{http.MethodGet, "/webhooks/:id", s.getWebhook, admin},
		{http.MethodDelete, "/webhooks/:id", s.deleteWebhook, admin},
		{http.MethodPost, "/webhooks/:id/rotate-secret", s.rotateWebhookSecret, admin},
		{http.MethodPost, "/webhooks/:id/resume", s.resumeWebhook, admin},
		{http.MethodGet, "/webhooks/:id/deliveries", s.webhookDeliveries, admin},
	} {
		wait := s.afterReplay
		if r.method == http.MethodGet && auditorsRoutes[r.path] {
			wait = s.afterReplayOrPoison
		}
		middlewares := []echo.MiddlewareFunc{wait, s.authorize(r.needs)}
		if r.needs == audit || r.needs == admin {
			middlewares = append(middlewares, noStore)
		}
		e.Add(r.method, "/v1"+r.path, r.handler, middlewares...)
		s.permissions = append(s.permissions, RoutePermission{Route{r.method, "/v1" + r.path}, r.needs})
	}
	// The web app's pages share the API's port, its token lookup
	// (Authenticate), role rules (each page names its roadmap.Permission),
	// use cases and error table.
	web.New(web.Config{
		Ledger: cfg.Ledger, Views: cfg.Views, Trail: s.trail, Packs: s.packs, Authenticate: s.authenticateSession, Explain: s.explain,
		WaitReady: cfg.WaitReady, Logger: cfg.Logger,
		AnswerAudit: s.answerAudit, VerifierKey: cfg.VerifierKey, Metrics: s.metrics, Links: s.viewLinks,
		ReadImport: func(body []byte, jira bool) (ledger.ImportFile, error) {
			if jira {
				return readImport(body, formatJira)
			}
			return readImport(body, formatRoadmap)
		},
	}).Register(e)
	return s
}

// StreamClients is how many clients follow the change feed now
// (GET /v1/events/stream), for the metrics.
func (s *Server) StreamClients() int { return s.feed.clients() }

// Route is one method and path template the API serves.
type Route struct{ Method, Path string }

// RoutePermission is the permission a /v1 route needs.
type RoutePermission struct {
	Route
	Needs roadmap.Permission
}

// Permissions lists every /v1 route with the permission it needs, for the
// role matrix and its tests.
func (s *Server) Permissions() []RoutePermission { return slices.Clone(s.permissions) }

// Routes lists every route the API serves, with echo's ":id" path
// parameters, GET /metrics included when the Server serves it.
func (s *Server) Routes() []Route {
	var out []Route
	for _, r := range s.echo.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	if s.cfg.Metrics != nil {
		out = append(out, Route{Method: http.MethodGet, Path: "/metrics"})
	}
	return out
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Metrics != nil && r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		s.cfg.Metrics.ServeHTTP(w, r)
		return
	}
	s.echo.ServeHTTP(w, r)
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 "ready" when the projections have caught up and the
// log takes writes, 200 "degraded" with the problems when it takes them with
// less redundancy than configured (a replica down), and 503 otherwise.
func (s *Server) readyz(c echo.Context) error {
	if err := s.cfg.Ready(); err != nil {
		return problem(ErrNotReady, err.Error())
	}
	h := eventlog.Health{Writable: true}
	if s.cfg.Health != nil {
		h = s.cfg.Health(c.Request().Context())
	}
	if !h.Writable {
		return problem(ErrNotReady, "the event log cannot take writes: "+strings.Join(h.Problems, "; "))
	}
	if len(h.Problems) > 0 {
		return c.JSON(http.StatusOK, map[string]any{"status": "degraded", "problems": h.Problems})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// afterReplay holds requests until the projections have caught up with the
// log, so none is decided or answered on a half-built state.
func (s *Server) afterReplay(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.cfg.WaitReady(c.Request().Context()); err != nil {
			return problem(ErrNotReady, "the ledger is not ready: "+err.Error())
		}
		return next(c)
	}
}

// auditorsRoutes are the routes roadmap verify reads: the raw log and the
// signed checkpoints. They are served even once the projections have
// stopped on a message they cannot apply, so that an auditor can find it;
// everything else is refused until it is dealt with.
var auditorsRoutes = map[string]bool{
	"/events": true, "/checkpoints/latest": true, "/checkpoints/public-key": true, "/checkpoints/consistency": true,
}

// afterReplayOrPoison is afterReplay, except that it lets requests through
// once the projections have stopped on a message they cannot apply.
func (s *Server) afterReplayOrPoison(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.cfg.WaitReady(c.Request().Context()); err != nil && !errors.Is(err, projections.ErrPoison) {
			return problem(ErrNotReady, "the ledger is not ready: "+err.Error())
		}
		return next(c)
	}
}

// readRequest decodes the JSON body of a write into dst, strictly, and returns
// what the ledger needs to know of the request.
func readRequest(c echo.Context, dst any) (ledger.Request, error) {
	r := c.Request()
	var req ledger.Request
	ct := r.Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return req, problem(ErrUnsupportedMediaType, "the body must be JSON, sent with Content-Type: application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return req, problem(ErrBodyTooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
	}
	if err != nil {
		return req, problem(ErrMalformedBody, "the request body could not be read")
	}
	if err := tokenStillValid(c); err != nil {
		return req, err
	}
	if err := decodeStrict(body, dst); err != nil {
		return req, err
	}

	if req.Actor, err = actor(c); err != nil {
		return req, err
	}
	if req.IfMatch, err = ifMatch(r); err != nil {
		return req, err
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if len(key) > 255 || !printableASCII(key) {
			return req, problem(ErrBadHeader, "Idempotency-Key must be 1 to 255 printable ASCII characters")
		}
		h := sha256.New()
		for _, part := range []string{req.Actor, r.Method, r.URL.Path} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
		h.Write(body)
		// Keys are scoped to the actor: two clients that happen to pick the
		// same key never see each other's answers.
		req.IdempotencyKey, req.RequestHash = req.Actor+" "+key, hex.EncodeToString(h.Sum(nil))
	}
	return req, nil
}

// actor is who decides: the name of the request's token. A client cannot
// say otherwise; a request that tries, with the X-Actor header of earlier
// versions, is refused rather than recorded under another name than it
// meant.
func actor(c echo.Context) (string, error) {
	if _, ok := c.Request().Header["X-Actor"]; ok {
		return "", problem(ErrBadHeader, "X-Actor is not accepted: the actor of a decision is the name of the token that takes it")
	}
	return requestToken(c).Name, nil
}

// emptyBodyIsObject makes a write whose body is optional read no body as an
// empty JSON object: what the request means, and what an Idempotency-Key's
// request hash covers.
func emptyBodyIsObject(c echo.Context) error {
	r := c.Request()
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return problem(ErrBodyTooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
	}
	if err != nil {
		return problem(ErrMalformedBody, "the request body could not be read")
	}
	if len(body) == 0 {
		body = []byte("{}")
		r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

// ifMatch parses an If-Match header holding one strong ETag, "42". A missing
// header or "*" sets no condition.
func ifMatch(r *http.Request) (*uint64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return nil, nil
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if n, err := strconv.ParseUint(v[1:len(v)-1], 10, 64); err == nil {
			return &n, nil
		}
	}
	return nil, problem(ErrBadHeader, `If-Match must be one ETag as this API gives it, such as "42"`)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// answerAt answers body with 200 and the version it stands at as its ETag.
func answerAt(c echo.Context, version uint64, body any) error {
	c.Response().Header().Set("ETag", etag(version))
	return c.JSON(http.StatusOK, body)
}

// answerList answers a list under its one key: {"key":[...]}, with []
// rather than null when it is empty.
func answerList[J any](c echo.Context, key string, list []J) error {
	if list == nil {
		list = []J{}
	}
	return c.JSON(http.StatusOK, map[string][]J{key: list})
}

func etag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// writeJSON writes v as compact JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}
