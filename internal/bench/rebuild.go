package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
	"github.com/roadmap-ledger/roadmap/internal/safefile"
)

// rebuildConfig is what the rebuild benchmark's flags say.
type rebuildConfig struct {
	commonFlags
	ledgerConfig
	Target     float64
	MaxRSS     uint64
	MemProfile string
}

func parseRebuild(args []string, stderr io.Writer) (rebuildConfig, error) {
	var cfg rebuildConfig
	fs := newFlagSet("rebuild", `Generates a ledger of -events events shaped like a real one (or reuses the one
kept in -ledger-dir), then measures on it, one after the other: (a) raw
JetStream: an ordered consumer reading the whole stream and doing nothing with
each message, and (b) the ledger's start: app.Open on the same directory until
the projections are ready. It prints both rates, the ratio (b)/(a) and the
process's memory once the ledger is loaded. With -rounds N it alternates (a)
and (b) N times.
`, stderr)
	cfg.commonFlags.register(fs, 10*time.Minute, "(b), open to ready, of the first round", "(a) of the first round")
	cfg.ledgerConfig.register(fs, 1_000_000)
	var maxRSS int
	fs.Float64Var(&cfg.Target, "target", 0.50, "ratio (b)/(a) the ledger should reach")
	fs.IntVar(&maxRSS, "max-rss", 1024, "peak resident memory, in MiB, the loaded ledger should stay under")
	fs.StringVar(&cfg.MemProfile, "memprofile", "", "write a heap profile of the loaded ledger (first round, after (b)) to this file")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	cfg.MaxRSS = uint64(max(maxRSS, 0)) << 20
	if maxRSS <= 0 {
		return cfg, errors.New("-max-rss must be positive")
	}
	return cfg, errors.Join(cfg.commonFlags.check(), cfg.ledgerConfig.resolve())
}

// RebuildReport is the result of the rebuild benchmark.
type RebuildReport struct {
	WholeRead
	Raw     ReadSide `json:"raw_jetstream"`
	Project ReadSide `json:"ledger"`
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

func measureRebuild(ctx context.Context, cfg rebuildConfig, progress io.Writer) (*RebuildReport, error) {
	led, err := prepareLedger(ctx, cfg.Ledger, cfg.LedgerDir, cfg.TempDir, progress)
	if err != nil {
		return nil, errors.Join(err, context.Cause(ctx))
	}
	defer led.Close()
	rep := &RebuildReport{WholeRead: newWholeRead("rebuild", led, cfg.Rounds, cfg.Batch), Target: cfg.Target, MaxRSS: cfg.MaxRSS}
	events := led.Info.Events
	st := newSteps(ctx, "rebuild", cfg.Rounds, progress)
	res, err := readRounds(st, led, cfg.Batch,
		side{name: "(a) raw JetStream", profile: cfg.RawProfile}, side{name: "(b) ledger"},
		fmt.Sprintf("open and replay %d events into the projections", events),
		func(r int) (readOutcome, Memory, error) { return projectRebuild(ctx, led.DataDir, events, r == 0, cfg) })
	if err != nil {
		return nil, err
	}
	for _, rd := range res.rounds {
		raw, project := round(rd.a.rate(), 0), round(rd.b.rate(), 0)
		rep.PerRound = append(rep.PerRound, RebuildRound{Raw: raw, Project: project, Ratio: ratio(project, raw),
			RawCPU: rd.a.cpuPerEvent(), ProjectCPU: rd.b.cpuPerEvent(), ProjectOpen: round(rd.b.open.Seconds(), 3), Memory: rd.m})
		if rd.m.PeakRSS >= rep.Memory.PeakRSS {
			rep.Memory = rd.m
		}
	}
	rep.Raw = newReadSide(rawReadWhat, res.raw, cfg.Rounds)
	rep.Project = newReadSide("app.Open until the projections are ready: start, replay, every projection", res.ledger, cfg.Rounds)
	rep.Ratio = ratio(rep.Project.Rate, rep.Raw.Rate)
	rep.MeetsTarget = rep.Ratio >= cfg.Target
	rep.MeetsMemory = rep.Memory.PeakRSS > 0 && rep.Memory.PeakRSS < cfg.MaxRSS
	return rep, nil
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
		// No snapshot: the whole log is replayed, as on a first start.
		a, err = app.Open(ctx, app.Config{DataDir: dir, BootstrapToken: benchToken, SnapshotEvery: -1})
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
		err := safefile.Write(cfg.MemProfile, 0, func(w io.Writer) error { return pprof.Lookup("heap").WriteTo(w, 0) })
		if err != nil {
			return o, mem, fmt.Errorf("heap profile: %w", err)
		}
	}
	return o, mem, nil
}

// WriteTable prints the report for people.
func (r *RebuildReport) WriteTable(w io.Writer) error {
	r.writeHead(w)
	fmt.Fprintln(w)
	err := writeReadTables(w, r.Raw, r.Project, "(b) ledger open to ready", true,
		"(open s: the embedded server's start, outside (a)'s measure and inside (b)'s)",
		table{"round\t(a) events/s\t(b) events/s\t(b)/(a)\t(a) CPU µs/event\t(b) CPU µs/event\tpeak RSS MiB\t", roundRows(r.PerRound)})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nmemory with the ledger loaded: %s\n", r.Memory)
	fmt.Fprintf(w, "peak RSS %s the target of under %.0f MiB\n", meets(r.MeetsMemory), mib(r.MaxRSS))
	return writeRatio(w, r.Ratio, r.Target, r.MeetsTarget)
}

func (rd RebuildRound) row(i int) string {
	return fmt.Sprintf("%d\t%.0f\t%.0f\t%.3f\t%.2f\t%.2f\t%.0f\t", i+1, rd.Raw, rd.Project, rd.Ratio, rd.RawCPU, rd.ProjectCPU, mib(rd.Memory.PeakRSS))
}
