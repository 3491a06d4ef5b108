package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"runtime/trace"

	"github.com/roadmap-ledger/roadmap/internal/safefile"
)

// side is one side of a benchmark: (a) the raw baseline or (b) the ledger,
// and what to record of its first step.
type side struct {
	name string // "(a) raw JetStream", "(b) ledger"
	// profile and trace name the files of a CPU profile and an execution
	// trace of the side's first step; empty for none.
	profile, trace string
}

// steps runs the measured steps of a benchmark's rounds one after the
// other: it says on progress what each step measures, records the profile
// and trace a side asks for during that side's first step only, and names
// the side and the step in a step's error, with the cause of a run cut
// short.
type steps struct {
	ctx      context.Context
	bench    string
	rounds   int
	progress io.Writer
	recorded map[string]bool // the sides whose first step has run
}

func newSteps(ctx context.Context, bench string, rounds int, progress io.Writer) *steps {
	return &steps{ctx: ctx, bench: bench, rounds: rounds, progress: progress, recorded: map[string]bool{}}
}

// run measures one step of s in round r (from 0): what says what it
// measures.
func (st *steps) run(r int, s side, what string, measure func() error) error {
	fmt.Fprintf(st.progress, "bench %s: round %d/%d: %s: %s\n", st.bench, r+1, st.rounds, s.name, what)
	first := !st.recorded[s.name]
	st.recorded[s.name] = true
	if err := instrumented(first, s.profile, s.trace, measure); err != nil {
		return fmt.Errorf("%s, %s: %w", s.name, what, errors.Join(err, context.Cause(st.ctx)))
	}
	return nil
}

// instrumented runs fn under the CPU profiler when profile is set and the
// execution tracer when tracePath is set, if on is true; else it just runs
// fn.
func instrumented(on bool, profile, tracePath string, fn func() error) (err error) {
	if !on {
		return fn()
	}
	stopProfile, err := record(profile, "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopProfile()) }()
	stopTrace, err := record(tracePath, "trace", trace.Start, trace.Stop)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopTrace()) }()
	return fn()
}

// record starts a recorder of the process (the CPU profiler, the execution
// tracer) writing into the file path, unless path is empty, and returns
// what stops it and closes the file.
func record(path, what string, start func(io.Writer) error, stop func()) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := safefile.Create(path, 0)
	if err == nil {
		if err = start(f); err != nil {
			f.Abort()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return func() error {
		stop()
		return f.Commit()
	}, nil
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

// ratio is the ledger's rate b over the raw side's rate a, to three
// decimals; 0 when a is.
func ratio(b, a float64) float64 {
	if a <= 0 {
		return 0
	}
	return round(b/a, 3)
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
