// Package snapshot keeps the read models on disk, so a restart loads them
// and replays only the events after them instead of the whole log.
//
// A snapshot is a cache, never a source of truth: it is one file in the
// data directory, written through internal/safefile (a temporary name made
// exclusively, synced, renamed), periodically and on a clean shutdown,
// while the projections go on. It carries the stream it was built from, the
// sequence it was built to and the Merkle tree of the log up to that
// sequence (the hash of every stored event it was built from), and ends
// with a SHA-256 of everything before it. Load trusts nothing it has not
// checked: the checksum, the format, the stream, that the log reaches the
// sequence, and that the log's own events at the first and the last
// sequence hash to the leaves of the snapshot's tree. Anything else is an
// error, and the caller replays the whole log, as it does without a
// snapshot.
package snapshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
	"github.com/roadmap-ledger/roadmap/internal/safefile"
	"github.com/roadmap-ledger/roadmap/projections"
)

// File is the snapshot's name in the data directory.
const File = "projections.snapshot"

// TreeFile is the name, beside the snapshot, of the file the Merkle tree
// of the log keeps its hashes in (proof.NewFileTree). The snapshot names
// the part of it that is its own by length and SHA-256.
const TreeFile = "merkle-tree.hashes"

// HistoryFile is the name, beside the snapshot, of the file the
// projections keep their history of the clock and the moves in
// (projections.Current.KeepHistoryIn), named by the snapshot as TreeFile is.
const HistoryFile = "projections.history"

// magic starts every snapshot file.
const magic = "roadmap-ledger projections snapshot\n"

// Format is the layout of the snapshot this version writes; a snapshot of
// any other is not loaded (the read models' encoding is part of it: a
// change to what a read model keeps is a new format). Format 2 left the
// keyframes of time travel out, to files of their own (KeyframeFiles);
// format 3 keeps only a digest of each Idempotency-Key and its event's
// sequence (projections.Idempotency), and of the Merkle tree and the
// history of the clock and the moves only what is not yet in their files
// (TreeFile, HistoryFile).
const Format = 3

// ErrMissing is returned by Load when there is no snapshot.
var ErrMissing = errors.New("no snapshot")

// ErrUnusable is returned by Load for a snapshot that cannot be trusted:
// corrupt, of another format, of another log, or ahead of the log.
var ErrUnusable = errors.New("unusable snapshot")

// Images are the read models, each frozen at the same sequence
// (projections.Runner.Hold).
type Images struct {
	Stream   string
	Sequence uint64
	Current  projections.CurrentImage
	Requests projections.IdempotencyImage
	Tree     proof.TreeImage
}

