package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/safefile"
	"github.com/roadmap-ledger/roadmap/projections"
)

// timetravelConfig is what the timetravel benchmark's flags say.
type timetravelConfig struct {
	commonFlags
	ledgerConfig
	loadFlags
	// MemProfile is the file of a heap profile of the ledger after the
	// last phase of the first round.
	MemProfile string
	// MoreClients is the concurrency of the last phases (0: none).
	MoreClients int
	Seed        uint64
	TargetP99   time.Duration
	// MaxToCurrent is the most a time travel phase's p99 may be, as a
	// multiple of the p99 of GET /v1/roadmap (today's) at the same
	// concurrency in the same round.
	MaxToCurrent float64
	// KeyframeEvery is how many events apart the projections keep their
	// keyframes; projections.KeyframeEvery unless a test makes it small.
	KeyframeEvery uint64
}

func parseTimetravel(args []string, stderr io.Writer) (timetravelConfig, error) {
	var cfg timetravelConfig
	fs := newFlagSet("timetravel", `Generates a ledger of -events events shaped like a real one (or reuses the one
kept in -ledger-dir, such as the rebuild benchmark's), opens it as the serve
command does, and asks for the roadmap in the past at random points:
GET /v1/roadmap?at_seq=N and GET /v1/roadmap?as_of=T, first from one client,
then from -clients concurrent ones, then from -more-clients. Beside each,
(a) raw JetStream does the least work the same answer needs, on the same
points: an ordered consumer reading the events from the nearest keyframe at
or before N up to N, on the log opened alone. It prints the latencies of
both sides and the ratio of their rates. At each concurrency above one,
GET /v1/roadmap (today's, which the ledger keeps rendered) runs under the
same load, so the p99 of time travel is compared with it in the same run;
the ledger's peak RSS covers its open and every phase. Each round opens the
ledger (b), then the log alone (a).
`, stderr)
	cfg.commonFlags.register(fs, 10*time.Minute, "the ledger's side of the first phase (at_seq, one client) of the first round", "the raw side of the same phase")
	cfg.ledgerConfig.register(fs, 1_000_000)
	cfg.loadFlags.register(fs, "concurrent clients in the concurrent phases (the sequential phases use one)", 4, time.Second, 5*time.Second, "in each phase")
	fs.StringVar(&cfg.MemProfile, "memprofile", "", "write a heap profile of the ledger after the last phase of the first round to this file")
	fs.IntVar(&cfg.MoreClients, "more-clients", 16, "concurrent clients of the last phases (0: none)")
	fs.Uint64Var(&cfg.Seed, "query-seed", 1, "seed of the random points in time (both sides ask for the same ones)")
	fs.DurationVar(&cfg.TargetP99, "target-p99", 50*time.Millisecond, "p99 latency the ledger's answers in the past should stay under")
	fs.Float64Var(&cfg.MaxToCurrent, "max-to-current", 3, "the most the p99 of an answer in the past may be, as a multiple of today's roadmap's p99 under the same load")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	cfg.KeyframeEvery = projections.KeyframeEvery
	var more error
	if cfg.MoreClients < 0 || cfg.MoreClients > 256 {
		more = fmt.Errorf("-more-clients must be 0 to 256, got %d", cfg.MoreClients)
	}
	return cfg, errors.Join(cfg.commonFlags.check(), cfg.loadFlags.check(256), cfg.ledgerConfig.resolve(), more)
}

// TimetravelReport is the result of the timetravel benchmark.
type TimetravelReport struct {
	About
	Ledger LedgerInfo `json:"generated_ledger"`
	// OpenSeconds is the ledger's mean time from open to ready.
	OpenSeconds   float64 `json:"open_seconds"`
	KeyframeEvery uint64  `json:"keyframe_every"`
	// LiveAnswerBytes is the size of today's roadmap, for scale: answers in
	// the past are about as large.
	LiveAnswerBytes int `json:"live_answer_bytes"`
	LoadInfo
	Batch  int               `json:"raw_batch"`
	Phases []TimetravelPhase `json:"phases"`
	// TargetP99 is in milliseconds; MeetsTarget holds when every time
	// travel phase's ledger p99 is under it and at most MaxToCurrent times
	// today's roadmap's p99 at the same concurrency.
	TargetP99    float64 `json:"target_p99_ms"`
	MaxToCurrent float64 `json:"max_to_current"`
	MeetsTarget  bool    `json:"meets_target"`
	// Memory is the ledger's process at the end of the round with the
	// highest peak; the peak covers the ledger's open and every phase.
	Memory Memory `json:"memory"`
}

