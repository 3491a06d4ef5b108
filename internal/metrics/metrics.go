// Package metrics is what the ledger tells Prometheus: its HTTP requests,
// the decisions it appends, how far the read models are behind the log,
// what waits on people (changes held for approval, open reviews), the
// stream's size and the age of the last signed checkpoint, beside the Go
// runtime's and the process's own metrics.
//
// Every label is from a fixed set (a route pattern, a method, a status, an
// event type): never an id, a title, a token's name or a secret, so a
// scrape tells nothing a reader of the roadmap could not see, and the
// number of series stays bounded.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Sources are what the gauges are read from, at each scrape.
type Sources struct {
	// Stats reads the stream's size and head.
	Stats func(ctx context.Context) (eventlog.StreamStats, error)
	// Applied is the sequence the read models have applied.
	Applied func() uint64
	// Read calls fn with the live state of the read models.
	Read func(fn func(*projections.State))
	// Now is the clock a checkpoint's age is measured by; time.Now when
	// nil.
	Now func() time.Time
	// StreamClients is how many clients follow the change feed, and
	// WebhooksFailing how many webhooks wait for a resume; nil reads 0.
	StreamClients, WebhooksFailing func() int
}

// Metrics holds the ledger's metrics, registered in one registry.
type Metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	appends   *prometheus.HistogramVec
	webhooks  *prometheus.CounterVec
}

