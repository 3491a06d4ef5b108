package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/bits"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/api/client"
	"github.com/roadmap-ledger/roadmap/internal/audit"
	"github.com/roadmap-ledger/roadmap/internal/cliflag"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/safefile"
	"github.com/roadmap-ledger/roadmap/internal/termtext"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// The files of an export bundle.
const (
	bundleManifest   = "manifest.txt"
	bundleCheckpoint = "checkpoint.txt"
	bundleEvents     = "events.jsonl"
	bundleDecisions  = "decisions.csv"

	// manifestMax is the largest manifest.txt or checkpoint.txt read.
	manifestMax = 1 << 20
	// eventsPage is the most events one GET /v1/events may ask for.
	eventsPage = 1_000_000
)

// exportConfig is what export's flags say.
type exportConfig struct {
	endpoint
	out, since, until string
	// force lets the bundle's files replace those of a bundle already in
	// out; without it a directory that holds anything is refused.
	force  bool
	client *http.Client
}

const exportUsage = `usage: roadmap export --server URL [--token T] --out DIR [--force] [--since T] [--until T]

Writes an export bundle of the ledger at URL to DIR, for an auditor to check
offline with "roadmap verify --bundle DIR --public-key FILE":

  manifest.txt    the server's manifest: the range of sequences, the compact
                  range of the events before it, and the size and SHA-256 of
                  checkpoint.txt and events.jsonl
  checkpoint.txt  the signed checkpoint the range ends at
  events.jsonl    the raw log of the range, as GET /v1/events gives it
  decisions.csv   the audit trail of since..until as CSV: derived from the
                  events, informational, not covered by the manifest

The range starts at the first event at or after --since and ends at the
largest signed checkpoint at or before --until (RFC 3339 times, both
optional). The downloaded bytes are checked against the manifest before
export finishes.

DIR is created (readable by its owner only) when missing, and refused when
it already holds anything, unless --force is given. Each file is written
under a temporary name and renamed into place once complete and synced: a
symbolic link planted in DIR is replaced, never written through, and files
are readable by their owner only.

--token T (or ROADMAP_TOKEN) is sent with every request as
"Authorization: Bearer T". A server that refuses it (401) or whose role for
it does not allow a read (403) stops export with a message saying which.

`

func parseExport(args []string, getenv func(string) string, stderr io.Writer) (exportConfig, error) {
	var cfg exportConfig
	fs := newFlagSet("export", exportUsage, stderr)
	cfg.register(fs, getenv, "base URL of the ledger (ROADMAP_SERVER)")
	fs.StringVar(&cfg.out, "out", "", "directory to write the bundle to (created if missing; refused if it holds anything, unless --force)")
	fs.BoolVar(&cfg.force, "force", false, "write the bundle into a directory that already holds files, replacing the bundle's files")
	fs.StringVar(&cfg.since, "since", "", "RFC 3339 time: the export starts at the first event at or after it")
	fs.StringVar(&cfg.until, "until", "", "RFC 3339 time: the export ends at the largest checkpoint at or before it")
	if err := cliflag.Parse(fs, args); err != nil {
		return cfg, err
	}
	if err := cfg.require(fs, "export needs --server URL and --out DIR", cfg.out); err != nil {
		return cfg, err
	}
	for name, v := range map[string]string{"--since": cfg.since, "--until": cfg.until} {
		if _, err := time.Parse(time.RFC3339Nano, v); v != "" && err != nil {
			return cfg, fmt.Errorf("%s %q is not an RFC 3339 time such as 2026-11-01T09:00:00Z", name, v)
		}
	}
	return cfg, nil
}

func exportCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseExport(args, getenv, stderr)
	if err != nil {
		return err
	}
	return runExport(ctx, cfg, stdout, stderr)
}

// manifest is manifest.txt, parsed.
type manifest struct {
	origin     string
	from, to   int64
	checkpoint fileSum // checkpoint.txt
	prefix     []tlog.Hash
	events     fileSum // events.jsonl
}

// fileSum is a file's size and SHA-256 as the manifest gives them.
type fileSum struct {
	size int64
	sum  [sha256.Size]byte
}

func (f fileSum) check(name string, size int64, sum []byte) error {
	if size != f.size {
		return fmt.Errorf("%s is %d bytes, the manifest says %d: the file was changed, cut or extended", name, size, f.size)
	}
	if !bytes.Equal(sum, f.sum[:]) {
		return fmt.Errorf("%s: its SHA-256 %x is not the manifest's %x: the file was changed", name, sum, f.sum)
	}
	return nil
}

