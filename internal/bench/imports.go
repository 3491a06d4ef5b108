package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/roadmap-ledger/roadmap/internal/app"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
)

// importConfig is what the import benchmark's flags say.
type importConfig struct {
	commonFlags
	Rows         int
	PayloadBytes int
}

func parseImport(args []string, stderr io.Writer) (importConfig, error) {
	var cfg importConfig
	fs := newFlagSet("import", `Measures, one after the other on this machine, (a) raw JetStream: as many
synchronous publishes to the ledger's stream, on a fresh embedded server with
the same fsync setting, as the import appends, alternating a new subject and
the one just made, and (b) one import of a generated CSV of -rows rows
through the HTTP API (POST /v1/imports, a real run) on another fresh one:
every row a new item with an external id, every other one placed in a
horizon, so the import appends rows*1.5 events. It prints both rates, the
import's rows per second and the ratio (b)/(a) of events per second. With
-rounds N it alternates (a) and (b) N times and pools them.
`, stderr)
	cfg.commonFlags.register(fs, 10*time.Minute, "the import of the first round", "the raw side of the first round")
	fs.IntVar(&cfg.Rows, "rows", 10_000, "rows of the imported file")
	fs.IntVar(&cfg.PayloadBytes, "payload", 600, "bytes of each raw JetStream message (the import's events average about that)")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	switch {
	case cfg.Rows < 2 || cfg.Rows > 200_000:
		return cfg, fmt.Errorf("-rows must be 2 to 200000, got %d", cfg.Rows)
	case cfg.PayloadBytes < 64 || cfg.PayloadBytes > 1<<20:
		return cfg, fmt.Errorf("-payload must be 64 to %d bytes, got %d", 1<<20, cfg.PayloadBytes)
	}
	return cfg, cfg.commonFlags.check()
}

// ImportReport is the result of the import benchmark.
type ImportReport struct {
	About
	Rounds    int `json:"rounds"`
	Rows      int `json:"rows"`
	FileBytes int `json:"file_bytes"`
	// Events is how many events one import appends, and the raw side
	// publishes.
	Events       int     `json:"events_per_import"`
	PayloadBytes int     `json:"raw_payload_bytes"`
	Raw          Pooled  `json:"raw_jetstream"`
	Import       Pooled  `json:"import"`
	RowsPerSec   float64 `json:"import_rows_per_second"`
	// Ratio is Import.Rate / Raw.Rate, of events per second.
	Ratio    float64       `json:"ratio"`
	PerRound []ImportRound `json:"per_round"`
}

// Pooled is one side's events and seconds over every round.
type Pooled struct {
	What    string  `json:"what"`
	Events  int     `json:"events"`
	Seconds float64 `json:"seconds"`
	// Rate is Events / Seconds.
	Rate float64 `json:"events_per_second"`
}

// ImportRound is one alternation of the two sides.
type ImportRound struct {
	RawSeconds    float64 `json:"raw_seconds"`
	ImportSeconds float64 `json:"import_seconds"`
	Ratio         float64 `json:"ratio"`
}

func measureImport(ctx context.Context, cfg importConfig, progress io.Writer) (*ImportReport, error) {
	file := generateImport(cfg.Rows)
	events := cfg.Rows + (cfg.Rows+1)/2
	rep := &ImportReport{About: about("import"), Rounds: cfg.Rounds, Rows: cfg.Rows, FileBytes: len(file), Events: events, PayloadBytes: cfg.PayloadBytes}
	st := newSteps(ctx, "import", cfg.Rounds, progress)
	rawSide := side{name: "(a) raw JetStream", profile: cfg.RawProfile}
	importSide := side{name: "(b) import", profile: cfg.CPUProfile}
	var raw, imp time.Duration
	for r := range cfg.Rounds {
		var rd ImportRound
		var took time.Duration
		err := withTempDir(cfg.TempDir, "roadmap-bench-import-raw-*", func(dir string) error {
			return st.run(r, rawSide, fmt.Sprintf("%d synchronous publishes", events), func() (err error) {
				took, err = publishRaw(ctx, dir, cfg.PayloadBytes, events)
				return err
			})
		})
		if err != nil {
			return nil, err
		}
		raw, rd.RawSeconds = raw+took, round(took.Seconds(), 3)
		err = withTempDir(cfg.TempDir, "roadmap-bench-import-*", func(dir string) error {
			return st.run(r, importSide, fmt.Sprintf("POST /v1/imports of %d rows", cfg.Rows), func() (err error) {
				took, err = importOnce(ctx, dir, file, cfg.Rows, events)
				return err
			})
		})
		if err != nil {
			return nil, err
		}
		imp, rd.ImportSeconds = imp+took, round(took.Seconds(), 3)
		rd.Ratio = ratio(rd.RawSeconds, rd.ImportSeconds)
		rep.PerRound = append(rep.PerRound, rd)
	}
	n := events * cfg.Rounds
	rep.Raw = pooled("synchronous publishes to the ledger's stream, fsync on every write, one at a time", n, raw)
	rep.Import = pooled("one POST /v1/imports a round: read, plan, append with expected sequences, wait for the projections", n, imp)
	rep.RowsPerSec = round(float64(cfg.Rows*cfg.Rounds)/imp.Seconds(), 1)
	rep.Ratio = ratio(rep.Import.Rate, rep.Raw.Rate)
	return rep, nil
}

