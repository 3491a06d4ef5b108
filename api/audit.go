package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/audit"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Limits of the audit trail's pages.
const (
	auditDefaultLimit = 100
	auditMaxLimit     = 1000
)

// Media types of the audit trail.
const (
	mediaJSON   = "application/json"
	mediaNDJSON = "application/x-ndjson"
	mediaCSV    = "text/csv"
)

// auditColumns is the header row of the CSV export.
var auditColumns = []string{
	"seq", "event_id", "type", "at", "actor", "aggregate_type", "aggregate_id", "product", "title",
	"rationale", "evidence", "from_horizon", "from_rank", "to_horizon", "to_rank",
	"score_framework", "score_value", "score", "objective_ids", "changes", "provenance", "prev_hash", "hash",
}

var itemIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// historyJSON is the answer of GET /v1/items/{id}/history.
type historyJSON struct {
	ItemID  string           `json:"item_id"`
	History []auditEventJSON `json:"history"`
}

// objectiveHistoryJSON is the answer of GET /v1/objectives/{id}/history.
type objectiveHistoryJSON struct {
	ObjectiveID string           `json:"objective_id"`
	History     []auditEventJSON `json:"history"`
}

// whyJSON is the answer of GET /v1/items/{id}/why.
type whyJSON struct {
	Sequence uint64       `json:"sequence"`
	Item     *whyNodeJSON `json:"item"`
}

// auditPageJSON is a JSON page of GET /v1/audit.
type auditPageJSON struct {
	Events []auditEventJSON `json:"events"`
	Next   *string          `json:"next"`
}

// errStopRead ends a read of the log early.
var errStopRead = errors.New("stop reading")

// trailError is the answer to the trail's err on the aggregate of a kind
// and id: not found, said as the API says it, or err itself.
func trailError(kind, id string, err error) error {
	if errors.Is(err, roadmap.ErrNotFound) {
		return problem(roadmap.ErrNotFound, fmt.Sprintf("no %s %q", kind, clip(id)))
	}
	return err
}

// itemHistory answers every event of an item, oldest first, each with the
// item's place before and after it.
func (s *Server) itemHistory(c echo.Context) error {
	id := c.Param("id")
	_, records, err := s.trail.History(c.Request().Context(), id)
	if err != nil {
		return trailError("item", id, err)
	}
	return c.JSON(http.StatusOK, historyJSON{ItemID: id, History: historyWire(records)})
}

// objectiveHistory answers every event of an objective, oldest first.
func (s *Server) objectiveHistory(c echo.Context) error {
	id := c.Param("id")
	_, records, err := s.trail.ObjectiveHistory(c.Request().Context(), id)
	if err != nil {
		return trailError("objective", id, err)
	}
	return c.JSON(http.StatusOK, objectiveHistoryJSON{ObjectiveID: id, History: historyWire(records)})
}

// historyWire is the events of one aggregate as its history shows them.
func historyWire(records []projections.Record) []auditEventJSON {
	out := make([]auditEventJSON, 0, len(records))
	for _, r := range records {
		out = append(out, auditEventWire(projections.NewAuditEvent(r)))
	}
	return out
}

// itemWhy answers the why chain of an item: the item, the objectives it
// serves and its parent initiative (and the parent's objectives and parent),
// each link with the decision that made it.
func (s *Server) itemWhy(c echo.Context) error {
	id := c.Param("id")
	seq, root, err := s.trail.Why(c.Request().Context(), id)
	if err != nil {
		return trailError("item", id, err)
	}
	return c.JSON(http.StatusOK, whyJSON{Sequence: seq, Item: whyNodeWire(root)})
}

// auditFormat is the media type an audit answer is given in.
type auditFormat int

const (
	formatJSON auditFormat = iota
	formatNDJSON
	formatCSV
)

// auditQuery is what GET /v1/audit was asked.
type auditQuery struct {
	since, until *time.Time
	actor        *string
	types        map[string]bool
	product      string
	item         string
	after        uint64
	// limit is the page size; 0 when the query gave none.
	limit int
	// values is the query as given, for the next link.
	values url.Values
}

// auditParams are the query parameters of GET /v1/audit.
var auditParams = []string{"since", "until", "actor", "type", "product", "item", "after", "limit"}

