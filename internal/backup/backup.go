// Package backup writes a copy of the whole ledger into one file and
// restores it into a new data directory, checked before it is accepted.
//
// A backup file is JSON lines:
//
//	{"format":"roadmap-backup","version":1,"origin":...,"verifier_key":...,"checkpoint":NOTE}
//	{"seq":1,"event":BODY}
//	...
//	{"seq":N,"event":BODY}
//	{"end":N}
//
// The first line names the log (its checkpoints' origin and verifier key)
// and holds the latest signed checkpoint note when the copy began; the
// events are the raw log's lines (eventlog.AppendRawLine), the stored bytes
// exactly, from sequence 1 to N without a gap; the last line says where the
// copy ends, so a file cut short is refused. The signing key is never in a
// backup: only its public half.
package backup

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/verify"
)

// Format and Version name the file format in its first line.
const (
	Format  = "roadmap-backup"
	Version = 1
)

// ErrInvalid marks a backup file that is not one, is cut short or does not
// verify.
var ErrInvalid = errors.New("not a valid backup")

// Header is a backup's first line.
type Header struct {
	Format      string `json:"format"`
	Version     int    `json:"version"`
	Origin      string `json:"origin"`
	VerifierKey string `json:"verifier_key"`
	// Checkpoint is the latest signed checkpoint note when the copy began;
	// it covers the events up to its size, at most the copy's last.
	Checkpoint string `json:"checkpoint"`
}

type trailer struct {
	End *int64 `json:"end"`
}

// Write writes a backup to w: h, then the raw log read from events (the
// lines GET /v1/events answers), then the line that ends it. progress, when
// not nil, is told each sequence written. It returns the last sequence
// written, and an error when the raw log has a gap or a line that is not
// one of the raw log's.
func Write(w io.Writer, h Header, events io.Reader, progress func(seq int64)) (int64, error) {
	h.Format, h.Version = Format, Version
	head, err := json.Marshal(h)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.Write(append(head, '\n'))
	var last int64
	line := make([]byte, 0, 4096)
	err = verify.ReadLines(events, func(seq int64, body []byte) error {
		if seq != last+1 {
			return fmt.Errorf("the raw log skips from sequence %d to %d", last, seq)
		}
		last = seq
		line = eventlog.AppendRawLine(line[:0], uint64(seq), body)
		if _, err := bw.Write(line); err != nil {
			return err
		}
		if progress != nil {
			progress(seq)
		}
		return nil
	})
	if err != nil {
		return last, err
	}
	fmt.Fprintf(bw, "{\"end\":%d}\n", last)
	return last, bw.Flush()
}

// Checked is what Check proved of a backup.
type Checked struct {
	Header Header
	// Checkpoint is the backup's checkpoint, opened with the verifier key.
	Checkpoint proof.Checkpoint
	// Events is the backup's last sequence, Aggregates how many aggregates
	// its chains are.
	Events     int64
	Aggregates int
}

// Check reads a backup from r and verifies it: its checkpoint's signature
// with vkey (the key the operator pinned; the backup's own when empty, which
// proves only that the backup agrees with itself), every event's bytes and
// hash, every aggregate's chain, that no sequence is missing, the Merkle
// root of the events the checkpoint covers, and that the file ends where its
// last line says. It returns an error wrapping ErrInvalid (or a
// *verify.Failure naming the sequence) at the first check that fails.
func Check(r io.Reader, vkey string, fn func(seq int64, body []byte) error) (Checked, error) {
	var c Checked
	br := bufio.NewReaderSize(r, 1<<20)
	first, err := readLine(br)
	if err != nil {
		return c, fmt.Errorf("%w: no first line: %v", ErrInvalid, err)
	}
	if err := json.Unmarshal(first, &c.Header); err != nil || c.Header.Format != Format {
		return c, fmt.Errorf("%w: the first line does not say %q", ErrInvalid, Format)
	}
	if c.Header.Version != Version {
		return c, fmt.Errorf("%w: version %d; this roadmap reads version %d", ErrInvalid, c.Header.Version, Version)
	}
	if vkey == "" {
		vkey = c.Header.VerifierKey
	}
	if c.Checkpoint, err = proof.OpenCheckpoint([]byte(c.Header.Checkpoint), vkey); err != nil {
		return c, fmt.Errorf("%w: its checkpoint's signature does not verify: %v", ErrInvalid, err)
	}
	checker := verify.NewChecker(c.Checkpoint)
	var end *int64
	for {
		line, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, fmt.Errorf("%w: after sequence %d: %v", ErrInvalid, checker.Checked(), err)
		}
		if end != nil {
			return c, fmt.Errorf("%w: it goes on after its end line", ErrInvalid)
		}
		if bytes.HasPrefix(line, []byte(`{"end":`)) {
			var t trailer
			if err := json.Unmarshal(line, &t); err != nil || t.End == nil {
				return c, fmt.Errorf("%w: a malformed end line", ErrInvalid)
			}
			end = t.End
			continue
		}
		seq, body, err := eventlog.ParseRawLine(line)
		if err != nil {
			return c, fmt.Errorf("%w: after sequence %d: %v", ErrInvalid, checker.Checked(), err)
		}
		if err := checker.Add(seq, body); err != nil {
			return c, err
		}
		if fn != nil {
			if err := fn(seq, body); err != nil {
				return c, err
			}
		}
	}
	c.Events, c.Aggregates = checker.Checked(), checker.Aggregates()
	if end == nil {
		return c, fmt.Errorf("%w: it was cut short after sequence %d (no end line)", ErrInvalid, checker.Checked())
	}
	if *end != checker.Checked() {
		return c, fmt.Errorf("%w: it ends at sequence %d but says %d", ErrInvalid, checker.Checked(), *end)
	}
	if err := checker.Finish(); err != nil {
		return c, err
	}
	return c, nil
}

