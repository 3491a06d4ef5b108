package proof

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/chunkfile"
)

// ErrBroken means the tree met an event that does not continue the stream:
// a missing sequence, a sequence delivered again with other bytes, or an
// event without its stored body. The tree then stops growing (it keeps the
// prefix it had, whose proofs stay valid) and refuses to make checkpoints.
var ErrBroken = errors.New("proof tree broken")

// The stored hashes live in fixed-size chunks, so growing the tree never
// copies what it already holds (a doubling slice would briefly need three
// times the memory during start-up replay) and a chunk never moves.
const (
	chunkBits = 12
	chunkLen  = 1 << chunkBits // 4096 hashes, 128 KiB
)

// Tree is the Merkle tree of the whole stream: leaf i (0-based) is the
// stored body of the event at stream sequence i+1, hashed with
// tlog.RecordHash, so a tree of size N covers sequences 1 to N.
//
// It keeps every hash tlog stores for the tree: the leaf hashes and the
// hashes of the perfect subtrees they complete, in tlog's stored hash order
// (tlog.StoredHashIndex). That is just under two 32-byte hashes per event,
// about 64 MB for 1,000,000 events, and it makes every root, inclusion proof
// and consistency proof a read of at most a few dozen hashes. A tree made
// by NewTree keeps them all in memory; one made by NewFileTree (or restored
// with a path) keeps each whole chunk of 4,096 in a file and only the chunk
// it is filling and the last 64 chunks read back in memory, whatever the
// length of the log.
//
// Feed it with Append, one event at a time in log order (the projections'
// runner does, through projections.Bodies). A Tree is safe for concurrent
// use: Append holds the write lock only to add the one to log₂ n hashes an event
// completes, and every reader holds the read lock. The zero value is an
// empty tree ready to use.
type Tree struct {
	mu     sync.RWMutex
	size   int64                  // leaves: the sequence of the last event
	chunks []*[chunkLen]tlog.Hash // the stored hashes, in tlog's order; nil for a chunk only in file
	stored int64                  // how many: tlog.StoredHashCount(size)
	file   *chunkfile.File        // where whole chunks go; nil to keep them all in memory
	err    error                  // why the tree stopped growing, sticky
}

// NewTree returns an empty tree that keeps its hashes in memory.
func NewTree() *Tree { return &Tree{} }

// NewFileTree returns an empty tree that keeps its whole chunks of hashes
// in a file at path, which it makes anew (whatever is there, a link
// included, is removed first). Close it when done.
func NewFileTree(path string) (*Tree, error) {
	f, err := chunkfile.Create(path, chunkBytes)
	if err != nil {
		return nil, fmt.Errorf("the Merkle tree's file: %w", err)
	}
	return &Tree{file: f}, nil
}

// chunkBytes is the size of a whole chunk of hashes in the tree's file.
const chunkBytes = chunkLen * tlog.HashSize

// Close closes the tree's file, if it has one. The tree must not be used
// after.
func (t *Tree) Close() error {
	if t.file == nil {
		return nil
	}
	return t.file.Close()
}

// Sync makes the tree's file durable up to the chunks written so far, so a
// snapshot may name them (TreeImage).
func (t *Tree) Sync() error {
	if t.file == nil {
		return nil
	}
	return t.file.Sync()
}

