package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ledgersvc "github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/snapshot"
)

// treeFileEvents is enough events for the Merkle tree to keep whole chunks
// of its hashes in its file (a chunk holds 4,096, two per event).
const treeFileEvents = 2300

// A snapshot names the part of the tree's file that is its own by length
// and SHA-256: a restart uses the file only when it is that, and else
// replays the whole log to the same tree.
func TestTheTreesFileIsTrustedOnlyAsTheSnapshotNamesIt(t *testing.T) {
	dir := t.TempDir()
	l := start(t, dir)
	ctx := context.Background()
	for i := range treeFileEvents {
		cmd := roadmap.DefineObjective{Title: fmt.Sprintf("objective %d", i), KPI: "k", Target: "t"}
		if _, err := l.Ledger.DefineObjective(ctx, ledgersvc.Request{Actor: "test"}, cmd); err != nil {
			t.Fatal(err)
		}
	}
	last := l.last(t)
	root, err := l.Tree.Root(int64(last))
	if err != nil {
		t.Fatal(err)
	}
	l.stop()
	treeFile := filepath.Join(dir, snapshot.TreeFile)
	good, err := os.ReadFile(treeFile)
	if err != nil || len(good) < 32*4096 {
		t.Fatalf("the tree's file holds %d bytes (%v), want at least a chunk", len(good), err)
	}
	// Resumed from the snapshot and its tree's file.
	l = start(t, dir)
	if l.Resumed != last {
		t.Fatalf("resumed at %d, want %d:\n%s", l.Resumed, last, l.logs)
	}
	if got, err := l.Tree.Root(int64(last)); err != nil || got != root {
		t.Errorf("the resumed tree's root %v (%v), want %v", got, err, root)
	}
	l.stop()

	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	for _, tc := range []struct {
		name string
		file []byte // the tree file's bytes; none when nil
		link bool
	}{
		{name: "changed", file: flipped},
		{name: "cut short", file: good[:len(good)/2]},
		{name: "missing"},
		{name: "a link", link: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, dir)
			plant(t, filepath.Join(dir, snapshot.TreeFile), good, tc.link, tc.file)
			l := start(t, dir)
			if l.Resumed != 0 {
				t.Fatalf("resumed at sequence %d with the tree's file %s", l.Resumed, tc.name)
			}
			if logs := l.logs.String(); !strings.Contains(logs, "replaying the whole log") {
				t.Errorf("the log does not say it replays the whole log:\n%s", logs)
			}
			if got, err := l.Tree.Root(int64(last)); err != nil || got != root {
				t.Errorf("the replayed tree's root %v (%v), want %v", got, err, root)
			}
		})
	}
}
