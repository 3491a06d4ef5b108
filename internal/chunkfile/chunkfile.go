// Package chunkfile keeps a long, growing array of fixed-size records in a
// file of its owner's, in whole chunks of bytes, so the owner holds in
// memory only the chunk it is filling and a few chunks read back, whatever
// the length of the array. The Merkle tree of the log keeps its hashes in
// one (internal/proof), and the projections their history of the ledger's
// clock and moves in another (projections.Current).
//
// A file is a cache its owner can always rebuild: chunks are written as
// they fill, without a sync of their own; Sync makes them durable before a
// snapshot names them by their count and SHA-256 (Mark), and Open trusts a
// file only up to the chunks a mark names, and only when they hash to its
// sum.
package chunkfile

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/safefile"
)

// Cached is how many whole chunks read back a File keeps, the least
// recently read first out: the chunks every proof and search passes
// through stay.
const Cached = 64

// Mark names the first Chunks whole chunks of a file by their SHA-256.
type Mark struct {
	Chunks int64
	Sum    [sha256.Size]byte
}

// File is a file of whole chunks of Size bytes each. Append is called by
// one writer at a time; Read, Mark, Sync and Close are safe beside it.
type File struct {
	f      *os.File
	size   int
	mu     sync.Mutex // guards n, digest, sum and cache
	n      int64      // whole chunks in the file
	digest hash.Hash  // SHA-256 of those chunks, in order
	sum    [sha256.Size]byte
	cache  *simplelru.LRU[int64, []byte]
}

// Create makes an empty file of chunks of size bytes at path, replacing
// what is there (a link is removed, not followed).
func Create(path string, size int) (*File, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return newFile(f, size), nil
}

func newFile(f *os.File, size int) *File {
	cache, _ := simplelru.NewLRU[int64, []byte](Cached, nil) // fails only for a size below 1
	return &File{f: f, size: size, digest: sha256.New(), cache: cache}
}

// Open opens the file of chunks of size bytes at path, without following
// a link, keeps the chunks m names and drops what comes after them. It
// returns an error when the file does not hold them or they do not hash
// to m's sum.
func Open(path string, size int, m Mark) (*File, error) {
	f, err := safefile.OpenRegular(path, os.O_RDWR)
	if err != nil {
		return nil, err
	}
	c := newFile(f, size)
	fail := func(err error) (*File, error) {
		f.Close()
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	want := m.Chunks * int64(size)
	if m.Chunks < 0 || info.Size() < want {
		return fail(fmt.Errorf("%s holds %d bytes, not the %d chunks (%d bytes) expected", path, info.Size(), m.Chunks, want))
	}
	if err := f.Truncate(want); err != nil {
		return fail(err)
	}
	if _, err := io.Copy(c.digest, io.NewSectionReader(f, 0, want)); err != nil {
		return fail(err)
	}
	if c.digest.Sum(c.sum[:0]); c.sum != m.Sum {
		return fail(fmt.Errorf("%s does not hold what it held when it was named", path))
	}
	c.n = m.Chunks
	return c, nil
}

// Append writes chunk i, which must be the next one and Size bytes long.
func (c *File) Append(i int64, chunk []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i != c.n || len(chunk) != c.size {
		return fmt.Errorf("chunk %d of %d bytes written after %d chunks of %d", i, len(chunk), c.n, c.size)
	}
	if _, err := c.f.WriteAt(chunk, i*int64(c.size)); err != nil {
		return err
	}
	c.digest.Write(chunk)
	c.digest.Sum(c.sum[:0])
	c.n++
	return nil
}

// Read calls fn with whole chunk i, from the cache or read back from the
// file. fn runs under the file's lock and must neither keep nor change the
// chunk: its bytes are used again for another chunk once it leaves the
// cache, so that reading back, as time travel does at random points,
// allocates nothing.
func (c *File) Read(i int64, fn func(chunk []byte)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.cache.Get(i); ok {
		fn(b)
		return nil
	}
	if i < 0 || i >= c.n {
		return fmt.Errorf("no chunk %d in a file of %d", i, c.n)
	}
	var b []byte
	if c.cache.Len() == Cached {
		_, b, _ = c.cache.RemoveOldest()
	} else {
		b = make([]byte, c.size)
	}
	if _, err := c.f.ReadAt(b, i*int64(c.size)); err != nil {
		return fmt.Errorf("read chunk %d: %w", i, err)
	}
	c.cache.Add(i, b)
	fn(b)
	return nil
}

// Mark names the whole chunks written so far.
func (c *File) Mark() Mark {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Mark{Chunks: c.n, Sum: c.sum}
}

// Sync makes the chunks written so far durable.
func (c *File) Sync() error { return c.f.Sync() }

// Close closes the file.
func (c *File) Close() error { return c.f.Close() }

// AppendBinary appends the mark to b: the count of chunks, then their
// SHA-256 when there are any.
func (m Mark) AppendBinary(b []byte) ([]byte, error) {
	b = binary.AppendUvarint(b, uint64(m.Chunks))
	if m.Chunks > 0 {
		b = append(b, m.Sum[:]...)
	}
	return b, nil
}

// ReadMark reads a mark that Mark.AppendBinary wrote.
func ReadMark(r *binread.Reader) Mark {
	var m Mark
	n := r.Uvarint()
	if n > math.MaxInt64/2 && r.Err == nil {
		r.Err = fmt.Errorf("%d chunks", n)
	}
	if m.Chunks = int64(n); m.Chunks > 0 {
		copy(m.Sum[:], r.Take(sha256.Size))
	}
	return m
}
