package proof_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/proof"
)

func TestTreeStoresExactlyTheHashesTlogStores(t *testing.T) {
	// 5000 events make about 10,000 stored hashes: more than two chunks.
	bodies := streamBodies(t, 5000)
	ref := buildRef(t, bodies)
	tree := proof.NewTree()
	for i, body := range bodies {
		_ = tree.Append(uint64(i+1), body)
		size := int64(i + 1)
		if got := tree.Size(); got != size {
			t.Fatalf("after sequence %d: Size() = %d, want %d", size, got, size)
		}
		if got, want := root(t, tree, size), refRoot(t, ref, size); got != want {
			t.Fatalf("Root(%d) = %v, want tlog.TreeHash %v", size, got, want)
		}
	}
	indexes := make([]int64, len(ref))
	for i := range indexes {
		indexes[i] = int64(i)
	}
	got, err := tree.ReadHashes(indexes)
	if err != nil {
		t.Fatalf("ReadHashes of all %d stored hashes: %v", len(ref), err)
	}
	if want := tlog.StoredHashCount(5000); int64(len(ref)) != want {
		t.Fatalf("reference holds %d hashes, tlog.StoredHashCount says %d", len(ref), want)
	}
	for i := range ref {
		if got[i] != ref[i] {
			t.Fatalf("stored hash %d = %v, want %v", i, got[i], ref[i])
		}
	}
	if _, err := tree.ReadHashes([]int64{int64(len(ref))}); err == nil {
		t.Errorf("ReadHashes past the last stored hash: no error")
	}
	for _, size := range []int64{0, 1, 2, 3, 1023, 1024, 1025, 5000} {
		if got, want := root(t, tree, size), refRoot(t, ref, size); got != want {
			t.Errorf("Root(%d) at the end = %v, want %v", size, got, want)
		}
	}
	if got := root(t, tree, 0); got != proof.EmptyRoot {
		t.Errorf("Root(0) = %v, want the empty root %v", got, proof.EmptyRoot)
	}
}

func TestInclusionProofsVerifyForEveryEventAndSize(t *testing.T) {
	// Every pair in the small trees, a sample of the large ones, the edges.
	edges := [][2]int64{{1, 3000}, {3000, 3000}, {2048, 2048}, {2049, 3000}}
	pairs := orderedPairs(130, 3000, rand.New(rand.NewPCG(1, 2)), edges...)
	forEachProof(t, pairs, "InclusionProof", (*proof.Tree).InclusionProof, func(tree *proof.Tree, bodies [][]byte, seq, size int64, proofs tlog.RecordProof) {
		cp := checkpoint(t, tree, size)
		body := bodies[seq-1]
		if err := tlog.CheckRecord(proofs, size, cp.Root, seq-1, tlog.RecordHash(body)); err != nil {
			t.Fatalf("tlog.CheckRecord of sequence %d in %d: %v", seq, size, err)
		}
		if err := proof.VerifyInclusion(cp, seq, body, proofs); err != nil {
			t.Fatalf("VerifyInclusion of sequence %d in %d: %v", seq, size, err)
		}
		// The same proof must not pass for another event's bytes.
		other := bodies[seq%int64(len(bodies))]
		if err := proof.VerifyInclusion(cp, seq, other, proofs); !errors.Is(err, proof.ErrProof) {
			t.Fatalf("VerifyInclusion of sequence %d in %d with another event's body: got %v, want ErrProof", seq, size, err)
		}
	})
}

func TestConsistencyProofsVerifyForEveryPairOfSizes(t *testing.T) {
	edges := [][2]int64{{1, 3000}, {2048, 3000}, {2047, 2048}, {3000, 3000}}
	pairs := orderedPairs(100, 3000, rand.New(rand.NewPCG(3, 4)), edges...)
	forEachProof(t, pairs, "ConsistencyProof", (*proof.Tree).ConsistencyProof, func(tree *proof.Tree, _ [][]byte, from, to int64, proofs tlog.TreeProof) {
		older, newer := checkpoint(t, tree, from), checkpoint(t, tree, to)
		if err := tlog.CheckTree(proofs, to, newer.Root, from, older.Root); err != nil {
			t.Fatalf("tlog.CheckTree from %d to %d: %v", from, to, err)
		}
		if err := proof.VerifyConsistency(older, newer, proofs); err != nil {
			t.Fatalf("VerifyConsistency from %d to %d: %v", from, to, err)
		}
		// Against the root of another size, the proof must fail.
		wrong := older
		wrong.Root = root(t, tree, from-1)
		if err := proof.VerifyConsistency(wrong, newer, proofs); !errors.Is(err, proof.ErrProof) {
			t.Fatalf("VerifyConsistency from %d to %d with the root of size %d: got %v, want ErrProof", from, to, from-1, err)
		}
	})
}

