package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/safefile"
	"github.com/roadmap-ledger/roadmap/projections"
)

// Keyframes in files: time travel starts from the keyframe of the state at
// or before the sequence asked for (projections.Current.At). Rather than
// keep every keyframe in memory and in the snapshot, which made both grow
// with the log, each keyframe is written once to a file of its own in the
// data directory (a keyframe never changes) and loaded on demand into a
// cache of a bounded number of states.
//
// Like the snapshot, a keyframe file is a cache, never a source of truth.
// It carries the stream it was built from, its sequence and the root of the
// Merkle tree of the log up to that sequence (the hash of every stored
// event it was built from), and ends with a SHA-256 of everything before
// it. A file that is missing, not a regular file, cut short, changed, of
// another stream or of another log is not used: it is removed, time travel
// starts from an earlier keyframe, and the replay that passes its sequence
// writes it again.

// KeyframeDir is the directory of the keyframe files in the data directory.
const KeyframeDir = "keyframes"

// keyframeMagic starts every keyframe file.
const keyframeMagic = "roadmap-ledger keyframe\n"

// KeyframeFormat is the layout of the keyframe files this version writes;
// a file of any other is not used.
const KeyframeFormat = 1

// KeyframeCache is how many keyframes KeyframeFiles keeps decoded in memory
// unless told otherwise: a keyframe of a ledger of 3,000 items is a few
// megabytes.
const KeyframeCache = 16

// keyframeQueue is how many kept keyframes may wait to be written; the
// runner waits beyond it.
const keyframeQueue = 4

// Roots gives the root of the Merkle tree of the log's first n events, and
// the leaf hash of the event at a sequence (tlog.RecordHash of its stored
// body), as proof.Tree does. It must have them by the time a keyframe at n
// is kept.
type Roots interface {
	Root(n int64) (tlog.Hash, error)
	Leaf(seq uint64) (tlog.Hash, error)
}

// KeyframeFiles keeps the keyframes of the state in files of their own, in
// a directory, with the last ones used decoded in memory. It implements
// projections.Keyframes.
type KeyframeFiles struct {
	dir    string
	stream string
	roots  Roots
	logger *slog.Logger
	cache  *lru.Cache[uint64, *projections.State]

	mu      sync.Mutex
	pending map[uint64]*projections.State // kept, not yet written
	events  map[uint64]segment            // segments kept, not yet written, by the keyframe they follow
	closed  bool
	queue   chan kept
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when the writer has stopped
}

var _ projections.EventSegments = (*KeyframeFiles)(nil)

// segment is the stored events after a keyframe: n of them after from,
// framed by projections.AppendSegmentEvent.
type segment struct {
	from   uint64
	n      int
	events []byte
}

// kept is a keyframe or a segment waiting to be written.
type kept struct {
	state *projections.State // nil for a segment
	seg   segment
}

