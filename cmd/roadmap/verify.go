package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// verifyConfig is what verify's flags say.
type verifyConfig struct {
	server          string // base URL of the ledger
	publicKeyFile   string // the pinned verifier key; empty: ask the server
	sinceCheckpoint string // a signed note kept earlier; empty: none
	token           string // sent as a bearer token
	bundle          string // an export bundle to check offline; empty: none
	progressEvery   time.Duration
	client          *http.Client
}

const verifyUsage = `usage: roadmap verify --server URL [--public-key FILE] [--since-checkpoint FILE] [--token T]
       roadmap verify --bundle DIR --public-key FILE

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

--token T (or ROADMAP_TOKEN) is sent with every request as
"Authorization: Bearer T". A server that refuses it (401) or whose role for
it does not allow a read (403) stops verify with a message saying which.

`

func parseVerify(args []string, getenv func(string) string, stderr io.Writer) (verifyConfig, error) {
	cfg := verifyConfig{progressEvery: 2 * time.Second}
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), verifyUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.server, "server", getenv("ROADMAP_SERVER"), "base URL of the ledger, e.g. https://roadmap.example.com (ROADMAP_SERVER)")
	fs.StringVar(&cfg.publicKeyFile, "public-key", "", "file of the verifier key you pinned; without it the server's key is used, which proves nothing against the server")
	fs.StringVar(&cfg.sinceCheckpoint, "since-checkpoint", "", "file of a signed checkpoint note kept earlier (or the JSON answer holding it): check that the latest checkpoint extends it")
	fs.StringVar(&cfg.token, "token", getenv("ROADMAP_TOKEN"), "bearer token sent to the server (ROADMAP_TOKEN)")
	fs.StringVar(&cfg.bundle, "bundle", "", "directory of an export bundle to check offline, with --public-key (no server)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("verify takes no arguments, got %q", fs.Args())
	}
	if cfg.bundle != "" {
		if cfg.publicKeyFile == "" || cfg.sinceCheckpoint != "" {
			return cfg, errors.New("verify --bundle needs --public-key FILE, the key you pinned (never one from the bundle), and takes no --since-checkpoint")
		}
		return cfg, nil
	}
	if cfg.server == "" {
		fs.Usage()
		return cfg, errors.New("verify needs --server URL")
	}
	u, err := url.Parse(cfg.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("--server %q is not an http or https URL", cfg.server)
	}
	cfg.server = strings.TrimRight(cfg.server, "/")
	return cfg, nil
}

func verifyCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseVerify(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.bundle != "" {
		return runVerifyBundle(cfg, stdout, stderr)
	}
	return runVerify(ctx, cfg, stdout, stderr)
}

// verifier talks to one ledger.
type verifier struct {
	cfg    verifyConfig
	client *http.Client
}

// get sends a GET to path and returns the answer when it is 200; any other
// status is a *statusError quoting the problem's detail.
func (v *verifier) get(ctx context.Context, path string) (*http.Response, error) {
	return v.getAs(ctx, path, "")
}

// getAs is get with an Accept header, when accept is not empty.
func (v *verifier) getAs(ctx context.Context, path, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.server+path, nil)
	if err != nil {
		return nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if v.cfg.token != "" {
		req.Header.Set("Authorization", "Bearer "+v.cfg.token)
	}
	res, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		var p struct{ Detail, Title string }
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &p) == nil && (p.Detail != "" || p.Title != "") {
			msg = p.Detail
			if msg == "" {
				msg = p.Title
			}
		}
		return res, &statusError{path: path, status: res.StatusCode, msg: msg, token: v.cfg.token != ""}
	}
	return res, nil
}

// statusError is an answer other than 200.
type statusError struct {
	path   string
	status int
	msg    string // the problem's detail, or its title
	token  bool   // whether the request carried a token
}

func (e *statusError) Error() string {
	said := ""
	if e.msg != "" {
		said = "; the server says: " + e.msg
	}
	switch e.status {
	case http.StatusUnauthorized:
		if !e.token {
			return fmt.Sprintf("the server wants a token (GET %s: 401 Unauthorized) and none was given: pass one with --token T or ROADMAP_TOKEN%s", e.path, said)
		}
		return fmt.Sprintf("the server does not accept the token (GET %s: 401 Unauthorized): check the one given with --token or ROADMAP_TOKEN; it may be mistyped, revoked or for another ledger%s", e.path, said)
	case http.StatusForbidden:
		return fmt.Sprintf("the token's role may not read GET %s (403 Forbidden): ask the ledger's administrators for a token whose role allows it%s", e.path, said)
	}
	return fmt.Sprintf("GET %s: %d %s: %s", e.path, e.status, http.StatusText(e.status), e.msg)
}

// getSmall GETs a small answer whole, within a minute.
func (v *verifier) getSmall(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := v.get(ctx, path)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return body, nil
}

