// Package webhook delivers the ledger's events to the URLs subscribed to
// them: each event a CloudEvent posted and signed the Standard Webhooks
// way, at least once, in ledger order per subscription, a failed delivery
// retried on a schedule while later events wait behind it. Positions,
// failures and the last attempts are kept in a key-value bucket beside
// the log, so a restart resumes where delivery stopped. It reads the log
// through the projections and never takes part in a write.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// DefaultSchedule is how long a failed delivery waits before each retry:
// 5 s, 30 s, 2 min, 10 min, 1 h, then hourly for a day. After the last
// retry the subscription is failing until resumed.
var DefaultSchedule = func() []time.Duration {
	s := []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour}
	for range 23 {
		s = append(s, time.Hour)
	}
	return s
}()

// Defaults of delivery.
const (
	// DefaultTimeout bounds one delivery, from dialling to the answer.
	DefaultTimeout = 10 * time.Second
	// answerLimit is how much of a receiver's answer is read.
	answerLimit = 4 << 10
	// keptAttempts is how many attempts a subscription's log keeps.
	keptAttempts = 100
)

// Views are the projections delivery reads.
type Views interface {
	Webhooks() []projections.WebhookView
	WebhookView(id string) (projections.WebhookView, bool)
	Sequence() uint64
	Scan(ctx context.Context, from, to uint64, fn func(projections.Record) (bool, error)) error
}

// Waiter waits until the projections have applied a sequence.
type Waiter interface {
	WaitFor(ctx context.Context, seq uint64) error
}

// Config wires a Dispatcher.
type Config struct {
	Views Views
	Wait  Waiter
	// Bucket keeps positions, failures and attempts.
	Bucket jetstream.KeyValue
	// Secret opens a subscription's signing secret.
	Secret func(roadmap.Webhook) (string, error)
	// Encode is the body of an event's delivery, its CloudEvent.
	Encode func(projections.Record) ([]byte, error)
	// Schedule overrides DefaultSchedule; Timeout DefaultTimeout.
	Schedule []time.Duration
	Timeout  time.Duration
	// AllowPrivate lets deliveries reach loopback and private addresses.
	AllowPrivate bool
	Logger       *slog.Logger
	Now          func() time.Time
	// Observe, when not nil, is told of every delivery attempt (the
	// metrics count them by outcome).
	Observe func(Attempt)
}

// Attempt is one delivery of one event to one subscription.
type Attempt struct {
	Sequence uint64        `json:"seq"`
	EventID  string        `json:"event_id"`
	At       time.Time     `json:"at"`
	Status   int           `json:"status,omitempty"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration"`
}

// OK reports whether the receiver took the event.
func (a Attempt) OK() bool { return a.Error == "" && a.Status >= 200 && a.Status < 300 }

// State is where a subscription's delivery stands.
type State struct {
	// Position is the sequence of the last event delivered or passed over.
	Position uint64 `json:"position"`
	// Failing is set once an event failed its last retry; FailedSeq is
	// that event, where a resume starts.
	Failing   bool       `json:"failing"`
	FailedSeq uint64     `json:"failed_seq,omitempty"`
	Since     *time.Time `json:"since,omitempty"`
	LastError string     `json:"last_error,omitempty"`
}

// ErrNotFailing means a resume was asked of a subscription that is not
// failing.
var ErrNotFailing = fmt.Errorf("%w: the webhook is not failing", roadmap.ErrConflict)

// Dispatcher runs one delivery loop per subscription.
type Dispatcher struct {
	cfg    Config
	client *http.Client

	mu      sync.Mutex
	workers map[string]*worker
	// failing are the subscriptions waiting for a resume.
	failing map[string]bool
}

type worker struct {
	cancel context.CancelFunc
	resume chan struct{}
	done   chan struct{}
}

