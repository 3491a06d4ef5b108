package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

var productSlug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// boardData is the board as its template draws it.
type boardData struct {
	Product  string
	Products []string
	Columns  []column
	// Drawn is the columns drawn as HTML.
	Drawn template.HTML
	// Sequence is the ledger position the board stands at; Past is set
	// when it is not the live one, with AsOf or AtSeq as asked.
	Sequence uint64
	Past     bool
	AsOf     string
	AtSeq    string
	// Notice says what the last decision did.
	Notice string
	// Query is the board's own query string, to come back to after a
	// decision.
	Back string
}

type column struct {
	Horizon roadmap.Horizon
	Cards   []card
}

type card struct {
	projections.Entry
	Horizon roadmap.Horizon
	// Size is how many items of the card's product are in its column.
	Size    int
	Pending []roadmap.Change
}

// Up and Down are the ranks a move up or down the column asks for; 0 when
// the card cannot move that way.
func (c card) Up() int {
	if c.Rank > 1 {
		return c.Rank - 1
	}
	return 0
}

func (c card) Down() int {
	if c.Rank < c.Size {
		return c.Rank + 1
	}
	return 0
}

// Others are the horizons a card can move to.
func (c card) Others() []roadmap.Horizon {
	return slices.DeleteFunc(slices.Clone(roadmap.Horizons), func(h roadmap.Horizon) bool { return h == c.Horizon })
}

// parseMoment parses an RFC 3339 time, or a date standing for the end of
// that day in UTC, as the API's as_of does.
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

// moment is the ledger position a page's as_of or at_seq asks for: the
// live one when neither is given.
func (a *App) moment(q url.Values) (seq uint64, past bool, err error) {
	seq = a.cfg.Views.Sequence()
	switch {
	case q.Get("at_seq") != "":
		n, perr := strconv.ParseUint(q.Get("at_seq"), 10, 64)
		if perr != nil {
			return 0, false, badMoment("at_seq must be a ledger position: a whole number from 0")
		}
		if n > seq {
			return 0, false, badMoment(fmt.Sprintf("position %d is beyond the ledger, which holds %d events", n, seq))
		}
		return n, true, nil
	case q.Get("as_of") != "":
		t, perr := parseMoment(q.Get("as_of"))
		if perr != nil {
			return 0, false, badMoment("as_of must be a date such as 2026-11-01, or an RFC 3339 time")
		}
		at, err := a.cfg.Views.SequenceAt(t)
		return at, true, err
	}
	return seq, false, nil
}

// badMoment is a moment a page was asked for that names no position: the
// asker's to mend (400). Any other error of moment is the ledger's.
type badMoment string

func (e badMoment) Error() string { return string(e) }

// failMoment answers an error of moment: a 400 that says what to send,
// after hint, for a badMoment, else as failWith.
func (a *App) failMoment(c echo.Context, err error, hint string) error {
	var bad badMoment
	if errors.As(err, &bad) {
		return a.fail(c, http.StatusBadRequest, hint+bad.Error())
	}
	return a.failWith(c, err)
}