// TimetravelPhase is one kind of query at one concurrency, both sides.
type TimetravelPhase struct {
	Query   string   `json:"query"`
	Clients int      `json:"clients"`
	Raw     LoadSide `json:"raw_jetstream"`
	API     LoadSide `json:"api"`
	// Replayed and RawReplayed are the mean number of events each query of
	// the side read from the log (from the keyframe at or before its point
	// up to it); they differ only by how many points each side got through.
	Replayed    float64 `json:"mean_events_replayed"`
	RawReplayed float64 `json:"raw_mean_events_read"`
	// Ratio is API.Rate / Raw.Rate; 0 for today's roadmap, which has no
	// raw side.
	Ratio float64 `json:"ratio"`
	// ToCurrent is API's p99 over that of today's roadmap at the same
	// concurrency (0 when not measured).
	ToCurrent   float64     `json:"p99_to_current"`
	MeetsTarget bool        `json:"meets_target"`
	PerRound    []LoadRound `json:"per_round"`
}

// travelPoint is one point in the past: the sequence the answer must be at
// and, for as_of, the time asked for.
type travelPoint struct {
	seq uint64
	at  time.Time
}

// pointsPerWorker is how many points each worker draws for a phase; a
// worker that asks for more starts its list again.
const pointsPerWorker = 4096

// travelPhase is one kind of query at one concurrency.
type travelPhase struct {
	query   string
	asOf    bool
	current bool // today's roadmap: no travel, no raw side
	clients int
	// points[w] are worker w's points, the same on both sides.
	points [][]travelPoint
}

func (ph *travelPhase) name() string { return fmt.Sprintf("%s, %d client(s)", ph.query, ph.clients) }

// draw fills the phase's points from a seeded generator: at_seq draws a
// sequence before the live one; as_of draws a time between the first and
// the last event and resolves it as the ledger does (Current.SequenceAt).
func (ph *travelPhase) draw(cur *projections.Current, last uint64, first, end time.Time, seed, stream uint64) {
	rng := rand.New(rand.NewPCG(seed, stream))
	ph.points = make([][]travelPoint, ph.clients)
	if ph.current {
		return
	}
	for w := range ph.points {
		ps := make([]travelPoint, 0, pointsPerWorker)
		for len(ps) < pointsPerWorker {
			if !ph.asOf {
				ps = append(ps, travelPoint{seq: 1 + rng.Uint64N(last-1)})
				continue
			}
			t := time.UnixMicro(first.UnixMicro() + rng.Int64N(max(end.UnixMicro()-first.UnixMicro(), 1))).UTC()
			if seq, err := cur.SequenceAt(t); err == nil && seq >= 1 && seq < last {
				ps = append(ps, travelPoint{seq: seq, at: t})
			}
		}
		ph.points[w] = ps
	}
}

// travelCounts counts the queries of one side of a phase and the events
// they read from the log.
type travelCounts struct {
	queries, replayed atomic.Int64
}

func (c *travelCounts) count(seq, every uint64) {
	c.queries.Add(1)
	c.replayed.Add(int64(seq - seq/every*every))
}

// mean is the mean number of events a query read, 0 without queries.
func (c *travelCounts) mean() float64 {
	q := c.queries.Load()
	if q == 0 {
		return 0
	}
	return round(float64(c.replayed.Load())/float64(q), 0)
}

// rawTravelWorker reads, for each point, the events from the keyframe
// at or before it up to it: what the ledger must read from the log to
// answer, and nothing else.
type rawTravelWorker struct {
	js     jetstream.JetStream
	stream string
	batch  int
	every  uint64
	points []travelPoint
	next   int
	counts *travelCounts
}