// New registers the ledger's metrics, the Go runtime's and the process's
// in reg, reading its gauges from src. It panics if reg already holds
// metrics of the same names, as prometheus.MustRegister does: a wiring
// mistake.
func New(reg *prometheus.Registry, src Sources) *Metrics {
	if src.Now == nil {
		src.Now = time.Now
	}
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roadmap_http_request_duration_seconds",
			Help:    "HTTP requests answered, by method, route pattern and status, with how long each took.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roadmap_decisions_appended_total",
			Help: "Events appended to the ledger by this process, by event type (retries JetStream recognised are not counted).",
		}, []string{"type"}),
		appends: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "roadmap_append_duration_seconds",
			Help:    "How long an append to JetStream took, until it was acknowledged or refused, by outcome (ok, refused).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"outcome"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roadmap_webhook_deliveries_total",
			Help: "Webhook delivery attempts, by outcome: delivered (2xx), refused (another status) or error (no answer: connection, timeout, an address refused).",
		}, []string{"outcome"}),
	}
	for _, outcome := range []string{"delivered", "refused", "error"} {
		m.webhooks.WithLabelValues(outcome) // every outcome is a series from the start
	}
	reg.MustRegister(m.requests, m.decisions, m.appends, m.webhooks, &gauges{src: src},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the registry's metrics in the Prometheus text format (or
// OpenMetrics, when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// ObserveRequest counts a request answered and how long it took. route is
// a route pattern, never a path a client sent.
func (m *Metrics) ObserveRequest(method, route string, status int, took time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Observe(took.Seconds())
}

// ObserveDelivery counts one webhook delivery attempt by its outcome:
// delivered when the receiver answered 2xx, refused for another status,
// error when there was no answer.
func (m *Metrics) ObserveDelivery(status int, failed bool) {
	outcome := "delivered"
	switch {
	case failed || status == 0:
		outcome = "error"
	case status < 200 || status > 299:
		outcome = "refused"
	}
	m.webhooks.WithLabelValues(outcome).Inc()
}

// Store is what the ledger appends through (ledger.Store).
type Store interface {
	Append(ctx context.Context, e *eventlog.Envelope, prevHash string, opts eventlog.AppendOptions) (eventlog.Appended, error)
	LastSequence(ctx context.Context) (uint64, error)
}

// Store returns s, counting the decisions appended through it by type and
// timing each append.
func (m *Metrics) Store(s Store) Store { return &countingStore{Store: s, m: m} }

type countingStore struct {
	Store
	m *Metrics
}

func (s *countingStore) Append(ctx context.Context, e *eventlog.Envelope, prevHash string, opts eventlog.AppendOptions) (eventlog.Appended, error) {
	start := time.Now()
	a, err := s.Store.Append(ctx, e, prevHash, opts)
	outcome := "ok"
	if err != nil {
		outcome = "refused"
	}
	s.m.appends.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	if _, known := roadmap.SchemaVersions[e.Type]; err == nil && !a.Duplicate && known {
		s.m.decisions.WithLabelValues(e.Type).Inc()
	}
	return a, err
}

// gauges reads the ledger's state at each scrape rather than keeping
// copies of it up to date.
type gauges struct{ src Sources }

var (
	descHead = prometheus.NewDesc("roadmap_ledger_head_sequence",
		"Sequence of the last event in the stream.", nil, nil)
	descApplied = prometheus.NewDesc("roadmap_projection_applied_sequence",
		"Sequence of the last event the read models of this process have applied.", nil, nil)
	descLag = prometheus.NewDesc("roadmap_projection_lag_events",
		"Events in the stream the read models of this process have not applied yet: the head minus the applied sequence.", nil, nil)
	descMessages = prometheus.NewDesc("roadmap_stream_messages",
		"Messages in the JetStream stream.", nil, nil)
	descBytes = prometheus.NewDesc("roadmap_stream_bytes",
		"Bytes the JetStream stream holds.", nil, nil)
	descStreamUp = prometheus.NewDesc("roadmap_stream_up",
		"1 when the stream's state could be read at this scrape (it has a leader), else 0.", nil, nil)
	descPending = prometheus.NewDesc("roadmap_changes_pending",
		"Major changes held for an approver.", nil, nil)
	descOpenReviews = prometheus.NewDesc("roadmap_reviews_open",
		"Governance reviews open.", nil, nil)
	descCheckpointAge = prometheus.NewDesc("roadmap_checkpoint_age_seconds",
		"Seconds since the latest signed checkpoint was made; absent before the first.", nil, nil)
	descCheckpointSize = prometheus.NewDesc("roadmap_checkpoint_size_events",
		"Events the latest signed checkpoint covers; 0 before the first.", nil, nil)
	descStreamClients = prometheus.NewDesc("roadmap_feed_clients",
		"Clients following the change feed (GET /v1/events/stream) on this process.", nil, nil)
	descWebhooksFailing = prometheus.NewDesc("roadmap_webhooks_failing",
		"Webhooks whose delivery gave up after its last retry and waits for a resume.", nil, nil)
)

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descHead, descApplied, descLag, descMessages, descBytes, descStreamUp,
		descPending, descOpenReviews, descCheckpointAge, descCheckpointSize, descStreamClients, descWebhooksFailing} {
		ch <- d
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	// Applied first: read after the head, it could pass it and the lag
	// would be negative.
	applied := g.src.Applied()
	gauge(descApplied, float64(applied))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if st, err := g.src.Stats(ctx); err == nil {
		gauge(descStreamUp, 1)
		gauge(descHead, float64(st.LastSequence))
		gauge(descLag, float64(st.LastSequence-min(applied, st.LastSequence)))
		gauge(descMessages, float64(st.Messages))
		gauge(descBytes, float64(st.Bytes))
	} else {
		// Without a leader there is no head to measure the lag by: the
		// series are absent rather than wrong, and stream_up says why.
		gauge(descStreamUp, 0)
	}
	var pending, open int
	var checkpoint projections.CheckpointView
	var signed bool
	g.src.Read(func(s *projections.State) {
		pending = len(s.Changes(roadmap.ChangeStatusPending))
		for _, r := range s.Reviews() {
			if r.Status == roadmap.ReviewStatusOpen {
				open++
			}
		}
		checkpoint, signed = s.LatestCheckpoint()
	})
	count := func(f func() int) float64 {
		if f == nil {
			return 0
		}
		return float64(f())
	}
	gauge(descStreamClients, count(g.src.StreamClients))
	gauge(descWebhooksFailing, count(g.src.WebhooksFailing))
	gauge(descPending, float64(pending))
	gauge(descOpenReviews, float64(open))
	if signed {
		gauge(descCheckpointAge, g.src.Now().Sub(checkpoint.Time).Seconds())
		gauge(descCheckpointSize, float64(checkpoint.Size))
	} else {
		gauge(descCheckpointSize, 0)
	}
}
