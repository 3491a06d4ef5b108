package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
	"github.com/roadmap-ledger/roadmap/projections"
)

// readConfig is what the read benchmark's flags say.
type readConfig struct {
	commonFlags
	loadFlags
	Items     int
	Products  int
	Events    int
	Seed      uint64
	TargetP99 time.Duration
}

func parseRead(args []string, stderr io.Writer) (readConfig, error) {
	var cfg readConfig
	fs := newFlagSet("read", `Generates a ledger whose roadmap holds -items items, all in one product by
default, opens it as the serve command does, and measures, one after the
other with the same keep-alive clients: (a) a plain echo server on 127.0.0.1
answering GET /v1/roadmap with the ledger's own answer, rendered once and
kept in memory, and (b) GET /v1/roadmap on the ledger, and (c) the web app's board of the same
roadmap (GET / with a session cookie), rendered on the server. It prints
the rates, their latencies, the ratio (b)/(a) and how many times (b)'s
latency the board takes. With -rounds N it alternates (a), (b) and (c) N
times.
`, stderr)
	cfg.commonFlags.register(fs, 5*time.Minute, "(b) of the first round (warm-up included)", "(a) of the first round")
	cfg.loadFlags.register(fs, "concurrent keep-alive clients on each side", 16, 2*time.Second, 10*time.Second, "each round")
	fs.IntVar(&cfg.Items, "items", 500, "items on the roadmap")
	fs.IntVar(&cfg.Products, "products", 1, "products the items are spread over (the answer is the whole portfolio)")
	fs.IntVar(&cfg.Events, "events", 0, "events in the generated ledger (0: ten per item)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the generated ledger")
	fs.DurationVar(&cfg.TargetP99, "target-p99", 10*time.Millisecond, "p99 latency the ledger's answers should stay under")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	if cfg.Events == 0 {
		cfg.Events = 10 * cfg.Items
	}
	return cfg, errors.Join(cfg.commonFlags.check(), cfg.loadFlags.check(1024), cfg.spec().validate())
}

// spec is the ledger the read benchmark generates: every item proposed is
// prioritised and none is removed, so exactly Items end on the roadmap.
func (cfg readConfig) spec() ledgerSpec {
	return ledgerSpec{
		Events: cfg.Events, Items: cfg.Items, Products: cfg.Products, ObjectivesPerProduct: 8, Reviews: 2,
		Keyed: 0.3, Span: 365 * 24 * time.Hour, Seed: cfg.Seed,
	}
}

// ReadReport is the result of the read benchmark.
type ReadReport struct {
	About
	Ledger LedgerInfo `json:"generated_ledger"`
	// Request is what both sides answer; AnswerBytes the size of the body.
	Request     string `json:"request"`
	AnswerBytes int    `json:"answer_bytes"`
	OnRoadmap   int    `json:"on_roadmap"`
	Clients     int    `json:"clients"`
	LoadInfo
	Echo LoadSide `json:"echo_from_memory"`
	API  LoadSide `json:"api"`
	// Board is the web app's board of the same roadmap, rendered as HTML
	// on the server.
	Board      LoadSide `json:"board"`
	BoardBytes int      `json:"board_bytes"`
	// Ratio is API.Rate / Echo.Rate.
	Ratio float64 `json:"ratio"`
	// BoardTimes is how many times the API's median latency the board's
	// is (Board.Latency.P50 / API.Latency.P50); the web app's target is 3
	// or less.
	BoardTimes float64 `json:"board_times_api"`
	// TargetP99 is in milliseconds; MeetsTarget compares API.Latency.P99.
	TargetP99   float64     `json:"target_p99_ms"`
	MeetsTarget bool        `json:"meets_target"`
	PerRound    []LoadRound `json:"per_round"`
}