// runVerify verifies the ledger cfg names. It returns nil when every check
// holds, and otherwise the first that fails.
func runVerify(ctx context.Context, cfg verifyConfig, stdout, stderr io.Writer) error {
	v := &verifier{cfg: cfg, client: cfg.client}
	if v.client == nil {
		v.client = &http.Client{} // no overall timeout: the log streams for as long as it is
	}

	// The key.
	var vkey string
	if cfg.publicKeyFile != "" {
		b, err := os.ReadFile(cfg.publicKeyFile)
		if err != nil {
			return fmt.Errorf("the pinned key: %w", err)
		}
		vkey = strings.TrimSpace(string(b))
	} else {
		b, err := v.getSmall(ctx, "/v1/checkpoints/public-key")
		if err != nil {
			return fmt.Errorf("the server's verifier key: %w", err)
		}
		vkey = strings.TrimSpace(string(b))
		fmt.Fprintf(stderr, "roadmap verify: warning: the key %s comes from the server itself and is not pinned; this proves the log matches the server's own checkpoint, not that the server is honest (pin it with --public-key FILE)\n", vkey)
	}

	// The latest checkpoint.
	body, err := v.getSmall(ctx, "/v1/checkpoints/latest")
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusNotFound {
		return errors.New("the ledger has no signed checkpoint yet: nothing to verify the log against (sign one with POST /v1/checkpoints)")
	}
	if err != nil {
		return fmt.Errorf("the latest checkpoint: %w", err)
	}
	var latestJSON struct {
		Note string `json:"note"`
	}
	if err := json.Unmarshal(body, &latestJSON); err != nil || latestJSON.Note == "" {
		return fmt.Errorf("the latest checkpoint: the answer holds no signed note")
	}
	latest, err := proof.OpenCheckpoint([]byte(latestJSON.Note), vkey)
	if err != nil {
		return fmt.Errorf("the latest checkpoint's signature does not verify with the %s key: %w", keyKind(cfg), err)
	}

	// An older checkpoint the auditor kept.
	if cfg.sinceCheckpoint != "" {
		if err := v.checkSince(ctx, vkey, latest); err != nil {
			return err
		}
	}

	// The log.
	checker := verify.NewChecker(latest)
	res, err := v.get(ctx, "/v1/events?after=0")
	if err != nil {
		return fmt.Errorf("the raw log: %w", err)
	}
	defer res.Body.Close()
	prog := newProgress(stderr, cfg.progressEvery, latest.Size)
	err = verify.ReadLines(res.Body, func(seq int64, body []byte) error {
		if err := checker.Add(seq, body); err != nil {
			return err
		}
		prog.tick(seq)
		return nil
	})
	var failure *verify.Failure
	if err != nil && !errors.As(err, &failure) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A read that fails part way is a log cut short: name where.
		return fmt.Errorf("sequence %d: the raw log could not be read past sequence %d: %w", checker.Checked()+1, checker.Checked(), err)
	}
	if err == nil {
		err = checker.Finish()
	}
	if err != nil {
		return err
	}
	prog.done(checker.Checked())

	fmt.Fprintf(stdout, "verified: %d events in %d aggregates; checkpoint %s of size %d, root %v, signed %s by %s (%s key)%s\n",
		checker.Checked(), checker.Aggregates(), latest.Origin, latest.Size, latest.Root,
		latest.Time.Format(time.RFC3339), keyName(vkey), keyKind(cfg), sinceText(cfg))
	return nil
}

// checkSince opens the checkpoint the auditor kept and checks that latest
// extends it.
func (v *verifier) checkSince(ctx context.Context, vkey string, latest proof.Checkpoint) error {
	raw, err := os.ReadFile(v.cfg.sinceCheckpoint)
	if err != nil {
		return fmt.Errorf("the kept checkpoint: %w", err)
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		// The whole JSON answer was kept: its note is the checkpoint.
		var kept struct {
			Note string `json:"note"`
		}
		if err := json.Unmarshal(t, &kept); err != nil || kept.Note == "" {
			return fmt.Errorf("the kept checkpoint %s: a JSON file without a signed note", v.cfg.sinceCheckpoint)
		}
		raw = []byte(kept.Note)
	}
	older, err := proof.OpenCheckpoint(raw, vkey)
	if err != nil {
		return fmt.Errorf("the kept checkpoint %s does not verify with the %s key: %w", v.cfg.sinceCheckpoint, keyKind(v.cfg), err)
	}
	if older.Size > latest.Size {
		return fmt.Errorf("the latest checkpoint covers %d events, fewer than the %d of the kept checkpoint: the log shrank", latest.Size, older.Size)
	}
	body, err := v.getSmall(ctx, fmt.Sprintf("/v1/checkpoints/consistency?from=%d&to=%d", older.Size, latest.Size))
	if err != nil {
		return fmt.Errorf("the consistency proof from %d to %d: %w", older.Size, latest.Size, err)
	}
	var answer struct {
		From, To int64
		Proof    []string
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("the consistency proof from %d to %d: %w", older.Size, latest.Size, err)
	}
	if answer.From != older.Size || answer.To != latest.Size {
		return fmt.Errorf("the consistency proof is from %d to %d, asked from %d to %d", answer.From, answer.To, older.Size, latest.Size)
	}
	p := make(tlog.TreeProof, len(answer.Proof))
	for i, s := range answer.Proof {
		if p[i], err = tlog.ParseHash(s); err != nil {
			return fmt.Errorf("the consistency proof from %d to %d: hash %d: %w", older.Size, latest.Size, i, err)
		}
	}
	if err := proof.VerifyConsistency(older, latest, p); err != nil {
		return fmt.Errorf("the latest checkpoint (size %d) does not extend the kept one (size %d): %w", latest.Size, older.Size, err)
	}
	return nil
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
		return vkey[:i]
	}
	return vkey
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
