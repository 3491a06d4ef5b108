package proof_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/proof"
)

func TestCompactRootIsTlogTreeHashAtEverySize(t *testing.T) {
	bodies := streamBodies(t, 2000)
	ref := buildRef(t, bodies)
	tree := buildTree(t, bodies)
	var c proof.Compact
	if got := c.Root(); got != proof.EmptyRoot {
		t.Errorf("root of the empty Compact = %v, want %v", got, proof.EmptyRoot)
	}
	for i, body := range bodies {
		c.AppendRecord(body)
		size := int64(i + 1)
		if got := c.Size(); got != size {
			t.Fatalf("Size() = %d, want %d", got, size)
		}
		if got, want := c.Root(), refRoot(t, ref, size); got != want {
			t.Fatalf("Root() at size %d = %v, want tlog.TreeHash %v", size, got, want)
		}
		want, err := tree.SubtreeHashes(size)
		if err != nil {
			t.Fatalf("SubtreeHashes(%d): %v", size, err)
		}
		if got := c.Hashes(); !slices.Equal(got, want) {
			t.Fatalf("Hashes() at size %d = %v, want the tree's compact range %v", size, got, want)
		}
	}
}

func TestCompactResumesFromTheCompactRangeOfAPrefix(t *testing.T) {
	const n = 2000
	bodies := streamBodies(t, n)
	ref := buildRef(t, bodies)
	tree := buildTree(t, bodies)
	prefixes := []int64{0, 1, 2, 3, 1023, 1024, 1025, n - 1, n}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		prefixes = append(prefixes, rng.Int64N(n+1))
	}
	for _, p := range prefixes {
		hashes, err := tree.SubtreeHashes(p)
		if err != nil {
			t.Fatalf("SubtreeHashes(%d): %v", p, err)
		}
		c, err := proof.NewCompact(p, hashes)
		if err != nil {
			t.Fatalf("NewCompact(%d): %v", p, err)
		}
		if got, want := c.Root(), refRoot(t, ref, p); got != want {
			t.Fatalf("root of the compact range of %d = %v, want %v", p, got, want)
		}
		for i := p; i < n; i++ {
			c.Append(tlog.RecordHash(bodies[i]))
			if got, want := c.Root(), refRoot(t, ref, i+1); got != want {
				t.Fatalf("from prefix %d, root at size %d = %v, want %v", p, i+1, got, want)
			}
		}
	}
}

func TestCompactFromATamperedPrefixDoesNotReachTheRoot(t *testing.T) {
	bodies := streamBodies(t, 300)
	tree := buildTree(t, bodies)
	want := root(t, tree, 300)
	hashes, err := tree.SubtreeHashes(200)
	if err != nil {
		t.Fatalf("SubtreeHashes: %v", err)
	}
	for i := range hashes {
		bad := slices.Clone(hashes)
		bad[i][0] ^= 1
		c, err := proof.NewCompact(200, bad)
		if err != nil {
			t.Fatalf("NewCompact: %v", err)
		}
		for _, body := range bodies[200:] {
			c.AppendRecord(body)
		}
		if got := c.Root(); got == want {
			t.Errorf("with subtree hash %d changed, the root is still %v", i, got)
		}
	}
}

func TestNewCompactRefusesARangeOfTheWrongLength(t *testing.T) {
	h := tlog.RecordHash([]byte("x"))
	cases := []struct {
		name   string
		size   int64
		hashes []tlog.Hash
		ok     bool
	}{
		{"the empty tree has no hashes", 0, nil, true},
		{"a power of two has one", 1024, []tlog.Hash{h}, true},
		{"seven leaves have three", 7, []tlog.Hash{h, h, h}, true},
		{"seven leaves with two", 7, []tlog.Hash{h, h}, false},
		{"eight leaves with two", 8, []tlog.Hash{h, h}, false},
		{"the empty tree with one", 0, []tlog.Hash{h}, false},
		{"a negative size", -1, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := proof.NewCompact(tc.size, tc.hashes)
			if (err == nil) != tc.ok {
				t.Errorf("NewCompact(%d, %d hashes) error = %v, want ok: %v", tc.size, len(tc.hashes), err, tc.ok)
			}
		})
	}
}
