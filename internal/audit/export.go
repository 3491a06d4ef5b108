package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/projections"
)

// ExportManifestVersion is the first line of an export manifest.
const ExportManifestVersion = "roadmap-export v1"

// Subtrees is the part of the log's Merkle tree an export needs: the
// compact range of a prefix of the log, and whether the tree is sound.
type Subtrees interface {
	SubtreeHashes(size int64) ([]tlog.Hash, error)
	Err() error
}

// ExportViews are the projections an export reads: the ledger's position,
// its clock, and the signed checkpoints.
type ExportViews interface {
	Read(fn func(*projections.State))
	Sequence() uint64
	Clock
}

// Exports makes the manifests of export bundles.
type Exports struct {
	log   Log
	views ExportViews
	tree  Subtrees
	sign  func(text string) ([]byte, error)
}

// NewExports returns the exports of the ledger whose log, projections and
// tree are given, signing manifests with sign (the checkpoints' key).
func NewExports(log Log, views ExportViews, tree Subtrees, sign func(text string) ([]byte, error)) *Exports {
	return &Exports{log: log, views: views, tree: tree, sign: sign}
}

// Manifest is the signed manifest of an export bundle.
type Manifest struct {
	// From and To are the first and last sequences of the bundle.
	From, To int64
	// Note is the manifest, a note signed with the checkpoints' key.
	Note string
	// Checkpoint is the note of the checkpoint of size To.
	Checkpoint string
}

// Manifest returns the manifest of the bundle of the events that since and
// until select (either may be nil), cut at the largest signed checkpoint:
// the range [from, to], the size and SHA-256 of events.jsonl (the raw log's
// lines for that range, byte for byte), the compact range of the events
// before from, and the checkpoint of size to that signs it all.
//
// The manifest is signed over a text made from the ledger's own log, so a
// bundle cannot be cut at its start without the signature failing. Its
// events are also bound to the checkpoint: the prefix hashes and the events
// rebuild the checkpoint's root, and the manifest names the checkpoint note
// by its SHA-256. It returns roadmap.ErrNotFound when no signed checkpoint
// covers the range, and an error wrapping proof.ErrBroken when the tree is
// broken.
func (x *Exports) Manifest(ctx context.Context, since, until *time.Time) (Manifest, error) {
	if err := x.tree.Err(); err != nil {
		return Manifest{}, err
	}
	// A bundle is a run of the log, cut where its clock passes until.
	from, bound, err := Span(x.views, since, until, 0, 1, x.views.Sequence())
	if err != nil {
		return Manifest{}, err
	}
	var cp projections.CheckpointView
	found := false
	x.views.Read(func(st *projections.State) {
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
		return Manifest{}, fmt.Errorf(
			"%w: no signed checkpoint covers the range: the export starts at sequence %d and may end at %d, but no checkpoint of a size from %d to %d was signed (sign one with POST /v1/checkpoints)",
			roadmap.ErrNotFound, from, bound, from, bound)
	}
	to := uint64(cp.Size)

	prefix, err := x.tree.SubtreeHashes(int64(from) - 1)
	if err != nil {
		return Manifest{}, err
	}
	size, sum, err := x.hashEvents(ctx, from, to)
	if err != nil {
		return Manifest{}, err
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
	signed, err := x.sign(b.String())
	if err != nil {
		return Manifest{}, err
	}
	return Manifest{From: int64(from), To: int64(to), Note: string(signed), Checkpoint: cp.Note}, nil
}

// originOf returns the first line of a checkpoint note: its origin.
func originOf(note string) string {
	origin, _, _ := strings.Cut(note, "\n")
	return origin
}

// hashEvents reads the log from sequence from to to once, and returns the
// size and SHA-256 of the raw log's lines for them.
func (x *Exports) hashEvents(ctx context.Context, from, to uint64) (int64, []byte, error) {
	h := sha256.New()
	var size int64
	line := make([]byte, 0, 2048)
	next := from
	err := x.log.Follow(ctx, from, func(rec eventlog.Record) error {
		if rec.Sequence != next {
			return fmt.Errorf("export: the log gave sequence %d where %d was expected", rec.Sequence, next)
		}
		line = eventlog.AppendRawLine(line[:0], rec.Sequence, rec.Body)
		n, _ := h.Write(line)
		size += int64(n)
		next++
		if rec.Sequence >= to {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
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
