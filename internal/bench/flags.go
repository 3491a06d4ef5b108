package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// newFlagSet returns the flag set of "roadmap bench NAME": its usage is
// about, what the benchmark measures, then the flags.
func newFlagSet(name, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: roadmap bench %s [flags]\n\n%s\nFlags:\n", name, about)
		fs.PrintDefaults()
	}
	return fs
}

// commonFlags are the flags every benchmark takes.
type commonFlags struct {
	Rounds  int
	Timeout time.Duration
	JSON    bool
	// CPUProfile and RawProfile are the files of the CPU profiles of the
	// ledger's side (b) and of the raw side (a), recorded in their first
	// step; see steps.
	CPUProfile string
	RawProfile string
	// TempDir is where temporary directories are made; the system's
	// temporary directory when empty.
	TempDir string
}

// register registers the common flags on fs, with timeout as -timeout's
// default; ledgerSide and rawSide say what each side's CPU profile covers.
func (c *commonFlags) register(fs *flag.FlagSet, timeout time.Duration, ledgerSide, rawSide string) {
	fs.IntVar(&c.Rounds, "rounds", 1, "times to alternate (a) and (b); more rounds average out a noisy machine")
	fs.DurationVar(&c.Timeout, "timeout", timeout, "hard cap on the whole run (generating a ledger included)")
	fs.BoolVar(&c.JSON, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of "+ledgerSide+" to this file")
	fs.StringVar(&c.RawProfile, "raw-cpuprofile", "", "write a CPU profile of "+rawSide+" to this file")
}

func (c commonFlags) common() commonFlags { return c }

func (c commonFlags) check() error {
	switch {
	case c.Rounds < 1 || c.Rounds > 100:
		return fmt.Errorf("-rounds must be 1 to 100, got %d", c.Rounds)
	case c.Timeout <= 0:
		return errors.New("-timeout must be positive")
	}
	return nil
}

// loadFlags say how hard and how long a benchmark that drives clients
// drives each side.
type loadFlags struct {
	Clients int
	load
}

// register registers the load flags on fs with their defaults: clients
// says what -clients counts, per how often each side is measured.
func (l *loadFlags) register(fs *flag.FlagSet, clients string, n int, warmup, duration time.Duration, per string) {
	fs.IntVar(&l.Clients, "clients", n, clients)
	fs.DurationVar(&l.Warmup, "warmup", warmup, "unmeasured warm-up of each side, "+per)
	fs.DurationVar(&l.Duration, "duration", duration, "measured time of each side, "+per+" (ignored with -count)")
	fs.IntVar(&l.Count, "count", 0, "measure exactly this many operations of each side, "+per+", instead of -duration")
}

func (l loadFlags) check(maxClients int) error {
	switch {
	case l.Clients < 1 || l.Clients > maxClients:
		return fmt.Errorf("-clients must be 1 to %d, got %d", maxClients, l.Clients)
	case l.Warmup < 0:
		return errors.New("-warmup must not be negative")
	case l.Count < 0:
		return errors.New("-count must not be negative")
	case l.Count == 0 && l.Duration <= 0:
		return errors.New("-duration must be positive (or set -count)")
	}
	return nil
}

// ledgerFlags are the flags that shape a generated ledger.
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

// ledgerConfig is what the flags of a benchmark on a generated ledger say
// of it: its shape and where it is kept (see ledgerFlags), and how many
// messages the raw side's reads pull at a time.
type ledgerConfig struct {
	Ledger    ledgerSpec
	LedgerDir string
	Batch     int
	flags     ledgerFlags
}

func (c *ledgerConfig) register(fs *flag.FlagSet, events int) {
	c.flags.register(fs, events)
	fs.IntVar(&c.Batch, "batch", 4096, "messages the raw side's ordered consumer pulls at a time (the ledger's reads pull 4096)")
}

// resolve sets Ledger and LedgerDir from the parsed flags and checks them.
func (c *ledgerConfig) resolve() error {
	c.Ledger, c.LedgerDir = c.flags.spec(), c.flags.dir
	if c.Batch < 1 {
		return errors.New("-batch must be positive")
	}
	return c.Ledger.validate()
}
