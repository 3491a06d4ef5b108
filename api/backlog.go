package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Limits of the lists' pages and searches.
const (
	listDefaultLimit = 50
	listMaxLimit     = 500
	// maxSearchRunes is the longest q a list takes.
	maxSearchRunes = 200
)

// The lists of the backlog, GET /v1/items and GET /v1/objectives: their
// filters, their order and their pages. The first page reads the live state
// and answers its sequence; its cursor pins the pages after it to that
// sequence, so paging through a list while decisions land gives every item
// of the first page's ledger exactly once.

// itemListParams and objectiveListParams are the query parameters each
// list takes.
var (
	itemListParams      = []string{"product", "status", "horizon", "kind", "objective_id", "parent_id", "q", "sort", "limit", "cursor"}
	objectiveListParams = []string{"product", "status", "q", "sort", "limit", "cursor"}
)

// The values the filters take.
var (
	itemStatuses      = []roadmap.ItemStatus{roadmap.StatusProposed, roadmap.StatusOnRoadmap, roadmap.StatusRemoved, roadmap.StatusDelivered}
	itemKinds         = []roadmap.Kind{roadmap.KindInitiative, roadmap.KindIdea}
	objectiveStatuses = []roadmap.ObjectiveStatus{roadmap.StatusActive, roadmap.StatusRetired}
)

// listRequest is what a list was asked, beyond its filters: the order and
// the page.
type listRequest struct {
	order projections.Order
	// at is the sequence the page is read at: that of the cursor, or
	// math.MaxUint64 for the live state.
	at            uint64
	offset, limit int
	// query is the fingerprint of the list's filters and order, which its
	// cursors carry.
	query [8]byte
	// path and values make the link to the next page.
	path   string
	values url.Values
}

// listCursor is where a page of a list starts: the sequence its list is
// read at, the offset in it, and the fingerprint of the list's query.
type listCursor struct {
	at, offset uint64
	query      [8]byte
}

// cursorVersion is the first byte of every cursor, so a later layout can
// tell its own cursors from these.
const cursorVersion = 1