// clip shortens a value quoted in a problem, so a huge query is not echoed
// back.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// parseAuditQuery reads the audit trail's query string. Anything unknown,
// repeated (but type) or malformed is a 400 that says what to send instead.
func parseAuditQuery(rawQuery string) (auditQuery, error) {
	out := auditQuery{}
	bad := func(format string, args ...any) error {
		return problem(ErrBadQuery, fmt.Sprintf(format, args...))
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return out, bad("the query string is not valid URL encoding")
	}
	out.values = q
	for name, values := range q {
		if !slices.Contains(auditParams, name) {
			return out, bad("unknown query parameter %q; the audit trail takes %s", clip(name), strings.Join(auditParams, ", "))
		}
		if len(values) > 1 && name != "type" {
			return out, bad("query parameter %q is given %d times; give it once", name, len(values))
		}
	}
	moment := func(name string) (*time.Time, error) {
		if !q.Has(name) {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339Nano, q.Get(name))
		if err != nil {
			return nil, bad("%s must be an RFC 3339 time such as 2026-11-01T09:00:00Z, not %q", name, clip(q.Get(name)))
		}
		return &t, nil
	}
	if out.since, err = moment("since"); err != nil {
		return out, err
	}
	if out.until, err = moment("until"); err != nil {
		return out, err
	}
	if out.since != nil && out.until != nil && out.since.After(*out.until) {
		return out, bad("since must not be after until")
	}
	if q.Has("actor") {
		a := q.Get("actor")
		if a == "" || !utf8.ValidString(a) || utf8.RuneCountInString(a) > 200 {
			return out, bad("actor must be an actor as recorded: 1 to 200 characters")
		}
		out.actor = &a
	}
	if q.Has("type") {
		known := slices.Sorted(func(yield func(string) bool) {
			for t := range roadmap.SchemaVersions {
				if !yield(t) {
					return
				}
			}
		})
		out.types = map[string]bool{}
		for _, v := range q["type"] {
			for t := range strings.SplitSeq(v, ",") {
				if _, ok := roadmap.SchemaVersions[t]; !ok {
					return out, bad("type %q is not an event type; the types are %s", clip(t), strings.Join(known, ", "))
				}
				out.types[t] = true
			}
		}
	}
	if q.Has("product") {
		out.product = q.Get("product")
		if !productSlug.MatchString(out.product) {
			return out, bad("product must be a product slug such as web-app")
		}
	}
	if q.Has("item") {
		out.item = q.Get("item")
		if !itemIDPattern.MatchString(out.item) {
			return out, bad("item must be an item id (a lower-case UUID)")
		}
	}
	if q.Has("after") {
		if out.after, err = strconv.ParseUint(q.Get("after"), 10, 63); err != nil {
			return out, bad("after must be a ledger sequence: a whole number from 0 to %d", uint64(math.MaxInt64))
		}
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > auditMaxLimit {
			return out, bad("limit must be a whole number from 1 to %d", auditMaxLimit)
		}
		out.limit = n
	}
	return out, nil
}

// match reports whether an event passes every filter of the query.
func (q auditQuery) match(r projections.Record) bool {
	switch {
	case q.actor != nil && r.Actor != *q.actor,
		q.types != nil && !q.types[r.Type],
		q.product != "" && r.Product != q.product,
		q.item != "" && (r.AggregateType != "item" || r.AggregateID != q.item):
		return false
	}
	return true
}

// next returns the link to the page after the event at seq: the same query
// with after=seq.
func (q auditQuery) next(seq uint64) string {
	v := url.Values{}
	for name, values := range q.values {
		v[name] = values
	}
	v.Set("after", strconv.FormatUint(seq, 10))
	return "/v1/audit?" + v.Encode()
}

