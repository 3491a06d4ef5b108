package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
)

// rebuildConfig is what the rebuild benchmark's flags say.
type rebuildConfig struct {
	Ledger     ledgerSpec
	LedgerDir  string
	Rounds     int
	Batch      int
	Timeout    time.Duration
	Target     float64
	MaxRSS     uint64
	JSON       bool
	CPUProfile string
	RawProfile string
	MemProfile string
	TempDir    string
}

// ledgerFlags registers the flags that shape a generated ledger on fs.
type ledgerFlags struct {
	events, items, products int
	keyed                   float64
	seed                    uint64
	dir                     string
}

func (lf *ledgerFlags) register(fs *flag.FlagSet, events int) {
	fs.IntVar(&lf.events, "events", events, "events in the generated ledger")
	fs.IntVar(&lf.items, "items", 0, "items proposed in the generated ledger (0: events/20, at most 3000)")
	fs.IntVar(&lf.products, "products", 8, "products the generated ledger's items are spread over")
	fs.Float64Var(&lf.keyed, "keyed", 0.3, "share of the generated decisions that carry an Idempotency-Key")
	fs.Uint64Var(&lf.seed, "seed", 1, "seed of the generated ledger (the same seed gives the same ledger)")
	fs.StringVar(&lf.dir, "ledger-dir", "", "keep the generated ledger in this directory and reuse it on the next run with the same ledger flags (default: a temporary directory, removed)")
}

func (lf *ledgerFlags) spec() ledgerSpec {
	s := defaultLedgerSpec(lf.events)
	if lf.items > 0 {
		s.Items = lf.items
	}
	s.Products, s.Keyed, s.Seed = lf.products, lf.keyed, lf.seed
	return s
}

