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
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// command is one sub-benchmark of "roadmap bench".
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the sub-benchmarks. A new one is one more entry.
var commands = []command{
	benchmark("write", "decisions per second through the HTTP API beside raw JetStream publishes", parseWrite, measureWrite),
	benchmark("rebuild", "start-up replay of a generated ledger beside a raw read of its stream, and the memory it takes", parseRebuild, measureRebuild),
	benchmark("restart", "start to /readyz of a generated ledger with and without a snapshot beside a raw read of its stream", parseRestart, measureRestart),
	benchmark("read", "GET /v1/roadmap of a 500-item roadmap beside echo answering the same bytes from memory", parseRead, measureRead),
	benchmark("timetravel", "GET /v1/roadmap?at_seq= and ?as_of= at random points beside raw reads from the checkpoint", parseTimetravel, measureTimetravel),
	benchmark("verify", "roadmap verify of a generated ledger over HTTP beside a raw read of its stream", parseVerifyBench, measureVerify),
	benchmark("feed", "decisions per second with 100 clients following the event stream beside none, and the fan-out", parseFeed, measureFeed),
	benchmark("import", "one POST /v1/imports of a generated CSV beside as many raw JetStream publishes", parseImport, measureImport),
}

// configured is a benchmark's configuration: its own flags and the common
// ones.
type configured interface {
	common() commonFlags
}

// benchmark is the command of a benchmark: parse reads its flags, measure
// runs it, within -timeout, and returns its report, which is printed as a
// table, or as indented JSON with -json.
func benchmark[C configured, R tableWriter](name, summary string,
	parse func(args []string, stderr io.Writer) (C, error),
	measure func(ctx context.Context, cfg C, progress io.Writer) (R, error)) command {
	run := func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		cfg, err := parse(args, stderr)
		if err != nil {
			return err
		}
		c := cfg.common()
		ctx, cancel := context.WithTimeoutCause(ctx, c.Timeout, fmt.Errorf("bench %s: the run took longer than -timeout %s", name, c.Timeout))
		defer cancel()
		rep, err := measure(ctx, cfg, stderr)
		if err != nil {
			return err
		}
		if c.JSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		return rep.WriteTable(stdout)
	}
	return command{name: name, summary: summary, run: run}
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

// About says which benchmark a report comes from, and when and where it
// ran.
type About struct {
	Benchmark string    `json:"benchmark"`
	Date      time.Time `json:"date"`
	Machine   Machine   `json:"machine"`
}

func about(benchmark string) About {
	return About{Benchmark: benchmark, Date: time.Now().UTC().Truncate(time.Second), Machine: thisMachine()}
}

// writeHead starts a report's table: the benchmark, the date, the machine.
func (a About) writeHead(w io.Writer) {
	fmt.Fprintf(w, "roadmap bench %s, %s\n", a.Benchmark, a.Date.Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %s\n", a.Machine)
}

// writeTable writes a table, its heading then its rows, in right-aligned
// columns: each row is a line of cells, each cell ended by a tab.
func writeTable(w io.Writer, heading string, rows ...string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, heading)
	for _, row := range rows {
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}

// table is a table of a report: its heading and its rows (see writeTable).
type table struct {
	heading string
	rows    []string
}

// writeTables writes a report's tables: its sides, the note on them if
// any, then, after a blank line, its rounds if it has rows.
func writeTables(w io.Writer, sides table, note string, rounds table) error {
	if err := writeTable(w, sides.heading, sides.rows...); err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(w, note)
	}
	if len(rounds.rows) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	return writeTable(w, rounds.heading, rounds.rows...)
}

// roundRows are the rows of a table of rounds, one a round; none when there
// was only one, which the table of sides says already.
func roundRows[R interface{ row(i int) string }](rounds []R) []string {
	if len(rounds) < 2 {
		return nil
	}
	rows := make([]string, len(rounds))
	for i, rd := range rounds {
		rows[i] = rd.row(i)
	}
	return rows
}

// meets is a verdict's verb.
func meets(ok bool) string {
	if ok {
		return "meets"
	}
	return "misses"
}

// writeRatio ends a report with its pooled ratio against the target.
func writeRatio(w io.Writer, ratio, target float64, meetsTarget bool) error {
	_, err := fmt.Fprintf(w, "ratio (b)/(a): %.3f (%.0f%%), which %s the target of %.0f%%\n", ratio, ratio*100, meets(meetsTarget), target*100)
	return err
}
