package proof_test

import (
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/proof"
)

func TestARestoredTreeIsTheTreeItsImageWasTakenOf(t *testing.T) {
	bodies := streamBodies(t, 5000) // more than two chunks of stored hashes
	tree := proof.NewTree()
	for i, body := range bodies[:4321] {
		_ = tree.Append(uint64(i+1), body)
	}
	im, err := tree.Image()
	if err != nil {
		t.Fatal(err)
	}
	// The tree grows on while its image is written out.
	for i, body := range bodies[4321:] {
		_ = tree.Append(uint64(4321+i+1), body)
	}
	data, err := im.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := proof.RestoreTree(im.Size(), data, "")
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range bodies[4321:] {
		if err := got.Append(uint64(4321+i+1), body); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []int64{1, 4321, 5000} {
		if a, b := root(t, got, size), root(t, tree, size); a != b {
			t.Errorf("Root(%d) of the restored tree %v, want %v", size, a, b)
		}
	}
	leaf, err := got.Leaf(4321)
	if err != nil || leaf != tlog.RecordHash(bodies[4320]) {
		t.Errorf("Leaf(4321) = %v, %v; want the hash of its body", leaf, err)
	}
	if _, err := proof.RestoreTree(im.Size(), data[:len(data)-1], ""); err == nil {
		t.Error("a tree restored from one byte too few")
	}
	if _, err := proof.RestoreTree(im.Size()+1, data, ""); err == nil {
		t.Error("a tree restored with one leaf too many")
	}
}

func TestABrokenTreeHasNoImage(t *testing.T) {
	tree := proof.NewTree()
	_ = tree.Append(2, []byte("skips the first"))
	if _, err := tree.Image(); !errors.Is(err, proof.ErrBroken) {
		t.Errorf("Image of a broken tree: %v, want ErrBroken", err)
	}
}
