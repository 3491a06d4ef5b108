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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

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

// Checker checks the events of a log, pushed in order from sequence 1, against
// one checkpoint.
type Checker struct {
	cp      proof.Checkpoint
	compact proof.Compact
	last    int64                // the last sequence checked
	heads   map[aggregate]string // the hash of each aggregate's last event
	rootOK  bool
}

// NewChecker returns a Checker of the log against the checkpoint cp.
func NewChecker(cp proof.Checkpoint) *Checker {
	c := &Checker{cp: cp, heads: make(map[aggregate]string)}
	if cp.Size == 0 && cp.Root == proof.EmptyRoot {
		c.rootOK = true
	}
	return c
}

// Checked returns the last sequence checked.
func (c *Checker) Checked() int64 { return c.last }

// Checkpoint returns the checkpoint the log is checked against.
func (c *Checker) Checkpoint() proof.Checkpoint { return c.cp }

// Aggregates returns how many aggregates the events so far belong to.
func (c *Checker) Aggregates() int { return len(c.heads) }

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
	prev := c.heads[ev.key]
	if ev.prevHash != prev {
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
				return &Failure{Seq: seq, Reason: fmt.Sprintf("the root of sequences 1 to %d, %v, does not match the checkpoint's root %v: an event up to here was changed, added or reordered", seq, got, c.cp.Root), Err: proof.ErrProof}
			}
			c.rootOK = true
		}
	}
	return nil
}

// Finish checks that the log reached the checkpoint's size and that its root
// matched. Call it after the last event.
func (c *Checker) Finish() error {
	if c.last < c.cp.Size {
		return &Failure{Seq: c.last + 1, Reason: fmt.Sprintf("missing: the log ends at %d but the checkpoint covers %d (the tail was cut off)", c.last, c.cp.Size)}
	}
	if !c.rootOK {
		return &Failure{Seq: c.cp.Size, Reason: fmt.Sprintf("the root of sequences 1 to %d does not match the checkpoint", c.cp.Size), Err: proof.ErrProof}
	}
	return nil
}

// ErrLine marks a line of the raw log that is not {"seq":N,"event":BODY}.
var ErrLine = errors.New("malformed line of the raw log")

var (
	linePrefix = []byte(`{"seq":`)
	eventKey   = []byte(`,"event":`)
)

// ParseLine splits one line of the raw log (without its line feed) into its
// sequence and the event's stored bytes, exactly as sent. The body aliases
// line.
func ParseLine(line []byte) (int64, []byte, error) {
	// The server writes exactly {"seq":N,"event":BODY}; read that shape
	// directly, so the bytes are the ones sent.
	if rest, ok := bytes.CutPrefix(line, linePrefix); ok {
		if i := bytes.Index(rest, eventKey); i > 0 {
			if seq, err := strconv.ParseInt(string(rest[:i]), 10, 64); err == nil && seq > 0 {
				body := rest[i+len(eventKey):]
				if n := len(body); n >= 2 && body[n-1] == '}' {
					return seq, body[:n-1], nil
				}
			}
		}
	}
	// Any other spelling of the same object: decode it, keeping the event's
	// bytes raw.
	var l struct {
		Seq   int64           `json:"seq"`
		Event json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(line, &l); err != nil {
		return 0, nil, fmt.Errorf("%w: %v", ErrLine, err)
	}
	if l.Seq < 1 || len(l.Event) == 0 {
		return 0, nil, fmt.Errorf("%w: no seq or no event", ErrLine)
	}
	return l.Seq, l.Event, nil
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
				return fmt.Errorf("%w: line %d is longer than %d bytes", ErrLine, lineNo+1, MaxLine)
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
				return fmt.Errorf("%w: the log ends inside line %d (the answer was cut)", ErrLine, lineNo)
			}
			line = bytes.TrimSuffix(line, []byte("\n"))
			line = bytes.TrimSuffix(line, []byte("\r"))
			if len(line) > 0 {
				seq, body, perr := ParseLine(line)
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
