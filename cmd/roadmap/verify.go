package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/roadmap-ledger/roadmap/api/client"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/termtext"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// verifyConfig is what verify's flags say.
type verifyConfig struct {
	endpoint               // the ledger's base URL and the bearer token sent to it
	publicKeyFile   string // the pinned verifier key; empty: ask the server
	sinceCheckpoint string // a signed note kept earlier; empty: none
	bundle          string // an export bundle to check offline; empty: none
	public          string // a public view's address to check; empty: none
	progressEvery   time.Duration
	client          *http.Client
}

const verifyUsage = `usage: roadmap verify --server URL [--public-key FILE] [--since-checkpoint FILE] [--token T]
       roadmap verify --bundle DIR --public-key FILE
       roadmap verify --public URL --public-key FILE

Checks the ledger at URL without trusting it: opens its latest signed
checkpoint with the pinned verifier key, streams the whole raw log, checks
each event's bytes and hash, each aggregate's hash chain and that no sequence
is missing, and rebuilds the Merkle root of the events the checkpoint covers.
With --since-checkpoint, also checks that the latest checkpoint extends the
one kept in FILE. Exits 0 when all holds; otherwise names the first sequence
that fails and why.

With --bundle, checks an export bundle (roadmap export) offline, with no
server, against the pinned key only: manifest.txt, checkpoint.txt and
events.jsonl; see docs/operations.md.

With --public, checks a public roadmap page (https://HOST/public/SLUG) as
anyone can, with no token, against the pinned key: the checkpoint it names
is signed, the page says exactly what the ledger signed for it, and each
entry's inclusion proof leads from the event that published it to the
checkpoint's root. The events themselves stay hidden.

--token T (or ROADMAP_TOKEN) is sent with every request as
"Authorization: Bearer T". A server that refuses it (401) or whose role for
it does not allow a read (403) stops verify with a message saying which.

`

func parseVerify(args []string, getenv func(string) string, stderr io.Writer) (verifyConfig, error) {
	cfg := verifyConfig{progressEvery: 2 * time.Second}
	fs := newFlagSet("verify", verifyUsage, stderr)
	cfg.register(fs, getenv, "base URL of the ledger, e.g. https://roadmap.example.com (ROADMAP_SERVER)")
	fs.StringVar(&cfg.publicKeyFile, "public-key", "", "file of the verifier key you pinned; without it the server's key is used, which proves nothing against the server")
	fs.StringVar(&cfg.sinceCheckpoint, "since-checkpoint", "", "file of a signed checkpoint note kept earlier (or the JSON answer holding it): check that the latest checkpoint extends it")
	fs.StringVar(&cfg.bundle, "bundle", "", "directory of an export bundle to check offline, with --public-key (no server)")
	fs.StringVar(&cfg.public, "public", "", "address of a public roadmap page to check, with --public-key (no token)")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	if cfg.public != "" {
		if cfg.publicKeyFile == "" || cfg.bundle != "" || cfg.sinceCheckpoint != "" {
			return cfg, errors.New("verify --public needs --public-key FILE, the key you pinned, and takes no --bundle or --since-checkpoint")
		}
		return cfg, nil
	}
	if cfg.bundle != "" {
		if cfg.publicKeyFile == "" || cfg.sinceCheckpoint != "" {
			return cfg, errors.New("verify --bundle needs --public-key FILE, the key you pinned (never one from the bundle), and takes no --since-checkpoint")
		}
		return cfg, nil
	}
	return cfg, cfg.require(fs, "verify needs --server URL")
}

func verifyCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseVerify(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.bundle != "" {
		return runVerifyBundle(cfg, stdout, stderr)
	}
	if cfg.public != "" {
		return runVerifyPublic(ctx, cfg, stdout)
	}
	return runVerify(ctx, cfg, stdout, stderr)
}

// remote returns the ledger cfg names, reached with cfg's token and client.
func (cfg verifyConfig) remote() *verify.Remote {
	r := &verify.Remote{Server: cfg.server, Token: cfg.token, Client: cfg.client}
	if r.Client == nil {
		r.Client = &http.Client{} // no overall timeout: the log streams for as long as it is
	}
	return r
}

// runVerify verifies the ledger cfg names. It returns nil when every check
// holds, and otherwise the first that fails.
func runVerify(ctx context.Context, cfg verifyConfig, stdout, stderr io.Writer) error {
	r := cfg.remote()

	// The key.
	var vkey string
	if cfg.publicKeyFile != "" {
		b, err := os.ReadFile(cfg.publicKeyFile)
		if err != nil {
			return fmt.Errorf("the pinned key: %w", err)
		}
		vkey = strings.TrimSpace(string(b))
	} else {
		b, err := r.CallSmall(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
			return c.GetCheckpointPublicKey(ctx)
		})
		if err != nil {
			return fmt.Errorf("the server's verifier key: %w", err)
		}
		vkey = strings.TrimSpace(string(b))
		fmt.Fprintf(stderr, "roadmap verify: warning: the key %s comes from the server itself and is not pinned; this proves the log matches the server's own checkpoint, not that the server is honest (pin it with --public-key FILE)\n", termtext.Escape(vkey))
	}
	opts := verify.Options{VerifierKey: vkey, KeyKind: keyKind(cfg)}

	// An older checkpoint the auditor kept.
	if cfg.sinceCheckpoint != "" {
		older, err := openKept(cfg, vkey)
		if err != nil {
			return err
		}
		opts.Since = &older
	}

	prog := newProgress(stderr, cfg.progressEvery, 0)
	opts.Progress = func(seq, size int64) {
		prog.total = size
		prog.tick(seq)
	}
	res, err := r.Verify(ctx, opts)
	if err != nil {
		return err
	}
	prog.done(res.Events)

	latest := res.Checkpoint
	fmt.Fprintf(stdout, "verified: %d events in %d aggregates; checkpoint %s of size %d, root %v, signed %s by %s (%s key)%s\n",
		res.Events, res.Aggregates, termtext.Escape(latest.Origin), latest.Size, latest.Root,
		latest.Time.Format(time.RFC3339), keyName(vkey), keyKind(cfg), sinceText(cfg))
	return nil
}