func (w *rawTravelWorker) Do(ctx context.Context) (string, error) {
	seq := w.points[w.next%len(w.points)].seq
	w.next++
	w.counts.count(seq, w.every)
	from := seq/w.every*w.every + 1
	n, err := readStream(ctx, w.js, w.stream, from, seq, w.batch)
	if err == nil && n != int(seq-from+1) {
		err = fmt.Errorf("read %d events from %d to %d", n, from, seq)
	}
	return "read", err
}

// travelQuery returns the requests of the ledger's side of a phase: the
// roadmap at each worker's next point, checked to be at its sequence.
func travelQuery(ph *travelPhase, every uint64, counts *travelCounts) func(*getWorker) (string, func([]byte) error) {
	next := make([]int, ph.clients) // one per worker, each used by its own goroutine
	return func(w *getWorker) (string, func([]byte) error) {
		if ph.current {
			return "/v1/roadmap", nil
		}
		ps := ph.points[w.index]
		p := ps[next[w.index]%len(ps)]
		next[w.index]++
		counts.count(p.seq, every)
		path := "/v1/roadmap?at_seq=" + strconv.FormatUint(p.seq, 10)
		if ph.asOf {
			path = "/v1/roadmap?as_of=" + url.QueryEscape(p.at.Format(time.RFC3339Nano))
		}
		want := []byte(`{"sequence":` + strconv.FormatUint(p.seq, 10) + `,`)
		return path, func(body []byte) error {
			if !bytes.HasPrefix(body, want) {
				return fmt.Errorf("the answer starts %.40q, want %q", body, want)
			}
			return nil
		}
	}
}

func measureTimetravel(ctx context.Context, cfg timetravelConfig, progress io.Writer) (rep *TimetravelReport, err error) {
	led, err := prepareLedger(ctx, cfg.Ledger, cfg.LedgerDir, cfg.TempDir, progress)
	if err != nil {
		return nil, errors.Join(err, context.Cause(ctx))
	}
	defer led.Close()

	rep = &TimetravelReport{
		About: about("timetravel"), Ledger: led.Info, KeyframeEvery: cfg.KeyframeEvery,
		LoadInfo: newLoadInfo(cfg.load, cfg.Rounds), Batch: cfg.Batch, TargetP99: ms(cfg.TargetP99),
		MaxToCurrent: cfg.MaxToCurrent, MeetsTarget: true,
	}
	phases := []*travelPhase{{query: "at_seq", clients: 1}, {query: "as_of", asOf: true, clients: 1}}
	for _, n := range []int{cfg.Clients, cfg.MoreClients} {
		if n > 1 && phases[len(phases)-1].clients != n {
			phases = append(phases, &travelPhase{query: "current", current: true, clients: n},
				&travelPhase{query: "at_seq", clients: n}, &travelPhase{query: "as_of", asOf: true, clients: n})
		}
	}
	raws, apis := make([]outcome, len(phases)), make([]outcome, len(phases))
	rawCounts, apiCounts := make([]travelCounts, len(phases)), make([]travelCounts, len(phases))
	rep.Phases = make([]TimetravelPhase, len(phases))
	st := newSteps(ctx, "timetravel", cfg.Rounds, progress)
	var opens time.Duration
	for r := range cfg.Rounds {
		// (b) first: the ledger resolves the points in time of this round.
		fmt.Fprintf(progress, "bench timetravel: round %d/%d: opening the ledger (%d events)\n", r+1, cfg.Rounds, led.Info.Events)
		bs, open, mem, err := travelLedger(st, r, cfg, led, rep, phases, apiCounts)
		if err != nil {
			return nil, err
		}
		if mem.PeakRSS >= rep.Memory.PeakRSS {
			rep.Memory = mem
		}
		opens += open
		// (a) then, on the log alone: no projection in memory.
		as, err := travelRaw(st, r, cfg, led, phases, rawCounts)
		if err != nil {
			return nil, err
		}
		for i := range phases {
			raws[i], apis[i] = raws[i].add(as[i]), apis[i].add(bs[i])
			rep.Phases[i].PerRound = append(rep.Phases[i].PerRound, newLoadRound(as[i], bs[i]))
		}
	}
	rep.OpenSeconds = round(opens.Seconds()/float64(cfg.Rounds), 2)
	current := map[int]float64{} // clients → today's roadmap's p99
	for i, ph := range phases {
		p := &rep.Phases[i]
		p.Query, p.Clients = ph.query, ph.clients
		p.API = newLoadSide("GET /v1/roadmap?"+ph.query+"=...", apis[i])
		if ph.current {
			p.API.What = "GET /v1/roadmap (today's)"
			current[ph.clients] = p.API.Latency.P99
			p.MeetsTarget = true
			continue
		}
		p.Raw = newLoadSide("an ordered consumer reading from the keyframe at or before the point up to it", raws[i])
		p.RawReplayed, p.Replayed = rawCounts[i].mean(), apiCounts[i].mean()
		p.Ratio = ratio(p.API.Rate, p.Raw.Rate)
		p.MeetsTarget = p.API.Ops > 0 && p.API.Latency.P99 < rep.TargetP99
		if c, ok := current[ph.clients]; ok {
			p.ToCurrent = ratio(p.API.Latency.P99, c)
			p.MeetsTarget = p.MeetsTarget && p.ToCurrent <= rep.MaxToCurrent
		}
		rep.MeetsTarget = rep.MeetsTarget && p.MeetsTarget
	}
	return rep, nil
}

