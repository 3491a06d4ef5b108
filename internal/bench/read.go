package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/projections"
)

// readConfig is what the read benchmark's flags say.
type readConfig struct {
	Items      int
	Products   int
	Events     int
	Seed       uint64
	Clients    int
	Warmup     time.Duration
	Duration   time.Duration
	Count      int
	Rounds     int
	Timeout    time.Duration
	TargetP99  time.Duration
	JSON       bool
	CPUProfile string
	RawProfile string
	TempDir    string
}

func parseRead(args []string, stderr io.Writer) (readConfig, error) {
	var cfg readConfig
	fs := flag.NewFlagSet("bench read", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: roadmap bench read [flags]

Generates a ledger whose roadmap holds -items items, all in one product by
default, opens it as the serve command does, and measures, one after the
other with the same keep-alive clients: (a) a plain echo server on 127.0.0.1
answering GET /v1/roadmap with the ledger's own answer, rendered once and
kept in memory, and (b) GET /v1/roadmap on the ledger. It prints both rates,
their latencies and the ratio (b)/(a). With -rounds N it alternates (a) and
(b) N times.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.Items, "items", 500, "items on the roadmap")
	fs.IntVar(&cfg.Products, "products", 1, "products the items are spread over (the answer is the whole portfolio)")
	fs.IntVar(&cfg.Events, "events", 0, "events in the generated ledger (0: ten per item)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the generated ledger")
	fs.IntVar(&cfg.Clients, "clients", 16, "concurrent keep-alive clients on each side")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "unmeasured warm-up on each side, each round")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time on each side, each round (ignored with -count)")
	fs.IntVar(&cfg.Count, "count", 0, "measure exactly this many requests on each side, each round, instead of -duration")
	fs.IntVar(&cfg.Rounds, "rounds", 1, "times to alternate (a) and (b)")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "hard cap on the whole run")
	fs.DurationVar(&cfg.TargetP99, "target-p99", 10*time.Millisecond, "p99 latency the ledger's answers should stay under")
	fs.BoolVar(&cfg.JSON, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of (b) of the first round (warm-up included) to this file")
	fs.StringVar(&cfg.RawProfile, "raw-cpuprofile", "", "write a CPU profile of (a) of the first round to this file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if cfg.Events == 0 {
		cfg.Events = 10 * cfg.Items
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("bench read takes no arguments, got %q", fs.Args())
	}
	if err := checkLoad(cfg.Clients, 1024, cfg.Warmup, cfg.Duration, cfg.Count, cfg.Rounds, cfg.Timeout); err != nil {
		return cfg, err
	}
	return cfg, cfg.spec().validate()
}

// spec is the ledger the read benchmark generates: every item proposed is
// prioritised and none is removed, so exactly Items end on the roadmap.
func (cfg readConfig) spec() ledgerSpec {
	return ledgerSpec{
		Events: cfg.Events, Items: cfg.Items, Products: cfg.Products, ObjectivesPerProduct: 8, Reviews: 2,
		Keyed: 0.3, Span: 365 * 24 * time.Hour, Seed: cfg.Seed,
	}
}

func runRead(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseRead(args, stderr)
	if err != nil {
		return err
	}
	return report(stdout, cfg.JSON, func() (tableWriter, error) { return measureRead(ctx, cfg, stderr) })
}

// ReadReport is the result of the read benchmark.
type ReadReport struct {
	Benchmark string     `json:"benchmark"`
	Date      time.Time  `json:"date"`
	Machine   Machine    `json:"machine"`
	Ledger    LedgerInfo `json:"generated_ledger"`
	// Request is what both sides answer; AnswerBytes the size of the body.
	Request     string   `json:"request"`
	AnswerBytes int      `json:"answer_bytes"`
	OnRoadmap   int      `json:"on_roadmap"`
	Clients     int      `json:"clients"`
	Warmup      float64  `json:"warmup_seconds"`
	Duration    float64  `json:"duration_seconds"`
	Count       int      `json:"count"`
	Rounds      int      `json:"rounds"`
	Echo        LoadSide `json:"echo_from_memory"`
	API         LoadSide `json:"api"`
	// Ratio is API.Rate / Echo.Rate.
	Ratio float64 `json:"ratio"`
	// TargetP99 is in milliseconds; MeetsTarget compares API.Latency.P99.
	TargetP99   float64     `json:"target_p99_ms"`
	MeetsTarget bool        `json:"meets_target"`
	PerRound    []LoadRound `json:"per_round"`
}

