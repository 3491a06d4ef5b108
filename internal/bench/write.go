package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"text/tabwriter"
	"time"
)

// writeConfig is what the write benchmark's flags say.
type writeConfig struct {
	Clients      int
	Warmup       time.Duration
	Duration     time.Duration
	Count        int
	Rounds       int
	Timeout      time.Duration
	PayloadBytes int
	Products     int
	Probe        time.Duration
	Target       float64
	JSON         bool
	CPUProfile   string
	RawProfile   string
	Trace        string
	RawTrace     string
	// TempDir is where the data directories are made; the system's
	// temporary directory when empty.
	TempDir string
}

func parseWrite(args []string, stderr io.Writer) (writeConfig, error) {
	var cfg writeConfig
	fs := flag.NewFlagSet("bench write", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: roadmap bench write [flags]

Measures, one after the other on this machine, (a) raw JetStream: synchronous
publishes to the ledger's stream on a fresh embedded server, and (b) decisions
through the ledger's HTTP API on another fresh one, with the same number of
concurrent clients, and prints both rates, their latencies and the ratio
(b)/(a). With -rounds N it alternates (a) and (b) N times and pools them.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.Clients, "clients", 16, "concurrent synchronous clients on each side")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "unmeasured warm-up on each side, each round")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time on each side, each round (ignored with -count)")
	fs.IntVar(&cfg.Count, "count", 0, "measure exactly this many operations on each side, each round, instead of -duration")
	fs.IntVar(&cfg.Rounds, "rounds", 1, "times to alternate (a) and (b); more rounds average out a noisy disk")
	fs.DurationVar(&cfg.Timeout, "timeout", 5*time.Minute, "hard cap on the whole run")
	fs.IntVar(&cfg.PayloadBytes, "payload", 600, "bytes of each raw JetStream message (the API side's events average about 600)")
	fs.IntVar(&cfg.Products, "products", 16, "products the API side's items are spread over, round robin by client (one horizon list per product and horizon)")
	fs.DurationVar(&cfg.Probe, "disk-probe", time.Second, "time spent measuring the disk's write+fsync rate each round (0 skips it)")
	fs.Float64Var(&cfg.Target, "target", 0.70, "ratio (b)/(a) the ledger should reach")
	fs.BoolVar(&cfg.JSON, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the API side of the first round (warm-up included) to this file")
	fs.StringVar(&cfg.RawProfile, "raw-cpuprofile", "", "write a CPU profile of the raw side of the first round to this file")
	fs.StringVar(&cfg.Trace, "trace", "", "write an execution trace of the API side of the first round to this file")
	fs.StringVar(&cfg.RawTrace, "raw-trace", "", "write an execution trace of the raw side of the first round to this file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("bench write takes no arguments, got %q", fs.Args())
	case cfg.PayloadBytes < 64 || cfg.PayloadBytes > 1<<20:
		return cfg, fmt.Errorf("-payload must be 64 to %d bytes, got %d", 1<<20, cfg.PayloadBytes)
	case cfg.Products < 1:
		return cfg, errors.New("-products must be at least 1")
	case cfg.Probe < 0:
		return cfg, errors.New("-disk-probe must not be negative")
	}
	return cfg, checkLoad(cfg.Clients, 1024, cfg.Warmup, cfg.Duration, cfg.Count, cfg.Rounds, cfg.Timeout)
}

func runWrite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseWrite(args, stderr)
	if err != nil {
		return err
	}
	return report(stdout, cfg.JSON, func() (tableWriter, error) { return measureWrite(ctx, cfg, stderr) })
}