// OpenKeyframes returns the keyframe files of the log kept in stream, in
// dir (made when missing), checked against roots, with up to cached
// keyframes decoded in memory (KeyframeCache when 0). It removes the files
// a write cut short left behind. It returns an error when dir is a link,
// not a directory, or cannot be made. Close stops its writer.
func OpenKeyframes(dir, stream string, roots Roots, cached int, logger *slog.Logger) (*KeyframeFiles, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cached <= 0 {
		cached = KeyframeCache
	}
	if err := safefile.PrepareDir(dir, true); err != nil {
		return nil, fmt.Errorf("keyframes: %w", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(left) > 0 {
		for _, f := range left {
			if err := os.Remove(f); err != nil {
				logger.Warn("cannot remove a keyframe left half-written", "file", f, "error", err)
			}
		}
	}
	cache, err := lru.New[uint64, *projections.State](cached)
	if err != nil {
		return nil, err
	}
	k := &KeyframeFiles{
		dir: dir, stream: stream, roots: roots, logger: logger, cache: cache,
		pending: map[uint64]*projections.State{}, events: map[uint64]segment{},
		queue: make(chan kept, keyframeQueue), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go k.write()
	return k, nil
}

// Close writes the keyframes waiting to be and stops the writer; later
// keyframes are not written.
func (k *KeyframeFiles) Close() {
	k.mu.Lock()
	if !k.closed {
		k.closed = true
		close(k.stop)
	}
	k.mu.Unlock()
	<-k.done
}

// Path returns the file of the keyframe at seq.
func (k *KeyframeFiles) Path(seq uint64) string {
	return filepath.Join(k.dir, fmt.Sprintf("%020d.keyframe", seq))
}

// Keep implements projections.Keyframes: s is written to its file by
// another goroutine. With wait, Keep waits while keyframeQueue keyframes
// are waiting to be written; without, it drops s then (the next replay
// that passes its sequence keeps it again).
func (k *KeyframeFiles) Keep(s *projections.State, wait bool) {
	hand(k, k.pending, s.Sequence, s, kept{state: s}, wait)
}

// hand holds v in waiting at seq, where readers find it until it is
// written, and hands w to the writer; it does nothing when one is waiting
// at seq already or the files are closed, and lets go of v when the writer
// had no room (without wait).
func hand[V any](k *KeyframeFiles, waiting map[uint64]V, seq uint64, v V, w kept, wait bool) {
	k.mu.Lock()
	if _, ok := waiting[seq]; k.closed || ok {
		k.mu.Unlock()
		return
	}
	waiting[seq] = v
	k.mu.Unlock()
	if k.enqueue(w, wait) {
		return
	}
	k.mu.Lock()
	delete(waiting, seq)
	k.mu.Unlock()
}

// enqueue hands w to the writer, waiting for room with wait, and reports
// whether it did.
func (k *KeyframeFiles) enqueue(w kept, wait bool) bool {
	if wait {
		select {
		case k.queue <- w:
			return true
		case <-k.stop:
			return false
		}
	}
	select {
	case k.queue <- w:
		return true
	default: // the queue is full: give up at once
		return false
	}
}

// Keyframe implements projections.Keyframes: the keyframe waiting to be
// written, or in the cache, or read from its file and checked.
func (k *KeyframeFiles) Keyframe(seq uint64) (*projections.State, bool) {
	k.mu.Lock()
	s := k.pending[seq]
	k.mu.Unlock()
	if s != nil {
		return s, true
	}
	if s, ok := k.cache.Get(seq); ok {
		return s, true
	}
	s, err := k.load(seq)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false
	case err != nil:
		k.logger.Warn("ignoring a keyframe of time travel: it is made again from the log", "sequence", seq, "file", k.Path(seq), "error", err)
		if rerr := os.Remove(k.Path(seq)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			k.logger.Warn("cannot remove an unusable keyframe", "file", k.Path(seq), "error", rerr)
		}
		return nil, false
	}
	k.cache.Add(seq, s)
	return s, true
}

// Cached returns how many keyframes are decoded in memory.
func (k *KeyframeFiles) Cached() int { return k.cache.Len() }

// write writes the kept keyframes, one at a time, until Close; then those
// still waiting.
func (k *KeyframeFiles) write() {
	defer close(k.done)
	for {
		select {
		case w := <-k.queue:
			k.written(w)
		case <-k.stop:
			for {
				select {
				case w := <-k.queue:
					k.written(w)
				default:
					return
				}
			}
		}
	}
}

// written writes the file of w: a keyframe moves from those waiting to
// the cache.
func (k *KeyframeFiles) written(w kept) {
	if w.state == nil {
		if err := k.storeEvents(w.seg); err != nil {
			k.logger.Warn("cannot write the events after a keyframe of time travel: they are read from the log", "sequence", w.seg.from, "error", err)
		}
		k.mu.Lock()
		delete(k.events, w.seg.from)
		k.mu.Unlock()
		return
	}
	s := w.state
	if err := k.store(s); err != nil {
		k.logger.Warn("cannot write a keyframe of time travel: it is made again from the log when needed", "sequence", s.Sequence, "error", err)
	} else {
		k.cache.Add(s.Sequence, s)
	}
	k.mu.Lock()
	delete(k.pending, s.Sequence)
	k.mu.Unlock()
}

// store writes the file of s, unless a file of the same keyframe of the
// same log is there already.
func (k *KeyframeFiles) store(s *projections.State) error {
	root, err := k.roots.Root(int64(s.Sequence))
	if err != nil {
		return err
	}
	head := k.head(s.Sequence, root)
	path := k.Path(s.Sequence)
	if have, err := readHead(path, len(head)); err == nil && bytes.Equal(have, head) {
		return nil
	}
	body, err := projections.AppendKeyframe(head, s)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	return safefile.WriteBytes(path, 0o600, append(body, sum[:]...))
}

// head is what a keyframe file at seq, of the log whose first seq events'
// tree has root, starts with.
func (k *KeyframeFiles) head(seq uint64, root tlog.Hash) []byte {
	b := []byte(keyframeMagic)
	b = binary.AppendUvarint(b, KeyframeFormat)
	b = appendBytes(b, []byte(k.stream))
	b = binary.AppendUvarint(b, seq)
	return append(b, root[:]...)
}

// readHead returns the first n bytes of the regular file at path.
func readHead(path string, n int) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	_, err = io.ReadFull(f, b)
	return b, err
}

// openRegular opens the file at path for reading, refusing anything but a
// regular file: a link planted at path is not followed.
func openRegular(path string) (*os.File, error) {
	f, err := safefile.OpenRegular(path, os.O_RDONLY)
	if errors.Is(err, safefile.ErrNotRegular) {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	return f, err
}

// readAll reads the whole of f, into buf when it has room for it, else in
// one allocation of its size.
func readAll(f *os.File, buf []byte) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	n := int(info.Size())
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	data := buf[:n]
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, err
	}
	return data, nil
}

