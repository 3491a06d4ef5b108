package snapshot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ledgersvc "github.com/roadmap-ledger/roadmap/internal/ledger"
	"github.com/roadmap-ledger/roadmap/internal/roadmap"
	"github.com/roadmap-ledger/roadmap/internal/snapshot"
)

// filedEvents is enough events for the Merkle tree and the history to
// keep whole chunks in their files (a chunk holds 4,096 hashes, two an
// event, or 4,096 steps, one an event).
const filedEvents = 4200

// A snapshot names the part of the files of the tree and of the history
// that is its own by length and SHA-256: a restart uses a file only when
// it is that, and else replays the whole log to the same tree and the
// same answers.
func TestTheFilesASnapshotNamesAreTrustedOnlyAsItNamesThem(t *testing.T) {
	dir := t.TempDir()
	l := start(t, dir)
	ctx := context.Background()
	var at time.Time // a moment halfway, which the history resolves
	for i := range filedEvents {
		if i == filedEvents/2 {
			at = time.Now()
		}
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
	seqAt, err := l.Current.SequenceAt(at)
	if err != nil || seqAt < 2 || seqAt >= last {
		t.Fatalf("the sequence halfway is %d (%v), of %d", seqAt, err, last)
	}
	l.stop()
	same := func(t *testing.T, l *ledger, how string) {
		t.Helper()
		if got, err := l.Tree.Root(int64(last)); err != nil || got != root {
			t.Errorf("%s, the tree's root %v (%v), want %v", how, got, err, root)
		}
		if got, err := l.Current.SequenceAt(at); err != nil || got != seqAt {
			t.Errorf("%s, the sequence at %v is %d (%v), want %d", how, at, got, err, seqAt)
		}
	}
	for _, file := range []string{snapshot.TreeFile, snapshot.HistoryFile} {
		good, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || len(good) < 64*1024 {
			t.Fatalf("%s holds %d bytes (%v), want at least a chunk", file, len(good), err)
		}
	}
	// Resumed from the snapshot and its files.
	l = start(t, dir)
	if l.Resumed != last {
		t.Fatalf("resumed at %d, want %d:\n%s", l.Resumed, last, l.logs)
	}
	same(t, l, "resumed")
	l.stop()

	for _, file := range []string{snapshot.TreeFile, snapshot.HistoryFile} {
		good, _ := os.ReadFile(filepath.Join(dir, file))
		flipped := append([]byte(nil), good...)
		flipped[len(flipped)/2] ^= 1
		for _, tc := range []struct {
			name string
			file []byte // the file's bytes; none when nil
			link bool
		}{
			{name: "changed", file: flipped},
			{name: "cut short", file: good[:len(good)/2]},
			{name: "missing"},
			{name: "a link", link: true},
		} {
			t.Run(file+" "+tc.name, func(t *testing.T) {
				dir := copyDir(t, dir)
				plant(t, filepath.Join(dir, file), good, tc.link, tc.file)
				l := start(t, dir)
				if l.Resumed != 0 {
					t.Fatalf("resumed at sequence %d with %s %s", l.Resumed, file, tc.name)
				}
				if logs := l.logs.String(); !strings.Contains(logs, "replaying the whole log") {
					t.Errorf("the log does not say it replays the whole log:\n%s", logs)
				}
				same(t, l, "replayed")
			})
		}
	}
}
