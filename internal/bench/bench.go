// Package bench measures the ledger beside raw JetStream on the machine it
// runs on, so the cost of everything the ledger adds to an append (HTTP,
// decoding, deciding, hashing, waiting for the projections) reads as a ratio
// rather than as an absolute figure that depends on the disk.
//
// Each sub-benchmark is one entry of the commands table: "roadmap bench NAME
// [flags]" runs it.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// command is one sub-benchmark of "roadmap bench".
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the sub-benchmarks. A new one (rebuild, read, timetravel)
// is one more entry.
var commands = []command{
	{"write", "decisions per second through the HTTP API beside raw JetStream publishes", runWrite},
	{"rebuild", "start-up replay of a generated ledger beside a raw read of its stream, and the memory it takes", runRebuild},
	{"read", "GET /v1/roadmap of a 500-item roadmap beside echo answering the same bytes from memory", runRead},
	{"timetravel", "GET /v1/roadmap?at_seq= and ?as_of= at random points beside raw reads from the checkpoint", runTimetravel},
	{"verify", "roadmap verify of a generated ledger over HTTP beside a raw read of its stream", runVerifyBench},
}

// Run runs the sub-benchmark named by args[0] with the flags that follow.
// It returns flag.ErrHelp after printing the usage when no sub-benchmark is
// named, and an error when the benchmark cannot run or a request fails.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return flag.ErrHelp
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage())
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, usage())
	return fmt.Errorf("bench: unknown benchmark %q", args[0])
}

func usage() string {
	var b strings.Builder
	b.WriteString("roadmap bench: measure the ledger beside raw JetStream on this machine\n\nBenchmarks:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun \"roadmap bench NAME -h\" for a benchmark's flags.\n")
	return b.String()
}

// Machine is what a figure was measured on.
type Machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
}

func thisMachine() Machine {
	return Machine{
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
	}
}

func (m Machine) String() string {
	return fmt.Sprintf("%s/%s, %d CPUs (GOMAXPROCS %d), %s", m.GOOS, m.GOARCH, m.NumCPU, m.GOMAXPROCS, m.GoVersion)
}

// tableWriter is a benchmark's report.
type tableWriter interface {
	WriteTable(w io.Writer) error
}

// report measures and prints a benchmark's report: a table, or indented JSON
// when asked.
func report(stdout io.Writer, asJSON bool, measure func() (tableWriter, error)) error {
	rep, err := measure()
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteTable(stdout)
}

// checkLoad checks the flags every load benchmark shares.
func checkLoad(clients, maxClients int, warmup, duration time.Duration, count, rounds int, timeout time.Duration) error {
	switch {
	case clients < 1 || clients > maxClients:
		return fmt.Errorf("-clients must be 1 to %d, got %d", maxClients, clients)
	case warmup < 0:
		return errors.New("-warmup must not be negative")
	case count < 0:
		return errors.New("-count must not be negative")
	case count == 0 && duration <= 0:
		return errors.New("-duration must be positive (or set -count)")
	case rounds < 1 || rounds > 100:
		return fmt.Errorf("-rounds must be 1 to 100, got %d", rounds)
	case timeout <= 0:
		return errors.New("-timeout must be positive")
	}
	return nil
}
