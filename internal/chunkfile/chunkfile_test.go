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

// read returns a copy of chunk i of f.
func read(f *chunkfile.File, i int) ([]byte, error) {
	var out []byte
	err := f.Read(int64(i), func(b []byte) { out = bytes.Clone(b) })
	return out, err
}

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
	// Every chunk, twice over and more than the cache holds, so that chunks
	// leave the cache and their bytes are used again for others.
	for _, i := range append([]int{0, 5, chunkfile.Cached + 9, 0}, append(rangeOf(chunkfile.Cached+10), rangeOf(chunkfile.Cached+10)...)...) {
		if got, err := read(f, i); err != nil || !bytes.Equal(got, chunk(i)) {
			t.Errorf("chunk %d = %x, %v", i, got, err)
		}
	}
	if _, err := read(f, chunkfile.Cached+10); err == nil {
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
	if got, err := read(g, 7); err != nil || !bytes.Equal(got, chunk(7)) {
		t.Errorf("after reopening, chunk 7 = %x, %v", got, err)
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

// rangeOf returns 0 to n-1, backwards: the least recently read chunk is
// always the one to leave.
func rangeOf(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = n - 1 - i
	}
	return out
}
