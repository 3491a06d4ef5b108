package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/roadmap-ledger/roadmap/api/client"
	"github.com/roadmap-ledger/roadmap/internal/backup"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/safefile"
	"github.com/roadmap-ledger/roadmap/internal/termtext"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

const backupUsage = `usage: roadmap backup --server URL [--token T] --out FILE

Copies the whole ledger at URL, while it runs, into FILE: its latest signed
checkpoint, then every event from the first to the last the server has
applied when the copy starts, exactly as stored. The token's role must read
the raw log (auditor or admin). Restore it with "roadmap restore FILE --data
DIR". The signing key is never in a backup: keep it apart (see
docs/operations.md).

FILE is written under a temporary name and renamed into place once complete
and synced, readable by its owner only.

`

// backupConfig is what backup's flags say.
type backupConfig struct {
	endpoint
	out    string
	client *http.Client
}

func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg backupConfig
	fs := newFlagSet("backup", backupUsage, stderr)
	cfg.register(fs, getenv, "base URL of the ledger (ROADMAP_SERVER)")
	fs.StringVar(&cfg.out, "out", "", "file to write the backup to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("backup takes no arguments, got %q", fs.Args())
	}
	if err := cfg.require(fs, "backup needs --server URL and --out FILE", cfg.out); err != nil {
		return err
	}
	return runBackup(ctx, cfg, stdout, stderr)
}

func runBackup(ctx context.Context, cfg backupConfig, stdout, stderr io.Writer) error {
	head, events, err := fetchBackup(ctx, cfg.endpoint, cfg.client)
	if err != nil {
		return err
	}
	defer events.Close()
	bar := backupBar(stderr)
	var last int64
	err = safefile.Write(cfg.out, 0o600, func(w io.Writer) error {
		var err error
		last, err = backup.Write(w, head, events, func(seq int64) {
			if bar != nil && seq%256 == 0 {
				_ = bar.Set64(seq)
			}
		})
		return err
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %d events to %s (its checkpoint covers %d)\n", last, termtext.Escape(cfg.out), checkpointSize(head))
	return nil
}

// fetchBackup makes every HTTP request of a backup, through the generated
// client: the verifier key, the
// latest signed checkpoint (opened with that key, so a server's answer that
// is not one is refused now, not at restore), and the raw log from the
// first event, whose body the caller reads and closes.
func fetchBackup(ctx context.Context, ep endpoint, hc *http.Client) (backup.Header, io.ReadCloser, error) {
	r := &verify.Remote{Server: ep.server, Token: ep.token, Client: hc}
	var h backup.Header
	key, err := r.CallSmall(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetCheckpointPublicKey(ctx)
	})
	if err != nil {
		return h, nil, fmt.Errorf("the verifier key: %w", err)
	}
	h.VerifierKey = strings.TrimSpace(string(key))
	body, err := r.CallSmall(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetLatestCheckpoint(ctx)
	})
	var se *verify.StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return h, nil, fmt.Errorf("the ledger has no signed checkpoint yet: sign one (POST /v1/checkpoints) and back up again")
	}
	if err != nil {
		return h, nil, fmt.Errorf("the latest checkpoint: %w", err)
	}
	var answer struct {
		Note string `json:"note"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Note == "" {
		return h, nil, fmt.Errorf("the latest checkpoint: the answer holds no signed note")
	}
	cp, err := proof.OpenCheckpoint([]byte(answer.Note), h.VerifierKey)
	if err != nil {
		return h, nil, fmt.Errorf("the latest checkpoint does not verify with the server's key: %w", err)
	}
	h.Origin, h.Checkpoint = cp.Origin, answer.Note
	res, err := r.Call(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetRawEvents(ctx, &client.GetRawEventsParams{After: new(int64)})
	})
	if err != nil {
		return h, nil, fmt.Errorf("the raw log: %w", err)
	}
	return h, res.Body, nil
}

func checkpointSize(h backup.Header) int64 {
	cp, err := proof.OpenCheckpoint([]byte(h.Checkpoint), h.VerifierKey)
	if err != nil {
		return 0
	}
	return cp.Size
}

// backupBar returns a bar counting the events copied on stderr, or nil when
// stderr is not a terminal.
func backupBar(stderr io.Writer) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("backing up events"),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
	)
}