func measureRead(ctx context.Context, cfg readConfig, progress io.Writer) (rep *ReadReport, err error) {
	led, err := prepareLedger(ctx, cfg.spec(), "", cfg.TempDir, progress)
	if err != nil {
		return nil, errors.Join(err, context.Cause(ctx))
	}
	defer led.Close()
	ledger, err := serveLedger(ctx, app.Config{DataDir: led.DataDir}, nil)
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
		About: about("read"), Ledger: led.Info,
		Request: "GET " + path, AnswerBytes: len(body), OnRoadmap: onRoadmap, Clients: cfg.Clients,
		LoadInfo: newLoadInfo(cfg.load, cfg.Rounds), TargetP99: ms(cfg.TargetP99),
	}
	get := func(*getWorker) (string, func([]byte) error) {
		return path, func(b []byte) error {
			if len(b) != len(body) {
				return fmt.Errorf("answer of %d bytes, want %d", len(b), len(body))
			}
			return nil
		}
	}
	// The board is read with the same token, as its session cookie.
	var page bytes.Buffer
	if _, err := send(ctx, http.DefaultClient, http.MethodGet, ledger.base, "/", "", http.StatusOK, &page, true); err != nil {
		return nil, fmt.Errorf("the board: %w", err)
	}
	if cards := bytes.Count(page.Bytes(), []byte(`<li class="card"`)); cards != cfg.Items {
		return nil, fmt.Errorf("the board shows %d cards, want %d", cards, cfg.Items)
	}
	rep.BoardBytes = page.Len()
	board := func(*getWorker) (string, func([]byte) error) {
		return "/", func(b []byte) error {
			if !bytes.HasPrefix(b, []byte("<!doctype html>")) || len(b) < rep.BoardBytes/2 {
				return fmt.Errorf("the board's answer of %d bytes is not the page", len(b))
			}
			return nil
		}
	}
	boardWorkers := func() []worker {
		ws := getWorkers(ledger, cfg.Clients, board)
		for _, w := range ws {
			w.(*getWorker).session = true
		}
		return ws
	}
	st := newSteps(ctx, "read", cfg.Rounds, progress)
	boardSide := side{name: "(c) board"}
	echoSide := side{name: "(a) echo from memory", profile: cfg.RawProfile}
	ledgerSide := side{name: "(b) ledger", profile: cfg.CPUProfile}
	what := fmt.Sprintf("%d clients", cfg.Clients)
	var echoOut, apiOut, boardOut outcome
	for r := range cfg.Rounds {
		a, err := st.drive(r, echoSide, what, cfg.load, getWorkers(raw, cfg.Clients, get))
		if err != nil {
			return nil, err
		}
		b, err := st.drive(r, ledgerSide, what, cfg.load, getWorkers(ledger, cfg.Clients, get))
		if err != nil {
			return nil, err
		}
		c, err := st.drive(r, boardSide, what, cfg.load, boardWorkers())
		if err != nil {
			return nil, err
		}
		echoOut, apiOut, boardOut = echoOut.add(a), apiOut.add(b), boardOut.add(c)
		rep.PerRound = append(rep.PerRound, newLoadRound(a, b))
	}
	rep.Echo = newLoadSide("a plain echo server answering the same bytes from memory", echoOut)
	rep.API = newLoadSide("the ledger's GET /v1/roadmap", apiOut)
	rep.Board = newLoadSide("the web app's board, GET / signed in", boardOut)
	rep.Ratio = ratio(rep.API.Rate, rep.Echo.Rate)
	rep.BoardTimes = ratio(rep.Board.Latency.P50, rep.API.Latency.P50)
	rep.MeetsTarget = rep.API.Ops > 0 && rep.API.Latency.P99 < rep.TargetP99
	return rep, nil
}

// WriteTable prints the report for people.
func (r *ReadReport) WriteTable(w io.Writer) error {
	r.writeHead(w)
	r.Ledger.writeLines(w)
	fmt.Fprintf(w, "request: %s: %d items on the roadmap, %d bytes of JSON\n", r.Request, r.OnRoadmap, r.AnswerBytes)
	fmt.Fprintf(w, "load:    %d keep-alive clients per side; per side and round %s; %d round(s)\n\n", r.Clients, r.measured("requests"), r.Rounds)
	err := writeTables(w,
		table{"side\trequests\tseconds\trate/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tCPU µs/req\t",
			[]string{r.Echo.row("(a) echo from memory"), r.API.row("(b) ledger"), r.Board.row("(c) board")}},
		"", table{"round\t(a) rate/s\t(b) rate/s\t(b) p99 ms\t(b)/(a)\t", roundRows(r.PerRound)})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nledger p99 %.2f ms, which %s the target of under %g ms\n", r.API.Latency.P99, meets(r.MeetsTarget), r.TargetP99)
	if _, err := fmt.Fprintf(w, "ratio (b)/(a): %.3f (%.0f%% of echo's rate)\n", r.Ratio, r.Ratio*100); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "board: %d bytes of HTML; its median latency is %.2f times (b)'s (target: 3 or less)\n", r.BoardBytes, r.BoardTimes)
	return err
}