func parseRebuild(args []string, stderr io.Writer) (rebuildConfig, error) {
	var cfg rebuildConfig
	var lf ledgerFlags
	var maxRSS int
	fs := flag.NewFlagSet("bench rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: roadmap bench rebuild [flags]

Generates a ledger of -events events shaped like a real one (or reuses the one
kept in -ledger-dir), then measures on it, one after the other: (a) raw
JetStream: an ordered consumer reading the whole stream and doing nothing with
each message, and (b) the ledger's start: app.Open on the same directory until
the projections are ready. It prints both rates, the ratio (b)/(a) and the
process's memory once the ledger is loaded. With -rounds N it alternates (a)
and (b) N times.

Flags:
`)
		fs.PrintDefaults()
	}
	lf.register(fs, 1_000_000)
	fs.IntVar(&cfg.Rounds, "rounds", 1, "times to alternate (a) and (b)")
	fs.IntVar(&cfg.Batch, "batch", 4096, "messages the raw side's ordered consumer pulls at a time (the ledger's Follow pulls 4096)")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Minute, "hard cap on the whole run, generation included")
	fs.Float64Var(&cfg.Target, "target", 0.50, "ratio (b)/(a) the ledger should reach")
	fs.IntVar(&maxRSS, "max-rss", 1024, "peak resident memory, in MiB, the loaded ledger should stay under")
	fs.BoolVar(&cfg.JSON, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of (b), open to ready, of the first round to this file")
	fs.StringVar(&cfg.RawProfile, "raw-cpuprofile", "", "write a CPU profile of (a) of the first round to this file")
	fs.StringVar(&cfg.MemProfile, "memprofile", "", "write a heap profile of the loaded ledger (first round, after (b)) to this file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.Ledger, cfg.LedgerDir, cfg.MaxRSS = lf.spec(), lf.dir, uint64(max(maxRSS, 0))<<20
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("bench rebuild takes no arguments, got %q", fs.Args())
	case cfg.Rounds < 1 || cfg.Rounds > 100:
		return cfg, fmt.Errorf("-rounds must be 1 to 100, got %d", cfg.Rounds)
	case cfg.Batch < 1:
		return cfg, errors.New("-batch must be positive")
	case cfg.Timeout <= 0:
		return cfg, errors.New("-timeout must be positive")
	case maxRSS <= 0:
		return cfg, errors.New("-max-rss must be positive")
	}
	return cfg, cfg.Ledger.validate()
}

func runRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseRebuild(args, stderr)
	if err != nil {
		return err
	}
	return report(stdout, cfg.JSON, func() (tableWriter, error) { return measureRebuild(ctx, cfg, stderr) })
}

// RebuildReport is the result of the rebuild benchmark.
type RebuildReport struct {
	Benchmark string     `json:"benchmark"`
	Date      time.Time  `json:"date"`
	Machine   Machine    `json:"machine"`
	Ledger    LedgerInfo `json:"generated_ledger"`
	Rounds    int        `json:"rounds"`
	Batch     int        `json:"raw_batch"`
	Raw       ReadSide   `json:"raw_jetstream"`
	Project   ReadSide   `json:"ledger"`
	// Ratio is Project.Rate / Raw.Rate.
	Ratio       float64 `json:"ratio"`
	Target      float64 `json:"target"`
	MeetsTarget bool    `json:"meets_target"`
	// Memory is the process's once the ledger was loaded, in the round with
	// the highest peak.
	Memory      Memory         `json:"memory"`
	MaxRSS      uint64         `json:"max_rss_bytes"`
	MeetsMemory bool           `json:"meets_memory_target"`
	PerRound    []RebuildRound `json:"per_round"`
}

// ReadSide is one side of the rebuild, pooled over the rounds.
type ReadSide struct {
	What   string `json:"what"`
	Events int    `json:"events"`
	// Seconds is the measured time: for the raw side the read alone, for
	// the ledger from app.Open to ready.
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"events_per_second"`
	// OpenSeconds is the mean time to open (the embedded server's start and
	// the stream's recovery): outside the raw side's measure, inside the
	// ledger's.
	OpenSeconds float64 `json:"open_seconds"`
	// CPUPerEvent is the whole process's CPU time per event, in
	// microseconds, and Cores the CPU time over the measured time.
	CPUPerEvent float64 `json:"cpu_us_per_event"`
	Cores       float64 `json:"cores"`
}

// RebuildRound is one alternation of the two sides.
type RebuildRound struct {
	Raw     float64 `json:"raw_per_second"`
	Project float64 `json:"ledger_per_second"`
	Ratio   float64 `json:"ratio"`
	// RawCPU and ProjectCPU are each side's process CPU per event, in
	// microseconds.
	RawCPU     float64 `json:"raw_cpu_us_per_event"`
	ProjectCPU float64 `json:"ledger_cpu_us_per_event"`
	// ProjectOpen is the ledger's open, inside its measure.
	ProjectOpen float64 `json:"ledger_open_seconds"`
	Memory      Memory  `json:"memory"`
}

// readOutcome is one measured read of the whole log.
type readOutcome struct {
	events  int
	open    time.Duration
	elapsed time.Duration
	cpu     time.Duration
}

func (o readOutcome) add(p readOutcome) readOutcome {
	return readOutcome{events: o.events + p.events, open: o.open + p.open, elapsed: o.elapsed + p.elapsed, cpu: o.cpu + p.cpu}
}

func (o readOutcome) rate() float64 {
	if o.elapsed <= 0 {
		return 0
	}
	return float64(o.events) / o.elapsed.Seconds()
}

func newReadSide(what string, o readOutcome, rounds int) ReadSide {
	s := ReadSide{What: what, Events: o.events, Seconds: round(o.elapsed.Seconds(), 3), Rate: round(o.rate(), 0),
		OpenSeconds: round(o.open.Seconds()/float64(rounds), 3), CPUPerEvent: o.cpuPerEvent()}
	if o.events > 0 && o.cpu > 0 {
		s.Cores = round(o.cpu.Seconds()/o.elapsed.Seconds(), 2)
	}
	return s
}

// cpuPerEvent returns the process CPU per event read, in microseconds, or 0
// when it was not measured.
func (o readOutcome) cpuPerEvent() float64 {
	if o.events == 0 || o.cpu <= 0 {
		return 0
	}
	return round(float64(o.cpu.Microseconds())/float64(o.events), 2)
}

func measureRebuild(ctx context.Context, cfg rebuildConfig, progress io.Writer) (*RebuildReport, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, fmt.Errorf("bench rebuild: the run took longer than -timeout %s", cfg.Timeout))
	defer cancel()
	led, err := prepareLedger(ctx, cfg.Ledger, cfg.LedgerDir, cfg.TempDir, progress)
	if err != nil {
		return nil, errors.Join(err, context.Cause(ctx))
	}
	defer led.Close()
	rep := &RebuildReport{
		Benchmark: "rebuild", Date: time.Now().UTC().Truncate(time.Second), Machine: thisMachine(), Ledger: led.Info,
		Rounds: cfg.Rounds, Batch: cfg.Batch, Target: cfg.Target, MaxRSS: cfg.MaxRSS,
	}
	events := led.Info.Events
	var raw, project readOutcome
	for i := range cfg.Rounds {
		first := i == 0
		fmt.Fprintf(progress, "bench rebuild: round %d/%d: (a) raw JetStream: ordered consumer over %d events\n", i+1, cfg.Rounds, events)
		var a readOutcome
		err := instrumented(first, cfg.RawProfile, "", func() (err error) {
			a, err = rawRead(ctx, led.DataDir, events, cfg.Batch)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("raw JetStream: %w", errors.Join(err, context.Cause(ctx)))
		}
		raw = raw.add(a)

		fmt.Fprintf(progress, "bench rebuild: round %d/%d: (b) ledger: open and replay %d events into the projections\n", i+1, cfg.Rounds, events)
		b, mem, err := projectRebuild(ctx, led.DataDir, events, first, cfg)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", errors.Join(err, context.Cause(ctx)))
		}
		project = project.add(b)
		rd := RebuildRound{Raw: round(a.rate(), 0), Project: round(b.rate(), 0), ProjectOpen: round(b.open.Seconds(), 3), Memory: mem,
			RawCPU: a.cpuPerEvent(), ProjectCPU: b.cpuPerEvent()}
		if rd.Raw > 0 {
			rd.Ratio = round(rd.Project/rd.Raw, 3)
		}
		rep.PerRound = append(rep.PerRound, rd)
		if mem.PeakRSS >= rep.Memory.PeakRSS {
			rep.Memory = mem
		}
		fmt.Fprintf(progress, "bench rebuild: round %d/%d: (a) %.0f events/s, (b) %.0f events/s, ratio %.3f, peak RSS %.0f MiB\n",
			i+1, cfg.Rounds, rd.Raw, rd.Project, rd.Ratio, mib(mem.PeakRSS))
	}
	rep.Raw = newReadSide("an ordered consumer reading every message and doing nothing with it", raw, cfg.Rounds)
	rep.Project = newReadSide("app.Open until the projections are ready: start, replay, every projection", project, cfg.Rounds)
	if rep.Raw.Rate > 0 {
		rep.Ratio = round(rep.Project.Rate/rep.Raw.Rate, 3)
	}
	rep.MeetsTarget = rep.Ratio >= cfg.Target
	rep.MeetsMemory = rep.Memory.PeakRSS > 0 && rep.Memory.PeakRSS < cfg.MaxRSS
	return rep, nil
}

