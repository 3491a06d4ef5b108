package proof_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/proof"
)

// fileTreeLeaves is enough leaves for about ten whole chunks of hashes in
// the file, far more than a tree keeps in memory.
const fileTreeLeaves = 20_000

func plainBodies(n int) [][]byte {
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = fmt.Appendf(nil, "event %d", i+1)
	}
	return bodies
}

func grow(t *testing.T, tree *proof.Tree, bodies [][]byte, from int) {
	t.Helper()
	for i, body := range bodies[from:] {
		if err := tree.Append(uint64(from+i+1), body); err != nil {
			t.Fatal(err)
		}
	}
}

// sameTree checks that got answers every question as want does.
func sameTree(t *testing.T, got, want *proof.Tree, bodies [][]byte) {
	t.Helper()
	n := int64(len(bodies))
	if got.Size() != n {
		t.Fatalf("size %d, want %d", got.Size(), n)
	}
	for _, size := range []int64{1, 2, 4095, 4096, 4097, 9999, n / 2, n - 1, n} {
		if a, b := root(t, got, size), root(t, want, size); a != b {
			t.Errorf("Root(%d) = %v, want %v", size, a, b)
		}
	}
	for _, seq := range []int64{1, 777, 4096, 12_345, n} {
		leaf, err := got.Leaf(uint64(seq))
		if err != nil || leaf != tlog.RecordHash(bodies[seq-1]) {
			t.Errorf("Leaf(%d) = %v, %v; want the hash of its body", seq, leaf, err)
		}
		p, err := got.InclusionProof(seq, n)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, n, root(t, want, n), seq-1, leaf); err != nil {
			t.Errorf("the inclusion proof of %d does not check: %v", seq, err)
		}
	}
	p, err := got.ConsistencyProof(5000, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(p, n, root(t, want, n), 5000, root(t, want, 5000)); err != nil {
		t.Errorf("the consistency proof from 5000 does not check: %v", err)
	}
}

func TestATreeWithAFileAnswersAsOneInMemory(t *testing.T) {
	bodies := plainBodies(fileTreeLeaves)
	path := filepath.Join(t.TempDir(), "tree.hashes")
	tree, err := proof.NewFileTree(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	mem := proof.NewTree()
	grow(t, tree, bodies, 0)
	grow(t, mem, bodies, 0)
	sameTree(t, tree, mem, bodies)
	info, err := os.Stat(path)
	stored := tlog.StoredHashCount(fileTreeLeaves)
	if err != nil || info.Size() != stored/4096*4096*tlog.HashSize {
		t.Errorf("the file holds %v bytes (%v), want the %d whole chunks of %d hashes", info.Size(), err, stored/4096, stored)
	}
}

func TestATreeWithAFileIsRestoredFromItsImageAndItsFile(t *testing.T) {
	bodies := plainBodies(fileTreeLeaves)
	dir := t.TempDir()
	path := filepath.Join(dir, "tree.hashes")
	tree, err := proof.NewFileTree(path)
	if err != nil {
		t.Fatal(err)
	}
	grow(t, tree, bodies[:15_000], 0)
	im, err := tree.Image()
	if err != nil {
		t.Fatal(err)
	}
	if err := tree.Sync(); err != nil {
		t.Fatal(err)
	}
	data, _ := im.AppendBinary(nil)
	// The tree grows on after its image, writing more chunks to its file.
	grow(t, tree, bodies, 15_000)
	tree.Close()
	if len(data) > 4096*tlog.HashSize+64 {
		t.Errorf("the image of a tree with a file holds %d bytes: more than the chunk in memory", len(data))
	}

	got, err := proof.RestoreTree(im.Size(), data, path)
	if err != nil {
		t.Fatal(err)
	}
	grow(t, got, bodies, 15_000)
	mem := proof.NewTree()
	grow(t, mem, bodies, 0)
	sameTree(t, got, mem, bodies)
	got.Close()

	// A file that is not the one the image names is refused: changed,
	// cut short, a link in its place, or no file at all.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := append([]byte(nil), raw...)
	changed[100] ^= 1
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		spoil func() error
	}{
		{"changed", func() error { return os.WriteFile(path, changed, 0o600) }},
		{"cut short", func() error { return os.WriteFile(path, raw[:len(raw)/3], 0o600) }},
		{"a link", func() error { os.Remove(path); return os.Symlink(other, path) }},
		{"missing", func() error { return os.Remove(path) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.spoil(); err != nil {
				t.Fatal(err)
			}
			if tree, err := proof.RestoreTree(im.Size(), data, path); err == nil {
				tree.Close()
				t.Errorf("restored from a file %s", c.name)
			}
		})
	}
	if _, err := proof.RestoreTree(im.Size(), data, ""); err == nil {
		t.Error("restored an image that names a file, without one")
	}
}
