package proof_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/roadmap-ledger/roadmap/internal/eventlog"
	"github.com/roadmap-ledger/roadmap/internal/proof"
)

// streamBodies returns the stored bodies of n events as the stream would
// hold them: sealed envelopes, chained per aggregate over a few aggregates.
func streamBodies(tb testing.TB, n int) [][]byte {
	tb.Helper()
	bodiesOnce.Do(func() { bodiesCache, bodiesErr = makeBodies(8192) })
	if bodiesErr != nil {
		tb.Fatalf("make bodies: %v", bodiesErr)
	}
	if n > len(bodiesCache) {
		tb.Fatalf("want %d bodies, have %d", n, len(bodiesCache))
	}
	out := make([][]byte, n)
	copy(out, bodiesCache)
	return out
}

var (
	bodiesOnce  sync.Once
	bodiesCache [][]byte
	bodiesErr   error
)

func makeBodies(n int) ([][]byte, error) {
	bodies := make([][]byte, n)
	prev := map[string]string{}
	for i := range bodies {
		id := fmt.Sprintf("0197a3c1-0000-7000-8000-%012d", i%37)
		data, _ := json.Marshal(map[string]any{
			"placement": map[string]any{"horizon": "next", "rank": i%9 + 1, "rationale": fmt.Sprintf("customer interviews round %d", i)},
		})
		env := eventlog.Envelope{
			ID: fmt.Sprintf("0197a3c2-%04x-7000-8000-%012d", i%65536, i), Type: "item.reprioritised", SchemaVersion: 1,
			AggregateType: "item", AggregateID: id,
			Time:  time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
			Actor: "pm@example.com", Data: data,
		}
		body, err := env.Seal(prev[id])
		if err != nil {
			return nil, err
		}
		prev[id] = env.Hash
		bodies[i] = body
	}
	return bodies, nil
}

// buildTree feeds bodies to a new tree as the runner would: body i is the
// event at sequence i+1.
func buildTree(tb testing.TB, bodies [][]byte) *proof.Tree {
	tb.Helper()
	tree := proof.NewTree()
	for i, body := range bodies {
		_ = tree.Append(uint64(i+1), body)
	}
	if err := tree.Err(); err != nil {
		tb.Fatalf("build tree: %v", err)
	}
	return tree
}

// refTree is tlog's own stored hashes for a list of records, made with
// tlog.StoredHashes into a plain slice: the reference the Tree must match.
type refTree []tlog.Hash

func (r refTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(r)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = r[x]
	}
	return out, nil
}

func buildRef(tb testing.TB, bodies [][]byte) refTree {
	tb.Helper()
	var r refTree
	for i, body := range bodies {
		hashes, err := tlog.StoredHashes(int64(i), body, r)
		if err != nil {
			tb.Fatalf("stored hashes of record %d: %v", i, err)
		}
		r = append(r, hashes...)
	}
	return r
}

func refRoot(tb testing.TB, r refTree, size int64) tlog.Hash {
	tb.Helper()
	h, err := tlog.TreeHash(size, r)
	if err != nil {
		tb.Fatalf("tlog.TreeHash(%d): %v", size, err)
	}
	return h
}

func root(tb testing.TB, tree *proof.Tree, size int64) tlog.Hash {
	tb.Helper()
	h, err := tree.Root(size)
	if err != nil {
		tb.Fatalf("Root(%d): %v", size, err)
	}
	return h
}

func checkpoint(tb testing.TB, tree *proof.Tree, size int64) proof.Checkpoint {
	tb.Helper()
	return proof.Checkpoint{Origin: origin, Size: size, Root: root(tb, tree, size), Time: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)}
}

const origin = "roadmap-ledger/ROADMAP"