// runVerifyPublic checks the public page cfg names against the pinned key.
func runVerifyPublic(ctx context.Context, cfg verifyConfig, stdout io.Writer) error {
	b, err := os.ReadFile(cfg.publicKeyFile)
	if err != nil {
		return fmt.Errorf("the pinned key: %w", err)
	}
	vkey := strings.TrimSpace(string(b))
	r, slug, err := verify.PublicRemote(cfg.public)
	if err != nil {
		return err
	}
	r.Client = cfg.client
	res, err := r.CheckPublic(ctx, slug, vkey)
	if err != nil {
		return err
	}
	cp := res.Checkpoint
	fmt.Fprintf(stdout, "verified: public view %s at sequence %d: %d entries, each published by an event in checkpoint %s of size %d, root %v, signed %s by %s (pinned key)\n",
		termtext.Escape(res.Slug), res.Sequence, res.Entries, termtext.Escape(cp.Origin), cp.Size, cp.Root, cp.Time.Format(time.RFC3339), keyName(vkey))
	return nil
}

// openKept opens the checkpoint the auditor kept in cfg.sinceCheckpoint: a
// signed note, or the JSON answer holding one.
func openKept(cfg verifyConfig, vkey string) (proof.Checkpoint, error) {
	raw, err := os.ReadFile(cfg.sinceCheckpoint)
	if err != nil {
		return proof.Checkpoint{}, fmt.Errorf("the kept checkpoint: %w", err)
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		// The whole JSON answer was kept: its note is the checkpoint.
		var kept struct {
			Note string `json:"note"`
		}
		if err := json.Unmarshal(t, &kept); err != nil || kept.Note == "" {
			return proof.Checkpoint{}, fmt.Errorf("the kept checkpoint %s: a JSON file without a signed note", cfg.sinceCheckpoint)
		}
		raw = []byte(kept.Note)
	}
	older, err := proof.OpenCheckpoint(raw, vkey)
	if err != nil {
		return proof.Checkpoint{}, fmt.Errorf("the kept checkpoint %s does not verify with the %s key: %w", cfg.sinceCheckpoint, keyKind(cfg), err)
	}
	return older, nil
}

func keyKind(cfg verifyConfig) string {
	if cfg.publicKeyFile != "" {
		return "pinned"
	}
	return "server's unpinned"
}

// keyName returns the name and hash of a verifier key, without the key.
func keyName(vkey string) string {
	if i := strings.LastIndexByte(vkey, '+'); i > 0 {
		vkey = vkey[:i]
	}
	return termtext.Escape(vkey)
}

func sinceText(cfg verifyConfig) string {
	if cfg.sinceCheckpoint == "" {
		return ""
	}
	return "; it extends the kept checkpoint"
}

// progress writes the position on long runs, every so often.
type progress struct {
	w       io.Writer
	every   time.Duration
	total   int64
	start   time.Time
	next    time.Time
	written bool
}

func newProgress(w io.Writer, every time.Duration, total int64) *progress {
	now := time.Now()
	return &progress{w: w, every: every, total: total, start: now, next: now.Add(every)}
}

func (p *progress) tick(seq int64) {
	if p.every <= 0 || seq%256 != 0 {
		return
	}
	now := time.Now()
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(p.every)
	p.written = true
	elapsed := now.Sub(p.start).Seconds()
	rate := float64(seq) / elapsed
	line := fmt.Sprintf("roadmap verify: at sequence %d", seq)
	if p.total > 0 {
		line += fmt.Sprintf(" of %d (%.0f%%)", p.total, 100*float64(min(seq, p.total))/float64(p.total))
	}
	line += fmt.Sprintf(", %s events/s", strconv.FormatFloat(rate, 'f', 0, 64))
	if p.total > seq && rate > 0 {
		left := time.Duration(float64(p.total-seq) / rate * float64(time.Second))
		line += ", about " + left.Round(time.Second).String() + " left"
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) done(seq int64) {
	if !p.written {
		return
	}
	elapsed := time.Since(p.start)
	fmt.Fprintf(p.w, "roadmap verify: %d events in %s, %.0f events/s\n", seq, elapsed.Round(time.Millisecond), float64(seq)/elapsed.Seconds())
}
