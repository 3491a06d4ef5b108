package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// The change feed: GET /v1/events/stream, every event appended after the
// client's position as server-sent events, replayed from the log and then
// followed live.
//
// One goroutine (feedHub.run) follows the projections and encodes each
// event once; each client has a bounded buffer the hub never waits on. A
// client whose buffer is full is dropped and resumes by its last id: the
// write path and the other clients never wait for a slow reader.

// Defaults of the change feed.
const (
	// DefaultFeedHeartbeat is how often a quiet stream gets a comment, so
	// that proxies and clients know it is alive.
	DefaultFeedHeartbeat = 15 * time.Second
	// DefaultFeedBuffer is how many events a client of the stream may fall
	// behind the ledger before it is disconnected.
	DefaultFeedBuffer = 1024
	// feedBatchWindow is how long a client's first new event waits for
	// others to go out with it.
	feedBatchWindow = 5 * time.Millisecond
	// feedWriteTimeout bounds each write to a client of the stream.
	feedWriteTimeout = 10 * time.Second
	mediaEventStream = "text/event-stream"
)

// feedEvent is one event as the hub hands it to the clients: what the
// filters need, and its CloudEvent JSON, encoded once.
type feedEvent struct {
	seq           uint64
	typ, product  string
	aggregateType string
	body          []byte
}

// feedSub is one client of the hub.
type feedSub struct {
	ch chan feedEvent
	// dropped is closed when the client fell too far behind.
	dropped chan struct{}
}

// feedHub follows the projections and fans each new event out to the
// subscribed clients of the stream.
type feedHub struct {
	log    Log
	views  Views
	wait   Waiter
	source string
	buffer int

	mu sync.Mutex
	// pos is the last sequence handed to the subscribers (or passed over
	// with none subscribed); started is closed once it is set.
	pos     uint64
	subs    map[*feedSub]struct{}
	started chan struct{}
	once    sync.Once
	// closed is closed when the server stops streaming.
	closed    chan struct{}
	closeOnce sync.Once
}

func newFeedHub(log Log, views Views, wait Waiter, source string, buffer int) *feedHub {
	return &feedHub{log: log, views: views, wait: wait, source: source, buffer: buffer, subs: map[*feedSub]struct{}{}, started: make(chan struct{}), closed: make(chan struct{})}
}

// encode is the feed's event for a record of the audit trail.
func (h *feedHub) encode(r projections.Record) (feedEvent, error) {
	body, err := CloudEvent(h.source, r)
	return feedEvent{seq: r.Sequence, typ: r.Type, product: r.Product, aggregateType: r.AggregateType, body: body}, err
}

