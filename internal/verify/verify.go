// Package verify checks a copy of the ledger's log against a signed
// checkpoint, the way an auditor who does not trust the server does: every
// event's stored bytes, every per-aggregate hash chain, the sequences without
// gaps, and the Merkle root of the first size events against the checkpoint's
// root. It streams: a Checker holds the compact range of the tree (at most 63
// hashes) and the last hash of each aggregate, never a copy of the events, so
// its memory does not grow with the length of the log.
//
// The checkpoint must already be opened with the key the auditor pinned
// (proof.OpenCheckpoint): a Checker only checks that the log is the one that
// checkpoint signs.
package verify

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
)

// MaxLine is the longest line of the raw log a reader accepts.
const MaxLine = 64 << 20

// Failure is why the log does not verify, at the first sequence that fails.
type Failure struct {
	// Seq is the first sequence that fails (for a root that does not match,
	// the checkpoint's size; for a log cut short, the first missing one).
	Seq int64
	// Reason says why, without the sequence.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

func (f *Failure) Error() string {
	return fmt.Sprintf("sequence %d: %s", f.Seq, f.Reason)
}

func (f *Failure) Unwrap() error { return f.Err }

// Checker checks the events of a log, pushed in order, against one
// checkpoint: from sequence 1 (NewChecker), or from a later sequence given
// the compact range of the events before it (NewRangeChecker).
type Checker struct {
	cp      proof.Checkpoint
	compact proof.Compact
	from    int64                // the first sequence checked
	last    int64                // the last sequence checked
	heads   map[aggregate]string // the hash of each aggregate's last event
	rootOK  bool
	// ranged: the log is the range from..cp.Size, no further, and an
	// aggregate's first event in it may link to an event before it.
	ranged     bool
	openChains int
}

// NewChecker returns a Checker of the log from sequence 1 against the
// checkpoint cp. The log may go on beyond cp.Size: those events are
// checked too, but not against the root.
func NewChecker(cp proof.Checkpoint) *Checker {
	c := &Checker{cp: cp, from: 1, heads: make(map[aggregate]string)}
	if cp.Size == 0 && cp.Root == proof.EmptyRoot {
		c.rootOK = true
	}
	return c
}

// NewRangeChecker returns a Checker of the events from sequence from to
// cp.Size against cp, given prefix, the compact range of the events before
// from (proof.Compact.Hashes), as an export bundle holds a range of the log.
// It checks what NewChecker's checks, but an aggregate's first event in the
// range may link to an event before it, which the range does not hold: its
// prev_hash is accepted unchecked (OpenChains counts them); the root still
// binds every event, and the prefix. An event beyond cp.Size fails. From
// sequence 1, with an empty prefix, it checks what NewChecker's does, up to
// cp.Size. It returns an error when prefix is not a compact range of from-1
// events or the range starts beyond cp.Size+1.
func NewRangeChecker(cp proof.Checkpoint, from int64, prefix []tlog.Hash) (*Checker, error) {
	if from < 1 || from-1 > cp.Size {
		return nil, fmt.Errorf("the range from sequence %d is not within the checkpoint of size %d", from, cp.Size)
	}
	compact, err := proof.NewCompact(from-1, prefix)
	if err != nil {
		return nil, err
	}
	c := &Checker{cp: cp, compact: *compact, from: from, last: from - 1, heads: make(map[aggregate]string), ranged: true}
	if cp.Size == from-1 && compact.Root() == cp.Root {
		c.rootOK = true
	}
	return c, nil
}

// Checked returns the last sequence checked.
func (c *Checker) Checked() int64 { return c.last }

// Checkpoint returns the checkpoint the log is checked against.
func (c *Checker) Checkpoint() proof.Checkpoint { return c.cp }

// Aggregates returns how many aggregates the events so far belong to.
func (c *Checker) Aggregates() int { return len(c.heads) }

// OpenChains returns how many aggregates' first events in a range
// (NewRangeChecker) link to an event before it: their prev_hash was
// accepted unchecked. It is 0 from sequence 1.
func (c *Checker) OpenChains() int { return c.openChains }

// Add checks the event at sequence seq, whose stored body is body. It returns
// a *Failure at the first event that does not verify; after one, the Checker
// must not be used again.
func (c *Checker) Add(seq int64, body []byte) error {
	return c.add(inspect(seq, body))
}

// add checks, in log order, what inspect found of one event: its place in
// the sequence first, then its bytes, its chain and the root.
func (c *Checker) add(ev inspected) error {
	seq := ev.seq
	if c.ranged && seq > c.cp.Size {
		return &Failure{Seq: seq, Reason: fmt.Sprintf("beyond the checkpoint of size %d the range ends at", c.cp.Size)}
	}
	want := c.last + 1
	if seq != want {
		if seq < want {
			return &Failure{Seq: seq, Reason: fmt.Sprintf("out of order: comes after sequence %d", c.last)}
		}
		return &Failure{Seq: want, Reason: fmt.Sprintf("missing: got %d (an event was dropped)", seq)}
	}
	if ev.err != nil {
		return &Failure{Seq: seq, Reason: "event bytes do not verify: " + ev.err.Error(), Err: ev.err}
	}
	prev, seen := c.heads[ev.key]
	switch {
	case !seen && c.from > 1:
		// The aggregate's first event in the range: an earlier one, if it
		// links to one, is before the range.
		if ev.prevHash != "" {
			c.openChains++
		}
	case ev.prevHash != prev:
		aggType, aggID := ev.key.typ, ev.key.id
		reason := fmt.Sprintf("the chain of %s %s is broken: prev_hash %q, but the aggregate's previous event has hash %q", aggType, aggID, ev.prevHash, prev)
		if prev == "" {
			reason = fmt.Sprintf("the chain of %s %s is broken: prev_hash %q, but this is the aggregate's first event (an earlier one is missing)", aggType, aggID, ev.prevHash)
		}
		return &Failure{Seq: seq, Reason: reason, Err: eventlog.ErrTampered}
	}
	c.heads[ev.key] = ev.hash
	c.last = seq
	if seq <= c.cp.Size {
		c.compact.Append(ev.leaf)
		if seq == c.cp.Size {
			if got := c.compact.Root(); got != c.cp.Root {
				return &Failure{Seq: seq, Reason: fmt.Sprintf("%s, %v, does not match the checkpoint's root %v: %s", c.rootOf(seq), got, c.cp.Root, c.rootChanged()), Err: proof.ErrProof}
			}
			c.rootOK = true
		}
	}
	return nil
}

// rootOf names the tree whose root is checked at size: its events, and the
// prefix of a range.
func (c *Checker) rootOf(size int64) string {
	if c.from > 1 {
		return fmt.Sprintf("the root of the prefix and sequences %d to %d", c.from, size)
	}
	return fmt.Sprintf("the root of sequences 1 to %d", size)
}

// rootChanged says what a root that does not match means.
func (c *Checker) rootChanged() string {
	if c.from > 1 {
		return "an event or a prefix hash was changed, added or reordered"
	}
	return "an event up to here was changed, added or reordered"
}

// Finish checks that the log reached the checkpoint's size and that its root
// matched. Call it after the last event.
func (c *Checker) Finish() error {
	if c.last < c.cp.Size {
		what := "log"
		if c.ranged {
			what = "range"
		}
		return &Failure{Seq: c.last + 1, Reason: fmt.Sprintf("missing: the %s ends at %d but the checkpoint covers %d (the tail was cut off)", what, c.last, c.cp.Size)}
	}
	if !c.rootOK {
		return &Failure{Seq: c.cp.Size, Reason: fmt.Sprintf("%s does not match the checkpoint", c.rootOf(c.cp.Size)), Err: proof.ErrProof}
	}
	return nil
}

// ReadLines reads the raw log from r, one JSON line at a time, and calls fn
// with each line's sequence and event bytes (valid only during the call).
// Blank lines are skipped. It stops at the first error fn returns.
func ReadLines(r io.Reader, fn func(seq int64, body []byte) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var long []byte
	lineNo := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) > MaxLine {
				return fmt.Errorf("%w: line %d is longer than %d bytes", eventlog.ErrRawLine, lineNo+1, MaxLine)
			}
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			long = append(long, chunk...)
			line, long = long, nil
		}
		if len(line) > 0 {
			lineNo++
			complete := line[len(line)-1] == '\n'
			if err == io.EOF && !complete {
				return fmt.Errorf("%w: the log ends inside line %d (the answer was cut)", eventlog.ErrRawLine, lineNo)
			}
			line = bytes.TrimSuffix(line, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) > 0 {
				seq, body, perr := eventlog.ParseRawLine(line)
				if perr != nil {
					return fmt.Errorf("line %d: %w", lineNo, perr)
				}
				if ferr := fn(seq, body); ferr != nil {
					return ferr
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
