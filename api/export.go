package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// ExportManifestVersion is the first line of an export manifest.
const ExportManifestVersion = "roadmap-export v1"

// subtreeHasher is the part of the proof tree an export needs: the compact
// range of a prefix of the log. *proof.Tree implements it.
type subtreeHasher interface {
	SubtreeHashes(size int64) ([]tlog.Hash, error)
}

// exportJSON is the answer of GET /v1/export/manifest.
type exportJSON struct {
	From       int64  `json:"from"`
	To         int64  `json:"to"`
	Manifest   string `json:"manifest"`
	Checkpoint string `json:"checkpoint"`
}

// exportManifest answers the manifest of an export bundle: the range of
// sequences [from, to] that since and until select, cut at the largest
// signed checkpoint, with the size and SHA-256 of events.jsonl (the lines of
// GET /v1/events for that range, byte for byte), the compact range of the
// events before from, and the checkpoint of size to that signs it all.
//
// The manifest is a note signed with the checkpoints' key, over a text the
// server made from its own log, so a bundle cannot be cut at its start
// without the signature failing. Its events are also bound to the
// checkpoint: the prefix hashes and the events rebuild the checkpoint's
// root, and the manifest names the checkpoint note by its SHA-256.
func (s *Server) exportManifest(c echo.Context) error {
	q, err := query(c)
	if err != nil {
		return err
	}
	if err := onlyParams(q, "since", "until"); err != nil {
		return err
	}
	moment := func(name string) (*time.Time, error) {
		values, ok := q[name]
		if !ok {
			return nil, nil
		}
		if len(values) != 1 {
			return nil, problem(ErrBadQuery, fmt.Sprintf("query parameter %q is given %d times; give it once", name, len(values)))
		}
		t, err := time.Parse(time.RFC3339Nano, values[0])
		if err != nil {
			return nil, problem(ErrBadQuery, fmt.Sprintf("%s must be an RFC 3339 time such as 2026-11-01T09:00:00Z, not %q", name, clip(values[0])))
		}
		return &t, nil
	}
	since, err := moment("since")
	if err != nil {
		return err
	}
	until, err := moment("until")
	if err != nil {
		return err
	}
	if since != nil && until != nil && since.After(*until) {
		return problem(ErrBadQuery, "since must not be after until")
	}
	if err := s.proofs.Err(); err != nil {
		return err
	}
	sub, ok := s.proofs.(subtreeHasher)
	if !ok {
		return errors.New("the proof tree gives no compact ranges")
	}

	from, bound := uint64(1), s.views.Sequence()
	if since != nil {
		from = max(from, s.views.FirstSequenceFrom(*since))
	}
	if until != nil {
		bound = min(bound, s.views.SequenceAt(*until))
	}
	var cp projections.CheckpointView
	found := false
	s.views.Read(func(st *projections.State) {
		for _, v := range st.Checkpoints() { // the largest first
			if v.Size <= int64(bound) {
				cp, found = v, true
				if first, ok := st.CheckpointOfSize(v.Size); ok {
					cp = first
				}
				return
			}
		}
	})
	if !found || cp.Size < int64(from) {
		return problem(roadmap.ErrNotFound, fmt.Sprintf(
			"no signed checkpoint covers the range: the export starts at sequence %d and may end at %d, but no checkpoint of a size from %d to %d was signed (sign one with POST /v1/checkpoints)",
			from, bound, from, bound))
	}
	to := uint64(cp.Size)

	prefix, err := sub.SubtreeHashes(int64(from) - 1)
	if err != nil {
		return err
	}
	size, sum, err := s.hashEvents(c, from, to)
	if err != nil {
		return err
	}
	cpSum := sha256.Sum256([]byte(cp.Note))
	var b strings.Builder
	b.WriteString(ExportManifestVersion + "\n")
	fmt.Fprintf(&b, "origin %s\n", originOf(cp.Note))
	fmt.Fprintf(&b, "range %d %d\n", from, to)
	fmt.Fprintf(&b, "checkpoint checkpoint.txt %d %s\n", len(cp.Note), hex.EncodeToString(cpSum[:]))
	b.WriteString("prefix")
	for _, h := range prefix {
		b.WriteString(" " + h.String())
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "file events.jsonl %d %s\n", size, hex.EncodeToString(sum))
	if s.signNote == nil {
		return problem(ErrNotReady, "this server has no signing key")
	}
	signed, err := s.signNote(b.String())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, exportJSON{From: int64(from), To: int64(to), Manifest: string(signed), Checkpoint: cp.Note})
}

// originOf returns the first line of a checkpoint note: its origin.
func originOf(note string) string {
	origin, _, _ := strings.Cut(note, "\n")
	return origin
}

// hashEvents reads the log from sequence from to to once, and returns the
// size and SHA-256 of the lines GET /v1/events writes for them.
func (s *Server) hashEvents(c echo.Context, from, to uint64) (int64, []byte, error) {
	h := sha256.New()
	var size int64
	line := make([]byte, 0, 2048)
	next := from
	err := s.log.Follow(c.Request().Context(), from, func(rec eventlog.Record) error {
		if rec.Sequence != next {
			return fmt.Errorf("export: the log gave sequence %d where %d was expected", rec.Sequence, next)
		}
		line = appendRawLine(line[:0], rec)
		n, _ := h.Write(line)
		size += int64(n)
		next++
		if rec.Sequence >= to {
			return errStopRead
		}
		return nil
	})
	if errors.Is(err, errStopRead) {
		err = nil
	}
	if err == nil && next != to+1 {
		err = fmt.Errorf("export: the log ended at %d before %d", next-1, to)
	}
	if err != nil {
		return 0, nil, err
	}
	return size, h.Sum(nil), nil
}

// appendRawLine appends the line of GET /v1/events for rec.
func appendRawLine(line []byte, rec eventlog.Record) []byte {
	line = append(line, `{"seq":`...)
	line = strconv.AppendUint(line, rec.Sequence, 10)
	line = append(line, `,"event":`...)
	line = append(line, rec.Body...)
	return append(line, "}\n"...)
}