// run follows the log until ctx ends, handing each event to the
// subscribers once the projections have applied it (an event's record
// reads where its item moved from them). It reads the log with one
// consumer of its own, never through the projections' runner, so the
// write path does not wait for it.
func (h *feedHub) run(ctx context.Context, logger func(msg string, args ...any)) {
	h.mu.Lock()
	pos := h.views.Sequence()
	h.pos = pos
	h.mu.Unlock()
	h.once.Do(func() { close(h.started) })
	defer h.closeAll()
	for {
		err := h.log.Follow(ctx, pos+1, func(rec eventlog.Record) error {
			if err := h.wait.WaitFor(ctx, rec.Sequence); err != nil {
				return err
			}
			if !h.subscribed() {
				h.passOver(rec.Sequence)
				pos = rec.Sequence
				return nil
			}
			if _, err := eventlog.Decode(rec.Body); err != nil {
				return fmt.Errorf("sequence %d: %w", rec.Sequence, err)
			}
			r, err := h.views.Record(rec)
			if err != nil {
				return err
			}
			ev, err := h.encode(r)
			if err != nil {
				return err
			}
			h.publish(ev)
			pos = rec.Sequence
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		logger("the change feed cannot follow the log; trying again", "after", pos, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// subscribed reports whether any client follows the hub.
func (h *feedHub) subscribed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) > 0
}

// passOver moves the hub past an event nobody was subscribed to receive.
func (h *feedHub) passOver(seq uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pos = seq
}

// publish hands ev to every subscriber without waiting: one whose buffer
// is full is dropped.
func (h *feedHub) publish(ev feedEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pos = ev.seq
	for sub := range h.subs {
		select {
		case sub.ch <- ev:
		default:
			delete(h.subs, sub)
			close(sub.dropped)
		}
	}
}

// subscribe adds a client and returns it with the last sequence the hub
// handed out before it: the client receives every event after that one.
func (h *feedHub) subscribe(ctx context.Context) (*feedSub, uint64, error) {
	select {
	case <-h.started:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	sub := &feedSub{ch: make(chan feedEvent, h.buffer), dropped: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		return nil, 0, errors.New("the change feed has stopped")
	}
	h.subs[sub] = struct{}{}
	return sub, h.pos, nil
}

func (h *feedHub) unsubscribe(sub *feedSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
	}
}

// clients is how many clients are subscribed.
func (h *feedHub) clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// position is the last sequence the hub handed out.
func (h *feedHub) position() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pos
}

// closeAll drops every subscriber once the hub stops.
func (h *feedHub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		close(sub.dropped)
	}
	h.subs = nil
}

// CloseStreams ends every event stream, and refuses new ones, so that a
// graceful shutdown does not wait for clients that never hang up; each
// resumes by its last id elsewhere or later.
func (s *Server) CloseStreams() {
	s.feed.closeOnce.Do(func() { close(s.feed.closed) })
	s.feed.closeAll()
}

// RunFeed runs the change feed's fan-out until ctx ends: the stream's
// clients receive live events only while it runs. The ledger's wiring
// starts it beside the projections.
func (s *Server) RunFeed(ctx context.Context) {
	// No client can subscribe before the projections have caught up (every
	// request waits for them), so the hub starts where the replay ends
	// instead of reading the whole log a second time beside it, which cost
	// a start from the first event about half its rate. A runner that
	// stopped on an event it cannot apply lets it start all the same.
	if s.cfg.WaitReady != nil {
		if _ = s.cfg.WaitReady(ctx); ctx.Err() != nil {
			return
		}
	}
	s.feed.run(ctx, func(msg string, args ...any) { s.cfg.Logger.WarnContext(ctx, msg, args...) })
}

// feedQuery is what GET /v1/events/stream was asked.
type feedQuery struct {
	after   uint64
	filter  feedFilter
	product string
}

// feedFilter says which events a client receives.
type feedFilter struct {
	// types are exact event types and prefixes ending in "."; nil for all.
	types   []string
	product string
	// private is whether the client may see the events of tokens and
	// webhook subscriptions (auditors and admins).
	private bool
}

// privateAggregates are the aggregates whose events only a token that
// may read the audit trail receives.
var privateAggregates = map[string]bool{"token": true, "webhook": true}

// match reports whether the client receives an event.
func (f feedFilter) match(typ, product, aggregateType string) bool {
	if privateAggregates[aggregateType] && !f.private {
		return false
	}
	if f.product != "" && product != f.product {
		return false
	}
	if f.types == nil {
		return true
	}
	for _, t := range f.types {
		if t == typ || (strings.HasSuffix(t, ".") && strings.HasPrefix(typ, t)) {
			return true
		}
	}
	return false
}

// feedParams are the query parameters of the stream.
var feedParams = []string{"after", "types", "product"}

// parseTypes reads a comma list of event types and prefixes (item.); each
// must name at least one known type. An empty list is nil: every type.
func parseTypes(list string) ([]string, error) {
	known := slices.Sorted(func(yield func(string) bool) {
		for t := range roadmap.SchemaVersions {
			if !yield(t) {
				return
			}
		}
	})
	var out []string
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		ok := slices.ContainsFunc(known, func(k string) bool {
			return k == t || (strings.HasSuffix(t, ".") && strings.HasPrefix(k, t))
		})
		if !ok {
			return nil, problem(ErrBadQuery, fmt.Sprintf("types: %q is neither an event type nor the prefix of one (such as item.); the types are %s", clip(t), strings.Join(known, ", ")))
		}
		out = append(out, t)
	}
	return out, nil
}

