package projections

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/roadmap-ledger/roadmap/internal/binread"
	"github.com/roadmap-ledger/roadmap/internal/chunkfile"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
)

// historySteps are steps enough for a few whole chunks and a tail, their
// times rising by 0 to 3 µs (so many steps share one), with moves.
func historySteps(n int) []step {
	rng := rand.New(rand.NewPCG(1, 2))
	steps := make([]step, n)
	at := int64(1_700_000_000_000_000)
	for i := range steps {
		at += rng.Int64N(4)
		steps[i] = step{at: at, m: move{
			from: pack(Place{Horizon: roadmap.Horizons[i%3], Rank: i%50 + 1}),
			to:   pack(Place{Horizon: roadmap.Horizons[(i+1)%3], Rank: i%70 + 1}),
		}}
	}
	return steps
}

// sameHistory checks that got answers every question as want does.
func sameHistory(t *testing.T, got, want *history, steps []step) {
	t.Helper()
	if got.len() != int64(len(steps)) || got.last != steps[len(steps)-1].at {
		t.Fatalf("len %d, last %d; want %d and %d", got.len(), got.last, len(steps), steps[len(steps)-1].at)
	}
	for _, i := range []int{0, 1, stepChunkLen - 1, stepChunkLen, 2*stepChunkLen + 7, len(steps) - 1} {
		if s, err := got.step(int64(i)); err != nil || s != steps[i] {
			t.Errorf("step(%d) = %+v, %v; want %+v", i, s, err, steps[i])
		}
	}
	first, last := steps[0].at, steps[len(steps)-1].at
	for us := first - 2; us <= last+2; us += max(1, (last-first)/997) {
		for _, after := range []func(int64) bool{
			func(at int64) bool { return at > us },
			func(at int64) bool { return at >= us },
		} {
			g, err := got.search(after)
			w, _ := want.search(after)
			if err != nil || g != w {
				t.Fatalf("search at %d: %d, %v; want %d", us, g, err, w)
			}
		}
	}
}

func TestAHistoryInAFileAnswersAsOneInMemory(t *testing.T) {
	steps := historySteps(3*stepChunkLen + 123)
	dir := t.TempDir()
	path := filepath.Join(dir, "history")
	f, err := chunkfile.Create(path, stepChunkBytes)
	if err != nil {
		t.Fatal(err)
	}
	filed, mem := &history{file: f}, &history{}
	for _, s := range steps[:2*stepChunkLen+5] {
		filed.push(s)
		mem.push(s)
	}
	if filed.filed() != 2 || len(filed.tail) != 5 {
		t.Fatalf("%d chunks in the file and %d steps in memory, want 2 and 5", filed.filed(), len(filed.tail))
	}
	im := filed.image()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	data := im.appendBinary(nil)
	for _, s := range steps[2*stepChunkLen+5:] {
		filed.push(s)
		mem.push(s)
	}
	sameHistory(t, filed, mem, steps)
	f.Close()

	// Restored from its image and its file, it goes on as before.
	got, err := readHistory(&binread.Reader{B: data}, path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps[2*stepChunkLen+5:] {
		got.push(s)
	}
	sameHistory(t, &got, mem, steps)
	got.file.Close()

	// The image of a history in memory moves into a new file.
	memData := mem.image().appendBinary(nil)
	moved, err := readHistory(&binread.Reader{B: memData}, filepath.Join(dir, "moved"))
	if err != nil {
		t.Fatal(err)
	}
	if moved.filed() != 3 {
		t.Errorf("%d chunks moved to the file, want 3", moved.filed())
	}
	sameHistory(t, &moved, mem, steps)
	moved.file.Close()
	// And back into memory.
	if back, err := readHistory(&binread.Reader{B: memData}, ""); err != nil || !reflect.DeepEqual(back.tail, mem.tail) {
		t.Errorf("a history in memory read back: %v", err)
	}

	// A file that is not what the image names is refused, and so is an
	// image naming a file without one.
	raw, _ := os.ReadFile(path)
	raw[stepBytes+3] ^= 1
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readHistory(&binread.Reader{B: data}, path); err == nil {
		t.Error("a history read with its file changed")
	}
	if _, err := readHistory(&binread.Reader{B: data}, ""); err == nil {
		t.Error("a history that names a file read without one")
	}
}