func pooled(what string, events int, d time.Duration) Pooled {
	return Pooled{What: what, Events: events, Seconds: round(d.Seconds(), 3), Rate: round(float64(events)/d.Seconds(), 1)}
}

// generateImport returns a CSV file of rows in the backlog's layout: each
// row a new item with an external id, spread over eight products, every
// other one placed in next or later.
func generateImport(rows int) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"title", "description", "kind", "product", "horizon", "external_id", "risks"})
	for i := range rows {
		horizon := ""
		if i%2 == 0 {
			horizon = []string{"next", "later"}[i/2%2]
		}
		_ = w.Write([]string{
			"Imported item " + strconv.Itoa(i), "What row " + strconv.Itoa(i) + " of the benchmark's backlog asks for, in a sentence or two.",
			"idea", "product-" + strconv.Itoa(i%8), horizon, "BENCH-" + strconv.Itoa(i), "",
		})
	}
	w.Flush()
	return b.Bytes()
}

// publishRaw publishes events messages of payload bytes to a fresh stream
// in dir, one after the other, and returns how long they took.
func publishRaw(ctx context.Context, dir string, payload, events int) (time.Duration, error) {
	r, err := openRaw(ctx, dir, payload)
	if err != nil {
		return 0, err
	}
	defer r.close(ctx)
	w := r.workers(1)[0]
	start := time.Now()
	for range events {
		if _, err := w.Do(ctx); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// importOnce opens a fresh ledger in dir behind an HTTP server on
// 127.0.0.1, imports file and returns how long the request took, checking
// that it created rows items with events events.
func importOnce(ctx context.Context, dir string, file []byte, rows, events int) (time.Duration, error) {
	a, err := app.Open(ctx, app.Config{DataDir: dir, BootstrapToken: benchToken})
	if err != nil {
		return 0, err
	}
	defer a.Close()
	if err := a.WaitReady(ctx); err != nil {
		return 0, err
	}
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	before, err := a.Log.LastSequence(ctx)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/imports", bytes.NewReader(file))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+benchToken)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	if res.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("POST /v1/imports: %s: %s", res.Status, body)
	}
	var answer struct {
		Created int `json:"created"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return 0, err
	}
	after, err := a.Log.LastSequence(ctx)
	if err != nil {
		return 0, err
	}
	if answer.Created != rows || after-before != uint64(events) {
		return 0, errors.New("the import did not create every row: " + string(body))
	}
	return took, nil
}

// WriteTable prints the report for people.
func (r *ImportReport) WriteTable(w io.Writer) error {
	r.writeHead(w)
	fmt.Fprintf(w, "file: %d rows, %d bytes; %d events an import\n\n", r.Rows, r.FileBytes, r.Events)
	sides := table{"side\tevents\tseconds\tevents/s\t", []string{
		fmt.Sprintf("(a) raw JetStream\t%d\t%.3f\t%.0f\t", r.Raw.Events, r.Raw.Seconds, r.Raw.Rate),
		fmt.Sprintf("(b) import\t%d\t%.3f\t%.0f\t", r.Import.Events, r.Import.Seconds, r.Import.Rate),
	}}
	if err := writeTables(w, sides, "", table{"round\t(a) s\t(b) s\t(b)/(a)\t", roundRows(r.PerRound)}); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "import: %.0f rows/s; ratio (b)/(a) of events/s: %.3f (%.0f%%)\n", r.RowsPerSec, r.Ratio, r.Ratio*100)
	return err
}

func (rd ImportRound) row(i int) string {
	return fmt.Sprintf("%d\t%.3f\t%.3f\t%.3f\t", i+1, rd.RawSeconds, rd.ImportSeconds, rd.Ratio)
}
