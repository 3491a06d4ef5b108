package api

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	segjson "github.com/segmentio/encoding/json"

	"github.com/roadmap-ledger/roadmap/projections"
)

var productSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// roadmapQuery is what GET /v1/roadmap was asked.
type roadmapQuery struct {
	product string
	// byObjective is ?view=objectives.
	byObjective bool
	// asOf and atSeq ask for the past; at most one is set.
	asOf  *time.Time
	atSeq *uint64
}

// parseRoadmapQuery reads the roadmap's query string: product, view, and one
// of as_of (an RFC 3339 time, or a date meaning the end of that day in UTC)
// and at_seq (a ledger sequence). Anything else, repeated or malformed is a
// 400 that says what to send instead.
func parseRoadmapQuery(q url.Values) (roadmapQuery, error) {
	var out roadmapQuery
	bad := func(format string, args ...any) error {
		return problem(ErrBadQuery, fmt.Sprintf(format, args...))
	}
	known := []string{"product", "view", "as_of", "at_seq"}
	for name, values := range q {
		if !slices.Contains(known, name) {
			return out, bad("unknown query parameter %q; the roadmap takes %s", clip(name), strings.Join(known, ", "))
		}
		if len(values) > 1 {
			return out, bad("query parameter %q is given %d times; give it once", clip(name), len(values))
		}
	}
	if p := q.Get("product"); q.Has("product") {
		if !productSlug.MatchString(p) {
			return out, bad("product must be a product slug such as web-app")
		}
		out.product = p
	}
	switch v := q.Get("view"); v {
	case "", "horizons":
	case "objectives":
		out.byObjective = true
	default:
		return out, bad("view must be horizons (the default) or objectives, not %q", clip(v))
	}
	if q.Has("as_of") && q.Has("at_seq") {
		return out, bad("give as_of or at_seq, not both")
	}
	if q.Has("as_of") {
		t, err := parseMoment(q.Get("as_of"))
		if err != nil {
			return out, bad("as_of must be an RFC 3339 time such as 2026-11-01T09:00:00Z, or a date such as 2026-11-01 (its end, UTC)")
		}
		out.asOf = &t
	}
	if q.Has("at_seq") {
		n, err := strconv.ParseUint(q.Get("at_seq"), 10, 64)
		if err != nil {
			return out, bad("at_seq must be a ledger sequence: a whole number from 0")
		}
		out.atSeq = &n
	}
	return out, nil
}

// parseMoment parses an RFC 3339 time, or a date that stands for the last
// microsecond of that day in UTC ("what did the roadmap look like on the
// 1st" means at the end of it).
func parseMoment(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, err
	}
	return d.Add(24*time.Hour - time.Microsecond), nil
}

func (s *Server) getRoadmap(c echo.Context) error {
	raw, err := query(c)
	if err != nil {
		return err
	}
	q, err := parseRoadmapQuery(raw)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	seq := s.cfg.Views.Sequence()
	switch {
	case q.atSeq != nil:
		seq = *q.atSeq
		if seq > s.cfg.Views.Sequence() {
			if err := s.waitForSequence(c, seq); err != nil {
				return err
			}
		}
	case q.asOf != nil:
		if seq, err = s.cfg.Views.SequenceAt(*q.asOf); err != nil {
			return err
		}
	}
	key := roadmapKey{seq: seq, product: q.product, byObjective: q.byObjective}
	if body, ok := s.roadmaps.get(key); ok {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
	}
	var (
		horizons   projections.RoadmapView
		objectives projections.ObjectivesView
		viewAt     uint64
	)
	err = s.cfg.Views.At(ctx, seq, func(st *projections.State) error {
		if q.byObjective {
			objectives = st.ByObjective(q.product)
		} else {
			horizons = st.Roadmap(q.product)
		}
		viewAt = st.Sequence
		return nil
	})
	if err != nil {
		return err
	}
	// Views are values of their own: they are encoded once the state is
	// let go of, into a buffer used again by later answers. Today's
	// roadmap is kept for the next request; one in the past only from the
	// second time it is asked for among the last askedSize: a point in the
	// past asked for once, as most are, would only be a megabyte copied
	// into the cache and pushed out of it unread.
	var wire any
	if q.byObjective {
		wire = objectivesWire(objectives)
	} else {
		wire = roadmapWire(horizons)
	}
	key.seq = viewAt // the live state may have moved on since seq was read
	return withAnswer(wire, func(body []byte) error {
		if viewAt >= s.cfg.Views.Sequence() || s.roadmaps.askedBefore(key) {
			s.roadmaps.put(key, slices.Clone(body))
		}
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
	})
}

// RoadmapAnswer is the body of GET /v1/roadmap for a view of the roadmap:
// its JSON followed by a newline. A roadmap rebuilt from the log encodes
// with it to the same bytes the ledger serves.
func RoadmapAnswer(v projections.RoadmapView) ([]byte, error) {
	return answerBody(roadmapWire(v))
}