// audit answers the events of the whole ledger that pass the query's
// filters, in log order: a JSON page, or an export streamed as JSON Lines or
// CSV.
// answerAudit answers c as GET /v1/audit does for a request made with t:
// the web app's downloads of the audit trail, a person signed in with t.
// The route's permission is checked as for a bearer token.
func (s *Server) answerAudit(c echo.Context, t projections.TokenView) error {
	if !t.Role.Allows(roadmap.PermAudit) {
		return problem(roadmap.ErrForbidden, "the token's role, "+string(t.Role)+", may not "+permissionVerb[roadmap.PermAudit])
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Set(tokenKey, t)
	c.Set(recheckKey, func() error { return s.stillValid(c, t.ID) })
	return s.audit(c)
}

func (s *Server) audit(c echo.Context) error {
	q, err := parseAuditQuery(c.Request().URL.RawQuery)
	if err != nil {
		return err
	}
	media, err := negotiateFormat(c, "the audit trail", mediaJSON, mediaNDJSON, mediaCSV)
	if err != nil {
		return err
	}
	format := map[string]auditFormat{mediaJSON: formatJSON, mediaNDJSON: formatNDJSON, mediaCSV: formatCSV}[media]

	// The scan runs from the first event after the cursor to the last
	// event the projections hold, narrowed by since and until (Trail.Scan).
	from := q.after + 1 // after is below 2^63
	to := s.cfg.Views.Sequence()

	if format == formatJSON {
		limit := q.limit
		if limit == 0 {
			limit = auditDefaultLimit
		}
		page := auditPageJSON{Events: []auditEventJSON{}}
		err := s.scanAudit(c.Request().Context(), q, from, to, func(r projections.Record) (bool, error) {
			page.Events = append(page.Events, auditEventWire(projections.NewAuditEvent(r)))
			return len(page.Events) < limit, nil
		})
		if err != nil {
			return err
		}
		if n := len(page.Events); n == limit && page.Events[n-1].Sequence < to {
			next := q.next(page.Events[n-1].Sequence)
			page.Next = &next
		}
		return c.JSON(http.StatusOK, page)
	}
	return s.exportAudit(c, q, format, from, to)
}

// scanAudit calls fn with every event from sequence from to to that
// passes the query's filters, in log order, until fn returns false.
func (s *Server) scanAudit(ctx context.Context, q auditQuery, from, to uint64, fn func(projections.Record) (bool, error)) error {
	return s.trail.Scan(ctx, audit.Filter{Item: q.item, Since: q.since, Until: q.until, Match: q.match}, from, to, fn)
}

// exportAudit streams the events that pass the query as JSON Lines or CSV
// (streamRows). Exports honour after and give at most limit rows when a
// limit is given, every matching row otherwise.
func (s *Server) exportAudit(c echo.Context, q auditQuery, format auditFormat, from, to uint64) error {
	media := mediaNDJSON
	if format == formatCSV {
		media = csvContentType
	}
	c.Response().Header().Set(echo.HeaderContentType, media)
	st, err := s.openStream(c, "audit export")
	if err != nil {
		return err
	}
	var rows rowWriter[projections.AuditEvent]
	switch format {
	case formatNDJSON:
		rows = ndjsonRows(st, auditEventWire)
	case formatCSV:
		if rows, err = csvRows(st, auditColumns, csvRow); err != nil {
			return st.end(0, err)
		}
	}
	return streamRows(st, rows, func(emit func(projections.AuditEvent) error) error {
		sent := 0
		return s.scanAudit(c.Request().Context(), q, from, to, func(r projections.Record) (bool, error) {
			if err := emit(projections.NewAuditEvent(r)); err != nil {
				return false, err
			}
			sent++
			return q.limit == 0 || sent < q.limit, nil
		})
	})
}

// csvRow is one event as a row of the CSV export, in the order of
// auditColumns. A null is an empty cell; lists are joined with
// CSVListSeparator; the score is also given whole, as JSON, and an edit's
// changes and an imported item's provenance are given as JSON.
func csvRow(a projections.AuditEvent) []string {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	place := func(p *projections.Place) (string, string) {
		if p == nil || p.Rank == 0 {
			return "", ""
		}
		return string(p.Horizon), strconv.Itoa(p.Rank)
	}
	fromH, fromR := place(a.From)
	toH, toR := place(a.To)
	var framework, value, score string
	if a.Score != nil {
		framework, value = a.Score.Framework, strconv.FormatFloat(a.Score.Value, 'f', -1, 64)
		b, _ := json.Marshal(a.Score)
		score = string(b)
	}
	var changes, provenance string
	if a.Changes != nil {
		b, _ := json.Marshal(wireList(a.Changes, fieldChangeWire))
		changes = string(b)
	}
	if a.Provenance != nil {
		b, _ := json.Marshal(provenanceWire(a.Provenance))
		provenance = string(b)
	}
	return []string{
		strconv.FormatUint(a.Sequence, 10), a.EventID, a.Type, a.At.Format(time.RFC3339Nano),
		safeCell(a.Actor), a.AggregateType, a.AggregateID, str(a.Product), safeCell(str(a.Title)),
		safeCell(str(a.Rationale)), safeCell(strings.Join(a.Evidence, CSVListSeparator)),
		fromH, fromR, toH, toR, framework, value, score,
		strings.Join(a.ObjectiveIDs, CSVListSeparator), changes, provenance, a.PrevHash, a.Hash,
	}
}