// travelLedger opens the ledger as the serve command does, draws the
// round's points, and runs the ledger's side of every phase of round r. It
// returns the outcomes, the time from open to ready, and the process's
// memory after the last phase, its peak since the open.
func travelLedger(st *steps, r int, cfg timetravelConfig, led *preparedLedger, rep *TimetravelReport, phases []*travelPhase,
	counts []travelCounts) (_ []outcome, _ time.Duration, mem Memory, err error) {
	ctx := st.ctx
	releaseMemory()
	peakFrom := "process"
	if resetPeakRSS() {
		peakFrom = "open"
	}
	start := time.Now()
	ledger, err := serveLedger(ctx, app.Config{DataDir: led.DataDir, KeyframeEvery: cfg.KeyframeEvery}, nil)
	if err != nil {
		return nil, 0, mem, fmt.Errorf("ledger: %w", errors.Join(err, context.Cause(ctx)))
	}
	defer func() { err = errors.Join(err, ledger.close(ctx)) }()
	opened := time.Since(start)
	cur := ledger.app.Current
	last := cur.Sequence()
	if last < 2 {
		return nil, 0, mem, errors.New("the ledger holds fewer than two events")
	}
	var end time.Time
	cur.Read(func(s *projections.State) { end = s.At })
	first, err := firstEventTime(ctx, ledger.app.Log)
	if err != nil {
		return nil, 0, mem, err
	}
	if r == 0 {
		live, _, err := ledger.get(ctx, "/v1/roadmap")
		if err != nil {
			return nil, 0, mem, err
		}
		rep.LiveAnswerBytes = len(live)
	}
	outs := make([]outcome, len(phases))
	s := side{name: "(b) ledger", profile: cfg.CPUProfile}
	for i, ph := range phases {
		ph.draw(cur, last, first, end, cfg.Seed, uint64(r)<<8|uint64(i))
		workers := getWorkers(ledger, ph.clients, travelQuery(ph, cfg.KeyframeEvery, &counts[i]))
		if outs[i], err = st.drive(r, s, ph.name(), cfg.load, workers); err != nil {
			return nil, 0, mem, err
		}
	}
	mem = measureMemory(peakFrom)
	if r == 0 && cfg.MemProfile != "" {
		err := safefile.Write(cfg.MemProfile, 0, func(w io.Writer) error { return pprof.Lookup("heap").WriteTo(w, 0) })
		if err != nil {
			return nil, 0, mem, err
		}
	}
	return outs, opened, mem, nil
}

