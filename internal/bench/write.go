package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/cliflag"
)

// writeConfig is what the write benchmark's flags say.
type writeConfig struct {
	commonFlags
	loadFlags
	PayloadBytes int
	Products     int
	Probe        time.Duration
	Target       float64
	Trace        string
	RawTrace     string
	GroupCommit  bool
}

func parseWrite(args []string, stderr io.Writer) (writeConfig, error) {
	var cfg writeConfig
	fs := newFlagSet("write", `Measures, one after the other on this machine, (a) raw JetStream: synchronous
publishes to the ledger's stream on a fresh embedded server, and (b) decisions
through the ledger's HTTP API on another fresh one, with the same number of
concurrent clients, and prints both rates, their latencies and the ratio
(b)/(a). With -rounds N it alternates (a) and (b) N times and pools them.
`, stderr)
	cfg.commonFlags.register(fs, 5*time.Minute, "the API side of the first round (warm-up included)", "the raw side of the first round")
	cfg.loadFlags.register(fs, "concurrent synchronous clients on each side", 16, 2*time.Second, 10*time.Second, "each round")
	fs.IntVar(&cfg.PayloadBytes, "payload", 600, "bytes of each raw JetStream message (the API side's events average about 600)")
	fs.IntVar(&cfg.Products, "products", 16, "products the API side's items are spread over, round robin by client (one horizon list per product and horizon)")
	fs.DurationVar(&cfg.Probe, "disk-probe", time.Second, "time spent measuring the disk's write+fsync rate each round (0 skips it)")
	fs.Float64Var(&cfg.Target, "target", 0.70, "ratio (b)/(a) the ledger should reach")
	fs.StringVar(&cfg.Trace, "trace", "", "write an execution trace of the API side of the first round to this file")
	fs.BoolVar(&cfg.GroupCommit, "group-commit", false, "run the API side's ledger with group commit (serve --group-commit); the raw side still publishes one message at a time")
	fs.StringVar(&cfg.RawTrace, "raw-trace", "", "write an execution trace of the raw side of the first round to this file")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.PayloadBytes < 64 || cfg.PayloadBytes > 1<<20:
		return cfg, fmt.Errorf("-payload must be 64 to %d bytes, got %d", 1<<20, cfg.PayloadBytes)
	case cfg.Products < 1:
		return cfg, errors.New("-products must be at least 1")
	case cfg.Probe < 0:
		return cfg, errors.New("-disk-probe must not be negative")
	}
	return cfg, errors.Join(cfg.commonFlags.check(), cfg.loadFlags.check(1024))
}

// WriteReport is the result of the write benchmark.
type WriteReport struct {
	About
	Clients int `json:"clients"`
	LoadInfo
	PayloadBytes int `json:"raw_payload_bytes"`
	Products     int `json:"products"`
	// GroupCommit says the API side ran with group commit.
	GroupCommit bool `json:"group_commit"`
	// DiskFsyncs is the median of the rounds' disk probes: one writer's
	// write+fsync per second in the same file system, 0 when skipped.
	DiskFsyncs float64 `json:"disk_fsyncs_per_second"`
	Raw        Side    `json:"raw_jetstream"`
	API        Side    `json:"api"`
	// Ratio is API.Rate / Raw.Rate.
	Ratio       float64 `json:"ratio"`
	Target      float64 `json:"target"`
	MeetsTarget bool    `json:"meets_target"`
	PerRound    []Round `json:"per_round"`
}

// Side is the measurement of one side, pooled over the rounds.
type Side struct {
	What    string  `json:"what"`
	Unit    string  `json:"unit"`
	Ops     int     `json:"ops"`
	Seconds float64 `json:"seconds"`
	// Rate is Ops / Seconds.
	Rate    float64            `json:"per_second"`
	Latency Latency            `json:"latency"`
	ByOp    map[string]Latency `json:"latency_by_op"`
	// CPUPerOp is the whole process's CPU time per operation, clients
	// included, in microseconds; 0 when the platform does not tell.
	CPUPerOp float64 `json:"cpu_us_per_op"`
	// StoredBytes is the stream's average stored bytes per message, headers
	// and JetStream's per-message overhead included (last round).
	StoredBytes float64 `json:"avg_stored_bytes"`
}

// Round is one alternation of the two sides.
type Round struct {
	DiskFsyncs float64 `json:"disk_fsyncs_per_second"`
	Raw        float64 `json:"raw_per_second"`
	API        float64 `json:"api_per_second"`
	Ratio      float64 `json:"ratio"`
}

func newSide(what, unit string, o outcome, ops ...string) Side {
	s := Side{
		What: what, Unit: unit, Ops: o.Ops, Seconds: round(o.Elapsed.Seconds(), 3), Rate: round(o.Rate(), 1),
		Latency: summarise(o.Samples, ""), ByOp: map[string]Latency{},
		CPUPerOp: round(float64(o.CPUPerOp())/1e3, 1),
	}
	for _, op := range ops {
		s.ByOp[op] = summarise(o.Samples, op)
	}
	return s
}

