package proof

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/safefile"
)

const (
	chunkBytes = chunkLen * tlog.HashSize
	// cachedChunks is how many whole chunks read back from the file a
	// tree keeps, the most recently used: 8 MiB, enough for every proof
	// and root being made at once and the leaves of a time-travel query.
	cachedChunks = 64
)

// hashFile holds a tree's whole chunks of stored hashes in a file, in
// tlog's order, so the tree keeps in memory only the chunk it is filling
// and a few chunks read back. The file is the tree's own: it is written as
// chunks fill, synced when a snapshot is about to name it (Sync), and
// trusted on a restart only up to the whole chunks a snapshot names and
// only when their SHA-256 is the one the snapshot holds.
type hashFile struct {
	f      *os.File
	n      int64     // whole chunks in the file; written by the tree's writer
	digest hash.Hash // SHA-256 of those chunks, in order
	sum    tlog.Hash // digest's sum at n chunks

	mu    sync.Mutex // guards cache and order
	cache map[int64]*[chunkLen]tlog.Hash
	order []int64 // the cached chunks, the first read first
}

// createHashFile makes an empty hash file at path, replacing what is
// there (a link is removed, not followed).
func createHashFile(path string) (*hashFile, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &hashFile{f: f, digest: sha256.New(), cache: map[int64]*[chunkLen]tlog.Hash{}}, nil
}

// openHashFile opens the hash file at path, without following a link,
// keeps its first n whole chunks and checks that their SHA-256 is sum.
func openHashFile(path string, n int64, sum tlog.Hash) (*hashFile, error) {
	f, err := safefile.OpenRegular(path, os.O_RDWR)
	if err != nil {
		return nil, err
	}
	h := &hashFile{f: f, n: n, digest: sha256.New(), cache: map[int64]*[chunkLen]tlog.Hash{}}
	fail := func(err error) (*hashFile, error) {
		f.Close()
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if info.Size() < n*chunkBytes {
		return fail(fmt.Errorf("%s holds %d bytes, not the %d chunks of hashes (%d bytes) expected", path, info.Size(), n, n*chunkBytes))
	}
	// What a run wrote after the snapshot is written again by the replay
	// of the events after it.
	if err := f.Truncate(n * chunkBytes); err != nil {
		return fail(err)
	}
	if _, err := io.Copy(h.digest, io.NewSectionReader(f, 0, n*chunkBytes)); err != nil {
		return fail(err)
	}
	if h.sum = tlog.Hash(h.digest.Sum(nil)); h.sum != sum {
		return fail(fmt.Errorf("the hashes in %s are not the ones the tree was built with", path))
	}
	return h, nil
}

// write appends chunk i, which must be the next one, to the file.
func (h *hashFile) write(i int64, c *[chunkLen]tlog.Hash) error {
	if i != h.n {
		return fmt.Errorf("chunk %d of hashes written after %d", i, h.n)
	}
	buf := make([]byte, 0, chunkBytes)
	for _, x := range c {
		buf = append(buf, x[:]...)
	}
	if _, err := h.f.WriteAt(buf, i*chunkBytes); err != nil {
		return err
	}
	h.digest.Write(buf)
	h.sum = tlog.Hash(h.digest.Sum(nil))
	h.n++
	return nil
}

// chunk returns whole chunk i, from the cache or read back from the file.
func (h *hashFile) chunk(i int64) (*[chunkLen]tlog.Hash, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.cache[i]; ok {
		return c, nil
	}
	buf := make([]byte, chunkBytes)
	if _, err := h.f.ReadAt(buf, i*chunkBytes); err != nil {
		return nil, fmt.Errorf("read chunk %d of the tree's hashes: %w", i, err)
	}
	c := new([chunkLen]tlog.Hash)
	for j := range c {
		c[j] = tlog.Hash(buf[j*tlog.HashSize:])
	}
	if len(h.order) == cachedChunks {
		delete(h.cache, h.order[0])
		h.order = h.order[1:]
	}
	h.cache[i] = c
	h.order = append(h.order, i)
	return c, nil
}