// Write writes the snapshot of im to path, replacing any. It returns an
// error when the images are not all at the same sequence, or when the file
// cannot be written; whatever was at path is then left as it was.
func Write(path string, im Images) error {
	if im.Current.Sequence() != im.Sequence || uint64(im.Tree.Size()) != im.Sequence {
		return fmt.Errorf("snapshot at sequence %d of a state at %d and a tree of %d", im.Sequence, im.Current.Sequence(), im.Tree.Size())
	}
	return safefile.Write(path, 0o600, func(f io.Writer) error {
		h := sha256.New()
		w := io.MultiWriter(f, h)
		head := []byte(magic)
		head = binary.AppendUvarint(head, Format)
		head = appendBytes(head, []byte(im.Stream))
		head = binary.AppendUvarint(head, im.Sequence)
		if _, err := w.Write(head); err != nil {
			return err
		}
		var buf []byte
		for _, part := range []interface {
			AppendBinary([]byte) ([]byte, error)
		}{im.Tree, im.Current, im.Requests} {
			var err error
			if buf, err = part.AppendBinary(buf[:0]); err != nil {
				return err
			}
			if _, err := w.Write(binary.AppendUvarint(nil, uint64(len(buf)))); err != nil {
				return err
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
		}
		_, err := f.Write(h.Sum(nil))
		return err
	})
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// Log is what Load reads of the log to check a snapshot against it.
type Log interface {
	projections.Source
	Stream() string
}

// Restored are the read models a snapshot held, at Sequence.
type Restored struct {
	Sequence uint64
	Current  *projections.Current
	Requests *projections.Idempotency
	Tree     *proof.Tree
}

// Load reads the snapshot at path and checks it against log. The Current
// it restores reads log to travel in time and keeps a keyframe every
// keyframeEvery events (projections.KeyframeEvery when 0), in memory until
// told otherwise (projections.Current.UseKeyframes). It returns an
// error wrapping ErrMissing when there is no snapshot, ErrUnusable when it
// cannot be trusted, and the log's error when the log cannot be read.
func Load(ctx context.Context, path string, log Log, keyframeEvery uint64) (Restored, error) {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Restored{}, fmt.Errorf("%w at %s", ErrMissing, path)
	}
	if err != nil {
		return Restored{}, err
	}
	if !info.Mode().IsRegular() {
		return Restored{}, fmt.Errorf("%w: %s is not a regular file", ErrUnusable, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Restored{}, err
	}
	unusable := func(format string, args ...any) (Restored, error) {
		return Restored{}, fmt.Errorf("%w: "+format, append([]any{ErrUnusable}, args...)...)
	}
	if len(data) < len(magic)+sha256.Size || !bytes.HasPrefix(data, []byte(magic)) {
		return unusable("not a snapshot file")
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	// The checksum is checked beside the decoding, on another core: the
	// decoders check every length they read, and what they make of a file
	// whose checksum does not match is thrown away.
	checksum := make(chan bool, 1)
	go func() {
		got := sha256.Sum256(body)
		checksum <- bytes.Equal(got[:], sum)
	}()
	restored, err := decode(ctx, body, log, keyframeEvery, filepath.Dir(path))
	if !<-checksum {
		if err == nil {
			restored.Tree.Close()
			restored.Current.Close()
		}
		return unusable("its checksum does not match: the file is cut short or changed")
	}
	return restored, err
}

// decode restores the read models of a snapshot file's body (its checksum
// left out) and checks them against log.
func decode(ctx context.Context, body []byte, log Log, keyframeEvery uint64, dir string) (restored Restored, err error) {
	unusable := func(format string, args ...any) (Restored, error) {
		return Restored{}, fmt.Errorf("%w: "+format, append([]any{ErrUnusable}, args...)...)
	}
	r := binread.Reader{B: body[len(magic):]}
	if format := r.Uvarint(); format != Format {
		return unusable("format %d, not %d", format, Format)
	}
	stream, seq := string(r.Bytes()), r.Uvarint()
	treeBytes, currentBytes, requestBytes := r.Bytes(), r.Bytes(), r.Bytes()
	if r.Err == nil && len(r.B) != 0 {
		r.Err = fmt.Errorf("%d bytes after its parts", len(r.B))
	}
	if r.Err != nil {
		return unusable("%v", r.Err)
	}
	if stream != log.Stream() {
		return unusable("built from stream %s, not %s", stream, log.Stream())
	}
	if seq == 0 {
		return unusable("built from no events")
	}
	last, err := log.LastSequence(ctx)
	if err != nil {
		return Restored{}, err
	}
	if seq > last {
		return unusable("built to sequence %d, but the log ends at %d: it is of another log", seq, last)
	}
	// The three read models decode on their own, two cores at a time.
	var (
		wg                     sync.WaitGroup
		current                *projections.Current
		requests               *projections.Idempotency
		currentErr, requestErr error
	)
	wg.Go(func() {
		current, currentErr = projections.RestoreCurrent(log, keyframeEvery, nil, currentBytes, filepath.Join(dir, HistoryFile))
	})
	wg.Go(func() { requests, requestErr = projections.RestoreIdempotency(log, requestBytes) })
	tree, err := proof.RestoreTree(int64(seq), treeBytes, filepath.Join(dir, TreeFile))
	// The files the models restored hold are closed unless they are returned.
	defer func() {
		if err != nil && tree != nil {
			tree.Close()
		}
		if err != nil && current != nil {
			current.Close()
		}
	}()
	if err == nil {
		for _, at := range []uint64{1, seq} {
			if err = sameEvent(ctx, log, tree, at); err != nil {
				break
			}
		}
	}
	wg.Wait()
	switch {
	case errors.Is(err, ErrUnusable):
		return Restored{}, err
	case err != nil && tree == nil:
		return unusable("%v", err)
	case err != nil:
		return Restored{}, err // the log's
	case currentErr != nil:
		return unusable("%v", currentErr)
	case requestErr != nil:
		return unusable("%v", requestErr)
	case current.Sequence() != seq:
		return unusable("its state is at sequence %d, not %d", current.Sequence(), seq)
	}
	return Restored{Sequence: seq, Current: current, Requests: requests, Tree: tree}, nil
}

// sameEvent checks that the log's event at seq is the one the tree has as
// leaf seq: the same stored bytes.
func sameEvent(ctx context.Context, log Log, tree *proof.Tree, seq uint64) error {
	leaf, err := tree.Leaf(seq)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	var got tlog.Hash
	err = log.ReadRange(ctx, seq, seq, func(rec eventlog.Record) error {
		got = tlog.RecordHash(rec.Body)
		return nil
	})
	if errors.Is(err, eventlog.ErrTampered) {
		return fmt.Errorf("%w: the log's event at sequence %d: %v", ErrUnusable, seq, err)
	}
	if err != nil {
		return err
	}
	if got != leaf {
		return fmt.Errorf("%w: the log's event at sequence %d is not the one it was built from", ErrUnusable, seq)
	}
	return nil
}