// New returns a dispatcher; Run starts it.
func New(cfg Config) *Dispatcher {
	if cfg.Schedule == nil {
		cfg.Schedule = DefaultSchedule
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Dispatcher{cfg: cfg, client: NewClient(cfg.Timeout, cfg.AllowPrivate), workers: map[string]*worker{}, failing: map[string]bool{}}
}

// Run starts and stops delivery loops as subscriptions are made and
// deleted, until ctx ends; it returns once every loop has stopped.
func (d *Dispatcher) Run(ctx context.Context) {
	defer d.stopAll()
	seen := d.cfg.Views.Sequence()
	for {
		d.reconcile(ctx)
		if err := d.cfg.Wait.WaitFor(ctx, seen+1); err != nil {
			return
		}
		seen = d.cfg.Views.Sequence()
	}
}

func (d *Dispatcher) reconcile(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	live := map[string]bool{}
	for _, w := range d.cfg.Views.Webhooks() {
		if w.DeletedAt != nil {
			continue
		}
		live[w.ID] = true
		if d.workers[w.ID] == nil {
			wctx, cancel := context.WithCancel(ctx)
			wk := &worker{cancel: cancel, resume: make(chan struct{}, 1), done: make(chan struct{})}
			d.workers[w.ID] = wk
			go func() {
				defer close(wk.done)
				d.deliverLoop(wctx, w.ID, wk)
			}()
		}
	}
	for id, wk := range d.workers {
		if !live[id] {
			wk.cancel()
			delete(d.workers, id)
		}
	}
}

func (d *Dispatcher) stopAll() {
	d.mu.Lock()
	workers := d.workers
	d.workers = map[string]*worker{}
	d.mu.Unlock()
	for _, wk := range workers {
		wk.cancel()
		<-wk.done
	}
}

// State returns where delivery to subscription id stands.
func (d *Dispatcher) State(ctx context.Context, id string) (State, error) {
	var st State
	err := d.get(ctx, "state."+id, &st)
	return st, err
}

// Attempts returns the last attempts to deliver to subscription id, the
// latest first.
func (d *Dispatcher) Attempts(ctx context.Context, id string) ([]Attempt, error) {
	var out []Attempt
	err := d.get(ctx, "attempts."+id, &out)
	return out, err
}

// Resume delivers to a failing subscription again, from the event that
// failed. It returns ErrNotFailing when it is not failing.
func (d *Dispatcher) Resume(ctx context.Context, id string) error {
	st, err := d.State(ctx, id)
	if err != nil {
		return err
	}
	if !st.Failing {
		return ErrNotFailing
	}
	st.Failing, st.Since, st.LastError = false, nil, ""
	if err := d.put(ctx, "state."+id, st); err != nil {
		return err
	}
	d.mu.Lock()
	if wk := d.workers[id]; wk != nil {
		select {
		case wk.resume <- struct{}{}:
		default:
		}
	}
	d.mu.Unlock()
	return nil
}

func (d *Dispatcher) get(ctx context.Context, key string, v any) error {
	e, err := d.cfg.Bucket.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(e.Value(), v)
}

func (d *Dispatcher) put(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = d.cfg.Bucket.Put(ctx, key, b)
	return err
}

// errFailing stops a scan when the subscription is failing, errDeleted
// when it is deleted.
var (
	errFailing = errors.New("failing")
	errDeleted = errors.New("deleted")
)

// Failing is how many subscriptions are failing: their last retry failed
// and they wait for a resume.
func (d *Dispatcher) Failing() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.failing)
}

// markFailing notes whether subscription id is failing.
func (d *Dispatcher) markFailing(id string, failing bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if failing {
		d.failing[id] = true
	} else {
		delete(d.failing, id)
	}
}

// deleted reports whether subscription id is gone or deleted.
func (d *Dispatcher) deleted(id string) bool {
	w, ok := d.cfg.Views.WebhookView(id)
	return !ok || w.DeletedAt != nil
}