// rawRead opens the ledger's directory with the ledger's own server options
// and stream configuration and reads the whole stream with an ordered
// consumer, doing nothing with each message. Only the read is measured.
func rawRead(ctx context.Context, dir string, events, batch int) (readOutcome, error) {
	var o readOutcome
	start := time.Now()
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: dir, DuplicateWindow: shortDuplicateWindow})
	if err != nil {
		return o, err
	}
	defer log.Close()
	o.open = time.Since(start)
	cpu := processCPU()
	start = time.Now()
	n, err := readStream(ctx, log.JetStream(), log.Stream(), 1, uint64(events), batch)
	o.elapsed, o.cpu, o.events = time.Since(start), processCPU()-cpu, n
	if err == nil && n != events {
		err = fmt.Errorf("read %d events, want %d", n, events)
	}
	return o, err
}

// readStream reads the messages from sequence from to sequence to with an
// ordered consumer pulling at most batch at a time, does nothing with them,
// and deletes the consumer, as any reader that must leave no state on the
// server does (the ledger's own reads do the same). It returns how many
// messages it read.
func readStream(ctx context.Context, js jetstream.JetStream, name string, from, to uint64, batch int) (int, error) {
	if to < from {
		return 0, nil
	}
	stream, err := js.Stream(ctx, name)
	if err != nil {
		return 0, err
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy, InactiveThreshold: 30 * time.Second}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return 0, err
	}
	want := int(to - from + 1)
	// Never ask for more than is read: what is pulled and not read is work
	// thrown away.
	it, err := cons.Messages(jetstream.PullMaxMessages(min(batch, want)))
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	n := 0
	for ; n < want; n++ {
		if _, err = it.Next(); err != nil {
			err = errors.Join(err, ctx.Err())
			break
		}
	}
	stop()
	it.Stop()
	if info := cons.CachedInfo(); info != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := stream.DeleteConsumer(dctx, info.Name); !errors.Is(derr, jetstream.ErrConsumerNotFound) {
			err = errors.Join(err, derr)
		}
	}
	return n, err
}