// forEachProof builds a tree of 3000 events and, for each pair (a, b) of
// pairs, makes the proof prove answers, failing t without one, and hands it
// to check with the tree and the events' bodies.
func forEachProof[P any](t *testing.T, pairs [][2]int64, name string, prove func(tree *proof.Tree, a, b int64) (P, error), check func(tree *proof.Tree, bodies [][]byte, a, b int64, proofs P)) {
	t.Helper()
	bodies := streamBodies(t, 3000)
	tree := buildTree(t, bodies)
	for _, pair := range pairs {
		a, b := pair[0], pair[1]
		proofs, err := prove(tree, a, b)
		if err != nil {
			t.Fatalf("%s(%d, %d): %v", name, a, b, err)
		}
		check(tree, bodies, a, b, proofs)
	}
}

// orderedPairs returns the pairs (a, b) with 1 <= a <= b that proofs are
// checked for: every one with b up to small, then as many pairs drawn by rng
// with b up to large, then extra.
func orderedPairs(small, large int64, rng *rand.Rand, extra ...[2]int64) [][2]int64 {
	var pairs [][2]int64
	for b := int64(1); b <= small; b++ {
		for a := int64(1); a <= b; a++ {
			pairs = append(pairs, [2]int64{a, b})
		}
	}
	for range large {
		b := 1 + rng.Int64N(large)
		pairs = append(pairs, [2]int64{1 + rng.Int64N(b), b})
	}
	return append(pairs, extra...)
}

func TestRequestsOutsideTheTreeAreRefused(t *testing.T) {
	tree := buildTree(t, streamBodies(t, 10))
	cases := []struct {
		name string
		call func() error
	}{
		{"root of a size beyond the tree", func() error { _, err := tree.Root(11); return err }},
		{"root of a negative size", func() error { _, err := tree.Root(-1); return err }},
		{"inclusion of sequence 0", func() error { _, err := tree.InclusionProof(0, 10); return err }},
		{"inclusion of a sequence beyond the size", func() error { _, err := tree.InclusionProof(6, 5); return err }},
		{"inclusion in a size beyond the tree", func() error { _, err := tree.InclusionProof(3, 11); return err }},
		{"consistency from the empty tree", func() error { _, err := tree.ConsistencyProof(0, 5); return err }},
		{"consistency from a larger to a smaller tree", func() error { _, err := tree.ConsistencyProof(6, 5); return err }},
		{"consistency to a size beyond the tree", func() error { _, err := tree.ConsistencyProof(5, 11); return err }},
		{"compact range of a size beyond the tree", func() error { _, err := tree.SubtreeHashes(11); return err }},
		{"a stored hash that does not exist", func() error { _, err := tree.ReadHashes([]int64{-1}); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Errorf("got no error, want one")
			}
		})
	}
	// And the same calls at the edge of the tree succeed.
	if _, err := tree.InclusionProof(10, 10); err != nil {
		t.Errorf("InclusionProof(10, 10): %v", err)
	}
	if _, err := tree.ConsistencyProof(10, 10); err != nil {
		t.Errorf("ConsistencyProof(10, 10): %v", err)
	}
}