// deliverLoop delivers to one subscription until ctx ends.
func (d *Dispatcher) deliverLoop(ctx context.Context, id string, wk *worker) {
	log := d.cfg.Logger.With("webhook", id)
	defer d.markFailing(id, false)
	for backoff := time.Second; ctx.Err() == nil; {
		err := d.deliverAll(ctx, id, wk)
		if ctx.Err() != nil || errors.Is(err, errDeleted) {
			return
		}
		log.Warn("webhook delivery stopped; trying again", "error", err, "in", backoff)
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// deliverAll follows the log from the subscription's position, delivering
// each event it asks for; it returns only on an error or ctx's end.
func (d *Dispatcher) deliverAll(ctx context.Context, id string, wk *worker) error {
	st, err := d.State(ctx, id)
	if err != nil {
		return err
	}
	if st.Position == 0 {
		w, ok := d.cfg.Views.WebhookView(id)
		if !ok {
			return fmt.Errorf("no webhook %s", id)
		}
		st.Position = w.Created
	}
	for {
		d.markFailing(id, st.Failing)
		for st.Failing {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-wk.resume:
				if st, err = d.State(ctx, id); err != nil {
					return err
				}
			}
		}
		d.markFailing(id, false)
		if err := d.cfg.Wait.WaitFor(ctx, st.Position+1); err != nil {
			return err
		}
		to := d.cfg.Views.Sequence()
		err := d.cfg.Views.Scan(ctx, st.Position+1, to, func(r projections.Record) (bool, error) {
			w, ok := d.cfg.Views.WebhookView(id)
			if !ok || w.DeletedAt != nil {
				return false, errDeleted
			}
			if roadmap.MatchType(w.Types, r.Type) && (w.Product == "" || w.Product == r.Product) {
				if err := d.deliverOne(ctx, id, r, &st); err != nil {
					return false, err
				}
			}
			st.Position = r.Sequence
			return true, nil
		})
		if errors.Is(err, errFailing) {
			continue
		}
		if err != nil {
			return err
		}
		st.Position = max(st.Position, to)
		if err := d.put(ctx, "state."+id, st); err != nil {
			return err
		}
	}
}

// deliverOne posts one event until the receiver takes it or the schedule
// runs out; then it marks the subscription failing and returns errFailing.
// The position is recorded once the receiver has taken the event.
func (d *Dispatcher) deliverOne(ctx context.Context, id string, r projections.Record, st *State) error {
	body, err := d.cfg.Encode(r)
	if err != nil {
		return err
	}
	for retry := 0; ; retry++ {
		a := d.attempt(ctx, id, r, body)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.cfg.Observe != nil {
			d.cfg.Observe(a)
		}
		if err := d.record(ctx, id, a); err != nil {
			return err
		}
		if a.OK() {
			st.Position = r.Sequence
			return d.put(ctx, "state."+id, *st)
		}
		if retry >= len(d.cfg.Schedule) {
			now := d.cfg.Now().UTC()
			st.Failing, st.FailedSeq, st.Since = true, r.Sequence, &now
			st.LastError = a.Error
			if st.LastError == "" {
				st.LastError = "answered " + strconv.Itoa(a.Status)
			}
			d.cfg.Logger.Warn("webhook failing: delivery gave up after its last retry", "webhook", id, "seq", r.Sequence, "error", st.LastError)
			if err := d.put(ctx, "state."+id, *st); err != nil {
				return err
			}
			return errFailing
		}
		// Exponential backoff with up to a fifth of jitter either way, so
		// that subscriptions failing together do not retry together.
		if d.deleted(id) {
			return errDeleted
		}
		wait := d.cfg.Schedule[retry]
		wait += time.Duration((rand.Float64()*0.4 - 0.2) * float64(wait))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// attempt posts one event once.
func (d *Dispatcher) attempt(ctx context.Context, id string, r projections.Record, body []byte) Attempt {
	start := d.cfg.Now()
	a := Attempt{Sequence: r.Sequence, EventID: r.EventID, At: start.UTC()}
	fail := func(err error) Attempt {
		a.Error, a.Duration = err.Error(), d.cfg.Now().Sub(start)
		return a
	}
	w, ok := d.cfg.Views.WebhookView(id)
	if !ok {
		return fail(errors.New("the webhook is gone"))
	}
	secret, err := d.cfg.Secret(w.Webhook)
	if err != nil {
		return fail(err)
	}
	key, err := roadmap.WebhookSecretBytes(secret)
	if err != nil {
		return fail(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fail(err)
	}
	ts := start.Unix()
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("User-Agent", "roadmap-ledger-webhooks")
	req.Header.Set("webhook-id", r.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(key, r.EventID, ts, body))
	res, err := d.client.Do(req)
	if err != nil {
		return fail(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, answerLimit))
	res.Body.Close()
	a.Status, a.Duration = res.StatusCode, d.cfg.Now().Sub(start)
	return a
}

// record adds an attempt to the subscription's last attempts.
func (d *Dispatcher) record(ctx context.Context, id string, a Attempt) error {
	attempts, err := d.Attempts(ctx, id)
	if err != nil {
		return err
	}
	attempts = append([]Attempt{a}, attempts...)
	if len(attempts) > keptAttempts {
		attempts = attempts[:keptAttempts]
	}
	return d.put(ctx, "attempts."+id, attempts)
}