// Append adds the event at sequence seq, whose stored message body is body.
// seq must be Size()+1. The same event delivered again (the same sequence
// and the same bytes) is ignored. Anything else breaks the tree: Append
// returns an error wrapping ErrBroken, now and on every later call.
func (t *Tree) Append(seq uint64, body []byte) error {
	// Hash the body before taking the lock: it is most of the work.
	leaf := tlog.RecordHash(body)

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return t.err
	}
	switch {
	case seq == uint64(t.size)+1 && len(body) > 0:
		if err := t.appendLeaf(leaf); err != nil {
			t.err = fmt.Errorf("%w: at sequence %d: %v", ErrBroken, seq, err)
			return t.err
		}
		return nil
	case len(body) == 0:
		t.err = fmt.Errorf("%w: the event at sequence %d has no stored body", ErrBroken, seq)
	case seq == 0:
		t.err = fmt.Errorf("%w: an event without a sequence arrived after sequence %d", ErrBroken, t.size)
	case seq <= uint64(t.size):
		had, err := t.hash(tlog.StoredHashIndex(0, int64(seq)-1))
		switch {
		case err != nil:
			t.err = fmt.Errorf("%w: the event at sequence %d arrived again: %v", ErrBroken, seq, err)
		case had == leaf:
			return nil // delivered again, unchanged
		default:
			t.err = fmt.Errorf("%w: the event at sequence %d arrived again with other bytes", ErrBroken, seq)
		}
	case seq == uint64(t.size)+2:
		t.err = fmt.Errorf("%w: the event at sequence %d arrived after sequence %d: sequence %d is missing",
			ErrBroken, seq, t.size, t.size+1)
	default:
		t.err = fmt.Errorf("%w: the event at sequence %d arrived after sequence %d: sequences %d to %d are missing",
			ErrBroken, seq, t.size, t.size+1, seq-1)
	}
	return t.err
}

// appendLeaf stores the hashes tlog.StoredHashesForRecordHash would give for
// leaf n = t.size: the leaf hash, then one hash for each perfect subtree the
// leaf completes (one for each trailing 1 bit of n), each the node hash of
// the subtree's left half, already stored, and the hash just made.
// On an error of the tree's file, the hashes stored so far stay, and the
// caller breaks the tree.
func (t *Tree) appendLeaf(h tlog.Hash) error {
	n := t.size
	if err := t.push(h); err != nil {
		return err
	}
	for level := 0; n>>level&1 == 1; level++ {
		left, err := t.hash(tlog.StoredHashIndex(level, n>>level-1))
		if err != nil {
			return err
		}
		h = tlog.NodeHash(left, h)
		if err := t.push(h); err != nil {
			return err
		}
	}
	t.size++
	return nil
}

// push stores the next hash; a chunk it fills goes to the tree's file, if
// it has one, and out of memory.
func (t *Tree) push(h tlog.Hash) error {
	if t.stored&(chunkLen-1) == 0 {
		t.chunks = append(t.chunks, new([chunkLen]tlog.Hash))
	}
	i := t.stored >> chunkBits
	t.chunks[i][t.stored&(chunkLen-1)] = h
	t.stored++
	if t.file != nil && t.stored&(chunkLen-1) == 0 {
		b := make([]byte, 0, chunkBytes)
		for _, h := range t.chunks[i] {
			b = append(b, h[:]...)
		}
		if err := t.file.Append(i, b); err != nil {
			return err
		}
		t.chunks[i] = nil
	}
	return nil
}

func (t *Tree) hash(index int64) (tlog.Hash, error) {
	i, j := index>>chunkBits, index&(chunkLen-1)
	if c := t.chunks[i]; c != nil {
		return c[j], nil
	}
	var h tlog.Hash
	if err := t.file.Read(i, func(b []byte) { h = tlog.Hash(b[j*tlog.HashSize:]) }); err != nil {
		return tlog.Hash{}, fmt.Errorf("the Merkle tree's file: %w", err)
	}
	return h, nil
}

// Err returns why the tree stopped growing (wrapping ErrBroken), or nil.
func (t *Tree) Err() error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.err
}

// Size returns the number of leaves: the sequence of the last event added.
func (t *Tree) Size() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.size
}

// ReadHashes returns the stored hashes at the given indexes
// (tlog.StoredHashIndex). It makes the Tree a tlog.HashReader.
func (t *Tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.readHashes(indexes)
}