// LoadSide is one side of a request load, pooled over the rounds.
type LoadSide struct {
	What    string  `json:"what"`
	Ops     int     `json:"requests"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"per_second"`
	Latency Latency `json:"latency"`
	// CPUPerOp is the whole process's CPU time per request, clients
	// included, in microseconds.
	CPUPerOp float64 `json:"cpu_us_per_request"`
}

// LoadRound is one alternation of the two sides of a request load.
type LoadRound struct {
	Raw   float64 `json:"raw_per_second"`
	API   float64 `json:"api_per_second"`
	P99   float64 `json:"api_p99_ms"`
	Ratio float64 `json:"ratio"`
}

func newLoadSide(what string, o outcome) LoadSide {
	return LoadSide{What: what, Ops: o.Ops, Seconds: round(o.Elapsed.Seconds(), 3), Rate: round(o.Rate(), 1),
		Latency: summarise(o.Samples, ""), CPUPerOp: round(float64(o.CPUPerOp())/1e3, 1)}
}

func measureRead(ctx context.Context, cfg readConfig, progress io.Writer) (rep *ReadReport, err error) {
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, fmt.Errorf("bench read: the run took longer than -timeout %s", cfg.Timeout))
	defer cancel()
	led, err := prepareLedger(ctx, cfg.spec(), "", cfg.TempDir, progress)
	if err != nil {
		return nil, errors.Join(err, context.Cause(ctx))
	}
	defer led.Close()
	ledger, err := serveLedger(ctx, app.Config{DataDir: led.DataDir})
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer func() { err = errors.Join(err, ledger.close(ctx)) }()

	const path = "/v1/roadmap"
	var onRoadmap int
	ledger.app.Current.Read(func(s *projections.State) { onRoadmap = s.Roadmap("").Horizons.Len() })
	if onRoadmap != cfg.Items {
		return nil, fmt.Errorf("the generated roadmap holds %d items, want %d", onRoadmap, cfg.Items)
	}
	body, contentType, err := ledger.get(ctx, path)
	if err != nil {
		return nil, err
	}
	raw, err := serveBytes(path, contentType, body)
	if err != nil {
		return nil, fmt.Errorf("echo: %w", err)
	}
	defer func() { err = errors.Join(err, raw.close(ctx)) }()

	rep = &ReadReport{
		Benchmark: "read", Date: time.Now().UTC().Truncate(time.Second), Machine: thisMachine(), Ledger: led.Info,
		Request: "GET " + path, AnswerBytes: len(body), OnRoadmap: onRoadmap, Clients: cfg.Clients,
		Warmup: cfg.Warmup.Seconds(), Duration: cfg.Duration.Seconds(), Count: cfg.Count, Rounds: cfg.Rounds,
		TargetP99: ms(cfg.TargetP99),
	}
	if cfg.Count > 0 {
		rep.Duration = 0
	}
	l := load{Warmup: cfg.Warmup, Duration: cfg.Duration, Count: cfg.Count}
	check := func(b []byte) error {
		if len(b) != len(body) {
			return fmt.Errorf("answer of %d bytes, want %d", len(b), len(body))
		}
		return nil
	}
	var echoOut, apiOut outcome
	for i := range cfg.Rounds {
		first := i == 0
		fmt.Fprintf(progress, "bench read: round %d/%d: (a) echo from memory, %d clients\n", i+1, cfg.Rounds, cfg.Clients)
		var a, b outcome
		err := instrumented(first, cfg.RawProfile, "", func() (err error) {
			a, err = drive(ctx, l, getWorkers(raw, cfg.Clients, func(*getWorker) (string, func([]byte) error) { return path, check }))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("echo: %w", errors.Join(err, context.Cause(ctx)))
		}
		fmt.Fprintf(progress, "bench read: round %d/%d: (b) ledger, %d clients\n", i+1, cfg.Rounds, cfg.Clients)
		err = instrumented(first, cfg.CPUProfile, "", func() (err error) {
			b, err = drive(ctx, l, getWorkers(ledger, cfg.Clients, func(*getWorker) (string, func([]byte) error) { return path, check }))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", errors.Join(err, context.Cause(ctx)))
		}
		echoOut, apiOut = echoOut.add(a), apiOut.add(b)
		rd := LoadRound{Raw: round(a.Rate(), 1), API: round(b.Rate(), 1), P99: summarise(b.Samples, "").P99}
		if rd.Raw > 0 {
			rd.Ratio = round(rd.API/rd.Raw, 3)
		}
		rep.PerRound = append(rep.PerRound, rd)
	}
	rep.Echo = newLoadSide("a plain echo server answering the same bytes from memory", echoOut)
	rep.API = newLoadSide("the ledger's GET /v1/roadmap", apiOut)
	if rep.Echo.Rate > 0 {
		rep.Ratio = round(rep.API.Rate/rep.Echo.Rate, 3)
	}
	rep.MeetsTarget = rep.API.Ops > 0 && rep.API.Latency.P99 < rep.TargetP99
	return rep, nil
}

// WriteTable prints the report for people.
func (r *ReadReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "roadmap bench read, %s\n", r.Date.Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "ledger:  %s\n", r.Ledger)
	fmt.Fprintf(w, "request: %s: %d items on the roadmap, %d bytes of JSON\n", r.Request, r.OnRoadmap, r.AnswerBytes)
	per := fmt.Sprintf("%gs measured", r.Duration)
	if r.Count > 0 {
		per = fmt.Sprintf("%d measured requests", r.Count)
	}
	fmt.Fprintf(w, "load:    %d keep-alive clients per side; per side and round %gs warm-up, %s; %d round(s)\n\n", r.Clients, r.Warmup, per, r.Rounds)
	if err := writeLoadSides(w, "(a) echo from memory", r.Echo, "(b) ledger", r.API); err != nil {
		return err
	}
	if err := writeLoadRounds(w, r.PerRound); err != nil {
		return err
	}
	verdict := "meets"
	if !r.MeetsTarget {
		verdict = "misses"
	}
	fmt.Fprintf(w, "\nledger p99 %.2f ms, which %s the target of under %g ms\n", r.API.Latency.P99, verdict, r.TargetP99)
	_, err := fmt.Fprintf(w, "ratio (b)/(a): %.3f (%.0f%% of echo's rate)\n", r.Ratio, r.Ratio*100)
	return err
}