// parseFeedQuery reads the stream's query and its Last-Event-ID header,
// which wins over after: a browser reconnects with the URL it first asked
// and the id it last received.
func parseFeedQuery(rawQuery, lastEventID string) (feedQuery, error) {
	var out feedQuery
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return out, problem(ErrBadQuery, "the query string is not valid URL encoding")
	}
	for name, values := range q {
		if !slices.Contains(feedParams, name) {
			return out, problem(ErrBadQuery, fmt.Sprintf("unknown query parameter %q; the stream takes %s", clip(name), strings.Join(feedParams, ", ")))
		}
		if len(values) > 1 {
			return out, problem(ErrBadQuery, fmt.Sprintf("query parameter %q is given %d times; give it once", name, len(values)))
		}
	}
	position := func(v, what string) (uint64, error) {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 63)
		if err != nil {
			return 0, fmt.Errorf("%s must be a ledger sequence: a whole number from 0 to %d", what, uint64(math.MaxInt64))
		}
		return n, nil
	}
	if q.Has("after") {
		if out.after, err = position(q.Get("after"), "after"); err != nil {
			return out, problem(ErrBadQuery, err.Error())
		}
	}
	if lastEventID != "" {
		if out.after, err = position(lastEventID, "Last-Event-ID"); err != nil {
			return out, problem(ErrBadHeader, err.Error())
		}
	}
	if q.Has("types") {
		if out.filter.types, err = parseTypes(q.Get("types")); err != nil {
			return out, err
		}
	}
	if q.Has("product") {
		out.product = q.Get("product")
		if !productSlug.MatchString(out.product) {
			return out, problem(ErrBadQuery, "product must be a product slug such as web-app")
		}
		out.filter.product = out.product
	}
	return out, nil
}

// feedWriter writes server-sent events to one client, each flush under a
// write deadline.
type feedWriter struct {
	rc  *http.ResponseController
	w   *bufio.Writer
	res *echo.Response
	// sent is the last id the client was given.
	sent uint64
}

func (fw *feedWriter) event(ev feedEvent) {
	fmt.Fprintf(fw.w, "id: %d\nevent: %s\ndata: ", ev.seq, ev.typ)
	fw.w.Write(ev.body)
	fw.w.WriteString("\n\n")
	fw.sent = ev.seq
}

// position moves the client's last id on to seq past events it does not
// receive: a message with an id and no data sets a client's last id
// without dispatching an event.
func (fw *feedWriter) position(seq uint64) {
	if seq > fw.sent {
		fmt.Fprintf(fw.w, "id: %d\n\n", seq)
		fw.sent = seq
	}
}

func (fw *feedWriter) comment(text string) { fmt.Fprintf(fw.w, ": %s\n\n", text) }