// ObjectivesAnswer is the body of GET /v1/roadmap?view=objectives for a
// view of the roadmap grouped by objective.
func ObjectivesAnswer(v projections.ObjectivesView) ([]byte, error) {
	return answerBody(objectivesWire(v))
}

// answerBody is v's answer in a slice of its own.
func answerBody(v any) ([]byte, error) {
	var body []byte
	err := withAnswer(v, func(b []byte) error {
		body = slices.Clone(b)
		return nil
	})
	return body, err
}

// withAnswer calls fn with v's answer (appendAnswer), encoded into a
// buffer that later answers use again once fn returns: fn must not keep
// it.
func withAnswer(v any, fn func(body []byte) error) error {
	buf := answerBuffers.Get().(*[]byte)
	defer answerBuffers.Put(buf)
	body, err := appendAnswer((*buf)[:0], v)
	if err != nil {
		return err
	}
	*buf = body
	return fn(body)
}

// appendAnswer appends to b the JSON of v as encoding/json's Marshal
// writes it, HTML escapes and all, and a newline. It encodes with
// segmentio's encoder, which gives the same bytes in less than half the
// time and with a few allocations instead of one for each entry: a
// roadmap in the past is encoded anew for nearly every request, and
// encoding it was the largest part of its cost. FuzzAnswerEncoding holds
// the two encoders to the same bytes.
func appendAnswer(b []byte, v any) ([]byte, error) {
	b, err := segjson.Append(b, v, segjson.EscapeHTML|segjson.SortMapKeys)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// answerBuffers keeps the buffers answers are encoded in, each grown to the
// largest answer it held.
var answerBuffers = sync.Pool{New: func() any { return new([]byte) }}

// roadmapKey names one rendering of the roadmap. The roadmap at a sequence
// never changes, so a rendering can be served again for as long as it is
// kept.
type roadmapKey struct {
	seq         uint64
	product     string
	byObjective bool
}

// roadmapCache keeps the last few renderings of the roadmap: integrations
// poll the same roadmap far more often than it changes, and encoding a long
// roadmap costs far more than serving bytes.
type roadmapCache struct {
	mu      sync.Mutex
	entries map[roadmapKey][]byte
	order   []roadmapKey // oldest first
	bytes   int          // of the bodies kept
	asked   map[roadmapKey]struct{}
	askedAt []roadmapKey // oldest first
}

// The cache keeps at most roadmapCacheSize renderings and
// roadmapCacheBytes of them: a roadmap of a few thousand items is over a
// megabyte of JSON, and renderings of random points in the past, which
// are seldom asked for twice, would otherwise hold tens of megabytes. A
// rendering larger than the whole budget is not kept.
const (
	roadmapCacheSize  = 32
	roadmapCacheBytes = 8 << 20
)

// askedSize is how many renderings in the past the cache remembers having
// been asked for without keeping them.
const askedSize = 1024

// askedBefore tells whether k was asked for since the last askedSize
// renderings not kept, and remembers that it was asked for now.
func (rc *roadmapCache) askedBefore(k roadmapKey) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if _, ok := rc.asked[k]; ok {
		return true
	}
	if rc.asked == nil {
		rc.asked = map[roadmapKey]struct{}{}
	}
	if len(rc.askedAt) == askedSize {
		delete(rc.asked, rc.askedAt[0])
		rc.askedAt = rc.askedAt[1:]
	}
	rc.asked[k] = struct{}{}
	rc.askedAt = append(rc.askedAt, k)
	return false
}

func (rc *roadmapCache) get(k roadmapKey) ([]byte, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	body, ok := rc.entries[k]
	return body, ok
}

func (rc *roadmapCache) put(k roadmapKey, body []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.entries == nil {
		rc.entries = map[roadmapKey][]byte{}
	}
	if _, ok := rc.entries[k]; ok || len(body) > roadmapCacheBytes {
		return
	}
	for len(rc.order) > 0 && (len(rc.order) == roadmapCacheSize || rc.bytes+len(body) > roadmapCacheBytes) {
		rc.bytes -= len(rc.entries[rc.order[0]])
		delete(rc.entries, rc.order[0])
		rc.order = rc.order[1:]
	}
	rc.entries[k] = body
	rc.order = append(rc.order, k)
	rc.bytes += len(body)
}

// query parses the request's query string strictly: a pair that does not
// decode is a 400, not silently dropped (a filter lost that way would widen
// the answer).
func query(c echo.Context) (url.Values, error) {
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return nil, problem(ErrBadQuery, "the query string does not decode: use & between parameters and %XX escapes")
	}
	return q, nil
}

// waitForSequence waits until the projections have applied seq, when the
// log has it; a sequence beyond the log's end is a 422.
func (s *Server) waitForSequence(c echo.Context, seq uint64) error {
	last, err := s.cfg.Log.LastSequence(c.Request().Context())
	if err != nil {
		return err
	}
	if seq > last {
		return problem(ErrBeyondLedger, fmt.Sprintf("sequence %d is beyond the end of the ledger, which holds %d events", seq, last))
	}
	return s.cfg.Wait.WaitFor(c.Request().Context(), seq)
}