func TestTamperingIsCaughtByTheAuditorsCheckpoint(t *testing.T) {
	const n = 100 // the auditor holds a checkpoint of the first 100 events
	cases := []struct {
		name string
		// tamper returns what the server presents later instead of the
		// first n events and 20 more, and the first leaf that differs
		// (-1 when none does).
		tamper    func(b [][]byte) [][]byte
		firstDiff int
	}{
		{"an untouched ledger that grew passes", func(b [][]byte) [][]byte { return b }, -1},
		{"a byte changed in the middle", func(b [][]byte) [][]byte {
			b[41] = bytes.Replace(b[41], []byte("next"), []byte("now!"), 1)
			return b
		}, 41},
		{"a byte changed in the first event", func(b [][]byte) [][]byte {
			b[0] = bytes.Replace(b[0], []byte("pm@"), []byte("PM@"), 1)
			return b
		}, 0},
		{"an event dropped from the middle", func(b [][]byte) [][]byte { return slices.Delete(b, 57, 58) }, 57},
		{"two events swapped", func(b [][]byte) [][]byte { b[10], b[11] = b[11], b[10]; return b }, 10},
		{"the last covered event rewritten", func(b [][]byte) [][]byte {
			b[n-1] = append(bytes.Clone(b[n-1][:len(b[n-1])-1]), ' ', '}')
			return b
		}, n - 1},
		{"the tail cut off", func(b [][]byte) [][]byte { return b[:n-7] }, -1},
		{"the tail cut off and other events written in its place", func(b [][]byte) [][]byte {
			return append(b[:n-7], streamBodies(t, 4000)[3000:3030]...)
		}, n - 7},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			original := streamBodies(t, n+20)
			auditor := checkpoint(t, buildTree(t, original[:n]), n)

			presented := tc.tamper(streamBodies(t, n+20))
			if tc.firstDiff >= 0 && bytes.Equal(presented[tc.firstDiff], original[tc.firstDiff]) {
				t.Fatalf("the tampering left event %d as it was", tc.firstDiff)
			}
			server := buildTree(t, presented)
			size := server.Size()
			latest := checkpoint(t, server, size)

			// The roots of the prefix before the change agree; from the
			// change on, none does.
			honest := buildTree(t, original)
			for s := int64(1); s <= min(size, n+20); s++ {
				same := root(t, server, s) == root(t, honest, s)
				if wantSame := tc.firstDiff < 0 || s <= int64(tc.firstDiff); same != wantSame {
					t.Fatalf("root at size %d same as the honest one: %v, want %v", s, same, wantSame)
				}
			}

			// The auditor asks for the consistency proof from the checkpoint
			// they kept to the latest.
			var err error
			if size < n {
				_, perr := server.ConsistencyProof(n, size)
				if perr == nil {
					t.Fatalf("ConsistencyProof(%d, %d) from a shorter tree: no error", n, size)
				}
				err = proof.VerifyConsistency(auditor, latest, nil)
			} else {
				p, perr := server.ConsistencyProof(n, size)
				if perr != nil {
					t.Fatalf("ConsistencyProof(%d, %d): %v", n, size, perr)
				}
				err = proof.VerifyConsistency(auditor, latest, p)
			}
			if ok := tc.firstDiff < 0 && size >= n; ok != (err == nil) {
				t.Fatalf("VerifyConsistency from the auditor's %d to the presented %d: %v, want passing: %v", n, size, err, ok)
			}
			if err != nil && !errors.Is(err, proof.ErrProof) {
				t.Errorf("VerifyConsistency: %v, want ErrProof", err)
			}

			// An inclusion proof of an original event that the server changed
			// does not verify against the auditor's checkpoint.
			if tc.firstDiff >= 0 && int64(tc.firstDiff) < size {
				seq := int64(tc.firstDiff) + 1
				p, perr := server.InclusionProof(seq, min(size, n))
				if perr != nil {
					t.Fatalf("InclusionProof(%d): %v", seq, perr)
				}
				if err := proof.VerifyInclusion(auditor, seq, presented[seq-1], p); !errors.Is(err, proof.ErrProof) {
					t.Errorf("inclusion of the presented event %d in the auditor's checkpoint: got %v, want ErrProof", seq, err)
				}
			}
		})
	}
}