func (a *App) board(c echo.Context, who viewer) error {
	q := c.QueryParams()
	d := boardData{Product: q.Get("product"), AsOf: q.Get("as_of"), AtSeq: q.Get("at_seq")}
	if d.Product != "" && !productSlug.MatchString(d.Product) {
		return a.fail(c, http.StatusBadRequest, "product must be a product slug such as web-app.")
	}
	seq, past, err := a.moment(q)
	if err != nil {
		return a.failMoment(c, err, "")
	}
	d.Past = past
	switch q.Get("done") {
	case "held":
		d.Notice = "Your decision is a major change: it waits for a second person's approval on the Approvals page."
	case "recorded":
		d.Notice = "Your decision is recorded."
	}
	d.Back = c.Request().URL.RequestURI()
	title := "Board"
	if d.Product != "" {
		title = "Board · " + d.Product
	}
	// The columns of a board at a sequence never change, and drawing 500
	// cards costs far more than serving them: they are drawn once per
	// sequence, product and whether they carry the controls to decide.
	key := boardKey{seq: seq, product: d.Product, decide: !past && who.Can(string(roadmap.PermDecide))}
	drawn, ok := a.boards.get(key)
	if !ok {
		err = a.cfg.Views.At(c.Request().Context(), seq, func(st *projections.State) error {
			d.Sequence = st.Sequence
			d.Products = products(st)
			d.Columns = columns(st.Roadmap(d.Product), st.PendingChanges())
			return nil
		})
		if err != nil {
			return a.failWith(c, err)
		}
		var b bytes.Buffer
		if err := a.pages["board"].ExecuteTemplate(&b, "columns", page{Who: &who, Data: d}); err != nil {
			return err
		}
		drawn = drawnBoard{seq: d.Sequence, products: d.Products, html: b.Bytes()}
		key.seq = d.Sequence // the live state may have moved on since seq was read
		a.boards.put(key, drawn)
	}
	d.Sequence, d.Products, d.Drawn = drawn.seq, drawn.products, drawnMark
	c.Response().Header().Set("Content-Security-Policy", Policy)
	if c.Request().Header.Get("X-Board-Refresh") == "1" {
		return c.HTMLBlob(http.StatusOK, drawn.html)
	}
	// The page around the columns is drawn for this person, and the
	// columns written into it where the mark stands, uncopied.
	var b bytes.Buffer
	if err := a.pages["board"].ExecuteTemplate(&b, "layout", page{Title: title, Who: &who, Data: d}); err != nil {
		return err
	}
	before, after, _ := bytes.Cut(b.Bytes(), []byte(drawnMark))
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	res.WriteHeader(http.StatusOK)
	for _, part := range [][]byte{before, drawn.html, after} {
		if _, err := res.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// drawnMark stands in the page for the columns, drawn apart.
const drawnMark template.HTML = "<!--columns-->"

// boardKey names one drawing of a board's columns.
type boardKey struct {
	seq     uint64
	product string
	decide  bool
}

// drawnBoard is the columns of a board, drawn.
type drawnBoard struct {
	seq      uint64
	products []string
	html     []byte
}

// boardCache keeps the last few drawings of the board's columns.
type boardCache struct {
	mu      sync.Mutex
	entries map[boardKey]drawnBoard
	order   []boardKey // oldest first
}

const boardCacheSize = 16

func (bc *boardCache) get(k boardKey) (drawnBoard, bool) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	d, ok := bc.entries[k]
	return d, ok
}

func (bc *boardCache) put(k boardKey, d drawnBoard) {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.entries == nil {
		bc.entries = map[boardKey]drawnBoard{}
	}
	if _, ok := bc.entries[k]; ok {
		return
	}
	if len(bc.order) == boardCacheSize {
		delete(bc.entries, bc.order[0])
		bc.order = bc.order[1:]
	}
	bc.entries[k] = d
	bc.order = append(bc.order, k)
}

// products are the products with an item on the roadmap, in order.
func products(st *projections.State) []string {
	seen := map[string]bool{}
	h := st.Roadmap("").Horizons
	for _, list := range [][]projections.Entry{h.Now, h.Next, h.Later} {
		for _, e := range list {
			if e.Product != "" {
				seen[e.Product] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func columns(v projections.RoadmapView, pending map[string][]roadmap.Change) []column {
	var out []column
	for _, h := range roadmap.Horizons {
		var list []projections.Entry
		switch h {
		case roadmap.Now:
			list = v.Horizons.Now
		case roadmap.Next:
			list = v.Horizons.Next
		case roadmap.Later:
			list = v.Horizons.Later
		}
		size := map[string]int{}
		for _, e := range list {
			size[e.Product]++
		}
		col := column{Horizon: h, Cards: make([]card, len(list))}
		for i, e := range list {
			col.Cards[i] = card{Entry: e, Horizon: h, Size: size[e.Product], Pending: pending[e.ID]}
		}
		out = append(out, col)
	}
	return out
}

// decide takes a decision on an item from the board: a move (to another
// horizon or rank), a removal or a delivery, with the rationale and
// evidence the dialog asked for.
func (a *App) decide(c echo.Context, who viewer) error {
	id := c.Param("id")
	v, ok := a.cfg.Views.ItemView(id)
	if !ok {
		return a.fail(c, http.StatusNotFound, "There is no such item.")
	}
	ctx, req := c.Request().Context(), request(who)
	rationale, evidence := c.FormValue("rationale"), evidenceLines(c.FormValue("evidence"))
	var res ledger.Result[ledger.ItemOutcome]
	var err error
	switch c.FormValue("action") {
	case "move":
		pl := roadmap.Prioritise{Horizon: roadmap.Horizon(c.FormValue("horizon")), Rationale: rationale, Evidence: evidence}
		if r := c.FormValue("rank"); r != "" {
			n, perr := strconv.Atoi(r)
			if perr != nil || n < 1 {
				return a.fail(c, http.StatusBadRequest, "The rank must be a position from 1.")
			}
			pl.Rank = &n
		}
		if v.Status == roadmap.StatusOnRoadmap {
			res, err = a.cfg.Ledger.Reprioritise(ctx, req, id, roadmap.Reprioritise(pl))
		} else {
			res, err = a.cfg.Ledger.Prioritise(ctx, req, id, pl)
		}
	case "remove":
		res, err = a.cfg.Ledger.Remove(ctx, req, id, roadmap.Remove{Rationale: rationale, Evidence: evidence})
	case "deliver":
		res, err = a.cfg.Ledger.Deliver(ctx, req, id, roadmap.Deliver{Rationale: rationale, Evidence: evidence})
	default:
		return a.fail(c, http.StatusBadRequest, "The decision must be a move, a removal or a delivery.")
	}
	if err != nil {
		return a.failWith(c, err)
	}
	done := "recorded"
	if res.Answer.Held != nil {
		done = "held"
	}
	return c.Redirect(http.StatusSeeOther, withDone(back(c.FormValue("back")), done))
}

// back is where a form sends the person after it is done: a path of this
// site, or the board.
func back(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	return s
}

// withDone sets the done parameter of a path of this site.
func withDone(path, done string) string {
	u, err := url.Parse(path)
	if err != nil {
		return "/"
	}
	q := u.Query()
	q.Set("done", done)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// live answers the ledger's position, which an open board polls to know
// when to redraw itself.
func (a *App) live(c echo.Context, _ viewer) error {
	return c.String(http.StatusOK, strconv.FormatUint(a.cfg.Views.Sequence(), 10))
}