func writeLoadSides(w io.Writer, aName string, a LoadSide, bName string, b LoadSide) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "side\trequests\tseconds\trate/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tCPU µs/req\t")
	for _, s := range []struct {
		name string
		side LoadSide
	}{{aName, a}, {bName, b}} {
		l := s.side.Latency
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t\n", s.name, s.side.Ops, s.side.Seconds, s.side.Rate,
			l.P50, l.P90, l.P99, l.Max, s.side.CPUPerOp)
	}
	return tw.Flush()
}

func writeLoadRounds(w io.Writer, rounds []LoadRound) error {
	if len(rounds) < 2 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "round\t(a) rate/s\t(b) rate/s\t(b) p99 ms\t(b)/(a)\t")
	for i, rd := range rounds {
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.2f\t%.3f\t\n", i+1, rd.Raw, rd.API, rd.P99, rd.Ratio)
	}
	return tw.Flush()
}

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
// it on a loopback port.
func serveLedger(ctx context.Context, cfg app.Config) (*httpSide, error) {
	cfg.BootstrapToken = benchToken
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := a.WaitReady(ctx); err != nil {
		a.Close()
		return nil, fmt.Errorf("ledger not ready: %w", err)
	}
	s, err := serveHandler(a.Handler)
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

// get reads the whole answer into w.buf, so the connection is reused, and
// returns an error unless the status is 200.
func (w *getWorker) get(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	if err != nil {
		return err
	}
	// Every side gets the ledger's token, the plain servers too, so they
	// read the same request.
	req.Header.Set("Authorization", "Bearer "+benchToken)
	res, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	w.buf.Reset()
	if _, err := w.buf.ReadFrom(res.Body); err != nil {
		return fmt.Errorf("GET %s: read answer: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d, want 200: %s", path, res.StatusCode, bytes.TrimSpace(w.buf.Bytes()))
	}
	w.contentType = res.Header.Get("Content-Type")
	return nil
}