// projectRebuild opens the ledger on dir as the serve command does and
// measures the time until its projections are ready, then the memory the
// process holds.
func projectRebuild(ctx context.Context, dir string, events int, first bool, cfg rebuildConfig) (readOutcome, Memory, error) {
	var o readOutcome
	releaseMemory()
	peakFrom := "process"
	if resetPeakRSS() {
		peakFrom = "open"
	}
	var a *app.App
	err := instrumented(first, cfg.CPUProfile, "", func() error {
		cpu := processCPU()
		start := time.Now()
		var err error
		a, err = app.Open(ctx, app.Config{DataDir: dir, BootstrapToken: benchToken})
		if err != nil {
			return err
		}
		o.open = time.Since(start)
		if err := a.Runner.WaitReady(ctx); err != nil {
			return fmt.Errorf("projections not ready: %w", err)
		}
		o.elapsed, o.cpu = time.Since(start), processCPU()-cpu
		return nil
	})
	if a != nil {
		defer a.Close()
	}
	if err != nil {
		return o, Memory{}, err
	}
	// The generated ledger holds the bootstrap token already: the start
	// appends nothing.
	if err := a.WaitReady(ctx); err != nil {
		return o, Memory{}, fmt.Errorf("ledger not ready: %w", err)
	}
	if got := a.Current.Sequence(); got != uint64(events) {
		return o, Memory{}, fmt.Errorf("the projections are at sequence %d, want %d", got, events)
	}
	o.events = events
	mem := measureMemory(peakFrom)
	if first && cfg.MemProfile != "" {
		f, err := os.Create(cfg.MemProfile)
		if err != nil {
			return o, mem, err
		}
		err = errors.Join(pprof.Lookup("heap").WriteTo(f, 0), f.Close())
		if err != nil {
			return o, mem, fmt.Errorf("heap profile: %w", err)
		}
	}
	return o, mem, nil
}

// WriteTable prints the report for people.
func (r *RebuildReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "roadmap bench rebuild, %s\n", r.Date.Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "ledger:  %s\n", r.Ledger)
	if r.Ledger.Cached {
		fmt.Fprintln(w, "         reused from -ledger-dir")
	} else {
		fmt.Fprintf(w, "         generated in %.1fs (%.0f events/s), asynchronous publishes without fsync\n", r.Ledger.GenerateSeconds, r.Ledger.GenerateRate)
	}
	fmt.Fprintf(w, "rounds:  %d; raw side pulls %d messages at a time\n\n", r.Rounds, r.Batch)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "side\tevents\tseconds\tevents/s\topen s\tCPU µs/event\tcores\t")
	for _, s := range []struct {
		name string
		side ReadSide
	}{{"(a) raw JetStream read", r.Raw}, {"(b) ledger open to ready", r.Project}} {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.2f\t%.2f\t%.2f\t\n", s.name, s.side.Events, s.side.Seconds, s.side.Rate,
			s.side.OpenSeconds, s.side.CPUPerEvent, s.side.Cores)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "(open s: the embedded server's start, outside (a)'s measure and inside (b)'s)")
	if len(r.PerRound) > 1 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "round\t(a) events/s\t(b) events/s\t(b)/(a)\t(a) CPU µs/event\t(b) CPU µs/event\tpeak RSS MiB\t")
		for i, rd := range r.PerRound {
			fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.3f\t%.2f\t%.2f\t%.0f\t\n", i+1, rd.Raw, rd.Project, rd.Ratio, rd.RawCPU, rd.ProjectCPU, mib(rd.Memory.PeakRSS))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	m := r.Memory
	fmt.Fprintf(w, "\nmemory with the ledger loaded: peak RSS %.0f MiB (since %s), RSS %.0f MiB, Go heap in use %.0f MiB, live %.0f MiB, Go runtime total %.0f MiB\n",
		mib(m.PeakRSS), m.PeakFrom, mib(m.RSS), mib(m.HeapInuse), mib(m.HeapLive), mib(m.Sys))
	verdict := func(ok bool) string {
		if ok {
			return "meets"
		}
		return "misses"
	}
	fmt.Fprintf(w, "peak RSS %s the target of under %.0f MiB\n", verdict(r.MeetsMemory), mib(r.MaxRSS))
	_, err := fmt.Fprintf(w, "ratio (b)/(a): %.3f (%.0f%%), which %s the target of %.0f%%\n", r.Ratio, r.Ratio*100, verdict(r.MeetsTarget), r.Target*100)
	return err
}