// readHashes is ReadHashes for callers that hold the lock.
func (t *Tree) readHashes(indexes []int64) ([]tlog.Hash, error) {
	hashes := make([]tlog.Hash, len(indexes))
	for i, index := range indexes {
		if index < 0 || index >= t.stored {
			return nil, fmt.Errorf("proof: no stored hash %d in a tree of %d events (%d hashes)", index, t.size, t.stored)
		}
		h, err := t.hash(index)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	return hashes, nil
}

// reader is a tlog.HashReader for callers that hold the lock: tlog calls it
// back from inside Root and the proofs, which already hold the read lock,
// and a second read lock could wait behind a writer forever.
func (t *Tree) reader() tlog.HashReader { return tlog.HashReaderFunc(t.readHashes) }

func (t *Tree) checkSize(what string, size int64) error {
	if size < 0 || size > t.size {
		return fmt.Errorf("proof: %s %d is not in the tree: it has %d events", what, size, t.size)
	}
	return nil
}

// checkWithin checks that size is in the tree and that 1 ≤ n ≤ size; if n
// is not, it says so with format, given n and size.
func (t *Tree) checkWithin(n, size int64, format string) error {
	if err := t.checkSize("size", size); err != nil {
		return err
	}
	if n < 1 || n > size {
		return fmt.Errorf(format, n, size)
	}
	return nil
}

// Root returns the root hash of the tree of the first size events, for
// any size from 0 (the empty tree, whose root is SHA-256 of nothing) to
// Size().
func (t *Tree) Root(size int64) (tlog.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.checkSize("size", size); err != nil {
		return tlog.Hash{}, err
	}
	return tlog.TreeHash(size, t.reader())
}

// InclusionProof returns the proof that the event at sequence seq is in the
// tree of the first size events (1 ≤ seq ≤ size ≤ Size()). Check it with
// VerifyInclusion, or tlog.CheckRecord with leaf index seq-1.
func (t *Tree) InclusionProof(seq, size int64) (tlog.RecordProof, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.checkWithin(seq, size, "proof: sequence %d is not in a tree of %d events"); err != nil {
		return nil, err
	}
	return tlog.ProveRecord(size, seq-1, t.reader())
}

// ConsistencyProof returns the proof that the tree of the first to events
// extends the tree of the first from events (1 ≤ from ≤ to ≤ Size()): the
// events before from are unchanged. Every tree extends the empty tree, so
// there is no proof from 0. Check it with VerifyConsistency or
// tlog.CheckTree.
func (t *Tree) ConsistencyProof(from, to int64) (tlog.TreeProof, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.checkWithin(from, to, "proof: no consistency proof from size %d to size %d: it needs 1 ≤ from ≤ to"); err != nil {
		return nil, err
	}
	return tlog.ProveTree(to, from, t.reader())
}

// SubtreeHashes returns the compact range of the first size events: the
// hashes of the perfect subtrees that cover leaves [0, size), largest
// (leftmost) first, one for each 1 bit of size. With them (checked against
// a checkpoint's root, see NewCompact) a verifier that holds only the events
// from sequence size+1 on can compute the root of every larger tree.
func (t *Tree) SubtreeHashes(size int64) ([]tlog.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.checkSize("size", size); err != nil {
		return nil, err
	}
	return t.readHashes(compactRangeIndexes(size))
}

// compactRangeIndexes returns the stored hash indexes of the perfect
// subtrees covering leaves [0, size), largest first (as tlog's own
// subTreeIndex does for TreeHash).
func compactRangeIndexes(size int64) []int64 {
	indexes := make([]int64, 0, bits.OnesCount64(uint64(size)))
	lo := int64(0)
	for level := 62; level >= 0; level-- {
		if size>>level&1 == 1 {
			indexes = append(indexes, tlog.StoredHashIndex(level, lo>>level))
			lo += 1 << level
		}
	}
	return indexes
}

// Checkpoint returns the (unsigned) checkpoint of the whole tree as it is
// now, size and root read together, with origin and the time now. It
// refuses when the tree is broken (Err).
func (t *Tree) Checkpoint(origin string, now time.Time) (Checkpoint, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.err != nil {
		return Checkpoint{}, t.err
	}
	root, err := tlog.TreeHash(t.size, t.reader())
	if err != nil {
		return Checkpoint{}, err
	}
	return Checkpoint{Origin: origin, Size: t.size, Root: root, Time: now.UTC()}, nil
}

// TreeImage is a tree frozen at one size, to persist: the stored hashes of
// a tree never change once written, so an image holds the tree's chunks
// in memory without copying them, and the tree may grow on while the image
// is written out. Of a tree with a file, it names the whole chunks in the
// file by their count and SHA-256 (Sync the tree before persisting it) and
// holds only the rest.
type TreeImage struct {
	size   int64
	stored int64
	filed  chunkfile.Mark // the whole chunks in the tree's file
	chunks []*[chunkLen]tlog.Hash
}

// Image returns the tree as it stands. It returns an error wrapping
// ErrBroken for a broken tree, whose hashes a restart must not trust.
func (t *Tree) Image() (TreeImage, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.err != nil {
		return TreeImage{}, t.err
	}
	m := TreeImage{size: t.size, stored: t.stored}
	if t.file != nil {
		m.filed = t.file.Mark()
	}
	m.chunks = slices.Clone(t.chunks[m.filed.Chunks:])
	return m, nil
}

// Size returns the number of leaves of the image.
func (m TreeImage) Size() int64 { return m.size }

// AppendBinary appends the image to b: the count of whole chunks in the
// tree's file and, when there are any, their SHA-256, then the stored
// hashes after them, in tlog's order.
func (m TreeImage) AppendBinary(b []byte) ([]byte, error) {
	b, _ = m.filed.AppendBinary(b)
	from := m.filed.Chunks * chunkLen
	b = slices.Grow(b, int(m.stored-from)*tlog.HashSize)
	for i := from; i < m.stored; i += chunkLen {
		n := min(chunkLen, m.stored-i)
		for _, h := range m.chunks[(i>>chunkBits)-m.filed.Chunks][:n] {
			b = append(b, h[:]...)
		}
	}
	return b, nil
}

// RestoreTree returns the tree of size leaves an image holds (as
// TreeImage.AppendBinary wrote it). With path "", the tree keeps its hashes
// in memory and the image must hold them all. Else the tree keeps them in
// the file at path: an image that names whole chunks there is restored
// only if the file holds them and they hash to the image's SHA-256, and
// what the file holds after them is dropped; an image that names none makes
// the file anew. RestoreTree checks that the image holds exactly as many
// hashes as such a tree stores, and returns an error when not; it cannot
// tell whether they are the right ones: compare a leaf with the log's.
func RestoreTree(size int64, image []byte, path string) (*Tree, error) {
	if size < 0 {
		return nil, fmt.Errorf("a tree of %d leaves", size)
	}
	stored := tlog.StoredHashCount(size)
	r := binread.Reader{B: image}
	mark := chunkfile.ReadMark(&r)
	filed := mark.Chunks
	if r.Err != nil {
		return nil, fmt.Errorf("a tree image: %v", r.Err)
	}
	switch {
	case filed > stored/chunkLen:
		return nil, fmt.Errorf("a tree of %d leaves has %d whole chunks of hashes, not %d", size, stored/chunkLen, filed)
	case filed > 0 && path == "":
		return nil, fmt.Errorf("a tree image names %d chunks of hashes in a file, and there is none", filed)
	case int64(len(r.B)) != (stored-filed*chunkLen)*tlog.HashSize:
		return nil, fmt.Errorf("a tree of %d leaves stores %d hashes, not %d chunks and %d bytes of them", size, stored, filed, len(r.B))
	}
	t := &Tree{size: size}
	var err error
	switch {
	case filed > 0:
		t.file, err = chunkfile.Open(path, chunkBytes, mark)
	case path != "":
		t.file, err = chunkfile.Create(path, chunkBytes)
	}
	if err != nil {
		return nil, err
	}
	t.chunks = make([]*[chunkLen]tlog.Hash, filed, stored>>chunkBits+1)
	t.stored = filed * chunkLen
	for hashes := r.B; len(hashes) > 0; hashes = hashes[tlog.HashSize:] {
		if err := t.push(tlog.Hash(hashes)); err != nil {
			t.Close()
			return nil, err
		}
	}
	return t, nil
}

// Leaf returns the leaf hash of the event at sequence seq, which the tree
// holds.
func (t *Tree) Leaf(seq uint64) (tlog.Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if seq == 0 || seq > uint64(t.size) {
		return tlog.Hash{}, fmt.Errorf("the tree holds sequences 1 to %d, not %d", t.size, seq)
	}
	return t.hash(tlog.StoredHashIndex(0, int64(seq)-1))
}
