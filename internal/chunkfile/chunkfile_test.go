package chunkfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/chunkfile"
)

func chunk(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 16) }

func TestAFileGivesBackItsChunksAndReopensOnlyAsItsMarkNamesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chunks")
	f, err := chunkfile.Create(path, 16)
	if err != nil {
		t.Fatal(err)
	}
	for i := range chunkfile.Cached + 10 { // more than the cache holds
		if err := f.Append(int64(i), chunk(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Append(3, chunk(3)); err == nil {
		t.Error("a chunk written out of order")
	}
	for _, i := range []int{0, 5, chunkfile.Cached + 9, 0} {
		if got, err := f.Chunk(int64(i)); err != nil || !bytes.Equal(got, chunk(i)) {
			t.Errorf("Chunk(%d) = %x, %v", i, got, err)
		}
	}
	if _, err := f.Chunk(chunkfile.Cached + 10); err == nil {
		t.Error("a chunk never written")
	}
	m := f.Mark()
	b, _ := m.AppendBinary(nil)
	if got := chunkfile.ReadMark(&binread.Reader{B: b}); got != m {
		t.Errorf("the mark read back is %+v, want %+v", got, m)
	}
	// A chunk written after the mark is dropped on reopening.
	if err := f.Append(m.Chunks, chunk(99)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	g, err := chunkfile.Open(path, 16, m)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := g.Chunk(7); err != nil || !bytes.Equal(got, chunk(7)) {
		t.Errorf("after reopening, Chunk(7) = %x, %v", got, err)
	}
	if err := g.Append(m.Chunks, chunk(1)); err != nil || g.Mark() == m {
		t.Errorf("after reopening, the next chunk: %v", err)
	}
	g.Close()

	other := m
	other.Sum[0] ^= 1
	if g, err := chunkfile.Open(path, 16, other); err == nil {
		g.Close()
		t.Error("opened with another sum")
	}
	os.Truncate(path, 16*10)
	if g, err := chunkfile.Open(path, 16, m); err == nil {
		g.Close()
		t.Error("opened a file cut short")
	}
}