// flush sends what is buffered within feedWriteTimeout.
func (fw *feedWriter) flush() error {
	if err := fw.rc.SetWriteDeadline(time.Now().Add(feedWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if err := fw.w.Flush(); err != nil {
		return err
	}
	return fw.rc.Flush()
}

// streamEvents answers GET /v1/events/stream.
func (s *Server) streamEvents(c echo.Context) error {
	r := c.Request()
	q, err := parseFeedQuery(r.URL.RawQuery, r.Header.Get("Last-Event-ID"))
	if err != nil {
		return err
	}
	if _, err := negotiateFormat(c, "the event stream", mediaEventStream); err != nil {
		return err
	}
	q.filter.private = requestToken(c).Role.Allows(roadmap.PermAudit)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-s.feed.closed:
			cancel()
		case <-ctx.Done():
		}
	}()

	res := c.Response()
	res.Header().Set(echo.HeaderContentType, mediaEventStream)
	res.Header().Set("Cache-Control", "no-store")
	res.Header().Set("X-Accel-Buffering", "no")
	res.WriteHeader(http.StatusOK)
	fw := &feedWriter{rc: http.NewResponseController(res), w: bufio.NewWriterSize(res, 32<<10), res: res, sent: q.after}
	fw.comment("the ledger's events after " + strconv.FormatUint(q.after, 10))
	if err := fw.flush(); err != nil {
		return nil
	}
	err = s.followFeed(ctx, fw, q)
	if err != nil && ctx.Err() == nil && !clientGone(ctx, err) {
		s.cfg.Logger.DebugContext(ctx, "event stream ended", "after", fw.sent, "error", err)
	}
	return nil
}

// followFeed replays the log after the client's position and then follows
// the hub, until the client goes, falls too far behind or the server
// stops.
func (s *Server) followFeed(ctx context.Context, fw *feedWriter, q feedQuery) error {
	pos := q.after
	replay := func(to uint64) error {
		err := s.cfg.Views.Scan(ctx, pos+1, to, func(r projections.Record) (bool, error) {
			if q.filter.match(r.Type, r.Product, r.AggregateType) {
				ev, err := s.feed.encode(r)
				if err != nil {
					return false, err
				}
				fw.event(ev)
				if fw.w.Buffered() > 16<<10 {
					if err := fw.flush(); err != nil {
						return false, err
					}
				}
			}
			pos = r.Sequence
			return true, nil
		})
		if err != nil {
			return err
		}
		pos = max(pos, to)
		return fw.flush()
	}
	// Catch up from the log until close to the hub, so that the events
	// the hub buffers while the rest is replayed fit the buffer.
	for h := s.feed.position(); h > pos && h-pos > uint64(s.feed.buffer/2); h = s.feed.position() {
		if err := replay(h); err != nil {
			return err
		}
	}
	sub, start, err := s.feed.subscribe(ctx)
	if err != nil {
		return err
	}
	defer s.feed.unsubscribe(sub)
	if start > pos {
		if err := replay(start); err != nil {
			return err
		}
	}
	heartbeat := time.NewTicker(s.cfg.FeedHeartbeat)
	defer heartbeat.Stop()
	send := func(ev feedEvent) {
		if ev.seq <= pos {
			return // replayed already
		}
		if q.filter.match(ev.typ, ev.product, ev.aggregateType) {
			fw.event(ev)
		}
		pos = ev.seq
	}
	for {
		select {
		case <-ctx.Done():
			select {
			case <-s.feed.closed:
				// The server stops streaming: say where the client stands.
				fw.position(pos)
				fw.comment("disconnected: resume with Last-Event-ID")
				return fw.flush()
			default:
				return nil
			}
		case <-sub.dropped:
			// Too far behind, or the server is stopping: the client
			// resumes from its last id.
			fw.position(pos)
			fw.comment("disconnected: resume with Last-Event-ID")
			return fw.flush()
		case ev := <-sub.ch:
			// Events that follow within feedBatchWindow go out in the
			// same write: under load, a few times fewer writes to every
			// client for a few milliseconds of delay.
			send(ev)
			window := time.NewTimer(feedBatchWindow)
			for more := true; more; {
				select {
				case ev := <-sub.ch:
					send(ev)
				case <-window.C:
					more = false
				case <-ctx.Done():
					more = false
				}
			}
			window.Stop()
			if err := fw.flush(); err != nil {
				return err
			}
		case <-heartbeat.C:
			fw.position(pos)
			fw.comment("heartbeat")
			if err := fw.flush(); err != nil {
				return err
			}
		}
	}
}