// readLine reads one line without its line feed; a last line without one is
// the file cut short.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := bytes.Clone(line)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(long) > verify.MaxLine {
				return nil, fmt.Errorf("a line longer than %d bytes", verify.MaxLine)
			}
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err == io.EOF && len(line) > 0 {
		return nil, errors.New("the last line has no line feed: the file was cut short")
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(line, []byte("\n")), nil
}

// Restored is what Restore did.
type Restored = Checked

// Restore checks the backup in file (Check, with vkey) and only then
// restores it into dir, which must be empty or not exist yet: the same
// events at the same sequences, in a new embedded JetStream there. It
// writes no signing key: give the ledger the original one (see
// docs/operations.md). On a failure after the check, what it wrote in dir
// is removed. It returns an error when the backup does not verify, dir
// holds anything, or the events cannot be stored.
func Restore(ctx context.Context, file, dir, vkey string) (Restored, error) {
	if err := emptyDir(dir); err != nil {
		return Restored{}, err
	}
	f, err := os.Open(file)
	if err != nil {
		return Restored{}, err
	}
	defer f.Close()
	checked, err := Check(f, vkey, nil)
	if err != nil {
		return checked, err
	}
	if want := "roadmap-ledger/" + eventlog.DefaultStream; checked.Checkpoint.Origin != want {
		return checked, fmt.Errorf("%w: it is a copy of the log %q; this roadmap keeps %q", ErrInvalid, checked.Checkpoint.Origin, want)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return checked, err
	}
	made, err := makeDir(dir)
	if err != nil {
		return checked, err
	}
	if err := write(ctx, f, dir, vkey); err != nil {
		made.undo()
		return checked, err
	}
	return checked, nil
}

// write reads the backup again and stores its events in a new log in dir.
// The file was checked already; it is checked again as it is read, so a
// file changed between the two reads is refused too.
func write(ctx context.Context, r io.Reader, dir, vkey string) error {
	log, err := eventlog.Open(ctx, eventlog.Config{DataDir: dir})
	if err != nil {
		return err
	}
	defer log.Close()
	restorer, err := log.Restorer(ctx)
	if err != nil {
		return err
	}
	if _, err := Check(r, vkey, func(seq int64, body []byte) error {
		return restorer.Add(ctx, uint64(seq), body)
	}); err != nil {
		return err
	}
	return restorer.Flush(ctx)
}

// emptyDir checks that dir is empty or does not exist.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s holds %d entries: restore only into an empty or new directory", dir, len(entries))
	}
	return nil
}

// made is a directory Restore made or found empty, to empty again on a
// failure.
type made struct {
	dir     string
	created bool
}

func makeDir(dir string) (made, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return made{dir, true}, os.MkdirAll(dir, 0o750)
	}
	return made{dir, false}, nil
}

func (m made) undo() {
	if m.created {
		os.RemoveAll(m.dir)
		return
	}
	entries, _ := os.ReadDir(m.dir)
	for _, e := range entries {
		os.RemoveAll(m.dir + string(os.PathSeparator) + e.Name())
	}
}