// parseManifest reads a manifest's text, strictly: exactly the six lines
// the server writes, each ending in a line feed, numbers in decimal without
// leading zeros, hashes in lowercase hex and padded base64.
func parseManifest(text []byte) (manifest, error) {
	var m manifest
	bad := func(format string, args ...any) (manifest, error) {
		return manifest{}, fmt.Errorf("malformed manifest: "+format, args...)
	}
	s := string(text)
	if !strings.HasSuffix(s, "\n") {
		return bad("it does not end in a line feed")
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != 6 {
		return bad("%d lines, want 6", len(lines))
	}
	if lines[0] != audit.ExportManifestVersion {
		return bad("the first line is %.40q, want %q", lines[0], audit.ExportManifestVersion)
	}
	num := func(f string) (int64, bool) {
		n, err := strconv.ParseInt(f, 10, 64)
		return n, err == nil && n >= 0 && strconv.FormatInt(n, 10) == f
	}
	sumOf := func(line, name string) (fileSum, bool) {
		f := strings.Split(line, " ")
		if len(f) != 4 || f[1] != name {
			return fileSum{}, false
		}
		size, ok := num(f[2])
		b, err := hex.DecodeString(f[3])
		if !ok || err != nil || len(b) != sha256.Size || hex.EncodeToString(b) != f[3] {
			return fileSum{}, false
		}
		out := fileSum{size: size}
		copy(out.sum[:], b)
		return out, true
	}
	var ok bool
	if m.origin, ok = strings.CutPrefix(lines[1], "origin "); !ok || m.origin == "" || strings.ContainsAny(m.origin, " \t") {
		return bad("line 2 is not origin <origin>")
	}
	r := strings.Split(lines[2], " ")
	if len(r) != 3 || r[0] != "range" {
		return bad("line 3 is not range <from> <to>")
	}
	var ok1, ok2 bool
	m.from, ok1 = num(r[1])
	m.to, ok2 = num(r[2])
	if !ok1 || !ok2 || m.from < 1 || m.to < m.from {
		return bad("line 3: the range %q is not 1 <= from <= to", lines[2])
	}
	if !strings.HasPrefix(lines[3], "checkpoint ") {
		return bad("line 4 is not checkpoint %s <size> <sha256>", bundleCheckpoint)
	}
	if m.checkpoint, ok = sumOf(lines[3], bundleCheckpoint); !ok {
		return bad("line 4 is not checkpoint %s <size> <sha256>", bundleCheckpoint)
	}
	p := strings.Split(lines[4], " ")
	if p[0] != "prefix" {
		return bad("line 5 is not prefix <hashes>")
	}
	if want := bits.OnesCount64(uint64(m.from - 1)); len(p)-1 != want {
		return bad("line 5 has %d prefix hashes, the range from %d needs %d", len(p)-1, m.from, want)
	}
	for _, f := range p[1:] {
		h, err := tlog.ParseHash(f)
		if err != nil || h.String() != f {
			return bad("line 5: %.60q is not a base64 SHA-256 hash", f)
		}
		m.prefix = append(m.prefix, h)
	}
	if !strings.HasPrefix(lines[5], "file ") {
		return bad("line 6 is not file %s <size> <sha256>", bundleEvents)
	}
	if m.events, ok = sumOf(lines[5], bundleEvents); !ok {
		return bad("line 6 is not file %s <size> <sha256>", bundleEvents)
	}
	return m, nil
}

// runExport writes the bundle cfg asks for.
func runExport(ctx context.Context, cfg exportConfig, stdout, stderr io.Writer) error {
	v := verifyConfig{endpoint: cfg.endpoint, client: cfg.client}.remote()
	var span client.GetExportManifestParams
	for _, f := range []struct {
		flag string
		into **time.Time
	}{{cfg.since, &span.Since}, {cfg.until, &span.Until}} {
		if f.flag != "" {
			at, err := time.Parse(time.RFC3339Nano, f.flag)
			if err != nil {
				return err // parseExport checked it
			}
			*f.into = &at
		}
	}
	body, err := v.CallSmall(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetExportManifest(ctx, &span)
	})
	if err != nil {
		return fmt.Errorf("the manifest: %w", err)
	}
	var answer struct {
		Manifest, Checkpoint string
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("the manifest: %w", err)
	}
	// The manifest is checked against the pinned key offline, by verify
	// --bundle; here it is only read.
	text, _, _ := strings.Cut(answer.Manifest, "\n\n")
	m, err := parseManifest([]byte(text + "\n"))
	if err != nil {
		return fmt.Errorf("the server's manifest: %w", err)
	}
	cpSum := sha256.Sum256([]byte(answer.Checkpoint))
	if err := m.checkpoint.check(bundleCheckpoint, int64(len(answer.Checkpoint)), cpSum[:]); err != nil {
		return fmt.Errorf("the server's answer: %w", err)
	}

	if err := safefile.PrepareDir(cfg.out, cfg.force); err != nil {
		if errors.Is(err, safefile.ErrNotEmpty) {
			return fmt.Errorf("%w; give --force to overwrite the bundle's files in it", err)
		}
		return err
	}
	if err := safefile.WriteBytes(filepath.Join(cfg.out, bundleManifest), 0, []byte(answer.Manifest)); err != nil {
		return err
	}
	if err := safefile.WriteBytes(filepath.Join(cfg.out, bundleCheckpoint), 0, []byte(answer.Checkpoint)); err != nil {
		return err
	}

	// events.jsonl, streamed to disk a page at a time, hashed on the way.
	h := sha256.New()
	var size int64
	err = safefile.Write(filepath.Join(cfg.out, bundleEvents), 0, func(f io.Writer) error {
		for after := m.from - 1; after < m.to; {
			limit := min(m.to-after, eventsPage)
			page := client.GetRawEventsParams{After: &after, Limit: new(int(limit))}
			res, err := v.Call(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
				return c.GetRawEvents(ctx, &page)
			})
			if err != nil {
				return fmt.Errorf("the raw log: %w", err)
			}
			n, err := io.Copy(io.MultiWriter(f, h), res.Body)
			res.Body.Close()
			if err != nil {
				return fmt.Errorf("the raw log after sequence %d: %w", after, err)
			}
			size += n
			after += limit
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := m.events.check(bundleEvents, size, h.Sum(nil)); err != nil {
		return fmt.Errorf("the download does not match the server's manifest: %w", err)
	}

	// decisions.csv: informational.
	if err := downloadCSV(ctx, v, span, filepath.Join(cfg.out, bundleDecisions)); err != nil {
		return fmt.Errorf("%s: %w", bundleDecisions, err)
	}
	fmt.Fprintf(stdout, "exported sequences %d to %d (%d bytes of events) to %s; checkpoint of size %d by %s\n",
		m.from, m.to, size, termtext.Escape(cfg.out), m.to, termtext.Escape(m.origin))
	return nil
}

// downloadCSV writes the audit trail of span's since and until as CSV.
func downloadCSV(ctx context.Context, v *verify.Remote, span client.GetExportManifestParams, path string) error {
	res, err := v.Call(ctx, func(ctx context.Context, c *client.Client) (*http.Response, error) {
		return c.GetAudit(ctx, &client.GetAuditParams{Since: span.Since, Until: span.Until}, client.Accept("text/csv"))
	})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	return safefile.Write(path, 0, func(f io.Writer) error {
		_, err := io.Copy(f, res.Body)
		return err
	})
}

// runVerifyBundle checks an export bundle offline, with the pinned key only.
func runVerifyBundle(cfg verifyConfig, stdout, stderr io.Writer) error {
	b, err := os.ReadFile(cfg.publicKeyFile)
	if err != nil {
		return fmt.Errorf("the pinned key: %w", err)
	}
	vkey := strings.TrimSpace(string(b))
	dir := cfg.bundle
	read := func(name string) ([]byte, error) {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, manifestMax+1))
		if err == nil && len(data) > manifestMax {
			err = fmt.Errorf("%s is larger than %d bytes", name, manifestMax)
		}
		return data, err
	}
	signed, err := read(bundleManifest)
	if err != nil {
		return err
	}
	text, _, err := proof.OpenNote(signed, vkey)
	if err != nil {
		return fmt.Errorf("%s: the manifest's signature does not verify with the pinned key: %w", bundleManifest, err)
	}
	m, err := parseManifest([]byte(text))
	if err != nil {
		return fmt.Errorf("%s: %w", bundleManifest, err)
	}
	note, err := read(bundleCheckpoint)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(note)
	if err := m.checkpoint.check(bundleCheckpoint, int64(len(note)), sum[:]); err != nil {
		return err
	}
	cp, err := proof.OpenCheckpoint(note, vkey)
	if err != nil {
		return fmt.Errorf("%s does not verify with the pinned key: %w", bundleCheckpoint, err)
	}
	if cp.Origin != m.origin || cp.Size != m.to {
		return fmt.Errorf("%s: the checkpoint is of %s at size %d, the manifest says %s to %d", bundleManifest, cp.Origin, cp.Size, m.origin, m.to)
	}

	f, err := os.Open(filepath.Join(dir, bundleEvents))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	counted := &countWriter{h: h}
	ck, err := verify.NewRangeChecker(cp, m.from, m.prefix)
	if err != nil {
		return fmt.Errorf("%s: %w", bundleManifest, err)
	}
	prog := newProgress(stderr, cfg.progressEvery, m.to)
	err = verify.ReadLines(io.TeeReader(f, counted), func(seq int64, body []byte) error {
		if err := ck.Add(seq, body); err != nil {
			return err
		}
		prog.tick(seq)
		return nil
	})
	if err == nil {
		err = ck.Finish()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", bundleEvents, err)
	}
	if err := m.events.check(bundleEvents, counted.n, h.Sum(nil)); err != nil {
		return err
	}
	prog.done(ck.Checked())
	fmt.Fprintf(stdout, "verified bundle %s: events %d to %d (%d aggregates, %d chains starting before the range, unchecked); checkpoint %s of size %d, root %v, signed %s by %s (pinned key)\n",
		termtext.Escape(dir), m.from, m.to, ck.Aggregates(), ck.OpenChains(), termtext.Escape(cp.Origin), cp.Size, cp.Root, cp.Time.Format(time.RFC3339), keyName(vkey))
	return nil
}

type countWriter struct {
	h hash.Hash
	n int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.h.Write(p)
}
