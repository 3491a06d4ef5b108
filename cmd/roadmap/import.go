package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/roadmap-ledger/roadmap/api/client"
	"github.com/roadmap-ledger/roadmap/internal/termtext"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

const importUsage = `usage: roadmap import FILE --server URL [--token T] [--dry-run] [--format roadmap|jira]

Imports the backlog in FILE, a CSV file, into the ledger (POST /v1/imports),
all or nothing: new items are proposed, changed ones edited, and a horizon
or rank becomes a prioritisation whose rationale names the import. Every
imported item records where it came from. Importing the same file again
changes nothing.

--format roadmap (the default) reads the layout GET /v1/items writes as
CSV; --format jira reads a Jira CSV export. --dry-run prints what the import
would do and records nothing. When any row cannot be imported, every such
row is printed with its line and column, nothing is recorded, and the
command exits non-zero.

--token T (or ROADMAP_TOKEN) is sent as "Authorization: Bearer T"; its role
must allow decisions. On a terminal, a large file's upload shows a progress
bar on stderr.

`

// importConfig is what import's arguments and flags say.
type importConfig struct {
	endpoint
	file, format string
	dryRun       bool
}

// progressFrom is the size from which an upload shows a progress bar, on a
// terminal: smaller files go in a blink.
const progressFrom = 1 << 20

func importCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseImport(args, getenv, stderr)
	if err != nil {
		return err
	}
	return runImport(ctx, cfg, stdout, stderr)
}

func parseImport(args []string, getenv func(string) string, stderr io.Writer) (importConfig, error) {
	var cfg importConfig
	fs := newFlagSet("import", importUsage, stderr)
	cfg.register(fs, getenv, "base URL of the ledger (ROADMAP_SERVER)")
	fs.BoolVar(&cfg.dryRun, "dry-run", false, "print what the import would do; record nothing")
	fs.StringVar(&cfg.format, "format", "roadmap", "the file's layout: roadmap (the backlog's own CSV) or jira (a Jira CSV export)")
	// FILE may come before the flags or after them.
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cfg.file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	switch {
	case fs.NArg() == 1 && cfg.file == "":
		cfg.file = fs.Arg(0)
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("import takes one FILE, got %q", append([]string{cfg.file}, fs.Args()...))
	}
	if err := cfg.require(fs, "import needs a FILE and --server URL", cfg.file); err != nil {
		return cfg, err
	}
	if cfg.format != "roadmap" && cfg.format != "jira" {
		return cfg, fmt.Errorf("--format %q: give roadmap or jira", cfg.format)
	}
	return cfg, nil
}

// The answers of POST /v1/imports, as api/openapi.yaml gives them.
type (
	importResult struct {
		ImportID  string `json:"import_id"`
		DryRun    bool   `json:"dry_run"`
		Created   int    `json:"created"`
		Updated   int    `json:"updated"`
		Unchanged int    `json:"unchanged"`
	}
	importProblem struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Errors []struct {
			Line    int    `json:"line"`
			Column  string `json:"column"`
			Message string `json:"message"`
		} `json:"errors"`
	}
)

// maxImportAnswer bounds the answer read: a 422 lists every bad row of a
// file of up to 10 MiB.
const maxImportAnswer = 64 << 20

// runImport posts cfg.file and prints the summary, or every row to fix.
func runImport(ctx context.Context, cfg importConfig, stdout, stderr io.Writer) error {
	f, err := os.Open(cfg.file)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	var body io.Reader = f
	if bar := uploadBar(stderr, info.Size()); bar != nil {
		defer bar.Exit()
		body = io.TeeReader(f, bar)
	}
	api, err := client.NewClient(cfg.server, client.WithBearer(cfg.token))
	if err != nil {
		return err
	}
	params := client.ImportBacklogParams{
		Format: new(client.ImportBacklogParamsFormat(cfg.format)),
		DryRun: new(client.ImportBacklogParamsDryRun(strconv.FormatBool(cfg.dryRun))),
	}
	res, err := api.ImportBacklogWithBody(ctx, &params, "text/csv", body, client.Accept("application/json"),
		func(_ context.Context, req *http.Request) error {
			req.ContentLength = info.Size() // the file's size, whatever reads it on the way
			return nil
		})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, maxImportAnswer))
	if err != nil {
		return err
	}
	if res.StatusCode == http.StatusOK || res.StatusCode == http.StatusCreated {
		var r importResult
		if err := json.Unmarshal(answer, &r); err != nil {
			return fmt.Errorf("POST /v1/imports: the answer is not an import's: %w", err)
		}
		printImport(stdout, cfg.file, r)
		return nil
	}
	var p importProblem
	_ = json.Unmarshal(answer, &p)
	for _, e := range p.Errors {
		where := "line " + strconv.Itoa(e.Line)
		if e.Column != "" {
			where += ", column " + strconv.Quote(e.Column)
		}
		fmt.Fprintf(stderr, "%s: %s: %s\n", termtext.Escape(cfg.file), where, termtext.Escape(e.Message))
	}
	message := p.Detail
	if message == "" {
		message = p.Title
	}
	if message == "" {
		message = string(answer)
	}
	return fmt.Errorf("POST /v1/imports: %s: %s", res.Status, termtext.Escape(message))
}

// printImport prints what an import did, or for a dry run would do.
func printImport(w io.Writer, file string, r importResult) {
	did := "imported"
	if r.DryRun {
		did = "dry run (nothing recorded) of"
	}
	fmt.Fprintf(w, "%s %s: %d created, %d updated, %d unchanged (import %s)\n", did, termtext.Escape(file), r.Created, r.Updated, r.Unchanged, r.ImportID)
}

// uploadBar returns a progress bar of an upload of size bytes on stderr,
// or nil when stderr is not a terminal or the file is small.
func uploadBar(stderr io.Writer, size int64) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if !ok || size < progressFrom || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("uploading"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr, "uploaded; the ledger is recording the rows") }),
	)
}