// measureWrite alternates the raw side and the API side cfg.Rounds times,
// each on a fresh data directory removed afterwards, and reports both.
// Progress goes to progress.
func measureWrite(ctx context.Context, cfg writeConfig, progress io.Writer) (*WriteReport, error) {
	rep := &WriteReport{
		About: about("write"), Clients: cfg.Clients, LoadInfo: newLoadInfo(cfg.load, cfg.Rounds),
		PayloadBytes: cfg.PayloadBytes, Products: cfg.Products, Target: cfg.Target, GroupCommit: cfg.GroupCommit,
	}
	st := newSteps(ctx, "write", cfg.Rounds, progress)
	rawSide := side{name: "(a) raw JetStream", profile: cfg.RawProfile, trace: cfg.RawTrace}
	apiSide := side{name: "(b) HTTP API", profile: cfg.CPUProfile, trace: cfg.Trace}
	var raw, api outcome
	var rawStored, apiStored float64
	var probes []float64
	for r := range cfg.Rounds {
		var rd Round
		if cfg.Probe > 0 {
			p, err := probeDisk(cfg.TempDir, cfg.PayloadBytes, cfg.Probe)
			if err != nil {
				return nil, err
			}
			rd.DiskFsyncs = round(p, 0)
			probes = append(probes, p)
			fmt.Fprintf(progress, "bench write: round %d/%d: disk: %.0f write+fsync/s\n", r+1, cfg.Rounds, p)
		}
		a, stored, err := measureWriteSide(st, r, rawSide, cfg, func(dir string) (writeSide, error) {
			return openRaw(ctx, dir, cfg.PayloadBytes)
		})
		if err != nil {
			return nil, err
		}
		raw, rawStored = raw.add(a), stored
		b, stored, err := measureWriteSide(st, r, apiSide, cfg, func(dir string) (writeSide, error) {
			return openAPI(ctx, dir, cfg.Products, cfg.GroupCommit)
		})
		if err != nil {
			return nil, err
		}
		api, apiStored = api.add(b), stored
		rd.Raw, rd.API = round(a.Rate(), 1), round(b.Rate(), 1)
		rd.Ratio = ratio(rd.API, rd.Raw)
		rep.PerRound = append(rep.PerRound, rd)
	}

	rep.Raw = newSide("synchronous JetStream publishes with an expected last subject sequence", "publishes/s", raw,
		opNewSubject, opExistingSubject)
	rep.Raw.StoredBytes = round(rawStored, 1)
	rep.API = newSide("decisions through the HTTP API: half proposals, half prioritisations", "decisions/s", api,
		opPropose, opPrioritise)
	rep.API.StoredBytes = round(apiStored, 1)
	if len(probes) > 0 {
		rep.DiskFsyncs = round(median(probes), 0)
	}
	rep.Ratio = ratio(rep.API.Rate, rep.Raw.Rate)
	rep.MeetsTarget = rep.Ratio >= cfg.Target
	return rep, nil
}

// writeSide is a side of the write benchmark, opened on a data directory
// of its own.
type writeSide interface {
	workers(n int) []worker
	storedBytes(ctx context.Context) (float64, error)
	close(ctx context.Context) error
}

// measureWriteSide opens a side on a fresh data directory, drives its
// clients in one step of round r, and returns what they did and the
// stream's stored bytes per message. The directory is removed afterwards.
func measureWriteSide(st *steps, r int, s side, cfg writeConfig, open func(dir string) (writeSide, error)) (o outcome, stored float64, err error) {
	what := fmt.Sprintf("%d clients, %s", cfg.Clients, newLoadInfo(cfg.load, cfg.Rounds).measured("operations"))
	err = withTempDir(cfg.TempDir, "roadmap-bench-write-*", func(dir string) (err error) {
		ws, err := open(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		defer func() { err = errors.Join(err, ws.close(st.ctx)) }()
		if o, err = st.drive(r, s, what, cfg.load, ws.workers(cfg.Clients)); err != nil {
			return err
		}
		stored, err = ws.storedBytes(st.ctx)
		return err
	})
	return o, stored, err
}

// WriteTable prints the report for people.
func (r *WriteReport) WriteTable(w io.Writer) error {
	r.writeHead(w)
	fmt.Fprintf(w, "load:    %d concurrent clients per side; per side and round %s; %d round(s)\n", r.Clients, r.measured("operations"), r.Rounds)
	if r.GroupCommit {
		fmt.Fprintln(w, "ledger:  with group commit (atomic batches)")
	}
	if r.DiskFsyncs > 0 {
		fmt.Fprintf(w, "disk:    %.0f write+fsync/s by one writer appending to a file (a rough reference for one fsync per write)\n", r.DiskFsyncs)
	}
	fmt.Fprintln(w)
	rows := []string{r.Raw.row("(a) raw JetStream"), r.API.row("(b) HTTP API"), "\t\t\t\t\t\t\t\t",
		"by operation\toperations\t\t\tp50 ms\tp99 ms\tmax ms\t\t"}
	for _, s := range []Side{r.Raw, r.API} {
		for _, op := range slices.Sorted(maps.Keys(s.ByOp)) {
			l := s.ByOp[op]
			rows = append(rows, fmt.Sprintf("%s\t%d\t\t\t%.2f\t%.2f\t%.2f\t\t", op, l.Ops, l.P50, l.P99, l.Max))
		}
	}
	err := writeTables(w, table{"side\toperations\tseconds\trate/s\tp50 ms\tp99 ms\tCPU µs/op\tstored B/msg\t", rows},
		"", table{"round\tdisk fsync/s\t(a) rate/s\t(b) rate/s\t(b)/(a)\t", roundRows(r.PerRound)})
	if err != nil {
		return err
	}
	fmt.Fprintln(w)
	return writeRatio(w, r.Ratio, r.Target, r.MeetsTarget)
}

func (rd Round) row(i int) string {
	return fmt.Sprintf("%d\t%.0f\t%.0f\t%.0f\t%.3f\t", i+1, rd.DiskFsyncs, rd.Raw, rd.API, rd.Ratio)
}

// row is the side's row in the report's table of sides.
func (s Side) row(name string) string {
	return fmt.Sprintf("%s\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t%.0f\t%.0f\t", name, s.Ops, s.Seconds, s.Rate,
		s.Latency.P50, s.Latency.P99, s.CPUPerOp, s.StoredBytes)
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