// travelRaw opens the log alone, with the ledger's server options and
// stream configuration, and runs the raw side of every phase of round r on
// the points the ledger's side asked for.
func travelRaw(st *steps, r int, cfg timetravelConfig, led *preparedLedger, phases []*travelPhase, counts []travelCounts) ([]outcome, error) {
	log, err := eventlog.Open(st.ctx, eventlog.Config{DataDir: led.DataDir, DuplicateWindow: shortDuplicateWindow})
	if err != nil {
		return nil, fmt.Errorf("raw JetStream: %w", errors.Join(err, context.Cause(st.ctx)))
	}
	defer log.Close()
	releaseMemory()
	outs := make([]outcome, len(phases))
	s := side{name: "(a) raw JetStream", profile: cfg.RawProfile}
	for i, ph := range phases {
		if ph.current {
			continue
		}
		workers := make([]worker, ph.clients)
		for k := range workers {
			workers[k] = &rawTravelWorker{js: log.JetStream(), stream: log.Stream(), batch: cfg.Batch, every: cfg.KeyframeEvery,
				points: ph.points[k], counts: &counts[i]}
		}
		if outs[i], err = st.drive(r, s, ph.name()+", from the keyframe", cfg.load, workers); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// firstEventTime returns the time of the log's first event.
func firstEventTime(ctx context.Context, log *eventlog.Log) (time.Time, error) {
	stream, err := log.JetStream().Stream(ctx, log.Stream())
	if err != nil {
		return time.Time{}, err
	}
	msg, err := stream.GetMsg(ctx, 1)
	if err != nil {
		return time.Time{}, fmt.Errorf("first event: %w", err)
	}
	e, err := eventlog.Decode(msg.Data)
	if err != nil {
		return time.Time{}, fmt.Errorf("first event: %w", err)
	}
	return e.Time, nil
}

// WriteTable prints the report for people.
func (r *TimetravelReport) WriteTable(w io.Writer) error {
	r.writeHead(w)
	r.Ledger.writeLines(w)
	fmt.Fprintf(w, "         open to ready in %.1fs; a keyframe every %d events; today's roadmap is %d bytes of JSON\n", r.OpenSeconds, r.KeyframeEvery, r.LiveAnswerBytes)
	fmt.Fprintf(w, "load:    per side and phase %s; %d round(s); random points, the same on both sides\n", r.measured("queries"), r.Rounds)
	fmt.Fprintf(w, "memory:  %s\n\n", r.Memory)
	var rows, rounds []string
	for _, p := range r.Phases {
		for k, s := range []LoadSide{p.Raw, p.API} {
			name, cell, toCurrent, read := "(a) raw JetStream", "", "", fmt.Sprintf("%.0f", p.RawReplayed)
			switch {
			case p.Query == "current" && k == 0:
				continue
			case p.Query == "current":
				name, read = "(b) ledger", ""
			case k == 1:
				name, cell, read = "(b) ledger", fmt.Sprintf("%.3f", p.Ratio), fmt.Sprintf("%.0f", p.Replayed)
				if p.ToCurrent > 0 {
					toCurrent = fmt.Sprintf("%.2f", p.ToCurrent)
				}
			}
			l := s.Latency
			rows = append(rows, fmt.Sprintf("%s\t%d\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\t", p.Query, p.Clients, name, s.Ops, s.Rate,
				l.P50, l.P90, l.P99, l.Max, s.CPUPerOp/1e3, read, cell, toCurrent))
		}
		for i, rd := range p.PerRound {
			if r.Rounds > 1 {
				rounds = append(rounds, fmt.Sprintf("%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.3f\t", p.Query, p.Clients, i+1, rd.Raw, rd.API, rd.P99, rd.Ratio))
			}
		}
	}
	err := writeTables(w, table{"query\tclients\tside\tqueries\trate/s\tp50 ms\tp90 ms\tp99 ms\tmax ms\tCPU ms/query\tevents read/query\t(b)/(a)\tp99/today's\t", rows},
		"", table{"query\tclients\tround\t(a) rate/s\t(b) rate/s\t(b) p99 ms\t(b)/(a)\t", rounds})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\nthe ledger's p99 in the past %s the target of under %g ms and at most %g × today's roadmap's in every phase\n",
		meets(r.MeetsTarget), r.TargetP99, r.MaxToCurrent)
	return err
}