// keyframeBuffers keeps the buffers keyframe files are read into. Decoding
// a keyframe copies out everything it keeps (DecodeKeyframe takes its
// strings from one copy of the file's table), so a file's bytes are done
// with once it is decoded, and time travel, which loads a keyframe for
// nearly every point it is asked, does not allocate one each time.
var keyframeBuffers = sync.Pool{New: func() any { return new([]byte) }}

// load reads the keyframe at seq from its file and checks it. It returns
// an error wrapping fs.ErrNotExist when there is no file, ErrUnusable when
// it cannot be trusted.
func (k *KeyframeFiles) load(seq uint64) (*projections.State, error) {
	f, err := openRegular(k.Path(seq))
	if err != nil {
		return nil, err
	}
	buf := keyframeBuffers.Get().(*[]byte)
	defer keyframeBuffers.Put(buf)
	data, err := readAll(f, *buf)
	f.Close()
	if err != nil {
		return nil, err
	}
	*buf = data
	root, err := k.roots.Root(int64(seq))
	if err != nil {
		return nil, fmt.Errorf("%w: no tree of the log to check it against: %v", ErrUnusable, err)
	}
	head := k.head(seq, root)
	if len(data) < len(head)+sha256.Size {
		return nil, fmt.Errorf("%w: cut short", ErrUnusable)
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("%w: its checksum does not match: the file is cut short or changed", ErrUnusable)
	}
	if !bytes.Equal(body[:len(head)], head) {
		return nil, fmt.Errorf("%w: not a keyframe of this log at sequence %d", ErrUnusable, seq)
	}
	s, err := projections.DecodeKeyframe(body[len(head):])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnusable, err)
	}
	if s.Sequence != seq {
		return nil, fmt.Errorf("%w: its state is at sequence %d", ErrUnusable, s.Sequence)
	}
	return s, nil
}

// KeyframeSequences returns the sequences of the keyframe files in dir, in
// order, whatever their state; for tests and tools.
func KeyframeSequences(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".keyframe")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		if seq, err := strconv.ParseUint(name, 10, 64); err == nil {
			out = append(out, seq)
		}
	}
	return out, nil
}