// WriteReport is the result of the write benchmark.
type WriteReport struct {
	Benchmark string    `json:"benchmark"`
	Date      time.Time `json:"date"`
	Machine   Machine   `json:"machine"`
	Clients   int       `json:"clients"`
	// Warmup and Duration are per side and round, in seconds; Duration is 0
	// and Count the operations per side and round when the run was counted.
	Warmup       float64 `json:"warmup_seconds"`
	Duration     float64 `json:"duration_seconds"`
	Count        int     `json:"count"`
	Rounds       int     `json:"rounds"`
	PayloadBytes int     `json:"raw_payload_bytes"`
	Products     int     `json:"products"`
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
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, fmt.Errorf("bench write: the run took longer than -timeout %s", cfg.Timeout))
	defer cancel()
	l := load{Warmup: cfg.Warmup, Duration: cfg.Duration, Count: cfg.Count}
	span := fmt.Sprintf("%s warm-up + %s", cfg.Warmup, cfg.Duration)
	if cfg.Count > 0 {
		span = fmt.Sprintf("%s warm-up + %d operations", cfg.Warmup, cfg.Count)
	}
	rep := &WriteReport{
		Benchmark: "write", Date: time.Now().UTC().Truncate(time.Second), Machine: thisMachine(),
		Clients: cfg.Clients, Warmup: cfg.Warmup.Seconds(), Duration: cfg.Duration.Seconds(), Count: cfg.Count,
		Rounds: cfg.Rounds, PayloadBytes: cfg.PayloadBytes, Products: cfg.Products, Target: cfg.Target,
	}
	if cfg.Count > 0 {
		rep.Duration = 0
	}

	var raw, api outcome
	var rawStored, apiStored float64
	var probes []float64
	for i := range cfg.Rounds {
		first := i == 0
		var rd Round
		if cfg.Probe > 0 {
			p, err := probeDisk(cfg.TempDir, cfg.PayloadBytes, cfg.Probe)
			if err != nil {
				return nil, err
			}
			rd.DiskFsyncs = round(p, 0)
			probes = append(probes, p)
			fmt.Fprintf(progress, "bench write: round %d/%d: disk: %.0f write+fsync/s\n", i+1, cfg.Rounds, p)
		}

		fmt.Fprintf(progress, "bench write: round %d/%d: (a) raw JetStream, %d publishers, %s\n", i+1, cfg.Rounds, cfg.Clients, span)
		var o outcome
		err := withTempDir(cfg.TempDir, "roadmap-bench-raw-*", func(dir string) error {
			side, err := openRaw(ctx, dir, cfg.PayloadBytes)
			if err != nil {
				return fmt.Errorf("raw JetStream: %w", err)
			}
			defer side.close()
			err = instrumented(first, cfg.RawProfile, cfg.RawTrace, func() error {
				o, err = drive(ctx, l, side.workers(cfg.Clients))
				return err
			})
			if err != nil {
				return fmt.Errorf("raw JetStream: %w", errors.Join(err, context.Cause(ctx)))
			}
			rawStored, err = side.storedBytes(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		raw, rd.Raw = raw.add(o), round(o.Rate(), 1)

		fmt.Fprintf(progress, "bench write: round %d/%d: (b) HTTP API, %d clients, %s\n", i+1, cfg.Rounds, cfg.Clients, span)
		err = withTempDir(cfg.TempDir, "roadmap-bench-api-*", func(dir string) (err error) {
			side, err := openAPI(ctx, dir, cfg.Products)
			if err != nil {
				return fmt.Errorf("ledger: %w", err)
			}
			defer func() { err = errors.Join(err, side.close(ctx)) }()
			err = instrumented(first, cfg.CPUProfile, cfg.Trace, func() error {
				o, err = drive(ctx, l, side.workers(cfg.Clients))
				return err
			})
			if err != nil {
				return fmt.Errorf("HTTP API: %w", errors.Join(err, context.Cause(ctx)))
			}
			apiStored, err = side.storedBytes(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		api, rd.API = api.add(o), round(o.Rate(), 1)
		if rd.Raw > 0 {
			rd.Ratio = round(rd.API/rd.Raw, 3)
		}
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
	if rep.Raw.Rate > 0 {
		rep.Ratio = round(rep.API.Rate/rep.Raw.Rate, 3)
	}
	rep.MeetsTarget = rep.Ratio >= cfg.Target
	return rep, nil
}

// WriteTable prints the report for people.
func (r *WriteReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "roadmap bench write, %s\n", r.Date.Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	per := fmt.Sprintf("%gs measured", r.Duration)
	if r.Count > 0 {
		per = fmt.Sprintf("%d measured operations", r.Count)
	}
	fmt.Fprintf(w, "load:    %d concurrent clients per side; per side and round %gs warm-up, %s; %d round(s)\n", r.Clients, r.Warmup, per, r.Rounds)
	if r.DiskFsyncs > 0 {
		fmt.Fprintf(w, "disk:    %.0f write+fsync/s by one writer appending to a file (a rough reference for one fsync per write)\n", r.DiskFsyncs)
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "side\toperations\tseconds\trate/s\tp50 ms\tp99 ms\tCPU µs/op\tstored B/msg\t")
	for _, s := range []struct {
		name string
		side Side
	}{{"(a) raw JetStream", r.Raw}, {"(b) HTTP API", r.API}} {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t%.0f\t%.0f\t\n", s.name, s.side.Ops, s.side.Seconds, s.side.Rate,
			s.side.Latency.P50, s.side.Latency.P99, s.side.CPUPerOp, s.side.StoredBytes)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t\t\t\t")
	fmt.Fprintln(tw, "by operation\toperations\t\t\tp50 ms\tp99 ms\tmax ms\t\t")
	for _, s := range []Side{r.Raw, r.API} {
		for _, op := range slices.Sorted(maps.Keys(s.ByOp)) {
			l := s.ByOp[op]
			fmt.Fprintf(tw, "%s\t%d\t\t\t%.2f\t%.2f\t%.2f\t\t\n", op, l.Ops, l.P50, l.P99, l.Max)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.PerRound) > 1 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "round\tdisk fsync/s\t(a) rate/s\t(b) rate/s\t(b)/(a)\t")
		for i, rd := range r.PerRound {
			fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.0f\t%.3f\t\n", i+1, rd.DiskFsyncs, rd.Raw, rd.API, rd.Ratio)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	verdict := "meets"
	if !r.MeetsTarget {
		verdict = "is below"
	}
	_, err := fmt.Fprintf(w, "\nratio (b)/(a): %.3f (%.0f%%), which %s the target of %.0f%%\n", r.Ratio, r.Ratio*100, verdict, r.Target*100)
	return err
}

// withTempDir runs fn with a fresh directory under parent and removes it
// afterwards.
func withTempDir(parent, pattern string, fn func(dir string) error) error {
	dir, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return fn(dir)
}

// instrumented runs fn under the CPU profiler when profile is set and the
// execution tracer when tracePath is set, if on is true; else it just runs
// fn.
func instrumented(on bool, profile, tracePath string, fn func() error) (err error) {
	if !on {
		return fn()
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			err = errors.Join(err, f.Close())
		}()
	}
	if tracePath != "" {
		f, err := os.Create(tracePath)
		if err != nil {
			return fmt.Errorf("trace: %w", err)
		}
		if err := trace.Start(f); err != nil {
			f.Close()
			return fmt.Errorf("trace: %w", err)
		}
		defer func() {
			trace.Stop()
			err = errors.Join(err, f.Close())
		}()
	}
	return fn()
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
