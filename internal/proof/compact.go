package proof

import (
	"crypto/sha256"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// EmptyRoot is the root hash of the empty tree: SHA-256 of nothing
// (RFC 6962, section 2.1), as tlog.TreeHash gives for size 0.
var EmptyRoot = tlog.Hash(sha256.Sum256(nil))

// Compact computes the root of a growing tree in O(log n) memory, for
// verifiers that stream the log: push the leaf hashes in order, read the
// root at any size. It holds the compact range of the leaves so far: the
// hashes of the perfect subtrees that cover them, largest (leftmost) first,
// one for each 1 bit of the size. Adding a leaf merges it with the subtrees
// it completes (tlog.NodeHash(left, right)), and the root folds the range
// from the right, exactly as RFC 6962 and tlog.TreeHash define the tree.
//
// The zero value is an empty tree. Start from a prefix the verifier does not
// hold with NewCompact. A Compact is not safe for concurrent use.
type Compact struct {
	size   int64
	hashes []tlog.Hash
}

// NewCompact returns a Compact for the tree of the first size leaves, given
// their compact range (Tree.SubtreeHashes, or Compact.Hashes of another
// Compact). It checks only that there is one hash for each 1 bit of size:
// the caller must check Root against a checkpoint it trusts before relying
// on the hashes.
func NewCompact(size int64, hashes []tlog.Hash) (*Compact, error) {
	if size < 0 {
		return nil, fmt.Errorf("proof: compact range of negative size %d", size)
	}
	if want := bits.OnesCount64(uint64(size)); len(hashes) != want {
		return nil, fmt.Errorf("proof: the compact range of %d leaves has %d hashes, not %d", size, len(hashes), want)
	}
	c := &Compact{size: size, hashes: make([]tlog.Hash, len(hashes), 64)}
	copy(c.hashes, hashes)
	return c, nil
}

// Append adds the leaf with hash leaf (tlog.RecordHash of its data).
func (c *Compact) Append(leaf tlog.Hash) {
	h := leaf
	for n := c.size; n&1 == 1; n >>= 1 {
		last := len(c.hashes) - 1
		h = tlog.NodeHash(c.hashes[last], h)
		c.hashes = c.hashes[:last]
	}
	c.hashes = append(c.hashes, h)
	c.size++
}

// AppendRecord adds the leaf whose data is data: an event's stored body.
func (c *Compact) AppendRecord(data []byte) { c.Append(tlog.RecordHash(data)) }

// Size returns the number of leaves.
func (c *Compact) Size() int64 { return c.size }

// Root returns the root hash of the tree of the leaves so far.
func (c *Compact) Root() tlog.Hash {
	if len(c.hashes) == 0 {
		return EmptyRoot
	}
	h := c.hashes[len(c.hashes)-1]
	for i := len(c.hashes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(c.hashes[i], h)
	}
	return h
}

// Hashes returns a copy of the compact range of the leaves so far.
func (c *Compact) Hashes() []tlog.Hash {
	return append([]tlog.Hash(nil), c.hashes...)
}