// String encodes c as the opaque text clients send back: base64url of the
// version, the sequence and offset as uvarints, and the fingerprint.
func (c listCursor) String() string {
	b := []byte{cursorVersion}
	b = binary.AppendUvarint(b, c.at)
	b = binary.AppendUvarint(b, c.offset)
	b = append(b, c.query[:]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseCursor decodes a cursor String made; false for any other text.
func parseCursor(s string) (listCursor, bool) {
	var c listCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 1 || b[0] != cursorVersion {
		return c, false
	}
	b = b[1:]
	at, n := binary.Uvarint(b)
	if n <= 0 {
		return c, false
	}
	b = b[n:]
	offset, n := binary.Uvarint(b)
	if n <= 0 || len(b[n:]) != len(c.query) {
		return c, false
	}
	c.at, c.offset = at, offset
	copy(c.query[:], b[n:])
	return c, true
}

// parseList reads the query string of the list at path, which takes the
// parameters params and the orders sorts (the first the default): an
// unknown or repeated parameter, a sort, limit or cursor it does not take
// is a 400 that says what to send instead. filters are the canonical
// values of the list's filters, which with the order make its fingerprint.
func (s *Server) parseList(q url.Values, path string, params []string, sorts []projections.ListSort, filters []string) (listRequest, error) {
	l := listRequest{at: math.MaxUint64, limit: listDefaultLimit, path: path, values: q}
	bad := func(format string, args ...any) error {
		return problem(ErrBadQuery, fmt.Sprintf(format, args...))
	}
	for name, values := range q {
		if !slices.Contains(params, name) {
			return l, bad("unknown query parameter %q; %s takes %s", clip(name), path, strings.Join(params, ", "))
		}
		if len(values) > 1 {
			return l, bad("query parameter %q is given %d times; give it once", clip(name), len(values))
		}
	}
	l.order.Sort = sorts[0]
	if v := q.Get("sort"); q.Has("sort") {
		name, descending := strings.CutPrefix(v, "-")
		if !slices.Contains(sorts, projections.ListSort(name)) {
			return l, bad("sort must be one of %s, each with a leading - for descending; not %q", joinValues(sorts), clip(v))
		}
		l.order = projections.Order{Sort: projections.ListSort(name), Descending: descending}
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > listMaxLimit {
			return l, bad("limit must be a whole number from 1 to %d", listMaxLimit)
		}
		l.limit = n
	}
	h := sha256.New()
	for _, part := range append([]string{path, string(l.order.Sort), strconv.FormatBool(l.order.Descending)}, filters...) {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	copy(l.query[:], h.Sum(nil))
	if q.Has("cursor") {
		c, ok := parseCursor(q.Get("cursor"))
		if !ok || c.at > s.cfg.Views.Sequence() || c.offset > math.MaxInt32 {
			return l, bad("cursor is not one this list gave: send the next_cursor of the page before, unchanged")
		}
		if c.query != l.query {
			return l, bad("cursor belongs to another query: send it with the filters and sort of the page that gave it")
		}
		l.at, l.offset = c.at, int(c.offset)
	}
	return l, nil
}

// joinValues lists the values a parameter takes: "a, b or c".
func joinValues[T ~string](values []T) string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// oneOf reads the query parameter name as one of values; "" when it is not
// given, a 400 naming the values when it is another or given twice.
func oneOf[T ~string](q url.Values, name string, values []T) (T, error) {
	if n := len(q[name]); n > 1 {
		return "", problem(ErrBadQuery, fmt.Sprintf("query parameter %q is given %d times; give it once", name, n))
	}
	v := T(q.Get(name))
	if !q.Has(name) || slices.Contains(values, v) {
		return v, nil
	}
	return "", problem(ErrBadQuery, fmt.Sprintf("%s must be %s, not %q", name, joinValues(values), clip(string(v))))
}

// idParam reads the query parameter name as an id; "" when it is not given.
func idParam(q url.Values, name string) (string, error) {
	v := q.Get(name)
	if q.Has(name) && !itemIDPattern.MatchString(v) {
		return "", problem(ErrBadQuery, fmt.Sprintf("%s must be an id as the API gives it (a lower-case UUID)", name))
	}
	return v, nil
}

// commonFilters reads the filters both lists take: product and q.
func commonFilters(q url.Values) (product, text string, err error) {
	if product = q.Get("product"); q.Has("product") && !productSlug.MatchString(product) {
		return "", "", problem(ErrBadQuery, "product must be a product slug such as web-app")
	}
	if text = q.Get("q"); !utf8.ValidString(text) || utf8.RuneCountInString(text) > maxSearchRunes {
		return "", "", problem(ErrBadQuery, fmt.Sprintf("q must be text of at most %d characters", maxSearchRunes))
	}
	return product, text, nil
}

// parseItemFilter reads the filters of GET /v1/items.
func parseItemFilter(q url.Values) (projections.ItemFilter, error) {
	var f projections.ItemFilter
	var err error
	if f.Product, f.Text, err = commonFilters(q); err != nil {
		return f, err
	}
	if f.Status, err = oneOf(q, "status", itemStatuses); err != nil {
		return f, err
	}
	if f.Horizon, err = oneOf(q, "horizon", roadmap.Horizons); err != nil {
		return f, err
	}
	if f.Kind, err = oneOf(q, "kind", itemKinds); err != nil {
		return f, err
	}
	if f.ObjectiveID, err = idParam(q, "objective_id"); err != nil {
		return f, err
	}
	f.ParentID, err = idParam(q, "parent_id")
	return f, err
}

// parseObjectiveFilter reads the filters of GET /v1/objectives.
func parseObjectiveFilter(q url.Values) (projections.ObjectiveFilter, error) {
	var f projections.ObjectiveFilter
	var err error
	if f.Product, f.Text, err = commonFilters(q); err != nil {
		return f, err
	}
	f.Status, err = oneOf(q, "status", objectiveStatuses)
	return f, err
}

// listItems answers the items that pass the query's filters, a page at a
// time as JSON, or every one of them as CSV.
func (s *Server) listItems(c echo.Context) error {
	q, err := query(c)
	if err != nil {
		return err
	}
	f, err := parseItemFilter(q)
	if err != nil {
		return err
	}
	l, err := s.parseList(q, "/v1/items", itemListParams, projections.ItemSorts,
		[]string{f.Product, string(f.Status), string(f.Horizon), string(f.Kind), f.ObjectiveID, f.ParentID, f.Text})
	if err != nil {
		return err
	}
	media, err := negotiateFormat(c, "the backlog", mediaJSON, mediaCSV)
	if err != nil {
		return err
	}
	if media == mediaCSV {
		return s.exportItems(c, f, l.order)
	}
	p, err := readPage(c, s, l, func(st *projections.State) ([]itemJSON, int) {
		views, total := st.ItemList(f, l.order, l.offset, l.limit)
		flags := st.FlagsOf(views)
		items := make([]itemJSON, len(views))
		for i, v := range views {
			items[i] = itemWithFlags(v, flags[i])
		}
		return items, total
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, itemPageJSON{Sequence: p.sequence, Items: p.rows, Total: p.total, NextCursor: p.next})
}

// listObjectives answers the objectives that pass the query's filters, a
// page at a time.
func (s *Server) listObjectives(c echo.Context) error {
	q, err := query(c)
	if err != nil {
		return err
	}
	f, err := parseObjectiveFilter(q)
	if err != nil {
		return err
	}
	l, err := s.parseList(q, "/v1/objectives", objectiveListParams, projections.ObjectiveSorts, []string{f.Product, string(f.Status), f.Text})
	if err != nil {
		return err
	}
	p, err := readPage(c, s, l, func(st *projections.State) ([]objectiveJSON, int) {
		views, total := st.ObjectiveList(f, l.order, l.offset, l.limit)
		return wireList(views, objectiveAnswer), total
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, objectivePageJSON{Sequence: p.sequence, Objectives: p.rows, Total: p.total, NextCursor: p.next})
}

// page is one page of a list, in its wire shape.
type page[J any] struct {
	sequence uint64
	rows     []J
	total    int
	// next is the cursor of the next page; nil on the last.
	next *string
}

// readPage reads the page l asks for, with read, from the state at l's
// sequence, and sets the Link header to the next page when there is one.
func readPage[J any](c echo.Context, s *Server, l listRequest, read func(*projections.State) ([]J, int)) (page[J], error) {
	var p page[J]
	err := s.cfg.Views.At(c.Request().Context(), l.at, func(st *projections.State) error {
		p.sequence = st.Sequence
		p.rows, p.total = read(st)
		return nil
	})
	if err != nil {
		return p, err
	}
	if p.rows == nil {
		p.rows = []J{}
	}
	if end := l.offset + len(p.rows); end < p.total {
		next := listCursor{at: p.sequence, offset: uint64(end), query: l.query}.String()
		p.next = &next
		values := maps.Clone(l.values)
		values.Set("cursor", next)
		c.Response().Header().Set("Link", "<"+l.path+"?"+values.Encode()+`>; rel="next"`)
	}
	return p, nil
}

// exportItems streams every item that passes f, in order o, as CSV in the
// layout of backlogColumns: the items of one state, whatever the limit or
// cursor. The items are taken from the state, which is then let go of
// before the first row is sent.
func (s *Server) exportItems(c echo.Context, f projections.ItemFilter, o projections.Order) error {
	var views []projections.ItemView
	err := s.cfg.Views.At(c.Request().Context(), math.MaxUint64, func(st *projections.State) error {
		views, _ = st.ItemList(f, o, 0, 0)
		return nil
	})
	if err != nil {
		return err
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, csvContentType)
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="items.csv"`)
	st, err := s.openStream(c, "backlog export")
	if err != nil {
		return err
	}
	rows, err := csvRows(st, backlogColumns, backlogRow)
	if err != nil {
		return st.end(0, err)
	}
	return streamRows(st, rows, func(emit func(projections.ItemView) error) error {
		for _, v := range views {
			if err := emit(v); err != nil {
				return err
			}
		}
		return nil
	})
}