func TestApplyTakesOnlyTheNextSequence(t *testing.T) {
	b := streamBodies(t, 8)
	type in struct {
		seq  uint64
		body []byte
	}
	cases := []struct {
		name     string
		events   []in
		wantSize int64
		wantErr  string // "" for a tree that is not broken
	}{
		{"events in order", []in{{1, b[0]}, {2, b[1]}, {3, b[2]}}, 3, ""},
		{"the first event is not sequence 1", []in{{2, b[1]}}, 0, "sequence 1 is missing"},
		{"a sequence missing in the middle", []in{{1, b[0]}, {2, b[1]}, {4, b[3]}}, 2, "sequence 3 is missing"},
		{"several sequences missing", []in{{1, b[0]}, {5, b[4]}}, 1, "sequences 2 to 4 are missing"},
		{"an event delivered again unchanged is ignored", []in{{1, b[0]}, {2, b[1]}, {1, b[0]}, {2, b[1]}, {3, b[2]}}, 3, ""},
		{"an event delivered again with other bytes", []in{{1, b[0]}, {2, b[1]}, {1, b[5]}}, 2, "sequence 1 arrived again with other bytes"},
		{"an event without a sequence", []in{{1, b[0]}, {0, b[1]}}, 1, "without a sequence"},
		{"an event without its stored body", []in{{1, b[0]}, {2, nil}}, 1, "sequence 2 has no stored body"},
		{"nothing is added after a break", []in{{1, b[0]}, {3, b[2]}, {2, b[1]}, {3, b[2]}}, 1, "sequence 2 is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := proof.NewTree()
			for _, e := range tc.events {
				_ = tree.Append(e.seq, e.body)
			}
			if got := tree.Size(); got != tc.wantSize {
				t.Errorf("Size() = %d, want %d", got, tc.wantSize)
			}
			err := tree.Err()
			_, cpErr := tree.Checkpoint(origin, time.Now())
			if tc.wantErr == "" {
				if err != nil || cpErr != nil {
					t.Errorf("Err() = %v, Checkpoint error %v, want none", err, cpErr)
				}
				return
			}
			if !errors.Is(err, proof.ErrBroken) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Err() = %v, want ErrBroken saying %q", err, tc.wantErr)
			}
			if !errors.Is(cpErr, proof.ErrBroken) {
				t.Errorf("Checkpoint of a broken tree: got %v, want ErrBroken", cpErr)
			}
			if err := tree.Append(uint64(tree.Size())+1, b[7]); !errors.Is(err, proof.ErrBroken) {
				t.Errorf("Append after the break: got %v, want ErrBroken", err)
			}
			// What the tree holds is still the honest prefix.
			if got, want := root(t, tree, tree.Size()), root(t, buildTree(t, b[:tree.Size()]), tree.Size()); got != want {
				t.Errorf("root of the prefix kept = %v, want %v", got, want)
			}
		})
	}
}

func TestCheckpointOfTheTreeIsItsSizeAndRoot(t *testing.T) {
	tree := buildTree(t, streamBodies(t, 77))
	now := time.Date(2026, 11, 1, 11, 0, 0, 5000, time.FixedZone("CET", 3600))
	got, err := tree.Checkpoint(origin, now)
	if err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	want := proof.Checkpoint{Origin: origin, Size: 77, Root: root(t, tree, 77), Time: now.UTC()}
	if got != want {
		t.Errorf("Checkpoint = %+v, want %+v", got, want)
	}
}

func TestTreeServesReadersWhileEventsArrive(t *testing.T) {
	bodies := streamBodies(t, 4000)
	tree := proof.NewTree()
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for r := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 9))
			for {
				select {
				case <-done:
					return
				default:
				}
				cp, err := tree.Checkpoint(origin, time.Now())
				if err != nil {
					errs <- err
					return
				}
				if cp.Size < 2 {
					continue
				}
				seq := 1 + rng.Int64N(cp.Size)
				p, err := tree.InclusionProof(seq, cp.Size)
				if err == nil {
					err = proof.VerifyInclusion(cp, seq, bodies[seq-1], p)
				}
				if err != nil {
					errs <- err
					return
				}
				from := 1 + rng.Int64N(cp.Size)
				older, err := tree.Root(from)
				if err != nil {
					errs <- err
					return
				}
				cons, err := tree.ConsistencyProof(from, cp.Size)
				if err == nil {
					err = proof.VerifyConsistency(proof.Checkpoint{Origin: origin, Size: from, Root: older}, cp, cons)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i, body := range bodies {
		_ = tree.Append(uint64(i+1), body)
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a reader: %v", err)
	}
	if got := tree.Size(); got != int64(len(bodies)) {
		t.Errorf("Size() = %d, want %d", got, len(bodies))
	}
}

// BenchmarkTreeApply is the cost of one event in the start-up replay.
func BenchmarkTreeApply(b *testing.B) {
	bodies := streamBodies(b, 8192)
	size := 0
	for _, body := range bodies {
		size += len(body)
	}
	b.SetBytes(int64(size / len(bodies)))
	b.ReportAllocs()
	tree := proof.NewTree()
	seq := uint64(0)
	for b.Loop() {
		seq++
		_ = tree.Append(seq, bodies[seq%uint64(len(bodies))])
	}
	if err := tree.Err(); err != nil {
		b.Fatal(err)
	}
}
